"""``spacy-transformers.TransformerModel.v1``: a Hugging Face transformer as a thinc Model.

Tree: ``transformer`` (attrs ``name``, ``get_spans``, ``tokenizer_config``; dim
``nO`` = the hidden size) over one ``pytorch`` node whose shim holds the
Hugging Face model and tokenizer. The weights live in the shim (none in thinc
params); they are loaded at ``initialize`` and saved in ``to_bytes``.
"""

import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple, cast

import numpy
from thinc.api import Model, torch2xp, xp2torch
from thinc.types import ArgsKwargs, Floats3d

from ..alignment import align_doc
from ..data import TransformerData
from ..hf import HFShim, Wordpieces, load_transformer, max_length, tokenize

DocLike = Any  # arch_tok2vec.Doc, spacy.tokens.Doc, or anything with the same tokens
NAME = "spacy-transformers.TransformerModel.v1"


def TransformerModel(
    name: str,
    get_spans: Callable,
    tokenizer_config: Optional[Dict[str, Any]] = None,
) -> Model[List[DocLike], List[TransformerData]]:
    """Run a Hugging Face transformer over the Docs: one TransformerData per Doc.

    name: A folder holding a saved Hugging Face model (config.json, weights and
        tokenizer files), or a model name on the Hugging Face hub that is already
        in the local cache. Loaded with AutoTokenizer and AutoModel when the model
        is initialized.
    get_spans: A span getter (registry span_getters, e.g.
        spacy-transformers.strided_spans.v1): which spans of each Doc become
        wordpiece rows.
    tokenizer_config: Keyword arguments for AutoTokenizer.from_pretrained, e.g.
        {"use_fast": true}. local_files_only (default true: never download),
        cache_dir and revision are also passed to AutoModel.from_pretrained.
    Forward: the spans are tokenized with special tokens and character offsets,
    padded to the longest row, run through the model, and each Doc gets its
    rows of the last hidden state plus the alignment of its tokens to them. A
    row longer than the model's maximum length is cut (with a warning). The
    backward pass takes one (n_rows, row_length, width) gradient per Doc and
    updates the transformer's weights.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a model folder or hub name, got {name!r}")
    if not callable(get_spans):
        raise TypeError(f"get_spans must be a span getter (a function), got {get_spans!r}")
    if tokenizer_config is None:
        tokenizer_config = {}
    if not isinstance(tokenizer_config, dict):
        raise TypeError(f"tokenizer_config must be a dict, got {tokenizer_config!r}")
    wrapper: Model = Model("pytorch", _torch_forward, shims=[HFShim()])
    return Model(
        "transformer",
        _forward,
        init=_init,
        layers=[wrapper],
        dims={"nO": None},
        attrs={"name": name, "get_spans": get_spans, "tokenizer_config": dict(tokenizer_config)},
    )


def get_shim(model: Model) -> HFShim:
    """The shim holding a TransformerModel's Hugging Face model and tokenizer."""
    return cast(HFShim, model.layers[0].shims[0])


def _init(model: Model, X: Optional[List[DocLike]] = None, Y: Optional[Any] = None) -> None:
    shim = get_shim(model)
    if not shim.loaded:
        tokenizer, transformer = load_transformer(
            model.attrs["name"], model.attrs["tokenizer_config"]
        )
        shim.set_transformer(transformer, tokenizer)
    if not model.has_dim("nO"):
        model.set_dim("nO", _hidden_size(shim))


def _hidden_size(shim: HFShim) -> int:
    config = shim.transformer.config
    for key in ("hidden_size", "d_model", "dim"):
        value = getattr(config, key, None)
        if isinstance(value, int):
            return value
    pieces = tokenize(shim.tokenizer, ["hello world"], None)
    hidden, _ = _run(shim, pieces, False)
    return int(hidden.shape[-1])


