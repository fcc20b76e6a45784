"""The shared library depends on no service (issue 12 item 11): services register themselves
through the ``ktt.services`` entry-point group and the tooling discovers them."""

from __future__ import annotations

import ast
from pathlib import Path

import ktt_common
import ktt_contracts
from ktt_common.serve import ENTRY_POINT_GROUP, SERVICE_MODULES
from ktt_common.settings import SERVICE_PORTS

SERVICE_PACKAGES = {"ktt_decision", "ktt_voucher", "ktt_registry", "ktt_attendance", "ktt_billing", "ktt_console"}


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # importlib.import_module("ktt_x.app") and friends
            head = node.value.split(".")[0]
            if head in SERVICE_PACKAGES and node.value.count(".") >= 1:
                names.add(head)
    return names


def test_the_shared_packages_name_no_service_package() -> None:
    offenders = {}
    for package in (ktt_common, ktt_contracts):
        for path in Path(package.__file__).parent.rglob("*.py"):
            hits = _imported_top_levels(path) & SERVICE_PACKAGES
            if hits:
                offenders[str(path)] = sorted(hits)
    assert offenders == {}


def test_every_configured_service_is_discovered_through_its_entry_point() -> None:
    assert ENTRY_POINT_GROUP == "ktt.services"
    assert set(SERVICE_PORTS) <= set(SERVICE_MODULES), "a service is not installed (make venv)"
    for service, module in SERVICE_MODULES.items():
        assert module.endswith(".app") and module.split(".")[0] in SERVICE_PACKAGES, (service, module)
    # start order follows the configured ports
    assert list(SERVICE_MODULES)[: len(SERVICE_PORTS)] == list(SERVICE_PORTS)


def test_the_detector_sees_a_service_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('import importlib\nfrom ktt_voucher.vouchers.rules import x\nimportlib.import_module("ktt_billing.app")\n')
    assert _imported_top_levels(probe) & SERVICE_PACKAGES == {"ktt_voucher", "ktt_billing"}
