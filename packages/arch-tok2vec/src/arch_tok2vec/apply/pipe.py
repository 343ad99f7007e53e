"""``pipe``: annotate a stream of texts with models applied in order, in this
process or in worker processes, yielding annotated Docs in input order (as
spaCy's ``nlp.pipe(texts, batch_size=..., n_process=...)``)."""

from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from ..annotations import MENTIONS_GIVEN, mark_mentions_given, mentions_given
from ..doc import Doc
from ..pipeline import Pipeline
from ..vocab import Vocab
from .batches import VOCAB_ROWS
from .chain import Chain, Model
from .run import n_processes
from .workers import ProcessPool, default_start_method

Item = Union[str, Tuple[List[str], List[bool]]]


def pipe(
    models: Sequence[Union[Pipeline, str]],
    texts: Iterable[Union[str, Any]],
    batch_size: int = 128,
    n_process: int = 1,
    start_method: Optional[str] = None,
) -> Iterator[Any]:
    """Annotated Docs for texts (or Docs), in order.

    models: Loaded models, model folders or installed models' names, in the order they
        run on each Doc.
    texts: Texts (made into ``arch_tok2vec.Doc``) or Docs (ours or spaCy's).
    batch_size: Docs per batch.
    n_process: Worker processes (-1: every core). With 1 the Docs are annotated
        in this process (given Docs are annotated in place); with more, each
        worker holds the models (inherited under fork; loaded from their folders
        under spawn, which needs folders, not loaded models), and the Docs come
        back as new ``arch_tok2vec.Doc`` objects with what the models set on them
        (tags, parse and sentences, entities with their KB IDs, categories).
    start_method: "fork", "spawn" or "forkserver"; None: fork where the system has it.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    processes = n_processes(n_process)
    chain = Chain([_model(m) for m in models])
    if processes == 1:
        yield from _serial(chain, texts, batch_size)
        return
    method = start_method or default_start_method()
    if method == "fork":
        setup_models: Any = chain
    else:
        if not all(isinstance(m, str) for m in models):
            raise ValueError(
                f"n_process > 1 with start method {method!r} loads the models in each worker: "
                "give their folders, not loaded models"
            )
        setup_models = list(models)
    with ProcessPool(processes, _worker, (setup_models,), method) as pool:
        for states in pool.map(_items(texts, batch_size)):
            for state in states:
                yield _rebuild(state)


def _model(model: Union[Pipeline, str]) -> Model:
    if isinstance(model, Pipeline):
        return Model("<loaded model>", model)
    from ..pipeline import load

    return Model(str(model), load(model))


def _serial(chain: Chain, texts: Iterable[Any], batch_size: int) -> Iterator[Any]:
    batch: List[Any] = []
    vocab = Vocab()
    for text in texts:
        if isinstance(text, str):
            if len(vocab) > VOCAB_ROWS:
                vocab = Vocab()
            text = Doc.from_text(text, vocab=vocab)
        batch.append(text)
        if len(batch) == batch_size:
            chain(batch)
            yield from batch
            batch = []
    if batch:
        chain(batch)
        yield from batch


def _items(texts: Iterable[Any], batch_size: int) -> Iterator[List[Item]]:
    """Batches of what a worker needs: texts, or a Doc's words and spaces."""
    batch: List[Item] = []
    for text in texts:
        if isinstance(text, str):
            batch.append(text)
        else:
            batch.append(([t.text for t in text], [bool(t.whitespace_) for t in text]))
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _worker(models: Union[Chain, Sequence[str]]) -> Callable[[List[Item]], List[Any]]:
    chain = models if isinstance(models, Chain) else Chain.load(models)
    state = {"vocab": Vocab()}

    def work(batch: List[Item]) -> List[Any]:
        if len(state["vocab"]) > VOCAB_ROWS:
            state["vocab"] = Vocab()
        vocab = state["vocab"]
        docs = [
            Doc.from_text(item, vocab=vocab) if isinstance(item, str) else Doc(*item, vocab=vocab)
            for item in batch
        ]
        chain(docs)
        return [_state(doc) for doc in docs]

    return work


def _state(doc: Doc) -> Dict[str, Any]:
    """What a worker sends back for a Doc: its words and annotations."""
    return {
        "words": doc.words,
        "spaces": doc.spaces,
        "sent_starts": doc.sent_starts,
        "ents": [(s.start, s.end, s.label_, s.kb_id_) for s in doc.ents],
        "heads": doc.heads,
        "deps": doc.deps,
        "pos": doc.pos,
        "tags": doc.tags,
        "cats": doc.cats,
        MENTIONS_GIVEN: mentions_given(doc),
    }


def _rebuild(state: Dict[str, Any]) -> Doc:
    given = state.pop(MENTIONS_GIVEN)
    doc = Doc(**state)
    if given:
        mark_mentions_given(doc)
    return doc
