"""Annotating a corpus with trained models: ``archs apply`` and ``pipe``
(docs/apply.md).

- ``inputs``: the input files and formats, read as a stream of raw records;
- ``chain``: models applied in order to the same Docs;
- ``records``: the bytes written (JSON records, CoNLL-U sentences, the header);
- ``batches``: one batch's work (parse, annotate, write), done by the workers;
- ``workers``: the worker processes (fork or spawn), results in order, a dead
  worker detected at once;
- ``output``: the output file and the progress log that ``--resume`` reads;
- ``run``: ``apply``, which drives it all; ``pipe``: the same for Python;
- ``ray_engine`` and ``ray_data``: Ray actors, and a ``map_batches`` class.
"""

from .batches import BatchError, Skipped
from .chain import Chain
from .output import OutputError
from .pipe import pipe
from .run import ApplyResult, apply
from .workers import WorkerDied

__all__ = [
    "ApplyResult",
    "BatchError",
    "Chain",
    "OutputError",
    "Skipped",
    "WorkerDied",
    "apply",
    "pipe",
]
