"""docs/apply.md: its shell commands and Python run, in order, in an empty folder
beside the repository's configs/ (training cut to two epochs), and what the page
shows of their output is what they print and write."""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

from declared import ROOT

PAGE = ROOT / "docs" / "apply.md"
BIN = Path(sys.executable).parent


def blocks() -> List[Tuple[str, str]]:
    """(language, text) of every fenced block of the page, in order."""
    text = PAGE.read_text("utf8")
    return re.findall(r"^```(\w+)\n(.*?)^```", text, flags=re.M | re.S)


def needs_ray(code: str) -> bool:
    return "--engine ray" in code or "import ray" in code


def _collapse(text: str) -> str:
    text = re.sub(r"[\d,]+ documents per second", "N documents per second", text)
    return " ".join(text.split())


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Run the page's sh and python blocks; return (folder, [(code, output)])."""
    folder = tmp_path_factory.mktemp("docs-apply")
    (folder / "configs").symlink_to(ROOT / "configs")
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    has_ray = importlib.util.find_spec("ray") is not None
    outputs = []
    for language, code in blocks():
        if language not in ("sh", "python"):
            continue
        if needs_ray(code) and not has_ray:
            if os.environ.get("ARCH_REQUIRE_RAY"):
                pytest.fail("Ray is not installed")
            continue  # the optional extra: nox -s ray runs these blocks
        if language == "sh":
            script = re.sub(r"^(archs train .*)$", r"\1 --training.max_epochs 2", code, flags=re.M)
            command = ["bash", "-e", "-o", "pipefail", "-c", script]
        else:
            command = [sys.executable, "-c", code]
        done = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, f"{code}\n{done.stdout}\n{done.stderr}"
        outputs.append((code, done.stdout + done.stderr))
    return folder, outputs


def test_the_page_has_what_it_needs():
    languages = [language for language, _ in blocks()]
    assert languages.count("sh") >= 8 and languages.count("python") >= 3


def test_every_command_runs(ran):
    folder, outputs = ran
    assert (folder / "annotated.jsonl").exists() and (folder / "annotated.conllu").exists()


def test_what_the_page_shows_is_what_the_commands_print(ran):
    _, outputs = ran
    found = blocks()
    shown = 0
    for i, (language, text) in enumerate(found):
        if language != "text" or i == 0 or found[i - 1][0] != "sh":
            continue
        command = found[i - 1][1]
        output = next((out for code, out in outputs if code == command), None)
        if output is None:
            continue  # a Ray block without Ray
        assert _collapse(text) in _collapse(output), f"{command}\nprints\n{output}"
        shown += 1
    assert shown >= 3


def test_the_record_shown_has_the_keys_written(ran):
    folder, _ = ran
    example = json.loads(next(text for language, text in blocks() if language == "json"))
    lines = (folder / "annotated.jsonl").read_text("utf8").splitlines()
    header, records = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]
    assert [m["task"] for m in header["arch_apply"]["models"]] == ["tagger", "parser"]
    assert [list(r) for r in records] == [list(example)] * 2
    assert records[1]["text"] == example["text"] and records[1]["tokens"] == example["tokens"]


def test_the_linker_links_what_ner_found_and_says_when_nothing_did(ran):
    folder, _ = ran
    linked = [json.loads(line) for line in (folder / "linked.jsonl").read_text().splitlines()]
    assert all("kb_id" in e for r in linked[1:] for e in r["ents"])
    header = json.loads((folder / "aliases.jsonl").read_text().splitlines()[0])["arch_apply"]
    assert "no model before the entity linker sets entities" in header["notes"][0]
    assert (folder / "linked.jsonl").read_bytes() == (folder / "linked-2.jsonl").read_bytes()
