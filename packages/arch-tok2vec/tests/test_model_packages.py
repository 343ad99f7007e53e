"""Trained models as distributions (issue 17): ``archs package`` builds a wheel and
an sdist of a model folder with its card; once installed, ``load(NAME)``,
``archs evaluate NAME``, ``archs list --models`` and ``archs info NAME`` find it.

Runs with arch-tok2vec alone: the model is folder_task.py's case tagger, whose task
and architecture a small distribution made here ("arch-case-task": a dist-info
folder and folder_task.py) declares in entry points, as a family would. Wheels are
installed by unpacking them into a folder put on PYTHONPATH (a pure wheel installs
so); the nox build session installs real ones with pip into fresh venvs
(tests/check_model_package.py)."""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import numpy
import pytest
import yaml

from arch_tok2vec import __version__, load, registry
from arch_tok2vec.cli import main
from arch_tok2vec.distribution_names import (
    canonical_name,
    compatible_range,
    name_problem,
    version_problem,
)
from arch_tok2vec.front_matter import front_matter, quote
from arch_tok2vec.model_files import ModelFileError
from arch_tok2vec.model_package import PackageError, package_model, requirements_for

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from folder_task import CONFIG, case_model, outputs, trained  # noqa: E402

NAME = "case-tagger-test"
IMPORT = "case_tagger_test"
TEXTS = ["Alice read a book in Paris", "the Cat sat on Monday"]


# -- a family of our own, and a trained model it declares ----------------------------


def make_case_distribution(site: Path) -> Path:
    """A distribution "arch-case-task" 0.1.0 in ``site``: folder_task.py and a
    dist-info declaring its task and architecture in entry points."""
    site.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "folder_task.py", site / "folder_task.py")
    info = site / "arch_case_task-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: arch-case-task\nVersion: 0.1.0\n", "utf8"
    )
    (info / "entry_points.txt").write_text(
        "[arch_tasks]\ntest.case.v1 = folder_task:CaseTask\n\n"
        "[arch_architectures]\ntest.case_model.v1 = folder_task:case_model\n",
        "utf8",
    )
    return site


@pytest.fixture(scope="module")
def case_site(tmp_path_factory):
    """The case distribution, on sys.path for this module's tests only."""
    site = make_case_distribution(tmp_path_factory.mktemp("case-site") / "site")
    sys.path.insert(0, str(site))
    yield site
    sys.path.remove(str(site))


@pytest.fixture(scope="module")
def model_dir(case_site, tmp_path_factory):
    """A trained case model (model-last: evaluated at its last epoch)."""
    out = tmp_path_factory.mktemp("trained")
    trained(out)
    return out / "model-last"


@pytest.fixture(scope="module")
def built(model_dir, tmp_path_factory):
    """The package built from the model folder."""
    out = tmp_path_factory.mktemp("packages")
    return package_model(model_dir, out, NAME, "1.0.0", log=lambda line: None)


def install(wheel: Path, target: Path) -> Path:
    """Install a pure wheel into ``target`` (unpacking it, as pip does)."""
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    return install(built.wheel, tmp_path_factory.mktemp("installed") / "site")


def run_python(code: str, *paths: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in paths)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd
    )


def archs(*args: str, paths, cwd: Path) -> subprocess.CompletedProcess:
    code = "import sys; from arch_tok2vec.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in paths)}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd
    )


def card_metadata(card: str):
    """The front matter of a card, read with a YAML library."""
    assert card.startswith("---\n"), card[:80]
    block, body = card[4:].split("\n---\n", 1)
    return yaml.safe_load(block), body


# -- what is built --------------------------------------------------------------------


