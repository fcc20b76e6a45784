"""Daily jobs of the decision service, registered in one place. Each is idempotent for its date."""

from __future__ import annotations

from ktt_common.jobs import JobRegistry

from ktt_decision.clients import jobs as clients

JOBS = JobRegistry()

JOBS.job("personal-data-retention", "DATA-2: erase the personal data of clients whose retention period has passed "
                                    "(crypto-shredding)")(clients.erase_past_retention)
JOBS.job("seal-personal-data", "DATA-2: seal names, contact data and personal free text still in clear under each "
                               "client's data key")(clients.seal_existing)
