"""The published language of the KTT services: every event type and its payload schema.

Producers and consumers import the same definitions, so a payload change is a change here,
reviewed once. A new incompatible shape gets a new version (``.v2``) beside the old one.
"""

from ktt_common.events import EventCatalogue
from ktt_contracts import agreement, attendance, billing, decision, registry, reports, voucher

CATALOGUE = EventCatalogue()
CATALOGUE.register(*decision.EVENTS, *voucher.EVENTS, *agreement.EVENTS, *registry.EVENTS, *attendance.EVENTS,
                   *reports.EVENTS, *billing.EVENTS)
