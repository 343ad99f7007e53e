"""Ctrl-C on a real ``archs train`` process (issue 14, finding 7): the step ends,
model-last is saved and loads, the exit code is 130, no traceback."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from arch_tok2vec import Doc, load

CONFIG = """
[paths]
train = null
dev = null

[system]
seed = 0

[task]
@tasks = "arch.ner.v1"

[model]
@architectures = "spacy.TransitionBasedParser.v1"
state_type = "ner"
extra_state_tokens = false
hidden_width = 32
maxout_pieces = 2
nO = null

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v1"
pretrained_vectors = null
width = 32
depth = 1
embed_size = 500
window_size = 1
maxout_pieces = 2
subword_features = true

[training]
max_epochs = 1000
patience = 0
batch_size = 16
"""


def test_ctrl_c_saves_a_loadable_model_last_and_exits_130(tmp_path):
    config = tmp_path / "ner.cfg"
    config.write_text(CONFIG)
    out = tmp_path / "out"
    archs = str(Path(sys.executable).parent / "archs")
    process = subprocess.Popen(
        [archs, "train", str(config), "--output", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seen = []
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        if line.startswith("epoch   1"):
            process.send_signal(signal.SIGINT)  # during epoch 2
            break
    rest, err = process.communicate(timeout=120)
    text = "".join(seen) + rest
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert f"saved {out}/model-last" in text and "interrupted at step" in text
    last = load(out / "model-last")
    assert last.meta["epoch"] in (1, 2)
    (spans,) = last([Doc(["Hello", "from", "Berlin", "and", "Paris"])])
    assert all(0 <= start < end <= 5 for start, end, _ in spans)
    assert load(out / "model-best").meta["epoch"] == 1
