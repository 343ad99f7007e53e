"""Hugging Face models behind thinc: loading from disk, the shim that holds the
model and its tokenizer, and tokenization into padded wordpiece rows."""

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy
import srsly
from thinc.shims import PyTorchShim

from .stored_files import StoredFileError, check_stored, read_stored, write_stored

# Settings of tokenizer_config that also say where the model's weights come from.
LOCATION_KEYS = ("local_files_only", "cache_dir", "revision")


class LoadError(ValueError):
    """A transformer that cannot be loaded; the message says how to get it."""


def load_transformer(name: str, tokenizer_config: Dict[str, Any]) -> Tuple[Any, Any]:
    """Load (tokenizer, model) with AutoTokenizer/AutoModel from a folder or a
    Hugging Face name, without network unless local_files_only is false."""
    from transformers import AutoModel, AutoTokenizer

    config = dict(tokenizer_config)
    config.setdefault("local_files_only", True)
    location = {key: config[key] for key in LOCATION_KEYS if key in config}
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise LoadError(f"name = {name!r} is a file; give the folder that holds config.json")
        if not (path / "config.json").exists():
            raise LoadError(
                f"name = {name!r} is a folder without config.json, so it holds no saved "
                "Hugging Face model (write one with model.save_pretrained(folder) and "
                "tokenizer.save_pretrained(folder))"
            )
        name = str(path)
    elif name.startswith(("/", ".", "~")) or "\\" in name:
        raise LoadError(f"name = {name!r}: no such folder")
    try:
        with _quiet():
            tokenizer = AutoTokenizer.from_pretrained(name, **config)
            model = AutoModel.from_pretrained(name, **location)
    except (OSError, ValueError) as err:
        if path.exists() or not config["local_files_only"]:
            raise LoadError(f"cannot load the transformer {name!r}: {err}") from None
        raise LoadError(_how_to_get(name, err)) from None
    if not getattr(tokenizer, "is_fast", False):
        raise LoadError(
            f"the tokenizer of {name!r} is not a fast (Rust) tokenizer, which is needed for "
            "the character offsets that align wordpieces to tokens; drop use_fast = false "
            "from tokenizer_config, or use a model that ships tokenizer.json"
        )
    model.eval()
    return tokenizer, model


def _how_to_get(name: str, err: Exception) -> str:
    folder = name.rstrip("/").split("/")[-1] or "model"
    return (
        f"the transformer {name!r} is not on this machine: it is not a folder, and not in "
        "the Hugging Face cache, and downloading is off (tokenizer_config local_files_only "
        "is true by default). Save it once where there is network access:\n"
        f'    python -c "from transformers import AutoModel, AutoTokenizer; '
        f"AutoTokenizer.from_pretrained('{name}').save_pretrained('{folder}'); "
        f"AutoModel.from_pretrained('{name}').save_pretrained('{folder}')\"\n"
        f'then set name = "/path/to/{folder}"; or allow downloads with '
        f'tokenizer_config = {{"local_files_only": false}}. (transformers said: {err})'
    )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide transformers' progress bars while loading or saving."""
    from transformers.utils import logging

    was_enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            logging.enable_progress_bar()


class HFShim(PyTorchShim):
    """thinc's PyTorch shim for a Hugging Face model and its tokenizer.

    It is empty until ``set_transformer`` (called when the model is initialized)
    or ``from_bytes``; its bytes hold the saved model and tokenizer files, so a
    model restored from bytes needs neither the original folder nor network.
    """

    def __init__(self) -> None:
        super().__init__(None)
        self.tokenizer: Any = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def transformer(self) -> Any:
        return self._model

    def set_transformer(self, model: Any, tokenizer: Any) -> None:
        self._model = model
        self.tokenizer = tokenizer

    def to_bytes(self) -> bytes:
        """The config and the files save_pretrained writes (safetensors weights,
        tokenizer), by name; raises StoredFileError rather than store a file
        that from_bytes would refuse."""
        files: Dict[str, bytes] = {}
        if self.loaded:
            with tempfile.TemporaryDirectory() as tmp, _quiet():
                self._model.save_pretrained(tmp)
                self.tokenizer.save_pretrained(tmp)
                for path in sorted(Path(tmp).rglob("*")):
                    if path.is_file():
                        files[path.relative_to(tmp).as_posix()] = path.read_bytes()
            try:
                check_stored(files)
            except StoredFileError as err:
                raise StoredFileError(
                    f"cannot save the transformer: save_pretrained wrote a file that loading "
                    f"would refuse ({err})"
                ) from None
        return srsly.msgpack_dumps({"config": self.cfg, "files": files})

    def from_bytes(self, bytes_data: bytes) -> "HFShim":
        """Restore from to_bytes' bytes, which are untrusted: every stored name is
        checked before anything is written (StoredFileError names the bad one),
        and the files go into a fresh temporary folder, removed afterwards."""
        cfg, files = read_stored(bytes_data)
        if files:
            with tempfile.TemporaryDirectory() as tmp, _quiet():
                write_stored(Path(tmp), files)
                tokenizer, model = _load_restored(tmp)
            model.eval()
            self.set_transformer(model, tokenizer)
        self.cfg = cfg
        return self


