"""Settings of the decision service beyond the common ones."""

from __future__ import annotations

from pydantic import Field

from ktt_common.settings import Settings


class DecisionSettings(Settings):
    # DEC-8: the city whose residents the vouchers are for, and whether pushes are checked against it.
    home_municipality: str = Field("Turku", alias="HOME_MUNICIPALITY")
    home_municipality_check: bool = Field(True, alias="HOME_MUNICIPALITY_CHECK")
