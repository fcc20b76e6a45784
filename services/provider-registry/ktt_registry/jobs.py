"""Daily jobs of the provider registry. Each is idempotent for its date: running it twice, or two
runs at once, publishes nothing new (unique keys on the alerts it raises, compare-and-set on the
ones it resolves)."""

from __future__ import annotations

from ktt_common.jobs import JobRegistry

from ktt_registry.service import insurance

JOBS = JobRegistry()

JOBS.job("insurance-expiry", "PRV-10: alert and ProviderInsuranceLapsed when an approved provider's liability insurance "
                             "is no longer valid; ProviderInsuranceRenewed when it is again")(insurance.insurance_expiry)
