"""Names, contact data and personal free text sealed under the client's own data key (DATA-2, issue 13):
a database dump (a backup) holds none of them in clear; the API reads them as before; once the
retention job destroyed the key the sealed values can never be read again, while pseudonymous ids,
dates and figures stay. Rows written before sealing are sealed by the seal-personal-data job."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import select, text

from ktt_common.testing import see_the_day
from ktt_contracts.voucher import ServiceStarted

from ktt_decision.clients.models import Client
from ktt_decision.decisions.models import Decision, DecisionVersion
from ktt_decision.notices.models import StartNotice
from ktt_decision.representatives.models import Representative
from tests.helpers import decision_body

CLEAR = ("matti", "meikäläinen", "+358401234567", "aurakatu", "maija", "sister", "+358409999999")
TABLES = (Client, Decision, DecisionVersion, StartNotice, Representative)


async def _dump(svc) -> str:
    """Every row of the tables that hold personal data, as a backup would hold them."""
    out = []
    async with svc.rt.sessionmaker() as s:
        for model in TABLES:
            out += [dict(r) for r in (await s.execute(select(model.__table__))).mappings()]
    # A sealed value's ciphertext (random base64, casefolded here) is left out of the search: one in some
    # thousands of runs it spelled "maija" by chance (seen once under two test workers).
    return re.sub(r"k1:[a-z0-9_=-]+", "k1:<sealed>", repr(out).casefold())


async def _job(svc, job: str, day: str) -> dict:
    see_the_day(svc.rt.clock, day)
    r = await svc.client.post(f"/v1/admin/jobs/{job}/run", params={"date": day}, headers=svc.auth("admin"))
    assert r.status_code == 200, r.text
    return r.json()["result"]


async def _setup(svc) -> dict:
    body = decision_body(extension_justification=None)
    made = (await svc.client.post("/v1/decisions", json=body, headers=svc.auth("integrator"))).json()
    rep = {"name": "Maija Meikäläinen", "relation": "sister", "phone": "+358409999999",
           "scope": ["choose_provider"], "authorised_on": "2026-11-20"}
    r = await svc.client.post(f"/v1/clients/{made['client_id']}/representatives", json=rep,
                              headers=svc.auth("social_worker"))
    assert r.status_code == 201, r.text
    payload = {"client_id": made["client_id"], "voucher_id": str(uuid.uuid4()), "decision_id": made["id"],
               "provider_id": "P1", "provider_name": "Työpaja ry", "unit_id": "U1", "unit_name": "Verstas",
               "started_on": "2026-12-07", "form": "individual", "days_per_week": 3, "hours_per_day": 5.5}
    env = ServiceStarted.envelope(payload, subject=payload["voucher_id"], correlation_id=None,
                                  time=dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC))
    assert await svc.rt.consumer("voucher").process(env) == "handled"
    return made


async def test_a_dump_holds_no_name_or_contact_in_clear_and_the_api_reads_them(decision_service):
    svc = decision_service
    made = await _setup(svc)
    dump = await _dump(svc)
    assert [c for c in CLEAR if c in dump] == []
    assert "k1:" in dump
    official = svc.auth("city_official")
    got = (await svc.client.get(f"/v1/decisions/{made['id']}", headers=official)).json()
    assert (got["client"]["first_name"], got["client"]["email"]) == ("Matti", "matti@example.fi")
    notices = (await svc.client.get("/v1/start-notices", headers=official)).json()
    assert (notices[0]["first_name"], notices[0]["last_name"]) == ("Matti", "Meikäläinen")
    reps = (await svc.client.get(f"/v1/clients/{made['client_id']}/representatives", headers=official)).json()
    assert (reps[0]["name"], reps[0]["relation"], reps[0]["phone"]) == ("Maija Meikäläinen", "sister", "+358409999999")
    # An amendment (an ORM write of the client) is sealed too.
    amended = decision_body(version=2)
    amended["client"]["phone"] = "+358405550000"
    assert (await svc.client.post("/v1/decisions", json=amended, headers=svc.auth("integrator"))).status_code == 200
    dump = await _dump(svc)
    assert "+358405550000" not in dump and [c for c in CLEAR if c in dump] == []
    got = (await svc.client.get(f"/v1/decisions/{made['id']}", headers=official)).json()
    assert got["client"]["phone"] == "+358405550000"
    # A second decision of the same client (the client row upserted by a core statement), with a
    # justification naming the client: sealed as well.
    second = decision_body(source_id="EFF-2", period={"start": "2027-12-01", "end": "2028-05-31"},
                           extension_justification="Matti needs a longer period to recover")
    r = await svc.client.post("/v1/decisions", json=second, headers=svc.auth("integrator"))
    assert r.status_code == 201, r.text
    assert r.json()["client_id"] == made["client_id"]
    dump = await _dump(svc)
    assert [c for c in CLEAR if c in dump] == [] and "recover" not in dump
    got = (await svc.client.get(f"/v1/decisions/{r.json()['id']}", headers=official)).json()
    assert got["extension_justification"] == "Matti needs a longer period to recover"


async def test_after_retention_the_sealed_values_are_unreadable_and_ids_and_dates_stay(decision_service):
    svc = decision_service
    made = await _setup(svc)
    assert (await _job(svc, "personal-data-retention", "2033-12-01"))["erased"] == 1
    dump = await _dump(svc)
    assert [c for c in CLEAR if c in dump] == []
    async with svc.rt.sessionmaker() as s:
        raw = (await s.execute(select(Decision.__table__))).mappings().one()
    assert (str(raw["id"]), str(raw["client_id"]), raw["period_end"]) == (made["id"], made["client_id"], dt.date(2027, 11, 30))
    reps = (await svc.client.get(f"/v1/clients/{made['client_id']}/representatives",
                                 headers=svc.auth("city_official"))).json()
    assert (reps[0]["name"], reps[0]["phone"]) == ("erased", "erased")  # sealed under the destroyed key


async def test_rows_written_in_clear_before_sealing_are_sealed_by_the_job(decision_service):
    svc = decision_service
    made = await _setup(svc)
    async with svc.rt.sessionmaker() as s, s.begin():  # as rows written before sealing existed
        await s.execute(text("UPDATE client SET first_name = 'Matti', email = 'matti@example.fi'"))
        await s.execute(text("UPDATE start_notice SET last_name = 'Meikäläinen'"))
    assert "matti" in await _dump(svc)
    got = (await svc.client.get(f"/v1/decisions/{made['id']}", headers=svc.auth("city_official"))).json()
    assert got["client"]["first_name"] == "Matti"  # a value in clear reads as it is
    result = await _job(svc, "seal-personal-data", "2026-11-30")
    assert result == {"clients": 1, "rows_sealed": 2}
    assert [c for c in CLEAR if c in await _dump(svc)] == []
    assert (await _job(svc, "seal-personal-data", "2026-11-30"))["rows_sealed"] == 0  # idempotent
    notices = (await svc.client.get("/v1/start-notices", headers=svc.auth("city_official"))).json()
    assert notices[0]["last_name"] == "Meikäläinen"


async def test_a_push_sends_no_personal_value_in_clear_to_the_database(decision_service):
    """Sealed at the write, not before commit: no statement of a push (a new client, another decision of
    the same client, an amendment) nor of an ORM write (a representative) carries a name or contact in
    clear, so the clear text reaches neither the tables nor the database's WAL or dead row versions (which
    a physical backup keeps)."""
    from sqlalchemy import event

    svc = decision_service
    sent: list[str] = []

    # Anywhere in the statement: a push writes some of them in data-modifying CTEs (WITH ... INSERT).
    sealed_tables = re.compile(r"\b(INSERT INTO|UPDATE)\s+\"?(client|decision|decision_version|representative|"
                               r"start_notice|client_flag)\b", re.IGNORECASE)

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if sealed_tables.search(statement):  # the rows that hold personal data (events are another matter)
            sent.append(repr(parameters).casefold())

    event.listen(svc.rt.engine.sync_engine, "before_cursor_execute", capture)
    try:
        first = decision_body(extension_justification=None)
        r = await svc.client.post("/v1/decisions", json=first, headers=svc.auth("integrator"))
        assert r.status_code == 201, r.text
        assert r.json()["client"]["first_name"] == "Matti"  # the answer reads as sent
        second = decision_body(source_id="EFF-2027-000999", period={"start": "2027-12-01", "end": "2028-05-31"},
                               extension_justification="jatko edistää työkykyä (DEC-4)")
        r = await svc.client.post("/v1/decisions", json=second, headers=svc.auth("integrator"))
        assert r.status_code == 201, r.text
        amended = {**first, "version": 2, "client": {**first["client"], "phone": "+358409999999"}}
        r = await svc.client.post("/v1/decisions", json=amended, headers=svc.auth("integrator"))
        assert r.status_code == 200 and r.json()["client"]["phone"] == "+358409999999", r.text
        rep = {"name": "Maija Meikäläinen", "relation": "sister", "phone": "+358409999999",
               "scope": ["choose_provider"], "authorised_on": "2026-11-20"}
        r = await svc.client.post(f"/v1/clients/{r.json()['client_id']}/representatives", json=rep,
                                  headers=svc.auth("social_worker"))
        assert r.status_code == 201 and r.json()["name"] == "Maija Meikäläinen", r.text
    finally:
        event.remove(svc.rt.engine.sync_engine, "before_cursor_execute", capture)
    assert len(sent) >= 6  # the writes of the personal tables were seen
    leaked = [p for p in sent if any(v in p for v in CLEAR)]
    assert not leaked, leaked[:3]
    dump = await _dump(svc)
    assert not any(v in dump for v in CLEAR)
    assert "edistää" not in dump  # the justification is sealed too
