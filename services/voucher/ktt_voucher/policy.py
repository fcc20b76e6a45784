"""Who may do what in the voucher service: the one declared table (issue 12 item 7).

Each endpoint names one action; ``tests/test_access_matrix.py`` calls every route with every
kind of caller and compares the answer with this table. Providers and clients are further
scoped to their own rows (DATA-3, :func:`ktt_common.policy.scope_rows`)."""

from __future__ import annotations

from ktt_common.auth import OFFICIALS, Role
from ktt_common.policy import Policy, allow, public

POLICY = Policy("voucher", {
    "voucher.list_vouchers": allow(OFFICIALS, Role.INTEGRATOR),  # GET /v1/vouchers
    "voucher.check_voucher": allow(OFFICIALS, Role.PROVIDER),  # GET /v1/vouchers/check/{number}
    "voucher.get_voucher": allow(OFFICIALS, Role.INTEGRATOR),  # GET /v1/vouchers/{voucher_id}
    "voucher.print_voucher": allow(OFFICIALS),  # GET /v1/vouchers/{voucher_id}/pdf
    "voucher.create_link": allow(OFFICIALS),  # POST /v1/vouchers/{voucher_id}/links
    "voucher.refuse_by_official": allow(OFFICIALS),  # POST /v1/vouchers/{voucher_id}/refuse
    "voucher.link_page": public(),  # GET /v1/voucher-links/{token}
    "voucher.link_pdf": public(),  # GET /v1/voucher-links/{token}/pdf
    "voucher.refuse_by_link": public(),  # POST /v1/voucher-links/{token}/refuse
    "agreements.draft": allow(Role.PROVIDER),  # POST /v1/agreements
    "agreements.list_agreements": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.CLIENT),  # GET /v1/agreements
    "agreements.get": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.CLIENT),  # GET /v1/agreements/{agreement_id}
    "agreements.sign": allow(OFFICIALS, Role.PROVIDER, Role.CLIENT),  # POST /v1/agreements/{agreement_id}/signatures
    "agreements.start_override": allow(OFFICIALS),  # POST /v1/agreements/{agreement_id}/start-override
    "agreements.continuation": allow(Role.PROVIDER),  # POST /v1/agreements/{agreement_id}/continuations
    "agreements.review": allow(Role.PROVIDER),  # POST /v1/agreements/{agreement_id}/reviews
    "agreements.list_changes": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.CLIENT),
    "agreements.sign_change": allow(OFFICIALS, Role.PROVIDER, Role.CLIENT),
    "agreements.end": allow(OFFICIALS, Role.PROVIDER, Role.CLIENT),  # POST /v1/agreements/{agreement_id}/end
    "agreements.answer_end": allow(OFFICIALS, Role.PROVIDER, Role.CLIENT),  # POST /v1/agreements/{agreement_id}/end/answer
    "agreements.contact": allow(Role.PROVIDER),  # POST /v1/voucher-contacts
    "agreements.link_agreements": public(),  # GET /v1/voucher-links/{token}/agreements
    "agreements.link_sign": public(),  # POST /v1/voucher-links/{token}/agreements/{agreement_id}/signatures
    "agreements.link_sign_change": public(),
    "agreements.link_end": public(),  # POST /v1/voucher-links/{token}/agreements/{agreement_id}/end
    "agreements.link_answer_end": public(),  # POST /v1/voucher-links/{token}/agreements/{agreement_id}/end/answer
    "agreements.notifications": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.CLIENT),
    "agreements.refuse": allow(Role.PROVIDER),  # POST /v1/provider-refusals
    "agreements.refusals": allow(OFFICIALS, Role.PROVIDER),  # GET /v1/provider-refusals
    "agreements.list_deadlines": allow(OFFICIALS),  # GET /v1/deadlines
})

authorize = POLICY.authorize
