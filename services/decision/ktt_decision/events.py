"""What the decision service consumes: its explicit event -> handler maps, per producer.

From the voucher service: service starts (TE-office start notices, DEC-6, ``notices/events.py``),
and the facts that are refusals or interruptions of KTT for the case worker (DEC-9,
``flags/events.py``). From the attendance service: unauthorised absences (ATT-7,
``flags/events.py``). From the provider registry: which providers exist (``providers/events.py``),
so that a consent names a real one (DATA-1).
"""

from __future__ import annotations

from ktt_decision.flags import events as _flags  # noqa: F401  (registers its handlers)
from ktt_decision.notices import events as _notices  # noqa: F401  (registers its handlers)
from ktt_decision.providers.events import from_registry
from ktt_decision.subscriptions import from_attendance, from_voucher

SUBSCRIPTIONS = [from_voucher, from_attendance, from_registry]