def test_the_wheel_holds_every_file_of_the_model_folder_and_declares_the_model(built, model_dir):
    assert built.project.name == f"{NAME}-1.0.0"
    assert built.wheel.name == f"{IMPORT}-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(built.wheel) as archive:
        names = archive.namelist()
        shipped = {
            name.split("/model/", 1)[1]: archive.read(name)
            for name in names
            if name.startswith(f"{IMPORT}/model/")
        }
        entry_points = archive.read(f"{IMPORT}-1.0.0.dist-info/entry_points.txt").decode()
        metadata = Parser().parsestr(archive.read(f"{IMPORT}-1.0.0.dist-info/METADATA").decode())
    on_disk = {item.name: item.read_bytes() for item in model_dir.iterdir()}
    assert shipped == on_disk  # every file, byte for byte, the manifest included
    assert sorted(on_disk) == sorted(
        ["config.cfg", "manifest.json", "meta.json", "model.bin", "task.json"]
    )
    assert f"[arch_models]\n{NAME} = {IMPORT}\n" in entry_points.replace("\r", "")
    assert metadata["Name"] == NAME and metadata["Version"] == "1.0.0"
    assert sorted(metadata.get_all("Requires-Dist")) == sorted(
        ["arch-case-task<0.2,>=0.1.0", f"arch-tok2vec{_range(__version__)}"]
    )
    assert metadata.get_payload().strip() == built.card.strip()  # the card is the README
    assert metadata["License-Expression"] is None  # left for the user to fill in


def _range(version: str) -> str:
    """A range as hatchling writes it in METADATA (upper bound first)."""
    lower, upper = compatible_range(version).split(",")
    return f"{upper},{lower}"


def test_the_sdist_is_complete_it_builds_the_same_wheel_offline(built, tmp_path):
    with tarfile.open(built.sdist) as archive:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(tmp_path, **safe)
    (root,) = tmp_path.iterdir()
    done = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path / "out")],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (rebuilt,) = (tmp_path / "out").glob("*.whl")
    with zipfile.ZipFile(rebuilt) as a, zipfile.ZipFile(built.wheel) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        for name in a.namelist():
            if not name.endswith("RECORD"):
                assert a.read(name) == b.read(name), name


def test_requirements_are_the_arch_distributions_that_trained_it_in_compatible_ranges():
    written_by = {
        "arch-tagger": "0.1.2",
        "arch-tok2vec": "1.2.0",
        "numpy": "2.4.6",
        "python": "3.11.7",
        "thinc": "8.3.14",
    }
    assert requirements_for(written_by, Path("manifest.json")) == {
        "arch-tagger": ">=0.1.2,<0.2",
        "arch-tok2vec": ">=1.2.0,<2",
    }
    with pytest.raises(PackageError, match=r"manifest.json, key 'written_by.arch-x'"):
        requirements_for({"arch-x": "new"}, Path("manifest.json"))


# -- the card -------------------------------------------------------------------------


def test_the_card_has_valid_front_matter_with_the_dev_scores(built, model_dir):
    meta = json.loads((model_dir / "meta.json").read_text())
    data, body = card_metadata(built.card)
    assert data["library_name"] == "arch"
    assert data["license"] == "other"
    assert "arch" in data["tags"] and "case" in data["tags"]
    (index,) = data["model-index"]
    assert index["name"] == NAME
    (result,) = index["results"]
    assert result["dataset"]["split"] == "dev"
    assert result["metrics"] == [{"type": "acc", "value": meta["scores"]["acc"], "name": "dev acc"}]
    assert f"| `acc` | {meta['scores']['acc']:.4f} |" in body
    for section in (
        "## What it does",
        "## Architecture",
        "## Training",
        "## Scores",
        "## Sizes",
        "## Versions that trained it",
        "## License",
        "## How to use",
    ):
        assert section in body, section
    assert "It predicts 2 labels: `lower`, `Upper`." in body
    assert "| `[model]` | `@architectures` | `test.case_model.v1` |" in body
    assert "| `[training]` | `max_epochs` | `2` |" in body
    assert f'arch_tok2vec.load("{NAME}")' in body
    size = (model_dir / "model.bin").stat().st_size
    assert f"| `model.bin` | {size:,} |" in body
    assert "| arch-case-task | 0.1.0 |" in body
    # archs train logs every evaluation in train.jsonl beside the model folders
    logged = [json.loads(line) for line in (model_dir.parent / "train.jsonl").open()]
    (saved,) = [r for r in logged if r["step"] == meta["step"]]
    speed = f"{saved['words_per_second']:,.0f} words per second (from train.jsonl beside"
    assert f"speed while training: {speed} the model folder)" in body


