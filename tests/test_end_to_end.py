"""A client's path across the five real services on one real nats-server: decision -> voucher ->
approved provider -> agreement -> service start -> TE-office start notice -> the daily log (an
unauthorised absence flagged for the case worker) -> revocation (the log takes no later day).

Each step happens only through the public APIs and the events the services publish to each other.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Iterator

import pytest
import structlog

from ktt_common.clock import FrozenClock
from ktt_common.identifiers import contains_hetu
from ktt_common.logging import configure_logging
from ktt_common.testing import eventually, run_service, see_the_day, service_settings

from ktt_attendance.app import create_app as attendance_app
from ktt_billing.app import create_app as billing_app
from ktt_decision.app import create_app as decision_app
from ktt_registry.app import create_app as registry_app
from ktt_voucher.app import create_app as voucher_app
from tests.helpers import HETU_1900, HttpRecorder, decision_body, every_stream_message, valid_hetus_in
from tests.journeys import DRAFT_TERMS, approved_provider


@pytest.fixture
def logs_to_captured_output(capfd) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The services log as in production (JSON to stdout, which capfd captures here), whatever logging
    an earlier test in the same process left configured; the root logger is put back afterwards."""
    root = logging.getLogger()
    handlers, level, config = list(root.handlers), root.level, structlog.get_config()
    configure_logging("end-to-end", json=True, stream=sys.stdout)
    yield
    root.handlers, root.level = handlers, level
    structlog.configure(**config)


