import json
import os
from pathlib import Path

import pytest

from arch_entitylinker import KnowledgeBase

HERE = Path(__file__).parent
REPO = HERE.parents[2]


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return HERE / "fixtures"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real corpora: $ARCH_DATA, or ../shared/data beside the repo."""
    path = Path(os.environ.get("ARCH_DATA", REPO.parent / "shared" / "data"))
    if not (path / "gum_entity_linking").exists():
        pytest.fail(f"real corpora not found at {path}: set ARCH_DATA to the shared/data folder")
    return path


@pytest.fixture
def kb() -> KnowledgeBase:
    """A small KB: three entities with 3-d vectors, two aliases."""
    kb = KnowledgeBase(entity_vector_length=3)
    kb.add_entity("Q1", freq=19, entity_vector=[8, 4, 3])
    kb.add_entity("Q2", freq=5, entity_vector=[2, 1, 0])
    kb.add_entity("Q3", freq=25, entity_vector=[-1, -6, 5])
    kb.add_alias("douglas", ["Q2", "Q3"], [0.8, 0.2])
    kb.add_alias("adam", ["Q2"], [0.9])
    return kb


@pytest.fixture
def restore(tmp_path):
    """Save a task as a model folder does (``to_dict`` through JSON, ``write_files``)
    and restore it as ``arch_tok2vec.load`` does (``from_dict``, ``read_files``):
    ``restore(task, drop=("key", ...))`` leaves keys out of the saved dict, as an
    older release wrote it."""
    from arch_entitylinker.task import EntityLinkerTask

    folders = []

    def restore(task, drop=()):
        folder = tmp_path / f"saved-task-{len(folders)}"
        folder.mkdir()
        folders.append(folder)
        data = json.loads(json.dumps(task.to_dict()))
        task.write_files(folder)
        restored = EntityLinkerTask().from_dict({k: v for k, v in data.items() if k not in drop})
        restored.read_files(folder)
        return restored

    return restore
