"""One open dispute per settlement line is held by the database (issue 12 item 8): the check
before the insert is no longer the only guard, so two concurrent opens cannot both land."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from ktt_billing.disputes.models import Dispute


def dispute(line_id: uuid.UUID, state: str = "open") -> Dispute:
    return Dispute(id=uuid.uuid4(), settlement_id=uuid.uuid4(), line_id=line_id, provider_id="P1", reason="days differ",
                   state=state, opened_on=dt.date(2026, 12, 1), opened_by="staff-of-P1")


async def test_a_second_open_dispute_of_a_line_is_refused_by_the_database(billing_service):
    rt = billing_service.rt
    line = uuid.uuid4()
    async with rt.sessionmaker() as s, s.begin():
        s.add(dispute(line))
    with pytest.raises(IntegrityError):
        async with rt.sessionmaker() as s, s.begin():
            s.add(dispute(line))
    # Answered disputes do not count: a line may be disputed again after an answer.
    async with rt.sessionmaker() as s, s.begin():
        s.add_all([dispute(line, "rejected"), dispute(line, "accepted"), dispute(uuid.uuid4())])
