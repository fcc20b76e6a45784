"""Pure rules of consents (DATA-1) and of withdrawals (DATA-1, VOU-9): dates in, verdict out."""

from __future__ import annotations

import datetime as dt

from ktt_common.errors import FieldError


def check_consent_dates(given_on: dt.date, valid_until: dt.date | None, today: dt.date) -> list[FieldError]:
    """DATA-1: a consent is recorded after the client gave it (given_on not after today), and holds
    from given_on through valid_until (not before it starts)."""
    errors: list[FieldError] = []
    if given_on > today:
        errors.append(FieldError(field="body.given_on", rule="DATA-1",
                                 message=f"a consent is recorded after the client gave it: given_on must be on or before {today}"))
    if valid_until is not None and valid_until < given_on:
        errors.append(FieldError(field="body.valid_until", rule="DATA-1",
                                 message="valid_until is before given_on; give the last day the consent holds"))
    return errors


def consent_covers(*, scope: list[str], given_on: dt.date, valid_until: dt.date | None, withdrawn_on: dt.date | None,
                   wanted_scope: str, today: dt.date) -> bool:
    """DATA-1: a written consent lets a provider see data of its scope from the day it was given
    until it expires or is withdrawn (withdrawn on a day: not valid from that day on)."""
    if wanted_scope not in scope or given_on > today:
        return False
    if valid_until is not None and today > valid_until:
        return False
    return withdrawn_on is None or today < withdrawn_on



def check_consent_provider(provider_id: str, status: str | None) -> list[FieldError]:
    """DATA-1: a consent names a provider the registry knows (status from its events), and not one
    removed from the approved list."""
    if status is None:
        return [FieldError(field="body.provider_id", rule="DATA-1",
                           message=f"no provider {provider_id!r} in the provider registry: give the id of a provider "
                                   "that has applied or is approved")]
    if status == "removed":
        return [FieldError(field="body.provider_id", rule="DATA-1",
                           message=f"provider {provider_id!r} was removed from the approved list; a consent to share "
                                   "data with it is no longer recorded")]
    return []



def check_withdrawal_day(withdrawn_on: dt.date, granted_on: dt.date, today: dt.date, *, rule: str,
                         granted: str) -> list[FieldError]:
    """A consent (DATA-1) or a representative's authorisation (VOU-9) is withdrawn from a day between
    the day it was given and today: not before it existed, and not ahead of time."""
    if granted_on <= withdrawn_on <= today:
        return []
    return [FieldError(field="body.withdrawn_on", rule=rule,
                       message=f"withdrawn_on must be between {granted} ({granted_on}) and today ({today}): "
                               f"give a date from {granted_on} to {today}")]
