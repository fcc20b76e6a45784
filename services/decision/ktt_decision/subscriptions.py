"""The decision service's subscriptions, one per producer; each sub-domain's ``events.py`` adds its
handlers to them and ``ktt_decision.events`` hands the list to the runtime."""

from __future__ import annotations

from ktt_common.inbox import Subscription

from_voucher = Subscription(producer="voucher")
from_attendance = Subscription(producer="attendance")
