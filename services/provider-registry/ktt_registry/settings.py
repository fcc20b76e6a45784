"""Settings of the provider registry (beyond the common ones)."""

from __future__ import annotations

from pydantic import Field

from ktt_common.settings import Settings


class RegistrySettings(Settings):
    # PRV-6: the seed leaves "a large group" open; a group of more than this many places is large
    # and needs two instructors present.
    large_group_over: int = Field(10, alias="REGISTRY_LARGE_GROUP_OVER", ge=8, le=15)
    # PRV-7: the average length of a client's stay, used to estimate when places free up
    # (see rules.individual_wait_days). A year by default: decisions are normally one year (DEC-4).
    queue_turnover_days: int = Field(365, alias="REGISTRY_QUEUE_TURNOVER_DAYS", ge=1, le=800)
