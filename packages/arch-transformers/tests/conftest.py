import os
from pathlib import Path

import pytest
import torch

# No network at test time, whatever the tests ask for.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# One torch thread: on a busy 2-core machine more threads make the tiny BERT many
# times slower.
torch.set_num_threads(1)

HERE = Path(__file__).parent
REPO = HERE.parents[2]

# Wordpieces of the tiny test model besides single characters: enough for the
# alignment cases (a word in several pieces, several words in one piece,
# non-ASCII continuations).
WORDS = ["the", "cat", "sat", "on", "mat", "cannot", "don", "un", "##believ", "##able"]
WORDS += ["caf", "##é", "na", "##ï", "##ve", "dog", "runs", "fast", "slow", "is", "a"]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real corpora: $ARCH_DATA, or ../shared/data beside the repo."""
    path = Path(os.environ.get("ARCH_DATA", REPO.parent / "shared" / "data"))
    if not (path / "ud_english_ewt").exists():
        pytest.fail(f"real corpora not found at {path}: set ARCH_DATA to the shared/data folder")
    return path


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A tiny BERT (hidden 32, 2 layers, 2 heads, at most 16 wordpieces per row)
    saved to a temporary folder, loaded by path."""
    from arch_transformers.tiny import write_tiny_bert

    return write_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), WORDS, max_length=16)
