import os
from pathlib import Path

import pytest

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
