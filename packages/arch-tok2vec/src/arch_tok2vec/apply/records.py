"""The bytes ``archs apply`` writes: JSON records and CoNLL-U sentences.

The same annotations always give the same bytes, whatever the number of
processes or the engine: keys in a fixed order, no white space between tokens
of JSON, floats as Python writes them (the shortest text that reads back the
same), non-ASCII characters as they are.
"""

import json
from typing import Any, Dict, List, Optional, Sequence

from .. import annotations
from .chain import Chain

HEADER_KEY = "arch_apply"
"""The key of the header record (the first line of a JSONL output)."""

SKIPPED_KEY = "skipped"
"""The key of the record written in place of a skipped input record."""

FORMAT = "arch-apply/1"
"""The version of the output's layout, in its header."""

CONLLU_COLUMNS = ("ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS", "MISC")


def dumps(value: Any) -> str:
    """One line of JSON, deterministic (see the module docstring)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def header(chain: Chain, settings: Dict[str, Any]) -> Dict[str, Any]:
    """The output's header: the layout version, the models (name, task, versions,
    checksum) and the settings that shape the output.

    chain: The models.
    settings: {name: value} of the settings that shape the records.
    """
    return {
        HEADER_KEY: {
            "format": FORMAT,
            "models": [model.describe() for model in chain.models],
            "annotated_with": running_versions(chain),
            "notes": chain.notes(),
            **settings,
        }
    }


def running_versions(chain: Chain) -> Dict[str, str]:
    """The installed versions of arch-tok2vec and of the arch packages that saved
    the models (the code that annotates)."""
    from ..families import installed_version

    packages = ["arch-tok2vec"] + sorted(
        {
            package
            for model in chain.models
            for package in model.describe()["saved_with"]
            if package.startswith("arch-") and package != "arch-tok2vec"
        }
    )
    return {package: installed_version(package) or "?" for package in packages}


def skipped(path: str, line: int, message: str) -> Dict[str, Any]:
    """The record written in place of a skipped input record."""
    return {SKIPPED_KEY: {"file": path, "line": line, "error": message}}


def conllu_sentences(
    chain: Chain, doc: Any, doc_id: str, sent_id: Optional[str], comments: Sequence[str]
) -> str:
    """An annotated Doc as CoNLL-U sentences, one per sentence of the Doc.

    chain: The models that annotated it (they give the columns).
    doc: The Doc, not empty.
    doc_id: Written as ``# newdoc id`` before its first sentence (unless sent_id is given).
    sent_id: The input sentence's ``sent_id`` (CoNLL-U input): kept, with no newdoc.
    comments: Comment lines to write first (without "# ").
    Raises ValueError if a token cannot be written in CoNLL-U (a tab or a line break).
    """
    columns = chain.conllu_columns(doc)
    unknown = set(columns) - set(CONLLU_COLUMNS)
    if unknown:
        raise ValueError(f"unknown CoNLL-U columns {sorted(unknown)}")
    tokens = [token.text for token in doc]
    spaces = [token.whitespace_ for token in doc]
    for i, text in enumerate(tokens):
        if any(c in text for c in "\t\n\r"):
            raise ValueError(
                f"token {i + 1} ({json.dumps(text)}) holds a tab or line break, which CoNLL-U "
                "cannot: write JSONL"
            )
    starts = annotations.sentence_starts(doc) + [len(doc)]
    lines: List[str] = [f"# {comment}" for comment in comments]
    several = len(starts) > 2
    if sent_id is None:
        lines.append(f"# newdoc id = {doc_id}")
    for k, (start, end) in enumerate(zip(starts, starts[1:])):
        if sent_id is not None:
            lines.append(f"# sent_id = {sent_id}" + (f".{k + 1}" if several else ""))
        else:
            lines.append(f"# sent_id = {doc_id}.{k + 1}")
        text = "".join(t + s for t, s in zip(tokens[start:end], spaces[start:end])).rstrip(" ")
        lines.append(f"# text = {text}")
        for i in range(start, end):
            row = {name: "_" for name in CONLLU_COLUMNS}
            row["ID"] = str(i - start + 1)
            row["FORM"] = tokens[i]
            for name, values in columns.items():
                if values[i]:
                    row[name] = values[i]
            if not spaces[i] and i + 1 < len(doc):
                misc = "" if row["MISC"] == "_" else row["MISC"]
                row["MISC"] = "|".join(item for item in (misc, "SpaceAfter=No") if item)
            lines.append("\t".join(row[name] for name in CONLLU_COLUMNS))
        lines.append("")
    return "\n".join(lines) + "\n"
