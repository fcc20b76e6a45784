"""Frozen snapshots of every published event schema: ``ktt_contracts/snapshots/<type>.json``.

``make contracts`` (``python -m ktt_contracts.snapshots --write``) writes a snapshot for each
new event type and refreshes those whose schema changed compatibly; it refuses a breaking change
(see :mod:`ktt_contracts.compat`) unless the type is named with ``--accept <type>``, which makes
the break deliberate and visible in review. A test fails on a missing snapshot or a breaking change.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ktt_common.events import EventType
from ktt_contracts import CATALOGUE
from ktt_contracts.compat import breaking_changes

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"


def snapshot_path(type_name: str) -> Path:
    return SNAPSHOT_DIR / f"{type_name}.json"


def current_schema(et: EventType[Any]) -> dict[str, Any]:
    schema: dict[str, Any] = et.payload.model_json_schema()
    return schema


def load_snapshot(type_name: str) -> dict[str, Any] | None:
    path = snapshot_path(type_name)
    return json.loads(path.read_text())["schema"] if path.exists() else None


def problems() -> dict[str, list[str]]:
    """Per event type: what is wrong against its snapshot (missing, breaking changes, type gone)."""
    found: dict[str, list[str]] = {}
    for et in CATALOGUE:
        frozen = load_snapshot(et.type)
        if frozen is None:
            found[et.type] = ["no snapshot: run make contracts"]
        elif breaks := breaking_changes(frozen, current_schema(et)):
            found[et.type] = breaks
    for path in sorted(SNAPSHOT_DIR.glob("*.json")):
        if CATALOGUE.get(path.stem) is None:
            found[path.stem] = ["a published event type is gone from the catalogue (consumers may still expect it)"]
    return found


def write(accept: set[str]) -> list[str]:
    SNAPSHOT_DIR.mkdir(exist_ok=True)
    messages = []
    for et in sorted(CATALOGUE, key=lambda e: e.type):
        schema, frozen = current_schema(et), load_snapshot(et.type)
        if frozen == schema:
            continue
        breaks = breaking_changes(frozen, schema) if frozen is not None else []
        if breaks and et.type not in accept:
            messages.append(f"REFUSED {et.type}: " + "; ".join(breaks) + " (publish a new version, or --accept it)")
            continue
        snapshot_path(et.type).write_text(json.dumps({"type": et.type, "schema": schema}, indent=2, sort_keys=True) + "\n")
        messages.append(f"{'wrote' if frozen is None else 'updated'} {snapshot_path(et.type).name}")
    return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check or write the frozen event schema snapshots")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--accept", action="append", default=[], help="event type whose breaking change is deliberate")
    args = parser.parse_args(argv)
    if args.write:
        lines = write(set(args.accept))
        print("\n".join(lines) or "snapshots up to date")
        return 1 if any(line.startswith("REFUSED") for line in lines) else 0
    found = problems()
    for type_name, issues in found.items():
        print(f"{type_name}: " + "; ".join(issues))
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
