"""One layout for the services (issue 12 item 10), checked on the voucher and decision services: a
package per sub-domain, routers that run no queries (the HTTP layer parses, authorises, calls the
service and shapes the reply), and no file over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ktt_decision
import ktt_voucher

PACKAGES = {
    "ktt_voucher": (Path(ktt_voucher.__file__).parent, {"vouchers", "agreements"}),
    "ktt_decision": (Path(ktt_decision.__file__).parent,
                     {"decisions", "clients", "consents", "representatives", "notices", "flags", "providers"}),
}
MODULE_NAMES = {"api", "service", "rules", "schemas", "models", "events", "jobs",
                # read side and narrower use cases of agreements, and voucher documents
                "reading", "changes", "ending", "limits", "report_events", "documents",
                # the statements of a new decision, built once (its write side, beside "reading")
                "writing"}
MAX_LINES = 400
SESSION_CALLS = {"execute", "scalar", "scalars", "get", "add", "add_all", "delete", "flush", "merge", "refresh"}


def _files(package: str) -> list[Path]:
    root, _ = PACKAGES[package]
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def query_findings(path: Path) -> list[str]:
    """What in an HTTP module touches the database: SQLAlchemy imports, session calls, audit writes."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sqlalchemy":
            found.append(f"{path.name}:{node.lineno} imports {node.module}")
        elif isinstance(node, ast.ImportFrom) and node.module == "ktt_common.audit":
            found.append(f"{path.name}:{node.lineno} writes audit rows")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SESSION_CALLS
              and isinstance(node.func.value, ast.Name) and node.func.value.id == "session"):
            found.append(f"{path.name}:{node.lineno} session.{node.func.attr}")
    return found


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_each_sub_domain_is_a_package_with_the_shared_module_names(package: str) -> None:
    root, sub_domains = PACKAGES[package]
    packages = {p.parent.name for p in root.glob("*/__init__.py")}
    assert packages == sub_domains
    for sub in sub_domains:
        names = {p.stem for p in (root / sub).glob("*.py")} - {"__init__"}
        assert names <= MODULE_NAMES, (sub, names - MODULE_NAMES)
        assert "models" in names, sub


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_routers_run_no_queries(package: str) -> None:
    root, _ = PACKAGES[package]
    findings = [f for api in sorted(root.glob("*/api.py")) for f in query_findings(api)]
    assert findings == []


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_file_is_over_400_lines(package: str) -> None:
    long = {str(p.relative_to(p.parents[1])): n for p in _files(package)
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_detector_sees_a_query_in_a_router(tmp_path: Path) -> None:
    probe = tmp_path / "api.py"
    probe.write_text("from sqlalchemy import select\nfrom ktt_common.audit import audit\n"
                     "async def f(session):\n    return await session.execute(select(1))\n")
    assert len(query_findings(probe)) == 3
