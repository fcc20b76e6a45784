"""Who may do what in the provider-registry service: the one declared table (issue 12 item 7).

Each endpoint names one action; ``tests/test_access_matrix.py`` calls every route with every
kind of caller and compares the answer with this table. Providers and clients are further
scoped to their own rows (DATA-3, :func:`ktt_common.policy.scope_rows`)."""

from __future__ import annotations

from ktt_common.auth import OFFICIALS, Role
from ktt_common.policy import Policy, allow, public

POLICY = Policy("provider-registry", {
    "search.search_providers": public(),  # GET /v1/providers/search
    "providers.create_provider": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # POST /v1/providers
    "providers.list_providers": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),  # GET /v1/providers
    "providers.get_provider": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),  # GET /v1/providers/{provider_id}
    "providers.patch_provider": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # PATCH /v1/providers/{provider_id}
    "providers.set_insurance": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # PUT /v1/providers/{provider_id}/insurance
    "providers.get_insurance": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),
    "providers.change_status": allow(Role.CITY_OFFICIAL),  # POST /v1/providers/{provider_id}/status
    "providers.status_history": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),
    "units.create_unit": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # POST /v1/providers/{provider_id}/units
    "units.list_units": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),  # GET /v1/providers/{provider_id}/units
    "units.get_unit": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),  # GET /v1/units/{unit_id}
    "units.patch_unit": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # PATCH /v1/units/{unit_id}
    "units.set_availability": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # PUT /v1/units/{unit_id}/availability
    "units.set_occupancy": allow(Role.CITY_OFFICIAL),  # PUT /v1/units/{unit_id}/occupancy
    "units.add_instructor": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # POST /v1/units/{unit_id}/instructors
    "units.list_instructors": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),  # GET /v1/units/{unit_id}/instructors
    "units.remove_instructor": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # DELETE /v1/units/{unit_id}/instructors/{instructor_id}
    "staff.add_social_guidance": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # POST /v1/providers/{provider_id}/social-guidance
    "staff.list_social_guidance": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),
    "staff.end_social_guidance": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # POST /v1/social-guidance/{guidance_id}/end
    "staff.report_staff": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # PUT /v1/providers/{provider_id}/staff
    "staff.staff_report": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),  # GET /v1/providers/{provider_id}/staff
    "inspections.record": allow(Role.CITY_OFFICIAL),  # POST /v1/units/{unit_id}/inspections
    "inspections.list_inspections": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),
    "inspections.set_avi_statement": allow(Role.CITY_OFFICIAL),  # PUT /v1/inspections/{inspection_id}/avi-statement
    "products.create_product": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # POST /v1/providers/{provider_id}/products
    "products.list_products": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),
    "products.patch_product": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # PATCH /v1/products/{product_id}
    "products.set_values": allow(Role.CITY_OFFICIAL),  # POST /v1/products/{product_id}/values
    "products.list_values": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),  # GET /v1/products/{product_id}/values
    "groups.create_group": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # POST /v1/units/{unit_id}/groups
    "groups.patch_group": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # PATCH /v1/groups/{group_id}
    "groups.set_enrolment": allow(Role.CITY_OFFICIAL),  # PUT /v1/groups/{group_id}/enrolment
    "queues.join_queue": allow(OFFICIALS, Role.PROVIDER),  # POST /v1/units/{unit_id}/queues/{product_id}
    "queues.list_queue": allow(OFFICIALS, Role.PROVIDER),  # GET /v1/units/{unit_id}/queues/{product_id}
    "queues.leave_queue": allow(OFFICIALS, Role.PROVIDER),  # POST /v1/queue-entries/{entry_id}/leave
    "subcontractors.declare": allow(Role.PROVIDER),  # POST /v1/providers/{provider_id}/subcontractors
    "subcontractors.list_subcontractors": allow(OFFICIALS, Role.INTEGRATOR, Role.PROVIDER, Role.ADMIN),
    "subcontractors.forbid": allow(Role.CITY_OFFICIAL),  # POST /v1/subcontractors/{subcontractor_id}/forbid
    "feedback.submit": allow(OFFICIALS, Role.PROVIDER, Role.CLIENT),  # POST /v1/providers/{provider_id}/feedback
    "feedback.list_feedback": allow(OFFICIALS, Role.PROVIDER),  # GET /v1/providers/{provider_id}/feedback
    "feedback.set_status": allow(Role.CITY_OFFICIAL),  # PUT /v1/feedback/{feedback_id}/status
    "quality.record": allow(Role.CITY_OFFICIAL, Role.PROVIDER),  # POST /v1/providers/{provider_id}/quality-records
    "quality.list_records": allow(OFFICIALS, Role.PROVIDER),  # GET /v1/providers/{provider_id}/quality-records
    "quality.quality": allow(Role.CITY_OFFICIAL),  # GET /v1/providers/{provider_id}/quality
    "alerts.list_alerts": allow(OFFICIALS),  # GET /v1/alerts
    "alerts.acknowledge": allow(OFFICIALS),  # POST /v1/alerts/{alert_id}/acknowledge
    "approved_list.approved_list": allow(OFFICIALS, Role.INTEGRATOR),  # GET /v1/approved-list
})

authorize = POLICY.authorize
