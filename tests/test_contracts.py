"""The published language: every event type documented, subjects in their streams, no hetu."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from ktt_common.events import stream_subjects
from ktt_common.outbox import emit
from ktt_contracts import CATALOGUE
from ktt_contracts.catalogue import ASYNCAPI_PATH, MARKDOWN_PATH, asyncapi, markdown
from ktt_contracts.decision import DecisionMade, DecisionMadePayload


def test_committed_catalogue_is_up_to_date():
    assert json.loads(ASYNCAPI_PATH.read_text()) == json.loads(json.dumps(asyncapi(), default=str)), "run make docs"
    assert MARKDOWN_PATH.read_text() == markdown(), "run make docs"


def test_every_event_type_is_versioned_and_inside_its_producers_stream():
    assert len(CATALOGUE.types) >= 2
    for et in CATALOGUE:
        assert et.type.endswith(f".v{et.version}")
        prefix = stream_subjects(et.service)[:-1]
        assert et.subject.startswith(prefix)
        assert et.description, f"{et.type} has no description"
        assert et.type in json.dumps(asyncapi())


def test_every_contract_module_is_registered_in_the_catalogue():
    """A module's events exist for the catalogue, the docs and the consumers only once registered
    in ktt_contracts/__init__.py (attendance is the newest)."""
    import importlib
    import pkgutil

    import ktt_contracts

    modules = [m.name for m in pkgutil.iter_modules(ktt_contracts.__path__)]
    assert "attendance" in modules
    for name in modules:
        for et in getattr(importlib.import_module(f"ktt_contracts.{name}"), "EVENTS", []):
            assert CATALOGUE.get(et.type) is et, f"ktt_contracts.{name}: {et.type} is not registered"


def _decision_payload() -> DecisionMadePayload:
    return DecisionMadePayload(
        decision_id=uuid.uuid4(), client_id=uuid.uuid4(), source_system="effica", source_id="131052-308T",
        version=1, decided_on=dt.date(2026, 11, 25), period_start=dt.date(2026, 12, 1), period_end=dt.date(2027, 11, 30),
        form="individual", benefit_basis="social_assistance", voucher_kind="regular", case_worker_office="typake", language="fi",
    )


async def test_an_event_carrying_a_hetu_is_refused_and_nothing_is_written(databases, nats_server, tmp_path):
    """DATA-4: events carry the pseudonymous id; a hetu anywhere in an event is refused at emit."""
    from sqlalchemy import func, select

    from ktt_common.testing import run_service, service_settings
    from ktt_decision.app import create_app

    settings = service_settings("decision", database_url=await databases("decision"), nats_url=nats_server.url,
                                data_dir=tmp_path, run_background=False)
    async with run_service(create_app, settings) as svc:
        with pytest.raises(ValueError, match="DATA-4"):
            async with svc.rt.sessionmaker() as session, session.begin():
                await emit(session, DecisionMade, _decision_payload())
        async with svc.rt.sessionmaker() as session:
            assert (await session.execute(select(func.count()).select_from(svc.rt.infra.outbox))).scalar_one() == 0
