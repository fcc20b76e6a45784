"""One benchmark report (issue 15): every benchmark's result as a *section* with the same fields, then
``bench.json`` and ``bench.md``.

A section: the benchmark, its backend, the figure, the baseline measured in the same run (the same
work done the barest way), the ratio (the system's time over the baseline's for the same work, so
lower is better and 1 is the floor), the target it answers to, and the peak resident memory of the
process that ran it (each benchmark runs in a child process of its own).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SECTIONS = ("decision_pipeline", "decision_rate", "daily_log_ingestion", "monthly_settlement")


def _section(name: str, title: str, backend: str, figure: dict[str, Any], baseline: dict[str, Any] | None,
             ratio: float | None, ratio_means: str, target: str, peak_rss_mib: float | None,
             details: dict[str, Any], note: str | None = None) -> dict[str, Any]:
    return dict(section=name, title=title, backend=backend, figure=figure, baseline=baseline, ratio=ratio,
                ratio_means=ratio_means, target=target, peak_rss_mib=peak_rss_mib, note=note, details=details)


def decision_section(r: dict[str, Any]) -> dict[str, Any]:
    push, bare = r["decision_push"], r["bare_request"]
    return _section(
        "decision_pipeline", "Decision pipeline (push -> voucher)", r["backend"],
        {"what": f"decision pushes a second, {r['n']} one after another", "value": push["requests_per_s"], "unit": "/s"},
        {"what": "bare GET /healthz a second, same in-process client", "value": bare["requests_per_s"], "unit": "/s"},
        round(push["latency_ms_mean"] / bare["latency_ms_mean"], 2), "a push's mean time over a bare request's",
        "issue 15: 100 pushes/s on PostgreSQL (an absolute rate, not a ratio)", r.get("peak_rss_mib"), r)


def decision_rate_section(r: dict[str, Any]) -> dict[str, Any]:
    steady, new, replay = r["steady"], r["new_push_capacity"], r["replay_capacity"]
    sustainable = r["sustainable_rate_per_s"]
    if sustainable is not None:
        figure = {"what": f"highest sustainable rate of decision pushes (open loop, p99 push <= "
                          f"{r['limits']['push_p99_ms']:g} ms, p99 push -> voucher <= {r['limits']['voucher_p99_ms']:g} ms, "
                          f"no errors), {r['workers_per_service']} worker(s) a service"
                          + (f"; {r['lowest_failed_rate_per_s']:g}/s failed" if r.get("lowest_failed_rate_per_s") else ""),
                  "value": sustainable, "unit": "/s"}
    else:
        figure = {"what": f"NO rate tried met the limits; the steady run's achieved rate "
                          f"(offered {steady['rate']:g}/s, p99 push {steady['push_ms'] and steady['push_ms']['p99']} ms)",
                  "value": steady["achieved_per_s"], "unit": "/s"}
    return _section(
        "decision_rate", "Decision pushes at a constant rate (separate service processes, real HTTP)", r["backend"],
        figure,
        {"what": f"replays (the same version again) a second, {replay['concurrency']} in flight", "value": replay["per_s"],
         "unit": "/s"},
        r["replay_over_new"], "a new push's time over a replay's (capacity, same concurrency; by the machine's CPU "
        f"less the driver's: {r.get('replay_over_new_without_driver')})",
        "issue 15: 100/s for 60 s with p99 push <= 100 ms and p99 push -> voucher <= 500 ms on PostgreSQL; "
        "replays >= 5x new pushes (ratio >= 5)", r.get("peak_rss_mib"),
        {**r, "summary": {"steady_passed": steady["passed"], "steady_push_ms": steady["push_ms"],
                          "steady_push_to_voucher_ms": steady["push_to_voucher_ms"], "new_per_s": new["per_s"]}})


def ingestion_section(r: dict[str, Any]) -> dict[str, Any]:
    bare = r.get("bare_unnest_upsert")
    return _section(
        "daily_log_ingestion", "Daily-log ingestion (HTTP batches -> database -> outbox -> NATS)", r["backend"],
        {"what": f"entries a second end to end, {r['entries']} entries", "value": r["end_to_end_entries_per_s"], "unit": "/s"},
        {"what": "bare unnest upsert of the same rows, entries a second", "value": bare["entries_per_s"], "unit": "/s"}
        if bare else None,
        round(bare["entries_per_s"] / r["end_to_end_entries_per_s"], 2) if bare else None,
        "the bare upsert's rate over the system's (time for the same entries)",
        "issue 8: 25,000 entries/s end to end, a quarter of the bare rate (ratio <= 4), PostgreSQL",
        r.get("peak_rss_mib"), r,
        None if bare else "no baseline on SQLite: the bare baseline is PostgreSQL's unnest upsert")


def settlement_section(r: dict[str, Any]) -> dict[str, Any]:
    return _section(
        "monthly_settlement", "Monthly settlement (settle-month job)", r["backend"],
        {"what": f"settle-month job, {r['agreements']} agreements, {r['entries']} entries, seconds",
         "value": r["settlement"]["seconds"], "unit": "s"},
        {"what": "one hand-written SQL aggregate over the same rows, best run, seconds",
         "value": r["baseline_aggregate"]["seconds"], "unit": "s"},
        r["ratio"], "the job's time over the aggregate's",
        "issue 10: ratio <= 5 and peak memory < 1024 MiB at scale 1.0 on PostgreSQL", r.get("peak_rss_mib"), r)


def build(sections: list[dict[str, Any]], *, when: str, machine: dict[str, Any], quick: bool,
          postgresql: bool, requested: list[str]) -> dict[str, Any]:
    present = {s["section"] for s in sections}
    note = None
    if not postgresql:
        note = ("PostgreSQL was not reachable (or not asked for): every section ran on SQLite. The national "
                "targets are PostgreSQL's, so these figures are not measured against them.")
    return {"when": when, "machine": machine, "quick": quick, "backends_requested": requested,
            "postgresql": postgresql, "note": note, "missing_sections": [s for s in SECTIONS if s not in present],
            "sections": sections}


def _value(v: dict[str, Any] | None) -> str:
    return "—" if v is None else f"{v['value']} {v['unit']}"


def markdown(report: dict[str, Any]) -> str:
    mode = "quick smoke run (tiny sizes: not a measurement)" if report["quick"] else "full run"
    lines = [f"# Benchmarks ({report['when']}), {mode}", "",
             f"Machine: {report['machine']['cpu_count']} CPUs, Python {report['machine']['python']}, "
             f"{report['machine']['platform']}. PostgreSQL: {'yes' if report['postgresql'] else 'NO — SQLite only'}.", ""]
    gauge = report["machine"].get("speed_gauge")
    if gauge:
        load = ", ".join(str(x) for x in report["machine"].get("loadavg_before", []))
        lines += [(f"Speed gauge (a fixed piece of Python work, CPU / wall ms, lower is faster; compare runs by it): "
                   f"{gauge['before']['cpu_ms']} / {gauge['before']['wall_ms']} before, "
                   f"{gauge['after']['cpu_ms']} / {gauge['after']['wall_ms']} after; load average at the start {load}."),
                  ""]
    if report["note"]:
        lines += [f"**{report['note']}**", ""]
    lines += ["| benchmark | backend | figure | baseline (same run) | ratio | target | peak RSS MiB |",
              "|---|---|---|---|---|---|---|"]
    for s in report["sections"]:
        backend = s["backend"] if s["backend"] == "postgresql" else f"**{s['backend']} only**" if not report["postgresql"] \
            else s["backend"]
        lines.append(f"| {s['title']} | {backend} | {_value(s['figure'])} | {_value(s['baseline'])} | "
                     f"{'—' if s['ratio'] is None else s['ratio']} | {s['target']} | {s['peak_rss_mib']} |")
    lines += ["", "Ratio: the system's time over the baseline's for the same work (lower is better, 1 is the floor)."]
    for s in report["sections"]:
        lines += ["", f"## {s['title']}, {s['backend']}", "", f"- figure: {s['figure']['what']}: {_value(s['figure'])}",
                  f"- baseline: {s['baseline']['what'] + ': ' + _value(s['baseline']) if s['baseline'] else 'none'}",
                  f"- ratio: {s['ratio']} ({s['ratio_means']})", f"- target: {s['target']}",
                  f"- peak RSS of its process: {s['peak_rss_mib']} MiB"]
        if s["note"]:
            lines.append(f"- note: {s['note']}")
        lines += ["", "```json", json.dumps(s["details"], indent=1, default=str), "```"]
    return "\n".join(lines) + "\n"


def write(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (out / "bench.md").write_text(markdown(report))
    return out / "bench.json", out / "bench.md"
