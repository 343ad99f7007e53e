"""Annotating a Ray Dataset: a callable class for ``Dataset.map_batches`` that
loads the models once per actor (``pip install arch-tok2vec[ray]``)::

    import ray
    from arch_tok2vec.apply.ray_data import Annotate

    ds = ray.data.read_json("corpus.jsonl")          # or read_parquet(...)
    ds = ds.map_batches(
        Annotate,
        fn_constructor_kwargs={"models": ["ner/model-best", "linker/model-best"]},
        batch_size=128,
        concurrency=4,                                 # actors, each with the models
        num_cpus=1,
    )
    ds.write_json("annotated/")                        # or write_parquet(...)

Each output row has the input row's columns (but the text column), then the
record ``archs apply`` writes for the document (``text``, ``tokens``, ``spaces``
and the models' keys: docs/apply.md). The model folders must be at the same path
on every node.
"""

from typing import Any, Dict, List, Optional, Sequence

from ..doc import Doc
from ..vocab import Vocab
from .batches import VOCAB_ROWS
from .chain import Chain
from .records import dumps


class Annotate:
    """Annotate the texts of a batch of rows with models applied in order.

    models: Model folders or installed models' names, in the order they run.
    text_column: The column holding the texts.
    json_column: Also give each row its record as one line of JSON (the bytes
        ``archs apply`` writes for it) in this column; None: no such column.
    """

    def __init__(
        self, models: Sequence[str], text_column: str = "text", json_column: Optional[str] = None
    ):
        from threadpoolctl import threadpool_limits

        self._limits = threadpool_limits(limits=1)
        self.chain = Chain.load(models)
        self.text_column = text_column
        self.json_column = json_column
        self.vocab = Vocab()

    def __call__(self, batch: Dict[str, Any]) -> Dict[str, List[Any]]:
        """Annotate one batch (Ray's "numpy" or "default" batch format: a dict of
        columns); returns the columns of the output rows."""
        if self.text_column not in batch:
            raise ValueError(
                f"the rows have no {self.text_column!r} column (they have "
                f"{', '.join(sorted(batch))}): give text_column"
            )
        if len(self.vocab) > VOCAB_ROWS:
            self.vocab = Vocab()
        texts = list(batch[self.text_column])
        docs = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(
                    f"row {i + 1} of a batch: the {self.text_column!r} column must hold text, "
                    f"got {type(text).__name__}"
                )
            docs.append(Doc.from_text(text, vocab=self.vocab))
        self.chain(docs)
        records = [self.chain.record(doc) for doc in docs]
        out: Dict[str, List[Any]] = {
            key: list(values) for key, values in batch.items() if key != self.text_column
        }
        keys = list(records[0]) if records else ["text", "tokens", "spaces"]
        for key in keys:
            if key in out:
                raise ValueError(
                    f"the input column {key!r} has the name of an output column: rename it"
                )
            out[key] = [record.get(key) for record in records]
        if self.json_column is not None:
            out[self.json_column] = [dumps(record) for record in records]
        return out
