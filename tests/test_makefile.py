"""Issue 12 item 13: `make test` (and so CI, whose .ci/run goes through it) runs ruff and mypy --strict
over the non-test code before the suite, and the lint configuration stays strict."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Every package of the repository's non-test code, found on disk (a new service's package is held to lint too).
SCOPED = sorted({p.parent.name for p in ROOT.glob("services/*/ktt_*/__init__.py")}
                | {p.parent.name for p in ROOT.glob("libs/common/ktt_*/__init__.py")} | {"tools"})


def _dry_run(target: str) -> list[str]:
    """The commands `make <target>` would run, in order (make -n runs none of them)."""
    out = subprocess.run(["make", "-n", "--no-print-directory", target], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True)
    return [line for line in out.stdout.splitlines() if line.strip()]


def test_make_test_runs_ruff_and_mypy_strict_before_pytest() -> None:
    commands = _dry_run("test")
    ruff = [i for i, c in enumerate(commands) if re.search(r"\bruff check\b", c)]
    mypy = [i for i, c in enumerate(commands) if re.search(r"-m mypy\b", c)]
    pytest_ = [i for i, c in enumerate(commands) if re.search(r"-m pytest\b", c)]
    assert ruff and mypy and pytest_, commands
    assert max(ruff + mypy) < min(pytest_), "lint must run before the suite"
    checked = re.findall(r"-p (\S+)", commands[mypy[0]])
    assert sorted(checked) == SCOPED, checked


def test_ci_goes_through_make_test() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^[^#\n]*\bmake test\b", ci, flags=re.MULTILINE), ci


def test_lint_configuration_is_strict() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mypy = config["tool"]["mypy"]
    assert mypy["strict"] is True
    for override in mypy.get("overrides", []):
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        assert not any(m.startswith(("ktt_", "tools")) for m in modules), f"our code is never exempted: {override}"
        assert "ignore_errors" not in override, override
    pins = (ROOT / "requirements-test.txt").read_text()
    assert re.search(r"^ruff==\S+$", pins, flags=re.MULTILINE) and re.search(r"^mypy==\S+$", pins, flags=re.MULTILINE)
