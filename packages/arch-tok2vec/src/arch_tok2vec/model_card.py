"""A model card: what a packaged model does, how it was trained, how good it is and
how to use it, generated from its model folder (``archs package``).

The card is Markdown with YAML front matter in Hugging Face's conventions
(``library_name``, ``tags``, ``license`` and a ``model-index`` of the dev, and test,
scores), so it is ready for a model hub; it is also the distribution's README,
which ``archs info NAME`` prints.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from .distribution_names import import_name
from .front_matter import front_matter
from .memory import weights_held
from .pipeline import Pipeline

HUB_TASKS: Dict[str, Tuple[str, str]] = {
    "tagger": ("token-classification", "Part-of-speech tagging"),
    "ner": ("token-classification", "Named entity recognition"),
    "parser": ("dependency-parsing", "Dependency parsing"),
    "textcat": ("text-classification", "Text classification"),
    "entity_linker": ("entity-linking", "Entity linking"),
}
"""For each task of the family: the task type written in the model index, and its name."""
PIPELINE_TAGS = ("token-classification", "text-classification")
"""The task types that are also Hugging Face pipeline tags."""
UNSET_LICENSE = "other"
"""The license written when none is given: the user fills it in before publishing."""
TRAINING_LOG = "train.jsonl"
"""The training log that ``archs train`` may write beside the model folders."""
SHOWN_LABELS = 60
"""At most this many labels are listed by name."""


@dataclass
class Evaluation:
    """Scores of the model on one corpus.

    corpus: The corpus, as named in the card (a file name, or the sample corpus).
    split: "dev" or "test".
    scores: What the task's metric returned.
    docs: How many documents were scored (None: not known).
    words: How many words (None: not known).
    """

    corpus: str
    split: str
    scores: Dict[str, Any]
    docs: Optional[int] = None
    words: Optional[int] = None


@dataclass
class CardFacts:
    """Everything a card says, gathered by ``archs package``.

    name: The distribution's (and the model's) name.
    version: The distribution's version.
    pipeline: The loaded model.
    files: Each file of the model folder with its size in bytes.
    written_by: The versions that trained it (the manifest's ``written_by``).
    requirements: The distribution's requirements, {distribution: version range}.
    license: The license (an SPDX expression), or UNSET_LICENSE.
    evaluations: The dev scores from training, then the test scores, if any.
    words_per_second: The training speed and where it was read, if recorded.
    """

    name: str
    version: str
    pipeline: Pipeline
    files: Dict[str, int]
    written_by: Dict[str, str]
    requirements: Dict[str, str]
    license: str = UNSET_LICENSE
    evaluations: List[Evaluation] = field(default_factory=list)
    words_per_second: Optional[Tuple[float, str]] = None


def dev_evaluation(meta: Dict[str, Any], config: Dict[str, Any], family: str) -> Evaluation:
    """The dev scores training recorded in meta.json, as an Evaluation.

    meta: The model's meta.json.
    config: Its config (for the dev corpus in [paths]).
    family: The distribution that provides its task (names the sample corpus).
    """
    scores = meta.get("scores") if isinstance(meta.get("scores"), dict) else {}
    return Evaluation(_corpus_name(config, "dev", family), "dev", dict(scores or {}))


def _corpus_name(config: Dict[str, Any], split: str, family: str) -> str:
    paths = config.get("paths") if isinstance(config.get("paths"), dict) else {}
    given = (paths or {}).get(split)
    if given is None:
        return f"the sample corpus of {family}"
    return Path(str(given)).name


def training_speed(model_dir: Path, meta: Dict[str, Any]) -> Optional[Tuple[float, str]]:
    """The words per second at training: meta.json's ``words_per_second``, else the
    record of the saved step in the training log beside the model folder; None
    when neither records it.

    model_dir: The model folder.
    meta: Its meta.json.
    """
    speed = meta.get("words_per_second")
    if isinstance(speed, (int, float)) and not isinstance(speed, bool):
        return float(speed), "meta.json"
    log = model_dir.parent / TRAINING_LOG
    try:
        lines = log.read_text("utf8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    found: Optional[float] = None
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or not _is_number(record.get("words_per_second")):
            continue
        if record.get("step") == meta.get("step") and record.get("epoch") == meta.get("epoch"):
            found = float(record["words_per_second"])
    return (found, f"{TRAINING_LOG} beside the model folder") if found is not None else None


def model_card(facts: CardFacts) -> str:
    """The card: front matter, then the Markdown sections."""
    return front_matter(card_metadata(facts)) + "\n" + "\n".join(_body(facts))


def card_metadata(facts: CardFacts) -> Dict[str, Any]:
    """The front matter: library, tags, license and the model index of scores."""
    task_name = str(facts.pipeline.meta.get("task") or facts.pipeline.task.name)
    hub_type, hub_name = HUB_TASKS.get(task_name, (task_name, task_name))
    families = list(facts.requirements)
    metadata: Dict[str, Any] = {
        "library_name": "arch",
        "license": facts.license.lower(),
        "tags": _unique(["arch", "thinc", task_name, *families]),
    }
    if hub_type in PIPELINE_TAGS:
        metadata["pipeline_tag"] = hub_type
    results = []
    for evaluation in facts.evaluations:
        metrics = [
            {"type": key, "value": value, "name": f"{evaluation.split} {key}"}
            for key, value in evaluation.scores.items()
            if _is_number(value) and isinstance(value, float) and math.isfinite(value)
        ]
        if metrics:
            results.append(
                {
                    "task": {"type": hub_type, "name": hub_name},
                    "dataset": {"name": evaluation.corpus, "split": evaluation.split},
                    "metrics": metrics,
                }
            )
    metadata["model-index"] = [{"name": facts.name, "results": results}]
    return metadata


def _body(facts: CardFacts) -> List[str]:
    pipeline = facts.pipeline
    meta, config = pipeline.meta, pipeline.config
    task_name = str(meta.get("task") or pipeline.task.name)
    _, hub_name = HUB_TASKS.get(task_name, (task_name, task_name))
    architecture = str(config["model"].get("@architectures", "?"))
    labels = task_labels(pipeline.task)
    lines = [
        f"# {facts.name}",
        "",
        f"{hub_name} with `{architecture}` (task `{task_name}`), trained with arch (spaCy's "
        "model architectures on thinc) and packaged with `archs package`.",
        "",
        "| | |",
        "|---|---|",
        f"| Name | `{facts.name}` |",
        f"| Version | {facts.version} |",
        f"| Task | `{task_name}` |",
        f"| Architecture | `{architecture}` |",
        _labels_row(labels, kb_sizes(pipeline.task)),
        f"| License | {_license_text(facts.license)} |",
        f"| Requires | {_requirements(facts)} |",
        "",
    ]
    lines += _what_it_does(pipeline, labels)
    lines += _architecture(config)
    lines += _training(facts)
    lines += _scores(facts)
    lines += _sizes(facts)
    lines += _versions(facts)
    lines += _license(facts)
    lines += _usage(facts)
    return lines


def task_labels(task: Any) -> Optional[List[str]]:
    """The labels a task predicts: its ``labels``, or its transition system's label
    names (parser and NER); None if it lists none."""
    for owner, attribute in ((task, "labels"), (getattr(task, "moves", None), "label_names")):
        value = getattr(owner, attribute, None) if owner is not None else None
        if isinstance(value, (list, tuple, set, frozenset)) and all(
            isinstance(label, str) for label in value
        ):
            return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    return None


def kb_sizes(task: Any) -> Optional[Tuple[int, int]]:
    """(entities, aliases) of the knowledge base an entity-linking task holds (its
    ``kb``, with spaCy's KnowledgeBase methods); None for other tasks."""
    kb = getattr(task, "kb", None)
    sizes = [getattr(kb, attr, None) for attr in ("get_size_entities", "get_size_aliases")]
    if kb is None or not all(callable(size) for size in sizes):
        return None
    return int(sizes[0]()), int(sizes[1]())  # type: ignore[misc]


def _labels_row(labels: Optional[List[str]], kb: Optional[Tuple[int, int]]) -> str:
    if labels is not None:
        return f"| Labels | {len(labels)} |"
    if kb is not None:
        return f"| Knowledge base | {kb[0]:,} entities, {kb[1]:,} aliases |"
    return "| Labels | not listed by the task |"


def _what_it_does(pipeline: Pipeline, labels: Optional[List[str]]) -> List[str]:
    lines = ["## What it does", ""]
    if labels is not None:
        shown = ", ".join(f"`{_cell(label)}`" for label in labels[:SHOWN_LABELS])
        more = f" and {len(labels) - SHOWN_LABELS} more" if len(labels) > SHOWN_LABELS else ""
        lines += [f"It predicts {len(labels)} labels: {shown}{more}.", ""]
    sizes = kb_sizes(pipeline.task)
    if sizes is not None:
        lines += [
            f"Its knowledge base, shipped inside the model, holds {sizes[0]:,} entities and "
            f"{sizes[1]:,} aliases.",
            "",
        ]
    rows = [
        (f"`{key}`", f"`{_value(value)}`") for _, key, value in _settings(pipeline.config, "task")
    ]
    if rows:
        lines += ["The task's settings (`[task]` of config.cfg):", ""]
        lines += _table(("setting", "value"), rows)
    return lines


def _architecture(config: Dict[str, Any]) -> List[str]:
    lines = ["## Architecture", ""]
    rows = [
        (f"`[{block}]`", f"`{key}`", f"`{_value(value)}`")
        for block, key, value in _settings(config, "model")
    ]
    lines += _table(("block", "setting", "value"), rows)
    return lines


def _training(facts: CardFacts) -> List[str]:
    meta, config = facts.pipeline.meta, facts.pipeline.config
    lines = ["## Training", ""]
    paths = config.get("paths") if isinstance(config.get("paths"), dict) else {}
    family = _task_family(facts)
    for split in ("train", "dev"):
        given = (paths or {}).get(split)
        where = f"`{given}`" if given is not None else f"the sample corpus embedded in {family}"
        lines.append(f"- {split} data: {where}")
    saved = []
    if isinstance(meta.get("epoch"), int):
        saved.append(f"epoch {meta['epoch']}")
    if isinstance(meta.get("step"), int):
        saved.append(f"step {meta['step']}")
    kind = "the best model by the dev score" if meta.get("best") else "the last model saved"
    key = meta.get("score_key")
    if meta.get("best") and isinstance(key, str):
        kind = f"the best model by dev `{key}`"
    lines.append(f"- saved at {', '.join(saved) or 'an unrecorded point'}: {kind}")
    if "seed" in meta:
        lines.append(f"- seed: {meta['seed']}")
    if facts.words_per_second is not None:
        speed, source = facts.words_per_second
        lines.append(f"- speed while training: {speed:,.0f} words per second (from {source})")
    else:
        lines.append(
            "- speed while training: not recorded (the arch-tok2vec that trained it kept "
            f"no words per second in meta.json and there is no {TRAINING_LOG} beside it)"
        )
    lines.append("")
    rows = [
        (f"`[{block}]`", f"`{key}`", f"`{_value(value)}`")
        for section in ("training", "system")
        for block, key, value in _settings(config, section)
    ]
    if rows:
        lines += ["The recipe (`[training]` and `[system]` of config.cfg):", ""]
        lines += _table(("block", "setting", "value"), rows)
    lines += ["<details><summary>The full config.cfg</summary>", "", "```ini"]
    lines += [line.rstrip() for line in config.to_str().splitlines()]
    lines += ["```", "", "</details>", ""]
    return lines


def _scores(facts: CardFacts) -> List[str]:
    lines = ["## Scores", ""]
    if not facts.evaluations:
        return lines + ["No scores were recorded.", ""]
    for evaluation in facts.evaluations:
        title = "Dev" if evaluation.split == "dev" else evaluation.split.capitalize()
        counted = []
        if evaluation.docs is not None:
            counted.append(f"{evaluation.docs:,} documents")
        if evaluation.words is not None:
            counted.append(f"{evaluation.words:,} words")
        extent = f" ({', '.join(counted)})" if counted else ""
        lines += [f"### {title}: {evaluation.corpus}{extent}", ""]
        flat = [(k, v) for k, v in evaluation.scores.items() if not isinstance(v, dict)]
        lines += _table(("metric", "value"), [(f"`{k}`", _score(v)) for k, v in flat])
        for key, value in evaluation.scores.items():
            if isinstance(value, dict) and value:
                lines += [f"`{key}`:", ""]
                lines += _breakdown(value)
    return lines


def _breakdown(value: Dict[str, Any]) -> List[str]:
    columns: List[str] = []
    for item in value.values():
        if isinstance(item, dict):
            columns += [name for name in item if name not in columns]
    if columns:
        rows = [
            (f"`{_cell(str(key))}`", *(_score(item.get(c, "")) for c in columns))
            for key, item in value.items()
            if isinstance(item, dict)
        ]
        return _table(("label", *columns), rows)
    return _table(("label", "value"), [(f"`{_cell(str(k))}`", _score(v)) for k, v in value.items()])


def _sizes(facts: CardFacts) -> List[str]:
    parameters = weights_held(facts.pipeline.model)
    total = sum(facts.files.values())
    lines = [
        "## Sizes",
        "",
        f"{parameters:,} parameters; the model folder holds {len(facts.files)} files, "
        f"{total:,} bytes:",
        "",
    ]
    lines += _table(("file", "bytes"), [(f"`{n}`", f"{s:,}") for n, s in facts.files.items()])
    return lines


def _versions(facts: CardFacts) -> List[str]:
    lines = ["## Versions that trained it", ""]
    lines += _table(("distribution", "version"), sorted(facts.written_by.items()))
    lines += [
        f"Installing it requires {_requirements(facts)}.",
        "",
    ]
    return lines


def _license(facts: CardFacts) -> List[str]:
    lines = ["## License", ""]
    if facts.license == UNSET_LICENSE:
        lines += [
            "Not set. Before publishing, fill in `license` in the front matter above (and "
            "in pyproject.toml), or package the model again with `archs package ... "
            "--license SPDX-ID`. The license must allow what the training data's license "
            "requires.",
            "",
        ]
    else:
        lines += [f"{facts.license}.", ""]
    return lines


def _usage(facts: CardFacts) -> List[str]:
    name = facts.name
    package = import_name(name)
    return [
        "## How to use",
        "",
        "Install the wheel (or, once published, the distribution by its name):",
        "",
        "```bash",
        f"pip install {name}",
        "```",
        "",
        "In Python:",
        "",
        "```python",
        "import arch_tok2vec",
        "",
        f'model = arch_tok2vec.load("{name}")',
        'print(model(["The storm closed the old bridge on Monday."]))',
        "",
        f"import {package}  # the same model, from its package",
        "",
        f"model = {package}.load()",
        "```",
        "",
        "From the command line:",
        "",
        "```bash",
        *_commented(
            [
                (f"archs info {name}", "this card"),
                (f"archs evaluate {name} CORPUS", "scores on a corpus the task reads"),
                ("archs list --models", "every installed model"),
            ]
        ),
        "```",
        "",
    ]


# -- helpers -------------------------------------------------------------------------


def _settings(config: Dict[str, Any], section: str) -> Iterable[Tuple[str, str, Any]]:
    """(block, key, value) for every setting of a config section: a block's own
    settings, then its nested blocks', as the config file reads."""
    node = config.get(section)
    if not isinstance(node, dict):
        return []
    found = [(section, key, value) for key, value in node.items() if not isinstance(value, dict)]
    for key, value in node.items():
        if isinstance(value, dict):
            found += [(f"{section}.{block}", k, v) for block, k, v in _settings(node, key)]
    return found


def _commented(commands: List[Tuple[str, str]]) -> List[str]:
    width = max(len(command) for command, _ in commands)
    return [f"{command.ljust(width)}  # {comment}" for command, comment in commands]


def _task_family(facts: CardFacts) -> str:
    """The distribution that provides the task (the first requirement other than
    arch-tok2vec), which also ships its sample corpus."""
    families = [dist for dist in facts.requirements if dist != "arch-tok2vec"]
    return families[0] if families else "arch-tok2vec"


def _requirements(facts: CardFacts) -> str:
    return ", ".join(f"`{dist}{spec}`" for dist, spec in facts.requirements.items())


def _license_text(license: str) -> str:
    return (
        "not set (`other`): fill it in before publishing" if license == UNSET_LICENSE else license
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _value(value: Any) -> str:
    return _cell(json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value)


def _cell(text: str) -> str:
    """Text for a table cell or a code span: pipes escaped, no line breaks or backticks."""
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _score(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if math.isfinite(value) else str(value)
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _unique(items: List[str]) -> List[str]:
    return list(dict.fromkeys(items))
