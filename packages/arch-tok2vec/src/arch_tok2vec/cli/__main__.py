"""``python -m arch_tok2vec.cli``: the ``archs`` command."""

import sys

from . import main

sys.exit(main())
