"""``make bench BENCH_ARGS=--quick`` as a smoke check (issue 15's "one benchmark report"): the whole
benchmark runner at toy sizes, with real services, a real nats-server and real databases, completes and
writes bench.json and bench.md with every section. No timing is asserted: the figures of a toy run on a
shared machine mean nothing. Run as ``make bench`` runs it (the same module, a child process), into a
temporary directory so that a real report in bench-results/ is never overwritten."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ktt_common.testing import postgres_admin_url
from tests.bench.report import SECTIONS

ROOT = Path(__file__).resolve().parents[1]


def run_quick(out: Path, *extra: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "tests.bench.run", "--quick", "--out", str(out), *extra], cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=480)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "bench.md").is_file()
    return json.loads((out / "bench.json").read_text())


def check_sections(report: dict, md: str) -> None:
    names = [s["section"] for s in report["sections"]]
    assert set(names) == set(SECTIONS) and report["missing_sections"] == []
    for s in report["sections"]:
        assert s["figure"]["value"] > 0 and s["peak_rss_mib"] > 0
        if s["baseline"] is None:  # only the ingestion's bare upsert, which is PostgreSQL's
            assert (s["section"], s["backend"], s["ratio"]) == ("daily_log_ingestion", "sqlite", None)
            assert "no baseline on SQLite" in s["note"]
        else:
            assert s["baseline"]["value"] > 0 and s["ratio"] > 0
        assert f"## {s['title']}, {s['backend']}" in md
    assert md.count("\n| ") == len(report["sections"]) + 1  # the summary table: a header and a row each


@pytest.mark.timeout(600)  # five benchmarks, two of them starting service processes, on a shared machine
@pytest.mark.parametrize("backend", ["all", "sqlite"])
def test_quick_bench_writes_the_report_with_every_section(tmp_path: Path, backend: str) -> None:
    report = run_quick(tmp_path, "--backend", backend)
    md = (tmp_path / "bench.md").read_text()
    check_sections(report, md)
    assert report["quick"] is True and "quick smoke run" in md
    gauge = report["machine"]["speed_gauge"]  # the machine's speed beside the figures, before and after
    assert all(gauge[when]["cpu_ms"] > 0 and gauge[when]["wall_ms"] > 0 for when in ("before", "after"))
    assert "Speed gauge" in md and len(report["machine"]["loadavg_before"]) == 3
    postgresql = backend == "all" and postgres_admin_url() is not None
    assert report["postgresql"] is postgresql
    heavy = {s["backend"] for s in report["sections"] if s["section"] != "decision_pipeline"}
    decisions = sorted(s["backend"] for s in report["sections"] if s["section"] == "decision_pipeline")
    if postgresql:
        assert heavy == {"postgresql"} and decisions == ["postgresql", "sqlite"] and report["note"] is None
    else:  # PostgreSQL not reachable or not asked for: SQLite-only sections, and the report says so
        assert heavy == {"sqlite"} and decisions == ["sqlite"]
        assert "SQLite" in report["note"] and "NO — SQLite only" in md and "**sqlite only**" in md
