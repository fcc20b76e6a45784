"""Who may do what in the attendance service: the one declared table (issue 12 item 7).

Each endpoint names one action; ``tests/test_access_matrix.py`` calls every route with every
kind of caller and compares the answer with this table. Providers and clients are further
scoped to their own rows (DATA-3, :func:`ktt_common.policy.scope_rows`)."""

from __future__ import annotations

from ktt_common.auth import OFFICIALS, Role
from ktt_common.policy import Policy, allow

POLICY = Policy("attendance", {
    "log.post_daily_log": allow(Role.PROVIDER),  # POST /v1/daily-log
    "log.read_daily_log": allow(OFFICIALS, Role.PROVIDER),  # GET /v1/daily-log
    "log.entry_revisions": allow(OFFICIALS, Role.PROVIDER),  # GET /v1/daily-log/entries/{entry_id}/revisions
    "log.spot_check": allow(Role.CITY_OFFICIAL),  # POST /v1/spot-checks
    "agreements.get_agreement": allow(OFFICIALS, Role.PROVIDER),  # GET /v1/agreements/{agreement_id}
    "agreements.create_deviation": allow(Role.PROVIDER),  # POST /v1/agreements/{agreement_id}/deviations
    "agreements.list_deviations": allow(OFFICIALS, Role.PROVIDER),  # GET /v1/agreements/{agreement_id}/deviations
    "months.confirm": allow(Role.PROVIDER),  # POST /v1/months/{month}/confirm
    "months.list_month_reports": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER),  # GET /v1/month-reports
    "months.month_grid": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER),  # GET /v1/units/{unit_id}/months/{month}/grid
    "alerts.list_alerts": allow(OFFICIALS, Role.PROVIDER),  # GET /v1/alerts
    "alerts.acknowledge": allow(OFFICIALS),  # POST /v1/alerts/{alert_id}/acknowledge
    "alerts.close": allow(OFFICIALS),  # POST /v1/alerts/{alert_id}/close
    "alerts.situation_changed": allow(Role.PROVIDER),  # POST /v1/agreements/{agreement_id}/situation-changes
    "notices.list_notices": allow(OFFICIALS),  # GET /v1/absence-notices
    "notices.get_notice": allow(OFFICIALS),  # GET /v1/absence-notices/{notice_id}
    "notices.notice_pdf": allow(OFFICIALS),  # GET /v1/absence-notices/{notice_id}/pdf
    "notices.mark_sent": allow(OFFICIALS),  # POST /v1/absence-notices/{notice_id}/mark-sent
    "clients.set_benefit_payer": allow(OFFICIALS),  # PUT /v1/clients/{client_id}/benefit-payer
    "clients.list_allowances": allow(OFFICIALS, Role.INTEGRATOR),  # GET /v1/allowances
    "reports.submit_report": allow(Role.PROVIDER),  # POST /v1/reports
    "reports.sign_report": allow(Role.PROVIDER, Role.CLIENT),  # POST /v1/reports/{report_id}/signature
    "reports.return_report": allow(OFFICIALS),  # POST /v1/reports/{report_id}/return
    "reports.accept_report": allow(OFFICIALS),  # POST /v1/reports/{report_id}/accept
    "reports.list_reports": allow(OFFICIALS, Role.PROVIDER),  # GET /v1/reports
    "reports.get_report": allow(OFFICIALS, Role.PROVIDER, Role.CLIENT),  # GET /v1/reports/{report_id}
    "reports.certificate_pdf": allow(OFFICIALS, Role.PROVIDER, Role.CLIENT),  # GET /v1/agreements/{agreement_id}/certificate.pdf
})

authorize = POLICY.authorize
