"""The README's test command is what CI runs."""

import re

from declared import ROOT


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text("utf8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    test_command = next(b.strip() for b in blocks if "nox -s tests" in b)
    ci = (ROOT / ".ci" / "run").read_text("utf8")
    assert test_command in ci.splitlines()
