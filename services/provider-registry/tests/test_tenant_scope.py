"""DATA-3 in the query (issue 12 item 7): a provider asking for another provider's resource gets the
404 a missing resource gets, with the same detail, and nothing of the other provider changes. The rows
are scoped by ktt_common.policy.one_scoped in SQL, not checked after loading (which told the caller
whose provider an arrangement belonged to)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from registry_builders import BUSINESS_IDS, approved_provider, as_provider, official

TODAY = dt.date(2026, 11, 30)


def day(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


async def _refused_as_missing(svc: Any, method: str, template: str, own_id: str, body: dict[str, Any] | None,
                              detail: str) -> None:
    """The other provider's id and an id that exists nowhere give the same answer, bar the id itself."""
    answers = []
    for rid in (own_id, str(uuid.uuid4())):
        r = await svc.client.request(method, template.format(id=rid), json=body, headers=as_provider(svc, "P2"))
        assert r.status_code == 404, (template, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["detail"] == detail.format(id=rid), problem
        answers.append({k: v for k, v in problem.items() if k not in ("detail", "instance")})
    assert answers[0] == answers[1]


async def test_data_3_another_providers_group_queue_entry_and_guidance_are_not_found(registry: Any) -> None:
    svc = registry
    p1 = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0], kind="group", instructors=2)
    await approved_provider(svc, "P2", business_id=BUSINESS_IDS[1])
    lead, second = (i["id"] for i in p1["instructors"])
    r = await svc.client.post(f"/v1/units/{p1['unit']['id']}/groups", headers=as_provider(svc, "P1"), json={
        "product_id": p1["product"]["id"], "name": "Ryhmä", "starts_on": day(20), "ends_on": day(110), "places": 8,
        "lead_instructor_id": lead, "second_responsible_id": second, "instructors_present": 1})
    assert r.status_code == 201, r.text
    group = r.json()
    r = await svc.client.post(f"/v1/units/{p1['unit']['id']}/queues/{p1['product']['id']}",
                              json={"client_id": str(uuid.uuid4())}, headers=as_provider(svc, "P1"))
    assert r.status_code == 201, r.text
    entry = r.json()
    guidance = (await svc.client.get("/v1/providers/P1/social-guidance", headers=official(svc))).json()
    assert len(guidance) == 1 and guidance[0]["active"] is True

    await _refused_as_missing(svc, "PATCH", "/v1/groups/{id}", group["id"], {"places_full": True}, "no group {id}")
    await _refused_as_missing(svc, "POST", "/v1/queue-entries/{id}/leave", entry["id"], {"outcome": "withdrew"},
                              "no queue entry {id}")
    await _refused_as_missing(svc, "POST", "/v1/social-guidance/{id}/end", guidance[0]["id"], None,
                              "no social guidance arrangement {id}")
    await _refused_as_missing(svc, "GET", "/v1/units/{id}", p1["unit"]["id"], None, "no unit {id}")
    await _refused_as_missing(svc, "PATCH", "/v1/products/{id}", p1["product"]["id"], {"name": "Toinen nimi"},
                              "no product {id}")
    r = await svc.client.get("/v1/providers/P1", headers=as_provider(svc, "P2"))
    assert r.status_code == 404 and r.json()["detail"] == "no provider P1"

    # Nothing of P1 changed, and P1 itself still reaches all of it.
    queue = (await svc.client.get(f"/v1/units/{p1['unit']['id']}/queues/{p1['product']['id']}",
                                  headers=as_provider(svc, "P1"))).json()
    assert [q["id"] for q in queue] == [entry["id"]]
    guidance = (await svc.client.get("/v1/providers/P1/social-guidance", headers=as_provider(svc, "P1"))).json()
    assert guidance[0]["active"] is True
    r = await svc.client.patch(f"/v1/groups/{group['id']}", json={"places_full": True}, headers=as_provider(svc, "P1"))
    assert r.status_code == 200 and r.json()["places_full"] is True, r.text
    r = await svc.client.post(f"/v1/queue-entries/{entry['id']}/leave", json={"outcome": "withdrew"},
                              headers=as_provider(svc, "P1"))
    assert r.status_code == 200 and r.json()["outcome"] == "withdrew", r.text
