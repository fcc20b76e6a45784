"""Who may do what in the decision service: the one declared table (issue 12 item 7).

Each endpoint names one action; ``tests/test_access_matrix.py`` calls every route with every
kind of caller and compares the answer with this table. Providers and clients are further
scoped to their own rows (DATA-3, :func:`ktt_common.policy.scope_rows`)."""

from __future__ import annotations

from ktt_common.auth import OFFICIALS, Role
from ktt_common.policy import Policy, allow

POLICY = Policy("decision", {
    "decision.push_decision": allow(Role.CITY_OFFICIAL, Role.INTEGRATOR),  # POST /v1/decisions
    "decision.revoke_decision": allow(Role.CITY_OFFICIAL, Role.INTEGRATOR),  # POST /v1/decisions/{decision_id}/revoke
    "decision.get_decision": allow(OFFICIALS, Role.INTEGRATOR),  # GET /v1/decisions/{decision_id}
    "decision.list_decisions": allow(OFFICIALS, Role.INTEGRATOR),  # GET /v1/decisions
    "decision.lookup_client": allow(OFFICIALS, Role.INTEGRATOR),  # POST /v1/clients/lookup
    "decision.record_consent": allow(OFFICIALS),  # POST /v1/clients/{client_id}/consents
    "decision.withdraw_consent": allow(OFFICIALS),  # POST /v1/clients/{client_id}/consents/{consent_id}/withdraw
    "decision.list_consents": allow(OFFICIALS),  # GET /v1/clients/{client_id}/consents
    "decision.check_consent": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER),  # GET /v1/clients/{client_id}/consents/check
    "decision.get_plan": allow(OFFICIALS, Role.PROVIDER),  # GET /v1/clients/{client_id}/plan
    "decision.record_representative": allow(OFFICIALS),  # POST /v1/clients/{client_id}/representatives
    "decision.withdraw_representative": allow(OFFICIALS),
    "decision.list_representatives": allow(OFFICIALS),  # GET /v1/clients/{client_id}/representatives
    "decision.list_start_notices": allow(OFFICIALS),  # GET /v1/start-notices
    "decision.get_start_notice": allow(OFFICIALS),  # GET /v1/start-notices/{notice_id}
    "decision.mark_start_notice_sent": allow(OFFICIALS),  # POST /v1/start-notices/{notice_id}/mark-sent
    "decision.list_flags": allow(OFFICIALS),  # GET /v1/clients/{client_id}/flags
})

authorize = POLICY.authorize
