"""DEC-9: refusals and interruptions recorded on the client for the case worker, from the events
that signal them (not starting: VOU-3 delay or an unused voucher expiring; interrupting: an early
end as unsuitable, mutual or by the client, AGR-13; unauthorised absence: ATT-7). A refused
voucher (VOU-4) is the client's right and is no refusal of KTT. Nothing computes a sanction.

Negative cases wait for the event's inbox key (the consumer handled it) instead of sleeping."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from ktt_common.testing import eventually
from ktt_contracts.agreement import AgreementEnded
from ktt_contracts.attendance import AbsenceReported
from ktt_contracts.voucher import VoucherRefused, VoucherStateChanged
from tests.helpers import decision_body


async def _publish(svc, event_type, payload: dict, envelope=None, msg_id: str | None = None):
    """Publish an event onto its producer's stream, as that service's relay would."""
    env = envelope or event_type.envelope(payload, subject=None, correlation_id=None,
                                          time=dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC))
    await svc.rt.bus.publish(event_type.subject, env.model_dump_json().encode(), msg_id or env.id)
    return env


async def _handled(svc, *envelopes) -> bool:
    inbox = svc.rt.infra.inbox
    ids = [uuid.UUID(e.id) for e in envelopes]
    async with svc.rt.sessionmaker() as s:
        found = (await s.execute(select(inbox.c.event_id).where(inbox.c.event_id.in_(ids)))).scalars().all()
    return len(set(found)) == len(ids)


async def _flags(svc, client_id: str) -> list[dict]:
    r = await svc.client.get(f"/v1/clients/{client_id}/flags", headers=svc.auth("social_worker"))
    assert r.status_code == 200, r.text
    return r.json()


async def _made(svc) -> dict:
    r = await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))
    assert r.status_code == 201, r.text
    return r.json()


def _voucher(made: dict, voucher_id: uuid.UUID, state: str, previous: str, changed_on: str = "2026-11-26",
             reason: str | None = None) -> dict:
    return {"voucher_id": str(voucher_id), "number": "KTT-1234-5678-X", "decision_id": made["id"],
            "client_id": made["client_id"], "type": "regular", "state": state, "valid_from": "2026-12-01",
            "valid_to": "2027-11-30", "previous_state": previous, "reason": reason, "changed_on": changed_on}


def _ended(made: dict, kind: str, ended_on: str = "2027-03-15", reason: str | None = None) -> dict:
    return {"agreement_id": str(uuid.uuid4()), "voucher_id": str(uuid.uuid4()), "client_id": made["client_id"],
            "provider_id": "P1", "unit_id": str(uuid.uuid4()), "ended_on": ended_on, "kind": kind, "reason": reason,
            "early": kind != "fixed_term"}


def _absence(made: dict, entry_id: uuid.UUID, reason: str, authorised: bool, *, revision: int = 1,
             certificate: bool = False, date: str = "2027-01-12") -> dict:
    return {"entry_id": str(entry_id), "agreement_id": str(uuid.uuid4()), "client_id": made["client_id"],
            "provider_id": "P1", "date": date, "reason": reason, "certificate": certificate, "authorised": authorised,
            "same_day_contact": True, "revision": revision}


async def test_dec9_vou4_a_refused_voucher_is_no_refusal_of_ktt(decision_service):
    svc = decision_service
    made = await _made(svc)
    await _publish(svc, VoucherRefused, _voucher(made, uuid.uuid4(), "refused", "issued", reason="wants the city's own unit"))
    # A marker after it on the same stream: once handled, the refusal before it was seen too.
    marker = await _publish(svc, VoucherStateChanged, _voucher(made, uuid.uuid4(), "in_use", "issued"))
    await eventually(lambda: _handled(svc, marker), what="the marker handled")
    assert await _flags(svc, made["client_id"]) == []
    # The decision stands (VOU-4) and nothing is published.
    got = await svc.client.get(f"/v1/decisions/{made['id']}", headers=svc.auth("city_official"))
    assert got.json()["status"] == "active"
    outbox = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        assert (await s.execute(select(outbox.c.event_type))).scalars().all() == ["ktt.decision.DecisionMade.v1"]


async def test_dec9_vou3_not_starting_is_flagged_once_per_fact_newest_first(decision_service):
    svc = decision_service
    made = await _made(svc)
    v1, v2, v3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    delayed = await _publish(svc, VoucherStateChanged, _voucher(
        made, v1, "delayed", "issued", changed_on="2026-12-10", reason="VOU-3: no service started by 2026-12-09"))
    await _publish(svc, VoucherStateChanged, {}, envelope=delayed, msg_id=str(uuid.uuid4()))  # redelivered
    await _publish(svc, VoucherStateChanged, _voucher(made, v1, "delayed", "issued", changed_on="2026-12-10"))  # re-published
    expired = await _publish(svc, VoucherStateChanged, _voucher(made, v2, "expired", "issued", changed_on="2027-12-01"))
    used = await _publish(svc, VoucherStateChanged, _voucher(made, v3, "expired", "in_use", changed_on="2027-12-02"))
    started = await _publish(svc, VoucherStateChanged, _voucher(made, v3, "in_use", "issued", changed_on="2026-12-07"))
    await eventually(lambda: _handled(svc, delayed, expired, used, started), what="all handled")

    flags = await _flags(svc, made["client_id"])
    assert [(f["kind"], f["occurred_on"], f["voucher_id"]) for f in flags] == [
        ("not_started", "2027-12-01", str(v2)), ("not_started", "2026-12-10", str(v1))]
    never_used, late = flags
    assert "VOU-3" in late["reason"] and "expired unused" in never_used["reason"]
    assert late["source_event_id"] == delayed.id and late["decision_id"] == made["id"]
    assert late["details"]["voucher_reason"] == "VOU-3: no service started by 2026-12-09"
    assert never_used["details"]["previous_state"] == "issued"
    assert not any("sanction" in key for f in flags for key in f)  # recorded and flagged, never decided (DEC-9)
    for role, claims in (("provider", {"provider_id": "P1"}), ("integrator", {})):  # officials only
        r = await svc.client.get(f"/v1/clients/{made['client_id']}/flags", headers=svc.auth(role, **claims))
        assert r.status_code == 403


async def test_dec9_agr13_early_ends_as_unsuitable_or_mutual_are_interruptions_other_ends_are_not(decision_service):
    svc = decision_service
    made = await _made(svc)
    unsuitable = await _publish(svc, AgreementEnded, _ended(made, "unsuitable", "2027-02-10", "tasks too heavy"))
    mutual = await _publish(svc, AgreementEnded, _ended(made, "mutual", "2027-03-01"))
    others = [await _publish(svc, AgreementEnded, _ended(made, kind))
              for kind in ("provider_change", "fixed_term", "decision_revoked", "decision_shortened")]
    await eventually(lambda: _handled(svc, unsuitable, mutual, *others), what="all handled")

    flags = await _flags(svc, made["client_id"])
    assert [(f["kind"], f["occurred_on"]) for f in flags] == [("interrupted", "2027-03-01"), ("interrupted", "2027-02-10")]
    first = flags[1]
    assert first["details"]["end_kind"] == "unsuitable" and first["details"]["end_reason"] == "tasks too heavy"
    assert first["details"]["agreement_id"] == unsuitable.data["agreement_id"] and first["details"]["early"] is True
    assert "unsuitable" in first["reason"] and "tasks too heavy" in first["reason"]
    assert flags[0]["details"]["end_kind"] == "mutual"


async def test_dec9_att7_unauthorised_absences_flag_once_per_entry_and_a_correction_clears(decision_service):
    svc = decision_service
    made = await _made(svc)
    e1, e2, e3, e4 = (uuid.uuid4() for _ in range(4))
    skipped = await _publish(svc, AbsenceReported, _absence(made, e1, "unauthorised", False, date="2027-01-12"))
    sick_note = await _publish(svc, AbsenceReported, _absence(made, e2, "sick_with_certificate", True, certificate=True))
    odd = await _publish(svc, AbsenceReported, _absence(made, e3, "sick_with_certificate", False, certificate=True))
    no_note = await _publish(svc, AbsenceReported, _absence(made, e4, "sick_without_certificate", False, date="2027-01-14"))
    await _publish(svc, AbsenceReported, {}, envelope=skipped, msg_id=str(uuid.uuid4()))  # redelivered
    await eventually(lambda: _handled(svc, skipped, sick_note, odd, no_note), what="absences handled")

    flags = await _flags(svc, made["client_id"])
    assert [(f["kind"], f["occurred_on"], f["details"]["absence_reason"]) for f in flags] == [
        ("unauthorised_absence", "2027-01-14", "sick_without_certificate"),  # ATT-3: no certificate, not authorised
        ("unauthorised_absence", "2027-01-12", "unauthorised")]
    assert all("ATT-7" in f["reason"] and f["cleared_on"] is None for f in flags)
    assert flags[1]["details"]["entry_id"] == str(e1) and flags[1]["source_event_id"] == skipped.id

    # The certificate comes after all: revision 2 authorises the absence and clears the one flag.
    fixed = await _publish(svc, AbsenceReported, _absence(made, e4, "sick_with_certificate", True, revision=2,
                                                          certificate=True, date="2027-01-14"))
    stale = await _publish(svc, AbsenceReported, _absence(made, e4, "sick_without_certificate", False, date="2027-01-14"))
    await eventually(lambda: _handled(svc, fixed, stale), what="corrections handled")
    flags = await _flags(svc, made["client_id"])
    assert len(flags) == 2
    cleared = next(f for f in flags if f["details"]["entry_id"] == str(e4))
    assert cleared["cleared_on"] == "2026-11-26" and "revision 2" in cleared["cleared_reason"]
    assert cleared["details"]["revision"] == 2

    # Revision 3 says unauthorised again: the same flag is open again, not a second one.
    again = await _publish(svc, AbsenceReported, _absence(made, e4, "unauthorised", False, revision=3, date="2027-01-14"))
    await eventually(lambda: _handled(svc, again), what="revision 3 handled")
    flags = await _flags(svc, made["client_id"])
    reopened = next(f for f in flags if f["details"]["entry_id"] == str(e4))
    assert len(flags) == 2 and reopened["cleared_on"] is None and reopened["details"]["absence_reason"] == "unauthorised"


async def test_dec9_att7_a_correction_handled_before_the_report_it_corrects_wins(decision_service):
    svc = decision_service
    made = await _made(svc)
    entry = uuid.uuid4()
    newer = await _publish(svc, AbsenceReported, _absence(made, entry, "doctor_visit", True, revision=2, certificate=True))
    older = await _publish(svc, AbsenceReported, _absence(made, entry, "unauthorised", False, revision=1))
    await eventually(lambda: _handled(svc, newer, older), what="both handled")
    assert await _flags(svc, made["client_id"]) == []
