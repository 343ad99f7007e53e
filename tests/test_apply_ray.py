"""``archs apply`` on a local Ray cluster (2 CPUs): ``--engine ray`` gives the
bytes of a one-process run, and the ``map_batches`` class gives the records of
one, for JSONL and Parquet. Ray is an optional extra: ``nox -s ray`` installs it
and sets ARCH_REQUIRE_RAY=1, which makes its absence a failure, not a skip."""

import json
import os
from pathlib import Path
from typing import Dict, List

import pytest
from thinc.api import Config

from arch_tok2vec.apply import apply
from arch_tok2vec.training import train

from declared import ROOT

if os.environ.get("ARCH_REQUIRE_RAY"):
    import ray
else:
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: nox -s ray runs these")

EL_SAMPLE = ROOT / "packages" / "arch-entitylinker" / "src" / "arch_entitylinker" / "sample"


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster of 2 CPUs for the module."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    out = {}
    for name, epochs in (("tagger", 3), ("ner", 3), ("entity_linker", 3), ("textcat", 3)):
        config = Config().from_disk(ROOT / "configs" / f"{name}.cfg", interpolate=False)
        config["training"]["max_epochs"] = epochs
        train(config, root / name, log=lambda line: None, progress=False)
        out[name] = root / name / "model-last"
    return out


def texts(n: int) -> List[str]:
    lines = (EL_SAMPLE / "dev.jsonl").read_text("utf8").splitlines()
    base = [json.loads(line)["text"] for line in lines]
    return [f"{base[i % len(base)]} ({i})" for i in range(n)]


def specs(models: Dict[str, Path]) -> List[str]:
    return [str(models[name]) for name in ("tagger", "ner", "entity_linker", "textcat")]


def test_engine_ray_gives_the_bytes_of_one_process(cluster, models, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(json.dumps({"text": t, "id": i}) + "\n" for i, t in enumerate(texts(600)))
    )
    one, on_ray = tmp_path / "one.jsonl", tmp_path / "ray.jsonl"
    apply(specs(models), str(source), one, batch_size=32, log=lambda m: None)
    apply(
        specs(models), str(source), on_ray, batch_size=32, n_process=2, engine="ray",
        log=lambda m: None,
    )  # fmt: skip
    assert on_ray.read_bytes() == one.read_bytes()


def _single_process_records(models, lines: List[str], tmp_path: Path, batch_size: int) -> List[str]:
    source = tmp_path / "plain.txt"
    source.write_text("\n".join(lines) + "\n", "utf8")
    out = tmp_path / "plain.jsonl"
    apply(specs(models), str(source), out, batch_size=batch_size, log=lambda m: None)
    return out.read_text("utf8").splitlines()[1:]


def test_map_batches_jsonl_recipe_gives_the_records_of_one_process(cluster, models, tmp_path):
    from arch_tok2vec.apply.ray_data import Annotate

    lines = texts(300)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": t, "id": i}) + "\n" for i, t in enumerate(lines)))
    ds = ray.data.read_json(str(source), override_num_blocks=1)
    ds = ds.map_batches(
        Annotate,
        fn_constructor_kwargs={"models": specs(models), "json_column": "record"},
        batch_size=50,
        concurrency=2,
        num_cpus=0.5,  # both actors and the read and write tasks fit in 2 CPUs
    )
    ds.write_json(str(tmp_path / "annotated"))
    rows = []
    for part in sorted((tmp_path / "annotated").glob("*.json")):
        rows += [json.loads(line) for line in part.read_text("utf8").splitlines()]
    rows.sort(key=lambda row: row["id"])
    assert [row["id"] for row in rows] == list(range(len(lines)))
    expected = _single_process_records(models, lines, tmp_path, batch_size=50)
    assert [row["record"] for row in rows] == expected
    first = json.loads(expected[0])
    assert {key: rows[0][key] for key in first} == first  # the record's keys are columns too


def test_map_batches_parquet_recipe(cluster, models, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from arch_tok2vec.apply.ray_data import Annotate

    lines = texts(120)
    pq.write_table(
        pa.table({"doc_id": list(range(len(lines))), "body": lines}), tmp_path / "in.parquet"
    )
    ds = ray.data.read_parquet(str(tmp_path / "in.parquet"))
    ds = ds.map_batches(
        Annotate,
        fn_constructor_kwargs={"models": specs(models), "text_column": "body"},
        batch_size=40,
        concurrency=2,
        num_cpus=0.5,  # both actors and the read and write tasks fit in 2 CPUs
    )
    ds.write_parquet(str(tmp_path / "annotated"))
    table = pq.read_table(tmp_path / "annotated").sort_by("doc_id")
    assert table.column("doc_id").to_pylist() == list(range(len(lines)))
    expected = [json.loads(line) for line in _single_process_records(models, lines, tmp_path, 40)]
    assert table.column("text").to_pylist() == lines
    for key in ("tokens", "upos"):
        assert table.column(key).to_pylist() == [record[key] for record in expected]
    ents = table.column("ents").to_pylist()
    assert [[(e["start"], e["end"], e["kb_id"]) for e in doc] for doc in ents] == [
        [(e["start"], e["end"], e["kb_id"]) for e in record["ents"]] for record in expected
    ]
    assert "body" not in table.column_names
