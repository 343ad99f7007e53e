"""Run ``archs`` in this process with the test task of apply_task.py registered, for
tests that kill a real ``archs apply`` process.

    python apply_driver.py apply MODEL INPUT OUTPUT [options]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import apply_task  # noqa: E402,F401  (registers the task)

from arch_tok2vec.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
