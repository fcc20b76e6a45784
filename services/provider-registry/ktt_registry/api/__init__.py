"""HTTP layer of the provider registry, one router per resource. The public search comes first so
that ``/v1/providers/search`` is never taken for a provider id."""

from ktt_registry.api import (
    alerts,
    approved_list,
    feedback,
    groups,
    inspections,
    products,
    providers,
    quality,
    queues,
    search,
    staff,
    subcontractors,
    units,
)

ROUTERS = [search.router, providers.router, units.router, staff.router, inspections.router, products.router, groups.router,
           queues.router, subcontractors.router, feedback.router, quality.router,
           alerts.router, approved_list.router]
