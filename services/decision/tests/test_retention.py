"""Retention by crypto-shredding (DATA-2, issue 13): each client's hetu is sealed under the client's
own data key; the personal-data-retention job destroys the key of a client whose last decision
ended more than KTT_RETENTION_YEARS (default 6) ago. Afterwards the hetu cannot be read (the start
notice shows "erased"), the hetu finds no client, names and contact data are gone, and the
pseudonymous ids, dates and figures stay."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, select, update

from ktt_common.events import Envelope
from ktt_common.pii import Erased
from ktt_common.settings import DEV_PII_KEY
from ktt_common.testing import eventually, see_the_day
from ktt_contracts.decision import ClientErased
from ktt_contracts.voucher import ServiceStarted

from ktt_decision import sealing
from ktt_decision.clients.jobs import retention_cutoff
from ktt_decision.clients.models import Client, ClientKey
from ktt_decision.clients.service import vault_of
from ktt_decision.decisions.models import Decision, DecisionVersion
from tests.helpers import HETU_1900, HETU_2023_SIGN, decision_body

JOB = "/v1/admin/jobs/personal-data-retention/run"


async def _started(svc, made: dict) -> None:
    payload = {"client_id": made["client_id"], "voucher_id": str(uuid.uuid4()), "decision_id": made["id"],
               "provider_id": "P1", "provider_name": "Työpaja ry", "unit_id": "U1", "unit_name": "Puutyöverstas",
               "started_on": "2026-12-07", "form": "individual", "days_per_week": 3, "hours_per_day": 5.5}
    env = ServiceStarted.envelope(payload, subject=payload["voucher_id"], correlation_id=None,
                                  time=dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC))
    await svc.rt.bus.publish(ServiceStarted.subject, env.model_dump_json().encode(), env.id)

    async def notices():
        r = await svc.client.get("/v1/start-notices", headers=svc.auth("city_official"))
        return r.json() if r.status_code == 200 else None
    await eventually(notices, what="the start notice")


async def _notice_hetu(svc) -> tuple[str, dict]:
    official = svc.auth("city_official")
    notice = (await svc.client.get("/v1/start-notices", headers=official)).json()[0]
    one = await svc.client.get(f"/v1/start-notices/{notice['id']}", headers=official)
    assert one.status_code == 200, one.text
    return one.json()["hetu"], notice


async def _erased_events(svc) -> list[dict]:
    outbox = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(outbox.c.envelope).where(outbox.c.event_type == ClientErased.type)
                                .order_by(outbox.c.seq))).scalars().all()
    return [Envelope.model_validate_json(raw).data for raw in rows]


async def _run(svc, day: str) -> dict:
    see_the_day(svc.rt.clock, day)
    r = await svc.client.post(JOB, params={"date": day}, headers=svc.auth("admin"))
    assert r.status_code == 200, r.text
    return r.json()["result"]


def test_the_cutoff_is_the_retention_period_before_the_run_date():
    assert retention_cutoff(dt.date(2033, 12, 1), 6) == dt.date(2027, 12, 1)
    assert retention_cutoff(dt.date(2032, 2, 29), 6) == dt.date(2026, 2, 28)


async def test_the_hetu_is_sealed_under_the_clients_own_key(decision_service):
    svc = decision_service
    a = (await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))).json()
    other = decision_body(source_id="EFF-9")
    other["client"]["hetu"] = HETU_2023_SIGN
    b = (await svc.client.post("/v1/decisions", json=other, headers=svc.auth("integrator"))).json()
    async with svc.rt.sessionmaker() as s:
        keys = {k.client_id: k.wrapped_key for k in (await s.execute(select(ClientKey))).scalars()}
        clients = {c.id: c for c in (await s.execute(select(Client))).scalars()}
    ids = {uuid.UUID(a["client_id"]), uuid.UUID(b["client_id"])}
    assert set(keys) == ids and len(set(keys.values())) == 2  # one key each
    vault = vault_of_rt(svc)
    for cid in ids:
        assert clients[cid].hetu_encrypted.startswith("k1:") and HETU_1900 not in clients[cid].hetu_encrypted
    assert vault.open(clients[uuid.UUID(a["client_id"])].hetu_encrypted, keys[uuid.UUID(a["client_id"])]) == HETU_1900
    with pytest.raises(Exception):  # another client's key does not open it
        vault.open(clients[uuid.UUID(a["client_id"])].hetu_encrypted, keys[uuid.UUID(b["client_id"])])


def vault_of_rt(svc):
    class _S:  # vault_of reads the runtime from a session's info
        info = {"runtime": svc.rt}
    return vault_of(_S())  # type: ignore[arg-type]


async def test_after_the_retention_period_the_personal_data_is_unreadable_and_the_accounts_stay(decision_service):
    svc = decision_service
    made = (await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))).json()
    await _started(svc, made)
    assert (await _notice_hetu(svc))[0] == HETU_1900
    lookup = {"hetu": HETU_1900}
    assert (await svc.client.post("/v1/clients/lookup", json=lookup, headers=svc.auth("city_official"))).status_code == 200

    # The period ends 2027-11-30: on 2033-11-30 six years have not yet passed; on 2033-12-01 they have.
    assert (await _run(svc, "2033-11-30"))["erased"] == 0
    assert (await _notice_hetu(svc))[0] == HETU_1900
    result = await _run(svc, "2033-12-01")
    assert result == {"erased": 1, "cutoff": "2027-12-01", "retention_years": 6}

    hetu, notice = await _notice_hetu(svc)
    assert hetu == "erased" and notice["first_name"] == "erased" and notice["last_name"] == "erased"
    r = await svc.client.post("/v1/clients/lookup", json=lookup, headers=svc.auth("city_official"))
    assert r.status_code == 404  # the hetu finds no one
    async with svc.rt.sessionmaker() as s:
        client = await s.get(Client, uuid.UUID(made["client_id"]))
        key = await s.get(ClientKey, client.id)
        decision = await s.get(Decision, uuid.UUID(made["id"]))
        versions = (await s.execute(select(DecisionVersion))).scalars().all()
    assert key.wrapped_key is None and key.erased_at is not None
    assert client.hetu_encrypted.startswith("k1:")  # the ciphertext is still there (as in a backup) ...
    with pytest.raises(Erased):
        vault_of_rt(svc).open(client.hetu_encrypted, key.wrapped_key)  # ... and unreadable
    assert (client.first_name, client.phone, client.email, client.address) == ("erased", None, None, None)
    for copy in [decision.client_data] + [v.content["client"] for v in versions]:
        assert copy["first_name"] == "erased" and copy["email"] is None and copy["address"] is None
        assert "Matti" not in str(copy) and "Aurakatu" not in str(copy)
    assert [v.body_hash for v in versions] == [None]  # a retry is no longer found by its bytes (its hetu is in them)
    # The pseudonymous id and the period stay for the accounts.
    got = await svc.client.get(f"/v1/decisions/{made['id']}", headers=svc.auth("city_official"))
    assert got.status_code == 200
    assert (got.json()["client_id"], got.json()["period_end"]) == (made["client_id"], "2027-11-30")
    assert got.json()["client"]["first_name"] == "erased" and got.json()["client"]["language"] == "fi"
    # Run again: nothing more to do; the erasure is on the audit chain.
    assert (await _run(svc, "2033-12-02"))["erased"] == 0
    # The copies in the other services are told, once, by the pseudonymous id only (DATA-2, DATA-4).
    assert await _erased_events(svc) == [{"client_id": made["client_id"]}]
    access = await svc.client.get(f"/v1/clients/{made['client_id']}/access-log", headers=svc.auth("city_official"))
    assert ("retention-job", "client.erase") in [(e["actor"], e["action"]) for e in access.json()]
    assert (await svc.client.get("/v1/admin/audit/verify", headers=svc.auth("admin"))).json()["ok"] is True
    # The same person decided on anew is a new pseudonymous client.
    again = decision_body(source_id="EFF-2034", decided_on="2033-11-25",
                          period={"start": "2033-12-01", "end": "2034-11-30"}, plan={
                              "type": "activation_plan", "reference": "AS-2033-1", "date": "2033-11-20"})
    r = await svc.client.post("/v1/decisions", json=again, headers=svc.auth("integrator"))
    assert r.status_code == 201, r.text
    assert r.json()["client_id"] != made["client_id"]


async def test_retention_years_come_from_configuration(start_decision):
    async with start_decision(retention_years=1) as svc:
        made = (await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))).json()
        assert (await _run(svc, "2028-11-30"))["erased"] == 0
        assert (await _run(svc, "2028-12-01")) == {"erased": 1, "cutoff": "2027-12-01", "retention_years": 1}
        assert made["client_id"]


async def test_an_old_ciphertext_stays_readable_and_is_sealed_under_a_data_key_on_the_next_push(decision_service):
    svc = decision_service
    made = (await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))).json()
    legacy = Fernet(base64.urlsafe_b64encode(hmac.new(DEV_PII_KEY.encode(), b"ktt-pii-encryption-v1",
                                                      hashlib.sha256).digest()))
    cid = uuid.UUID(made["client_id"])
    async with svc.rt.sessionmaker() as s, s.begin():  # as rows written before data keys existed: all in clear
        conn = await s.connection()  # beside the session's sealing hooks
        vault = vault_of_rt(svc)
        wrapped = (await conn.execute(select(ClientKey.wrapped_key).where(ClientKey.client_id == cid))).scalar_one()
        for spec in sealing.TABLES:
            table = spec.model.__table__
            for row in (await conn.execute(select(table))).mappings():
                values = {n: sealing._open(vault, wrapped, row[n]) for n in spec.texts}
                values |= {n: sealing._open_json(vault, wrapped, n, row[n]) for n in spec.json}
                await conn.execute(update(table).where(*(c == row[c.name] for c in table.primary_key.columns))
                                   .values(**values))
        await conn.execute(update(Client.__table__).where(Client.id == cid).values(
            hetu_encrypted=legacy.encrypt(HETU_1900.encode()).decode()))
        await conn.execute(delete(ClientKey.__table__).where(ClientKey.client_id == cid))
    await _started(svc, made)
    assert (await _notice_hetu(svc))[0] == HETU_1900  # still readable
    amended = decision_body(version=2, decided_by="Pekka Päättäjä")
    assert (await svc.client.post("/v1/decisions", json=amended, headers=svc.auth("integrator"))).status_code == 200
    async with svc.rt.sessionmaker() as s:
        client = await s.get(Client, cid)
        key = await s.get(ClientKey, cid)
    assert client.hetu_encrypted.startswith("k1:") and key.wrapped_key
    assert (await _notice_hetu(svc))[0] == HETU_1900
    assert (await _run(svc, "2033-12-01"))["erased"] == 1
    assert (await _notice_hetu(svc))[0] == "erased"
