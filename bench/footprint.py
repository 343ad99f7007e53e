"""Import time and installed footprint of each arch package beside spaCy's.

``import_time``: wall time of ``python -c "import X"`` in fresh processes,
minus that of an empty interpreter, median over repeats, in this environment.
``footprint``: each package installed alone (with arch-tok2vec from the local
tree and its registry dependencies) into a fresh venv with uv, and the size of
that venv's site-packages, beside ``spacy==3.8.18`` installed the same way.
Needs the package registries (uv's cache makes repeats fast).
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List

from common import ROOT, main

SPACY = "spacy==3.8.18"
TORCH = "torch==2.13.0"


def _installed_arch() -> List[str]:
    names = {d.metadata["Name"] for d in metadata.distributions()}
    return sorted(name for name in names if name.startswith("arch-"))


def _import_seconds(module: str, repeats: int) -> List[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        times.append(time.perf_counter() - start)
    return times


def import_time(quick: bool) -> List[Dict[str, Any]]:
    repeats = 3 if quick else 9
    base = statistics.median(_import_seconds("sys", repeats))
    spacy_ms = [(t - base) * 1000 for t in _import_seconds("spacy", repeats)]
    results = []
    for dist in _installed_arch():
        # the package and every module its entry points name: what is imported
        # before any of its functions can be built
        modules = [dist.replace("-", "_")]
        modules += sorted({ep.module for ep in metadata.distribution(dist).entry_points})
        module = ", ".join(dict.fromkeys(modules))
        ours_ms = [(t - base) * 1000 for t in _import_seconds(module, repeats)]
        ours = statistics.median(ours_ms)
        theirs = statistics.median(spacy_ms)
        results.append(
            {
                "group": "import",
                "name": f"import {dist.replace('-', '_')} (+ entry points) vs import spacy",
                "unit": "ms",
                "ours": _stats(ours_ms),
                "spacy": _stats(spacy_ms),
                "ratio": None,
                "notes": f"{theirs / ours:.1f}x faster than import spacy" if ours > 0 else "",
            }
        )
    return results


def _stats(values: List[float]) -> Dict[str, float]:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def _venv_size(requirements: List[str], pip_first: List[str]) -> Dict[str, Any]:
    """Install into a fresh venv; size in MB of its site-packages and the number
    of distributions it holds."""
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("footprint needs uv on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = str(venv / "bin" / "python")
        if pip_first:
            subprocess.run(
                [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *pip_first],
                check=True,
            )
        subprocess.run(
            [uv, "pip", "install", "-q", "--python", python, *requirements],
            check=True,
            env=dict(os.environ, VIRTUAL_ENV=str(venv)),
        )
        site = next((venv / "lib").glob("python*/site-packages"))
        # pip and setuptools come with every venv: leave them out of the count
        skip = ("pip", "setuptools", "_distutils_hack", "distutils-precedence.pth")
        size = 0
        for entry in site.iterdir():
            if entry.name.split("-")[0] in skip or entry.name in skip:
                continue
            paths = entry.rglob("*") if entry.is_dir() else [entry]
            size += sum(p.stat().st_size for p in paths if p.is_file())
        dists = [
            p for p in site.glob("*.dist-info") if p.name.split("-")[0] not in ("pip", "setuptools")
        ]
        return {"mb": round(size / 1e6, 1), "dists": len(dists)}


def footprint(quick: bool) -> List[Dict[str, Any]]:
    spacy = _venv_size([SPACY], [])
    results = []
    packages = sorted(p.parent.name for p in (ROOT / "packages").glob("*/pyproject.toml"))
    for package in packages:
        targets = [str(ROOT / "packages" / "arch-tok2vec")]
        if package != "arch-tok2vec":
            targets.append(str(ROOT / "packages" / package))
        text = (ROOT / "packages" / package / "pyproject.toml").read_text(encoding="utf8")
        pip_first = [TORCH] if "torch" in text else []
        ours = _venv_size(targets, pip_first)
        results.append(
            {
                "group": "footprint",
                "name": f"pip install {package} vs spacy",
                "unit": "MB installed",
                "ours": {"MB": ours["mb"], "distributions": ours["dists"]},
                "spacy": {"MB": spacy["mb"], "distributions": spacy["dists"]},
                "ratio": None,
                "notes": f"{ours['mb'] / spacy['mb']:.2f}x spaCy's size",
            }
        )
    return results


CASES = {"import_time": import_time, "footprint": footprint}

if __name__ == "__main__":
    main(CASES)
