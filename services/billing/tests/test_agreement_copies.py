"""Billing's copies of agreements applied in the producer's order (issue 12 item 3): by the agreement's
revision, an end remembered when it comes before the signing, an older end never moving a newer one
back, so nothing is billed after an agreement's end (BIL-5) whatever order the events arrive in."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from billing_builders import PROVIDER, lines_by
from ktt_billing.copies.models import AgreementCopy
from ktt_contracts import agreement


def _end(agreement_id: str, ended_on: str, revision: int | None) -> dict[str, Any]:
    return {"agreement_id": agreement_id, "voucher_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4()),
            "provider_id": PROVIDER, "unit_id": str(uuid.uuid4()), "ended_on": ended_on, "kind": "mutual",
            "reason": "moved", "early": True, "revision": revision}


async def _copy(feed, agreement_id: str) -> AgreementCopy:
    async with feed.svc.rt.sessionmaker() as session:
        return (await session.execute(select(AgreementCopy).where(AgreementCopy.agreement_id == uuid.UUID(agreement_id)))).scalar_one()


async def test_an_end_before_the_signing_is_remembered_and_an_older_end_never_moves_it_back_bil_5(feed):
    aid = str(uuid.uuid4())
    assert await feed.deliver("voucher", agreement.AgreementEnded, _end(aid, "2026-11-04", 3)) == "handled"
    a = await feed.agreement(agreement_id=aid, revision=1, first=5000, base=4000)  # the signing, handled after its end
    assert (await _copy(feed, aid)).ended_on.isoformat() == "2026-11-04"
    # An older end (revision 2) handled later, with a later producer time: it moves nothing.
    assert await feed.deliver("voucher", agreement.AgreementEnded, _end(aid, "2026-11-20", 2)) == "handled"
    assert (await _copy(feed, aid)).ended_on.isoformat() == "2026-11-04"
    await feed.days(a, [(f"2026-11-0{d}", "present") for d in range(2, 7)])
    await feed.follow_up(a, "2026-11")
    await feed.run("2026-12-01")
    assert lines_by(await feed.settlement()) == [(a["client_id"], "day_first_year", 3.0, 5000, 15000)]  # 2.-4.11


async def test_a_lower_revision_of_the_facts_handled_later_changes_nothing(feed):
    a = await feed.agreement(revision=2, first=5000, base=4000, base_value_from="2026-11-16")
    older = {**a, "revision": 1, "change": "base_value_from", "base_value_from": "2027-06-01"}
    assert await feed.deliver("voucher", agreement.AgreementChanged, older) == "handled"
    copy = await _copy(feed, a["agreement_id"])
    assert copy.base_value_from.isoformat() == "2026-11-16" and copy.facts_revision == 2
    newer = {**a, "revision": 3, "change": "base_value_from", "base_value_from": "2026-11-23"}
    assert await feed.deliver("voucher", agreement.AgreementChanged, newer) == "handled"
    assert (await _copy(feed, a["agreement_id"])).base_value_from.isoformat() == "2026-11-23"