def test_test_scores_go_in_the_card_and_its_model_index(model_dir, tmp_path):
    corpus = tmp_path / "test.txt"
    corpus.write_text("Alice read a book in Paris\nthe Cat sat on a Mat on Monday\n")
    log = []
    built = package_model(
        model_dir, tmp_path / "out", NAME, "1.0.0", test=corpus, license="MIT", log=log.append
    )
    expected = load(model_dir).evaluate(load(model_dir).task.read(corpus))
    data, body = card_metadata(built.card)
    dev, test = data["model-index"][0]["results"]
    assert (dev["dataset"]["split"], test["dataset"]["split"]) == ("dev", "test")
    assert test["dataset"]["name"] == "test.txt"
    assert test["metrics"] == [{"type": "acc", "value": expected["acc"], "name": "test acc"}]
    assert "### Test: test.txt (2 documents, 14 words)" in body
    assert data["license"] == "mit"
    assert f"scoring the model on {corpus}" in log
    with zipfile.ZipFile(built.wheel) as archive:
        metadata = Parser().parsestr(archive.read(f"{IMPORT}-1.0.0.dist-info/METADATA").decode())
    assert metadata["License-Expression"] == "MIT"


def test_training_speed_is_read_from_meta_or_the_training_log(model_dir, tmp_path):
    from arch_tok2vec.model_card import training_speed

    meta = json.loads((model_dir / "meta.json").read_text())
    assert training_speed(model_dir, {**meta, "words_per_second": 1234.5}) == (1234.5, "meta.json")
    run = tmp_path / "run"
    (run / "model-best").mkdir(parents=True)
    records = [
        {"epoch": 1, "step": 3, "words_per_second": 100.0},
        {"epoch": 2, "step": 6, "words_per_second": 250.0},
    ]
    (run / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert training_speed(run / "model-best", {"epoch": 2, "step": 6})[0] == 250.0
    assert training_speed(run / "model-best", {"epoch": 5, "step": 9}) is None


def test_front_matter_reads_back_as_the_data_whatever_the_strings_hold():
    strings = [
        'quote " and backslash \\ and colon: and # hash',
        "line\nbreak\ttab\r",
        "separators \u2028 \u2029 \x85 nel, bom \ufeff, bell \x07, del \x7f",
        "emoji \U0001f600 and accents é ñ",
        "yes",
        "no",
        "null",
        "true",
        "~",
        "1.0",
        "- dash",
        "[list]",
        "{map}",
        "",
        " padded ",
    ]
    data = {
        "strings": strings,
        "yes": 1,
        "key with space": None,
        "numbers": [0, -3, 1.5, 1e-12, 2.5e-07, 1e22, -1e300, float("nan"), True, False],
        "nested": [{"a": {"b": [1, {"c": []}]}, "d": {}}, [1, 2]],
    }
    read = yaml.safe_load(front_matter(data)[4:-5])
    assert read["strings"] == strings
    assert read["yes"] == 1 and read["key with space"] is None
    # NaN is written as null
    assert read["numbers"] == [0, -3, 1.5, 1e-12, 2.5e-07, 1e22, -1e300, None, True, False]
    assert read["nested"] == [{"a": {"b": [1, {"c": []}]}, "d": {}}, [1, 2]]
    assert quote("a\u2028b") == '"a\\u2028b"'


# -- installed: found by name ----------------------------------------------------------


def test_the_installed_wheel_loads_by_name_with_identical_predictions(
    installed, case_site, model_dir, tmp_path
):
    code = (
        "import json, arch_tok2vec, folder_task; "
        "from arch_tok2vec.installed_models import find_models; "
        f"model = arch_tok2vec.load({NAME!r}); "
        f"same = arch_tok2vec.load({IMPORT!r}); "
        f"(found,) = find_models({NAME!r}); "
        "print(json.dumps({'outputs': [y.tolist() for y in folder_task.outputs(model)], "
        f"'tags': model({TEXTS!r}), 'same': same({TEXTS!r}), "
        "'folder': str(found.folder()), 'meta': model.meta}))"
    )
    done = run_python(code, installed, case_site, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    folder = load(model_dir)
    assert result["folder"] == str(installed / IMPORT / "model")
    for got, expected in zip(result["outputs"], outputs(folder)):
        numpy.testing.assert_array_equal(numpy.asarray(got, dtype="float32"), expected)
    assert result["tags"] == result["same"] == folder(TEXTS)
    assert result["meta"] == folder.meta


def test_the_package_imports_and_loads_its_model(installed, case_site, tmp_path):
    code = f"import {IMPORT} as m; print(m.__version__, m.MODEL_FOLDER, type(m.load()).__name__)"
    done = run_python(code, installed, case_site, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1.0.0", str(installed / IMPORT / "model"), "Pipeline"]


def test_archs_lists_the_installed_model_shows_its_card_and_evaluates_it_by_name(
    installed, case_site, built, tmp_path
):
    paths = (installed, case_site)
    listed = archs("list", "--models", paths=paths, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [NAME, NAME, "1.0.0", "case", "(test.case_model.v1)"] in [
        line.split() for line in listed.stdout.splitlines()
    ]
    everything = archs("list", paths=paths, cwd=tmp_path)
    assert "spacy.HashEmbedCNN.v1" in everything.stdout and NAME in everything.stdout
    info = archs("info", "Case_Tagger.Test", paths=paths, cwd=tmp_path)  # any spelling of it
    assert info.returncode == 0, info.stderr
    assert info.stdout.startswith(f"{NAME}  (model; {NAME} 1.0.0; {installed / IMPORT / 'model'})")
    assert built.card.strip() in info.stdout
    corpus = tmp_path / "dev.txt"
    corpus.write_text("Alice read a book in Paris\n")
    scored = archs("evaluate", NAME, str(corpus), paths=paths, cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    assert f"{NAME} on {corpus}: 1 docs, 6 words" in scored.stdout


def test_no_models_installed_is_said(tmp_path, capsys):
    assert main(["list", "--models"]) == 0
    assert "installed models: none" in capsys.readouterr().out


def test_a_name_that_is_no_folder_and_no_model_says_so_with_close_names(
    installed, case_site, tmp_path
):
    code = "import sys, arch_tok2vec; arch_tok2vec.load(sys.argv[1])"
    for given, needle in (
        (
            "case-taggr-test",
            f"no installed model is called 'case-taggr-test'. Did you mean {NAME}?",
        ),
        ("runs/model-best", "runs/model-best: this is not a model folder (it does not exist)"),
    ):
        done = run_python(
            code.replace("sys.argv[1]", repr(given)), installed, case_site, cwd=tmp_path
        )
        assert done.returncode == 1 and needle in done.stderr, done.stderr
    with pytest.raises(ModelFileError, match="none is installed; archs package makes one"):
        load("no-such-model")


def test_a_path_object_is_never_looked_up_as_a_name(installed, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(installed))
    monkeypatch.chdir(tmp_path)
    assert type(load(NAME)).__name__ == "Pipeline"
    with pytest.raises(ModelFileError, match="it does not exist"):
        load(Path(NAME))


def test_a_model_declared_twice_or_without_its_folder_is_refused_naming_the_distribution(
    tmp_path, monkeypatch, capsys
):
    site = tmp_path / "site"
    for dist, target in (("twin-a", "twin_a"), ("twin-b", "twin_b"), ("hollow", "hollow")):
        info = site / f"{dist.replace('-', '_')}-0.1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
        model = "twin" if dist.startswith("twin") else dist
        (info / "entry_points.txt").write_text(f"[arch_models]\n{model} = {target}\n")
    bad = site / "odd-0.1.0.dist-info"
    bad.mkdir()
    (bad / "METADATA").write_text("Metadata-Version: 2.1\nName: odd\nVersion: 0.1.0\n")
    (bad / "entry_points.txt").write_text("[arch_models]\nodd = odd:folder\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ModelFileError,
        match=r"several installed distributions declare a model "
        r"called 'twin' \(twin-a 0.1.0, twin-b 0.1.0\)",
    ):
        load("twin")
    with pytest.raises(
        ModelFileError,
        match=r"hollow 0.1.0 .*its model folder \(hollow/model\) "
        r"is not installed",
    ):
        load("hollow")
    with pytest.raises(ModelFileError, match=r"odd 0.1.0 .*must name the import package"):
        load("odd")
    capsys.readouterr()
    assert main(["info", "hollow"]) == 0  # the card is still shown, and what is wrong
    out = capsys.readouterr().out
    assert out.startswith("hollow  (model; hollow 0.1.0; not loadable: hollow 0.1.0 (entry")
    assert "(its distribution has no card)" in out


# -- bad cases, named clearly -----------------------------------------------------------


@pytest.mark.parametrize(
    "name,needle",
    [
        ("en tagger", "is not a valid distribution name"),
        ("-tagger", "is not a valid distribution name"),
        ("tagger_", "is not a valid distribution name"),
        ("tägger", "is not a valid distribution name"),
        ("3d-tagger", "'3d_tagger', which is not a Python identifier"),
        ("import", "'import', which is not a Python identifier"),
    ],
)
def test_a_name_that_is_not_a_distribution_name_is_refused(model_dir, tmp_path, name, needle):
    with pytest.raises(PackageError, match=needle):
        package_model(model_dir, tmp_path / "out", name, "1.0.0")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "name,needle",
    [
        ("Arch_Tagger", "is the name of the arch package arch-tagger"),
        ("arch.transformers", "is the name of the arch package arch-transformers"),
        ("PyTest", "is taken: pytest .* is installed here \\(it is not a model\\)"),
        ("json", "would shadow the module json importable here"),
    ],
)
def test_a_name_already_taken_is_refused(model_dir, tmp_path, name, needle):
    with pytest.raises(PackageError, match=needle):
        package_model(model_dir, tmp_path / "out", name, "1.0.0")
    assert not (tmp_path / "out").exists()


def test_the_name_of_an_installed_model_is_refused(model_dir, installed, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(installed))
    for spelling in (NAME, "case_tagger.test"):
        with pytest.raises(
            PackageError,
            match=f"is taken: the installed distribution {NAME} 1.0.0 provides the model "
            f"'{NAME}'.*pip uninstall {NAME}",
        ):
            package_model(model_dir, tmp_path / "out", spelling, "1.1.0")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("version", ["1.0.x", "latest", "", "1..0", "v", "1.0-final"])
def test_a_version_that_is_not_pep_440_is_refused(model_dir, tmp_path, version):
    with pytest.raises(PackageError, match="is not a version as Python packages write them"):
        package_model(model_dir, tmp_path / "out", NAME, version)


def test_versions_and_names_as_the_standards_define_them():
    for good in [
        "1",
        "1.0.0",
        "0.3.2rc1",
        "1.0.post2",
        "1.0.dev3",
        "2!1.0",
        "1.0+local.7",
        "v1.0",
        "1.0.0-rc1",
        "1.0-1",
    ]:
        assert version_problem(good) is None, good
    for good in ["a", "en_tagger_sm", "En.Tagger-2", "x1"]:
        assert name_problem(good) is None, good
    assert canonical_name("En__Tagger.-sm") == "en-tagger-sm"
    assert compatible_range("0.3.2") == ">=0.3.2,<0.4"
    assert compatible_range("1.4.0") == ">=1.4.0,<2"
    assert compatible_range("0") == ">=0,<0.1"


def test_a_normalized_version_names_the_project_and_the_wheel(built, model_dir, tmp_path):
    again = package_model(model_dir, tmp_path, NAME, "1.0.0-RC1", log=lambda line: None)
    assert again.project.name == f"{NAME}-1.0.0rc1"
    assert again.wheel.name == f"{IMPORT}-1.0.0rc1-py3-none-any.whl"


def test_a_folder_that_fails_its_checks_is_refused_naming_the_file(model_dir, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    (copy / "task.json").unlink()
    with pytest.raises(PackageError, match=f"fails its checks: {copy / 'task.json'}: missing"):
        package_model(copy, tmp_path / "out", NAME, "1.0.0")
    shutil.copytree(model_dir, copy, dirs_exist_ok=True)
    data = bytearray((copy / "model.bin").read_bytes())
    data[100] ^= 1
    (copy / "model.bin").write_bytes(bytes(data))
    with pytest.raises(PackageError, match=f"{copy / 'model.bin'}: its checksum differs"):
        package_model(copy, tmp_path / "out", NAME, "1.0.0")
    (copy / "manifest.json").unlink()
    with pytest.raises(PackageError, match=f"{copy / 'manifest.json'}: missing"):
        package_model(copy, tmp_path / "out", NAME, "1.0.0")
    with pytest.raises(PackageError, match="this is not a model folder \\(it does not exist\\)"):
        package_model(tmp_path / "nothing", tmp_path / "out", NAME, "1.0.0")
    assert not (tmp_path / "out").exists()


def test_a_model_without_dev_scores_needs_a_test_corpus(model_dir, tmp_path):
    copy = tmp_path / "model"
    pipeline = load(model_dir)
    pipeline.meta = {**pipeline.meta, "scores": {}, "interrupted": True}
    pipeline.to_disk(copy)
    with pytest.raises(PackageError, match=f"{copy / 'meta.json'}: no dev scores .*--test CORPUS"):
        package_model(copy, tmp_path / "out", NAME, "1.0.0")
    corpus = tmp_path / "test.txt"
    corpus.write_text("Alice read a book\n")
    built = package_model(copy, tmp_path / "out", NAME, "1.0.0", test=corpus, log=lambda x: None)
    (result,) = card_metadata(built.card)[0]["model-index"][0]["results"]
    assert result["dataset"]["split"] == "test"


def test_a_bad_test_corpus_is_refused_naming_it(model_dir, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(PackageError, match=f"{empty}: the test corpus is empty"):
        package_model(model_dir, tmp_path / "out", NAME, "1.0.0", test=empty)
    with pytest.raises(PackageError, match="No such file"):
        package_model(model_dir, tmp_path / "out", NAME, "1.0.0", test=tmp_path / "missing")
    assert not (tmp_path / "out").exists()


def test_a_function_registered_in_code_only_is_refused(case_site, tmp_path):
    registry.architectures.register("test.case_model_inline.v1", func=case_model)
    folder = load_case_with("test.case_model_inline.v1", tmp_path)
    with pytest.raises(
        PackageError,
        match=r"\[model\] @architectures = 'test.case_model_inline.v1', registered by the module "
        r"folder_task: no installed distribution declares this name",
    ):
        package_model(folder, tmp_path / "out", NAME, "1.0.0")
    assert not (tmp_path / "out").exists()


def load_case_with(architecture: str, tmp_path: Path) -> Path:
    """A copy of a trained case model whose config names ``architecture``."""
    from thinc.api import Config

    from arch_tok2vec.training import train

    config = Config().from_str(
        CONFIG.format(seed=0, epochs=1).replace("test.case_model.v1", architecture)
    )
    train(config, tmp_path / "run", log=lambda line: None, progress=False)
    return tmp_path / "run" / "model-last"


def test_an_existing_project_folder_is_replaced_only_with_overwrite(built, model_dir, tmp_path):
    first = package_model(model_dir, tmp_path, NAME, "1.0.0", log=lambda line: None)
    (first.project / "notes.txt").write_text("mine")
    with pytest.raises(PackageError, match=f"{first.project} already exists: nothing was replaced"):
        package_model(model_dir, tmp_path, NAME, "1.0.0")
    assert (first.project / "notes.txt").read_text() == "mine"
    again = package_model(
        model_dir,
        tmp_path,
        NAME,
        "1.0.0",
        overwrite=True,
        license="Apache-2.0",
        log=lambda line: None,
    )
    assert again.project == first.project and not (again.project / "notes.txt").exists()
    assert card_metadata(again.card)[0]["license"] == "apache-2.0"
    assert [p.name for p in tmp_path.iterdir()] == [first.project.name]  # no leftovers


def test_a_license_that_is_not_an_spdx_expression_is_refused(model_dir, tmp_path):
    with pytest.raises(PackageError, match="'my license' is not an SPDX license expression"):
        package_model(model_dir, tmp_path / "out", NAME, "1.0.0", license="my license")


def test_without_hatchling_the_error_says_what_to_install(model_dir, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "hatchling" else real(name, *a),
    )
    with pytest.raises(
        PackageError, match=r"needs hatchling.*pip install 'arch-tok2vec\[package\]'"
    ):
        package_model(model_dir, tmp_path / "out", NAME, "1.0.0")


def test_archs_package_builds_and_reports_errors(model_dir, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["package", str(model_dir), str(out), "--name", NAME, "--version", "2.0.0"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    wheel = out / f"{NAME}-2.0.0" / "dist" / f"{IMPORT}-2.0.0-py3-none-any.whl"
    assert f"  wheel: {wheel}" in printed and f"pip install {wheel}" in printed
    assert main(args) == 1
    assert "already exists: nothing was replaced; give --overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    assert main(["package", str(model_dir), str(out), "--name", NAME, "--version", "x"]) == 1
    assert "'x' is not a version" in capsys.readouterr().err
