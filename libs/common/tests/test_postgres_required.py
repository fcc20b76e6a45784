"""CI must not pass with the PostgreSQL half of the suite silently missing (issue 12, item 13)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/postgres"


def _run_suite(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_trivial.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    base = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "KTT_TEST_REQUIRE_POSTGRES")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "ktt_common.testing", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(tmp_path / "test_trivial.py")],
        cwd=tmp_path, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )


def test_an_explicit_database_url_that_does_not_answer_stops_the_session(tmp_path: Path) -> None:
    result = _run_suite(tmp_path, TEST_DATABASE_URL=UNREACHABLE)
    assert result.returncode != 0
    assert "PostgreSQL is required" in result.stdout + result.stderr
    assert "1 passed" not in result.stdout


def test_ci_demanding_postgresql_fails_when_none_answers(tmp_path: Path) -> None:
    result = _run_suite(tmp_path, TEST_DATABASE_URL=UNREACHABLE, KTT_TEST_REQUIRE_POSTGRES="1")
    assert result.returncode != 0
    assert "cannot run" in result.stdout + result.stderr


def test_without_a_demand_the_session_runs(tmp_path: Path) -> None:
    result = _run_suite(tmp_path, KTT_TEST_REQUIRE_POSTGRES="0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
