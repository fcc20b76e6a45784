"""Who may do what in the billing service: the one declared table (issue 12 item 7).

Each endpoint names one action; ``tests/test_access_matrix.py`` calls every route with every
kind of caller and compares the answer with this table. Providers and clients are further
scoped to their own rows (DATA-3, :func:`ktt_common.policy.scope_rows`)."""

from __future__ import annotations

from ktt_common.auth import OFFICIALS, Role
from ktt_common.policy import Policy, allow

POLICY = Policy("billing", {
    "settlements.list_settlements": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER),  # GET /v1/settlements
    "settlements.get_settlement": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER),  # GET /v1/settlements/{settlement_id}
    "settlements.approve": allow(Role.CITY_OFFICIAL),  # POST /v1/settlements/{settlement_id}/approve
    "disputes.open_dispute": allow(Role.PROVIDER),  # POST /v1/settlements/{settlement_id}/lines/{line_id}/disputes
    "disputes.resolve": allow(Role.CITY_OFFICIAL),  # POST /v1/disputes/{dispute_id}/resolve
    "disputes.list_disputes": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER),  # GET /v1/disputes
    "corrections.reconciliation": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER),  # GET /v1/reconciliation
    "payments.create": allow(Role.CITY_OFFICIAL),  # POST /v1/payment-batches
    "payments.read": allow(Role.CITY_OFFICIAL, Role.INTEGRATOR),  # GET /v1/payment-batches/{batch_id}
    "payments.pain001": allow(Role.CITY_OFFICIAL, Role.INTEGRATOR),  # GET /v1/payment-batches/{batch_id}/pain001
    "payments.ledger": allow(Role.CITY_OFFICIAL, Role.INTEGRATOR),  # GET /v1/payment-batches/{batch_id}/ledger.csv
    "payments.mark_paid": allow(Role.CITY_OFFICIAL),  # POST /v1/payment-batches/{batch_id}/mark-paid
})

authorize = POLICY.authorize
