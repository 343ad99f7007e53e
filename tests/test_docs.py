"""The reference pages in docs/*.md: every example config builds, every registered
name has a section whose parameter table matches the function it documents."""

import inspect
import re

import pytest
from thinc.api import Config

from arch_tok2vec import registry
from arch_tok2vec.cli import initialize_on_samples
from arch_tok2vec.introspect import find

from declared import ROOT

PAGES = sorted((ROOT / "docs").glob("*.md"))


def _sections():
    sections = {}
    for page in PAGES:
        parts = re.split(r"^## ", page.read_text("utf8"), flags=re.M)[1:]
        sections.update({part.splitlines()[0].strip().strip("`"): part for part in parts})
    return sections


def _configs():
    configs = []
    for page in PAGES:
        configs += re.findall(r"^```ini\n(.*?)^```", page.read_text("utf8"), flags=re.M | re.S)
    return configs


def test_docs_have_examples():
    assert len(_configs()) >= 10


@pytest.fixture(scope="session")
def tiny_transformer(tmp_path_factory):
    """A tiny random BERT on disk, for the examples that load ${paths.transformer}."""
    from arch_transformers.tiny import write_tiny_bert

    return write_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), max_length=512)


@pytest.mark.parametrize("index", range(len(_configs())))
def test_example_config_builds(index, request):
    text = _configs()[index]
    overrides = {}
    if "${paths.transformer}" in text:  # no download: point the example at a local model
        overrides["paths.transformer"] = str(request.getfixturevalue("tiny_transformer"))
    config = Config().from_str(text, overrides=overrides)
    model = registry.resolve(config)["model"]
    X, _ = initialize_on_samples(model)
    assert model.predict(X) is not None


def _registered_names():
    return sorted(
        {n for n in _sections() if find(n)}
        | {item.name for item in __import__("arch_tok2vec.introspect").introspect.registered()}
    )


@pytest.mark.parametrize("name", _registered_names())
def test_every_registered_name_has_a_section_with_its_parameters(name):
    sections = _sections()
    assert name in sections, f"no page in docs/ has a section '## {name}'"
    func = find(name)[0].load()
    params = [
        p.name
        for p in inspect.signature(func).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    # the rows of the section's parameter table (other tables may follow it)
    table = re.search(r"^\| Parameter \|.*\n(?:\|.*\n?)*", sections[name], flags=re.M)
    rows = re.findall(r"^\| `?(\w+)`? \|", table.group() if table else "", flags=re.M)
    rows = [r for r in rows if r != "Parameter"]
    assert rows == params, f"{name}: table lists {rows}, the function takes {params}"
    doc = inspect.getdoc(func) or ""
    for param in params:
        assert re.search(rf"^{param}: \S", doc, flags=re.M), (
            f"{name}: no docstring line for {param}"
        )


# -- the training config's keys (docs/training.md) ----------------------------------


def _rows(text, first_column):
    """The rows of the table whose header starts with ``| first_column |``, as lists
    of cells without the surrounding backticks."""
    table = re.search(rf"^\| {first_column} \|.*\n(?:\|.*\n?)*", text, flags=re.M)
    assert table, f"no table starting with | {first_column} |"
    rows = []
    for line in table.group().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append(
            [cell[1:-1] if cell.startswith("`") and cell.endswith("`") else cell for cell in cells]
        )
    return rows


def _plain_sections():
    from arch_tok2vec.settings import PATHS_SETTINGS, SYSTEM_SETTINGS, TRAINING_SETTINGS

    return {"paths": PATHS_SETTINGS, "system": SYSTEM_SETTINGS, "training": TRAINING_SETTINGS}


@pytest.mark.parametrize("section", ["paths", "system", "training"])
def test_every_key_of_a_plain_section_is_documented_as_the_code_has_it(section):
    """docs/training.md lists each key of [paths], [system] and [training] with the
    type and default the code has, in the code's order, and says what it means."""
    from arch_tok2vec.settings import SECTIONS

    settings = _plain_sections()[section]
    rows = _rows(_sections()[f"The `[{section}]` section"], "Key")
    assert [row[0] for row in rows] == list(settings) == list(SECTIONS[section])
    for key, kind, default, meaning in rows:
        assert kind == settings[key].kind, f"[{section}] {key}: type {kind!r}"
        assert default == settings[key].default_text, f"[{section}] {key}: default {default!r}"
        assert len(meaning) > 20, f"[{section}] {key}: no meaning"


def test_the_default_optimizer_is_documented_as_the_code_and_thinc_have_it():
    from thinc.api import Adam

    from arch_tok2vec.settings import DEFAULT_OPTIMIZER, config_literal

    rows = _rows(_sections()["The `[training.optimizer]` section"], "Setting")
    ours = {k: v for k, v in DEFAULT_OPTIMIZER.items() if not k.startswith("@")}
    assert [row[0] for row in rows] == list(ours)
    thinc = {name: p.default for name, p in inspect.signature(Adam).parameters.items()}
    for key, arch_default, thinc_default, meaning in rows:
        assert arch_default == config_literal(ours[key]), key
        assert thinc_default == config_literal(thinc[key]), key
        assert meaning


def test_the_log_fields_are_documented():
    from arch_tok2vec.training_log import LOG_FIELDS

    rows = _rows(_sections()["The training log: `train.jsonl"], "Field")
    assert tuple(row[0] for row in rows) == LOG_FIELDS


def test_every_task_s_metrics_are_documented():
    from arch_tok2vec.introspect import registered

    rows = _rows(_sections()["Scores a task reports"], "Task")
    assert sorted(row[0] for row in rows) == sorted(item.name for item in registered(["tasks"]))
    for name, metrics, selection in rows:
        task = registry.tasks.get(name)()
        assert [m.strip(" `") for m in metrics.split(",")] == list(task.metrics), name
        assert selection.split(" ")[0].strip("`") == task.score_key, name