async def test_a_client_from_decision_to_service_start_and_back(databases, nats_server, tmp_path, capfd,
                                                                 logs_to_captured_output):
    clock = FrozenClock(dt.date(2026, 11, 30))

    def settings(service: str, url: str):  # type: ignore[no-untyped-def]
        return service_settings(service, database_url=url, nats_url=nats_server.url, data_dir=tmp_path)

    async with (
        run_service(decision_app, settings("decision", await databases("decision")), clock) as decision,
        run_service(voucher_app, settings("voucher", await databases("voucher")), clock) as voucher,
        run_service(registry_app, settings("provider-registry", await databases("provider-registry")), clock) as registry,
        run_service(attendance_app, settings("attendance", await databases("attendance")), clock) as attendance,
        run_service(billing_app, settings("billing", await databases("billing")), clock) as billing,
    ):
        # Every URL requested and every response body of the five services, for the privacy sweep (9).
        http = HttpRecorder()
        for svc in (decision, voucher, registry, attendance, billing):
            http.attach(svc.client)
        official = {"Authorization": registry.auth("city_official")["Authorization"]}

        # 1. A provider applies, with a unit, an instructor and a product; Typake prices, inspects and approves it.
        unit, product = await approved_provider(registry, deputies=("Vilja Varavastaava",))

        # 2. The client information system pushes a decision; the voucher service issues the voucher.
        made = await decision.client.post("/v1/decisions", json=decision_body(), headers=decision.auth("integrator"))
        assert made.status_code == 201, made.text
        decision_id = made.json()["id"]

        async def the_voucher():  # type: ignore[no-untyped-def]
            r = await voucher.client.get("/v1/vouchers", params={"decision_id": decision_id}, headers=voucher.auth("city_official"))
            return r.json()[0] if r.json() else None

        issued = await eventually(the_voucher, what="voucher issued")

        # 3. The provider drafts the agreement on the voucher number once the registry's facts have arrived.
        draft = {
            "voucher_number": issued["number"], "unit_id": unit["id"], "product_id": product["id"],
            "start_date": "2026-12-07", "end_date": "2027-05-31",
            "schedule": [{"weekday": d, "start": "10:00", "end": "14:00"} for d in ("mon", "tue", "wed")],
            "tasks": ["puutyöt"], "goals": "Arjen rytmi", "instructor": {"name": "Ohjaaja Olli", "phone": "+358401111111"},
            "client_contact": {"phone": "+358402222222"},
            "case_worker": {"name": "Liisa Virkailija", "office": "typake", "email": "liisa.virkailija@turku.example"},
            "individual_coaching": "1 h a week", "parallel_services": [], "work_cards": [],
            "terms": DRAFT_TERMS,
        }
        provider = voucher.auth("provider", provider_id="P1")

        async def drafted():  # type: ignore[no-untyped-def]
            r = await voucher.client.post("/v1/agreements", json=draft, headers=provider)
            return r.json() if r.status_code == 201 else None

        agreement = await eventually(drafted, what="agreement drafted after the registry's events")
        # AGR-1: the unit's responsible person and the instructor sign with the provider's login; the client
        # signs through the personal voucher link an official made (VOU-2), never on the provider's word.
        # The deputy the registry names for the unit signs for the responsible person (AGR-1).
        for party, name in (("responsible_person", "Vilja Varavastaava"), ("instructor", "Ohjaaja Olli")):
            r = await voucher.client.post(f"/v1/agreements/{agreement['id']}/signatures", headers=provider,
                                          json={"party": party, "name": name, "place": "Turku"})
            assert r.status_code == 200, r.text
        r = await voucher.client.post(f"/v1/agreements/{agreement['id']}/signatures", headers=provider,
                                      json={"party": "client", "name": "Asiakas", "place": "Turku"})
        assert r.status_code == 403 and r.json()["rule"] == "AGR-1"
        link = await voucher.client.post(f"/v1/vouchers/{issued['id']}/links", headers=official, json={})
        assert link.status_code == 201, link.text
        r = await voucher.client.post(f"{link.json()['url']}/agreements/{agreement['id']}/signatures",
                                      json={"party": "client", "name": "Asiakas", "place": "Turku"})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "signed" and r.json()["day_value_first_year_cents"] == 4500

        # 4. The registry counts the place as taken (AgreementSigned).
        async def occupied(n: int):  # type: ignore[no-untyped-def]
            r = await registry.client.get(f"/v1/units/{unit['id']}", headers=official)
            return r.json()["occupied"] == n

        await eventually(lambda: occupied(1), what="occupancy from AgreementSigned")

        # 5. The first scheduled day comes: ServiceStarted, and the decision service makes the TE-office notice (DEC-6).
        see_the_day(voucher.rt.clock, "2026-12-07")  # OPS-1: the job's date has come
        r = await voucher.client.post("/v1/admin/jobs/services-starting/run", params={"date": "2026-12-07"}, headers=voucher.auth("admin"))
        assert r.json()["result"]["started"] == 1

        async def notice():  # type: ignore[no-untyped-def]
            r = await decision.client.get("/v1/start-notices", headers=decision.auth("city_official"))
            return r.json() if r.status_code == 200 and r.json() else None

        notices = await eventually(notice, what="TE-office start notice")
        assert len(notices) == 1 and notices[0]["client_id"] == made.json()["client_id"]
        assert HETU_1900 not in str(notices)  # the list carries no hetu (DATA-4)

        # 6. The provider posts the daily log to the attendance service, which learned the agreement from
        #    AgreementSigned; an unauthorised absence reaches the case worker as a DEC-9 flag (ATT-7).
        log_provider = attendance.auth("provider", provider_id="P1")

        async def attendance_knows():  # type: ignore[no-untyped-def]
            r = await attendance.client.get(f"/v1/agreements/{agreement['id']}", headers=log_provider)
            return r.status_code == 200 and r.json()["started_on"] == "2026-12-07"

        await eventually(attendance_knows, what="the attendance service's copy of the agreement")
        clock.set(dt.date(2026, 12, 9))
        r = await attendance.client.post("/v1/daily-log", headers=log_provider, json={"entries": [
            {"agreement_id": agreement["id"], "date": "2026-12-07", "kind": "present", "start": "10:00", "end": "14:00",
             "tasks": "puutyöt"},
            {"agreement_id": agreement["id"], "date": "2026-12-08", "kind": "absent", "reason": "unauthorised",
             "same_day_contact": True},
            {"agreement_id": agreement["id"], "date": "2026-12-10", "kind": "present", "hours": 4}]})
        assert r.status_code == 200, r.text
        assert [(x["status"], x["rule"]) for x in r.json()["results"]] == [("accepted", None), ("accepted", None),
                                                                             ("rejected", "ATT-1")]
        client_id = made.json()["client_id"]

        async def flagged():  # type: ignore[no-untyped-def]
            r = await decision.client.get(f"/v1/clients/{client_id}/flags", headers=decision.auth("city_official"))
            return [f for f in r.json() if f["kind"] == "unauthorised_absence"] if r.status_code == 200 else None

        [flag] = await eventually(flagged, what="the unauthorised absence flagged for the case worker (DEC-9)")
        assert flag["occurred_on"] == "2026-12-08"

        # 7. The decision is revoked: the voucher is revoked, the agreement ends, the place frees up.
        r = await decision.client.post(f"/v1/decisions/{decision_id}/revoke", json={"reason": "the client moved away"},
                                       headers=decision.auth("integrator"))
        assert r.status_code == 200, r.text

        async def ended():  # type: ignore[no-untyped-def]
            r = await voucher.client.get(f"/v1/agreements/{agreement['id']}", headers=voucher.auth("city_official"))
            return r.json()["state"] == "ended" and r.json()["end_kind"] == "decision_revoked"

        await eventually(ended, what="agreement ended by the revocation")
        assert (await the_voucher())["state"] == "revoked"
        await eventually(lambda: occupied(0), what="place freed by AgreementEnded")

        # 8. The attendance service learns the end: a day after it is refused (AGR-13).
        async def ended_in_attendance():  # type: ignore[no-untyped-def]
            r = await attendance.client.get(f"/v1/agreements/{agreement['id']}", headers=log_provider)
            return r.json()["ended_on"] is not None

        await eventually(ended_in_attendance, what="AgreementEnded in the attendance service")
        clock.set(dt.date(2026, 12, 14))
        r = await attendance.client.post("/v1/daily-log", headers=log_provider, json={"entries": [
            {"agreement_id": agreement["id"], "date": "2026-12-14", "kind": "present", "hours": 4}]})
        assert r.json()["results"][0]["rule"] == "AGR-13"

        # Billing learned the agreement and the days; officials read what it holds.
        for path in ("/v1/settlements", "/v1/reconciliation?month=2026-12", f"/v1/clients/{client_id}/access-log"):
            r = await billing.client.get(path, headers=billing.auth("city_official"))
            assert r.status_code == 200, f"{path}: {r.text}"
        seen = await decision.client.get(f"/v1/clients/{client_id}/access-log", headers=decision.auth("city_official"))
        assert ("decision.create", "integrator") in [(e["action"], e["role"]) for e in seen.json()]

        # 9. Privacy sweep (DATA-4): the client's hetu went in with the decision, and nothing that left a
        #    service since carries it or anything shaped like one: no event on the bus (data, subject,
        #    headers), no log line, no URL requested and no response body or header of any of the five
        #    services (a substring with a valid hetu checksum, python-stdnum, anywhere fails).
        # every service was called (how many polls the eventual steps take varies with the machine's speed)
        assert {url.split('/')[2] for url in http.urls} >= {"decision", "voucher", "provider-registry", "attendance", "billing"}
        assert len(http.urls) >= 25 and len(http.bodies) == len(http.urls)
        for url in http.urls:
            assert not contains_hetu(url) and not valid_hetus_in(url), f"a hetu in a URL: {url} (DATA-4)"
        for where, body in http.bodies:
            assert HETU_1900 not in body and not valid_hetus_in(body), f"a hetu in the response of {where} (DATA-4)"
        events = await every_stream_message(nats_server.url)
        assert len(events) >= 10, "the scenario's events are on the bus"
        for subject, data, headers in events:
            text = f"{subject} {data.decode()} {headers}"
            assert HETU_1900 not in text and not contains_hetu(text) and not valid_hetus_in(text), (
                f"a hetu in an event on {subject} (DATA-4)")
        out, err = capfd.readouterr()
        assert out or err, "the services logged the scenario"
        assert HETU_1900 not in out + err and not contains_hetu(out + err), "a hetu in the logs (DATA-4)"
        assert not valid_hetus_in(out + err), "a valid hetu in the logs (DATA-4)"