def _load_restored(folder: str) -> Tuple[Any, Any]:
    """(tokenizer, model) from the folder from_bytes wrote: from that folder only
    (no download, no hub lookup), weights from safetensors only (never a pickle),
    and never code its config names (auto_map), without asking on the terminal.

    folder: The temporary folder holding the checked stored files.
    """
    from safetensors import SafetensorError
    from transformers import AutoModel, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False
        )
        model = AutoModel.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False, use_safetensors=True
        )
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as err:
        never = "; arch never runs code a model file names" if "remote_code" in str(err) else ""
        raise StoredFileError(
            "the model file is corrupt or crafted: the transformer files stored in it "
            f"do not load ({type(err).__name__}: {err}){never}"
        ) from None
    return tokenizer, model


def max_length(tokenizer: Any, model: Any) -> Optional[int]:
    """The most wordpieces a row may have (None: no limit known)."""
    limits = [getattr(tokenizer, "model_max_length", None)]
    limits.append(getattr(getattr(model, "config", None), "max_position_embeddings", None))
    known = [int(x) for x in limits if isinstance(x, int) and 0 < x < 10**9]
    return min(known) if known else None


@dataclass
class Wordpieces:
    """A batch of spans tokenized into padded wordpiece rows."""

    input_ids: numpy.ndarray  # (n_rows, row_length) int64
    attention_mask: numpy.ndarray  # (n_rows, row_length) int64
    token_type_ids: Optional[numpy.ndarray]
    offsets: List[List[Tuple[int, int]]]  # per row, per real wordpiece
    strings: List[List[str]]  # per row, padding included
    truncated: List[Tuple[int, int]]  # (row, wordpieces before truncation)

    def inputs(self) -> Dict[str, numpy.ndarray]:
        found = {"input_ids": self.input_ids, "attention_mask": self.attention_mask}
        if self.token_type_ids is not None:
            found["token_type_ids"] = self.token_type_ids
        return found


def tokenize(tokenizer: Any, texts: Sequence[str], limit: Optional[int]) -> Wordpieces:
    """Tokenize texts with special tokens and offsets; cut rows longer than
    ``limit`` (keeping the special tokens at both ends) and pad to the longest."""
    if not texts:
        none = numpy.zeros((0, 0), dtype="int64")
        return Wordpieces(none, none, None, [], [], [])
    encoded = tokenizer(
        list(texts),
        add_special_tokens=True,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_attention_mask=True,
        verbose=False,
    )
    rows = [list(ids) for ids in encoded["input_ids"]]
    offsets = [[(int(o[0]), int(o[1])) for o in row] for row in encoded["offset_mapping"]]
    specials = [list(mask) for mask in encoded["special_tokens_mask"]]
    with_types = "token_type_ids" in getattr(tokenizer, "model_input_names", ())
    types = [list(t) for t in encoded["token_type_ids"]] if with_types else None
    truncated = []
    for r, ids in enumerate(rows):
        if limit is not None and len(ids) > limit:
            truncated.append((r, len(ids)))
            keep = _kept_positions(specials[r], limit)
            rows[r] = [ids[i] for i in keep]
            offsets[r] = [offsets[r][i] for i in keep]
            if types is not None:
                types[r] = [types[r][i] for i in keep]
    width = max((len(ids) for ids in rows), default=0)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids = numpy.full((len(rows), width), pad, dtype="int64")
    mask = numpy.zeros((len(rows), width), dtype="int64")
    type_ids = numpy.zeros((len(rows), width), dtype="int64") if types is not None else None
    for r, ids in enumerate(rows):
        input_ids[r, : len(ids)] = ids
        mask[r, : len(ids)] = 1
        if type_ids is not None and types is not None:
            type_ids[r, : len(ids)] = types[r]
    strings = [tokenizer.convert_ids_to_tokens([int(i) for i in row]) for row in input_ids]
    return Wordpieces(input_ids, mask, type_ids, offsets, strings, truncated)


def _kept_positions(special_mask: List[int], limit: int) -> List[int]:
    """Positions kept when cutting a row to ``limit``: the leading and trailing
    special tokens, and as many content wordpieces from the start as fit."""
    n = len(special_mask)
    lead = 0
    while lead < n and special_mask[lead]:
        lead += 1
    trail = 0
    while trail < n - lead and special_mask[n - 1 - trail]:
        trail += 1
    room = max(limit - lead - trail, 0)
    return list(range(lead)) + list(range(lead, lead + room)) + list(range(n - trail, n))