def _forward(
    model: Model, docs: List[DocLike], is_train: bool
) -> Tuple[List[TransformerData], Callable]:
    shim = get_shim(model)
    if not shim.loaded:
        raise ValueError(
            f"{NAME}: the transformer {model.attrs['name']!r} is not loaded; call "
            "model.initialize() first (or model.from_bytes() with saved weights)"
        )
    nested = model.attrs["get_spans"](docs)
    _check_spans(docs, nested)
    flat = [span for spans in nested for span in spans]
    pieces = tokenize(shim.tokenizer, [span.text for span in flat], _limit(shim))
    for row, n_pieces in pieces.truncated:
        span = flat[row]
        warnings.warn(
            f"{NAME}: a span of {n_pieces} wordpieces (tokens {span.start}-{span.end} of its "
            f"Doc) exceeds the model's maximum of {pieces.input_ids.shape[1]}; its last "
            "wordpieces were dropped and their tokens get zero vectors. Use a span getter "
            "with shorter spans (spacy-transformers.strided_spans.v1).",
            stacklevel=2,
        )
    width = model.get_dim("nO")
    if len(flat):
        hidden, backprop_rows = model.layers[0](pieces, is_train)
    else:
        hidden = model.ops.alloc3f(0, 0, width)
        backprop_rows = None
    row_length = hidden.shape[1]
    outputs = []
    start = 0
    for doc, spans in zip(docs, nested):
        rows = slice(start, start + len(spans))
        outputs.append(
            TransformerData(
                spans=list(spans),
                wordpieces=pieces.strings[rows],
                input_ids=cast(Any, pieces.input_ids[rows]),
                attention_mask=cast(Any, pieces.attention_mask[rows]),
                hidden=hidden[rows],
                align=align_doc(len(doc), spans, pieces.offsets[rows], row_length),
            )
        )
        start += len(spans)

    def backprop(d_hidden: List[Floats3d]) -> List[DocLike]:
        if len(d_hidden) != len(outputs):
            raise ValueError(
                f"{NAME}: backprop got {len(d_hidden)} gradients for {len(outputs)} Docs"
            )
        for i, (d, out) in enumerate(zip(d_hidden, outputs)):
            if d.shape != out.hidden.shape:
                raise ValueError(
                    f"{NAME}: the gradient for Doc {i} has shape {d.shape}, "
                    f"its hidden state {out.hidden.shape}"
                )
        if backprop_rows is not None:
            backprop_rows(model.ops.xp.concatenate(d_hidden, axis=0))
        return docs

    return outputs, backprop


def _limit(shim: HFShim) -> Optional[int]:
    return max_length(shim.tokenizer, shim.transformer)


def _check_spans(docs: List[DocLike], nested: Any) -> None:
    if not isinstance(nested, (list, tuple)) or len(nested) != len(docs):
        got = len(nested) if isinstance(nested, (list, tuple)) else type(nested).__name__
        raise ValueError(f"{NAME}: get_spans must return one list of spans per Doc, got {got}")
    for i, (doc, spans) in enumerate(zip(docs, nested)):
        for span in spans:
            if span.doc is not doc:
                raise ValueError(f"{NAME}: get_spans returned a span of another Doc for Doc {i}")


def _torch_forward(model: Model, pieces: Wordpieces, is_train: bool) -> Tuple[Floats3d, Callable]:
    """The ``pytorch`` node: wordpiece rows in, last hidden state out."""
    return _run(cast(HFShim, model.shims[0]), pieces, is_train)


def _run(shim: HFShim, pieces: Wordpieces, is_train: bool) -> Tuple[Floats3d, Callable]:
    import torch

    kwargs = {key: torch.from_numpy(value) for key, value in pieces.inputs().items()}
    output, torch_backprop = shim(ArgsKwargs(args=(), kwargs=kwargs), is_train)
    hidden_t = output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]
    hidden = cast(Floats3d, torch2xp(hidden_t))

    def backprop(d_hidden: Floats3d) -> None:
        d_t = xp2torch(cast(Any, numpy.ascontiguousarray(d_hidden, dtype="float32")))
        torch_backprop(ArgsKwargs(args=(hidden_t,), kwargs={"grad_tensors": (d_t,)}))

    return hidden, backprop
