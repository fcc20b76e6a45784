"""``make demo``'s seeding (tools/demo.py), run as a test against the spawned system: a small city through
the public APIs only, with the shared development clock moved through a year (December 2026 to
November 2027, each month's log in one batch per provider), then the timeline the demo prints."""

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
    # A year on the shared clock: the story ends on 4 November 2027.
    assert c.today == "2027-11-04"
    settlements = _get(city.urls["billing"] + "/v1/settlements", "city_official").json()
    by_month: dict[str, list[tuple[str, str]]] = {}
    for s in settlements:
        by_month.setdefault(s["month"], []).append((s["provider_id"], s["state"]))
    assert sorted(by_month) == [f"{y}-{m:02d}" for y, m in [(2026, 12), *((2027, m) for m in range(1, 11))]]
    paid = [("P1", "paid"), ("P2", "paid"), ("P3", "paid")]
    # December paid; January paid for P1 and P2, P3's waiting for an official (the browser test approves it).
    assert sorted(by_month["2026-12"]) == paid
    open_ = ("draft", "under_review")  # computed, not yet approved
    assert sorted(by_month["2027-01"])[:2] == [("P1", "paid"), ("P2", "paid")]
    # P3's was left open by the seeding (the browser tests, on the same system, may have approved it since).
    assert [r["state"] for r in c.settlements["2027-01"] if r["provider_id"] == "P3"] in (["draft"], ["under_review"])
    # February: P3 never logged it (ATT-10 late), so it has nothing to bill; the others are paid.
    assert sorted(by_month["2027-02"]) == [("P1", "paid"), ("P2", "paid")]
    assert all(sorted(by_month[f"2027-{m:02d}"]) == paid for m in range(3, 9))
    # September's payment file is made but not paid; October awaits review.
    assert sorted(by_month["2027-09"]) == [("P1", "settled"), ("P2", "settled"), ("P3", "settled")]
    assert sorted(p for p, _ in by_month["2027-10"]) == ["P1", "P2", "P3"]
    assert all(state in open_ for _, state in by_month["2027-10"])
    assert len(c.batches) == 10  # December to September, a pain.001 file each (checked by the seeding)
    # ATT-10: P3's February is late; ATT-6: Kela TT3 notices for the year's absences.
    late = _get(city.urls["attendance"] + "/v1/reports?state=late&limit=200", "provider", provider_id="P3").json()
    late = late.get("items", late) if isinstance(late, dict) else late
    assert {r["month"] for r in late if r["kind"] == "monthly_follow_up"} == {"2027-02"}
    tt3 = _get(city.urls["attendance"] + "/v1/absence-notices?limit=200", "city_official").json()
    tt3 = tt3.get("items", tt3) if isinstance(tt3, dict) else tt3
    assert len({n["period_start"] for n in tt3}) >= 8, tt3
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
    # A year of the daily log, month by month (December to October), in the mover's timeline.
    logged = [line for line in lines if "Daily log" in line]
    assert len(logged) == 11, lines
    print(f"the demo city seeded in {city.seed_seconds:.1f} s")  # the -s output; no timing verdict under load
