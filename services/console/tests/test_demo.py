"""``make demo``'s seeding (tools/demo.py), run as a test against the spawned system: a small city through
the public APIs only, with the shared development clock moved through three months, then the timeline
the demo prints."""

from __future__ import annotations

import asyncio

import httpx

from ktt_common.auth import issue_token
from ktt_common.identifiers import contains_hetu
from ktt_common.settings import DEV_JWT_SECRET


def _get(url: str, role: str, **claims: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {issue_token(DEV_JWT_SECRET, role=role, **claims)}"}, timeout=30)


def test_the_demo_city_is_seeded_through_the_apis(city):  # type: ignore[no-untyped-def]
    from tools.demo import timeline_text

    c = city.city
    assert len(c.clients) == 12 and len(set(c.clients)) == 12
    # Two settled months: December all three providers, paid; January two approved, P3 waiting for review.
    december = _get(city.urls["billing"] + "/v1/settlements?month=2026-12", "city_official").json()
    assert sorted((s["provider_id"], s["state"]) for s in december) == [("P1", "paid"), ("P2", "paid"), ("P3", "paid")]
    january = _get(city.urls["billing"] + "/v1/settlements?month=2027-01", "city_official").json()
    assert sorted((s["provider_id"], s["state"]) for s in january) == [("P1", "settled"), ("P2", "settled"),
                                                                      ("P3", "draft")] or \
        sorted(s["provider_id"] for s in january if s["state"] == "settled") == ["P1", "P2"]
    assert len(c.batches) == 2
    # The change of provider (AGR-18): the mover's P1 agreement ended the day before P2's started.
    agreements = _get(city.urls["voucher"] + f"/v1/agreements?client_id={c.mover}", "city_official").json()
    assert sorted(a["provider_id"] for a in agreements) == ["P1", "P2"]
    ended = next(a for a in agreements if a["provider_id"] == "P1")
    assert ended["ended_on"] == "2027-01-10", ended
    # The printed timeline: decision -> voucher -> agreements -> log -> reports -> payments, no hetu.
    lines = asyncio.run(timeline_text(city.urls, c.mover, c.names[c.mover]))
    text = "\n".join(lines)
    for kind in ("Decision", "Voucher", "Agreement", "Daily log", "Report", "Payment"):
        assert kind in text, text
    assert "P1" in text and "P2" in text and not contains_hetu(text)
