"""ClientErased (DATA-2): the attendance service erases what it keeps on a client whose retention
period has passed, the decision service having destroyed the client's data key.

Neutralised: the daily log's free texts (tasks, notes, coaching content; ATT-1) in the entries and in
every earlier revision, the reports' written content, return comments and history comments
(ATT-10, AGR-17), the notes closing alerts, and the reasons of deviations on the client's agreements
(AGR-14). Kept: ids, dates, kinds, minutes and hours, absence codes, states: what billing and the
accounts count (BIL-1). Idempotent: handled twice, the same values.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.erasure import erase_columns, erased_text, record_erasure, scrub
from ktt_common.events import Envelope
from ktt_contracts.decision import ClientErased, ClientErasedPayload

from ktt_attendance.agreements.models import AgreementCopy, Deviation
from ktt_attendance.alerts.models import Alert
from ktt_attendance.clients.events import from_decision
from ktt_attendance.log.models import LogEntry, LogEntryRevision
from ktt_attendance.reports.models import Report

LOG_TEXTS = ("tasks", "note", "coaching_content")


@from_decision.on(ClientErased)
async def on_client_erased(session: AsyncSession, envelope: Envelope, payload: ClientErasedPayload) -> None:
    cid = payload.client_id
    counts = {
        "log_entry": await erase_columns(session, LogEntry, LogEntry.client_id == cid, *LOG_TEXTS),
        "alert": await erase_columns(session, Alert, Alert.client_id == cid, "close_note"),
        "deviation": await erase_columns(
            session, Deviation, Deviation.agreement_id.in_(select(AgreementCopy.agreement_id).where(
                AgreementCopy.client_id == cid)), "reason"),
    }
    revisions = (await session.execute(
        select(LogEntryRevision).where(LogEntryRevision.client_id == cid))).scalars().all()
    for revision in revisions:
        revision.facts = scrub(revision.facts, LOG_TEXTS)
        revision.changes = scrub(revision.changes, LOG_TEXTS)
    counts["log_entry_revision"] = len(revisions)
    reports = (await session.execute(select(Report).where(Report.client_id == cid).with_for_update())).scalars().all()
    for report in reports:
        report.content = scrub(report.content)  # the evaluation's texts; its numbers stay
        report.returned_comment = erased_text(report.returned_comment)
        report.history = scrub(report.history, ("comment",))
    counts["report"] = len(reports)
    await record_erasure(session, "attendance", envelope, cid, counts)
