"""Pure rules of representatives (VOU-9): dates in, verdict out."""

from __future__ import annotations

import datetime as dt

from ktt_common.errors import FieldError


def check_representative(*, authorised_on: dt.date, valid_until: dt.date | None, phone: str | None,
                         email: str | None, today: dt.date) -> list[FieldError]:
    """VOU-9: the client authorised the representative on a day that has come, for a validity
    that ends no earlier than it starts; and the representative can be reached."""
    errors = []
    if authorised_on > today:
        errors.append(FieldError(field="body.authorised_on", rule="VOU-9",
                                 message=f"an authorisation is recorded after the client gave it: authorised_on must be "
                                         f"on or before {today}"))
    if valid_until is not None and valid_until < authorised_on:
        errors.append(FieldError(field="body.valid_until", rule="VOU-9",
                                 message=f"valid_until is before authorised_on ({authorised_on}); give the last day the "
                                         "authorisation holds, or leave it out"))
    if not (phone or "").strip() and not (email or "").strip():
        errors.append(FieldError(field="body.phone", rule="VOU-9",
                                 message="a representative acts for the client with the case worker and providers: give "
                                         "a phone number or an e-mail address"))
    return errors



def representative_acts(*, authorised_on: dt.date, valid_until: dt.date | None, withdrawn_on: dt.date | None,
                        today: dt.date) -> bool:
    """VOU-9: the representative acts for the client from authorised_on through valid_until, and not
    from the day the authorisation is withdrawn."""
    if authorised_on > today or (valid_until is not None and today > valid_until):
        return False
    return withdrawn_on is None or today < withdrawn_on



def name_key(name: str) -> str:
    """A person's name for the natural key: case and spacing do not make another person."""
    return " ".join(name.split()).casefold()
