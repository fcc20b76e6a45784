"""Settings of the attendance service beyond the common ones (all environment variables)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from ktt_common.settings import Settings


class AttendanceSettings(Settings):
    # The issue's contract with providers' systems: at most this many entries in one posted batch.
    daily_log_batch_max: int = Field(5000, ge=1, le=5000, alias="DAILY_LOG_BATCH_MAX")
    # A posted body larger than this is refused before parsing (413).
    daily_log_max_bytes: int = Field(8 * 1024 * 1024, ge=1024, alias="DAILY_LOG_MAX_BYTES")
    # ATT-5: unauthorised absences reaching this many within the window raise RepeatedAbsences.
    repeated_absences_threshold: int = Field(3, ge=2, le=30, alias="REPEATED_ABSENCES_THRESHOLD")
    repeated_absences_window_days: int = Field(30, ge=7, le=365, alias="REPEATED_ABSENCES_WINDOW_DAYS")
    # AGR-9: scheduled days not organised for provider reasons beyond this many within the window
    # raise ContinuityBroken (public holidays never count).
    continuity_not_organised_limit: int = Field(3, ge=0, le=60, alias="CONTINUITY_NOT_ORGANISED_LIMIT")
    continuity_window_days: int = Field(30, ge=7, le=365, alias="CONTINUITY_WINDOW_DAYS")
    # DEC-5: the expense / activity allowance per attended day, in cents (9 EUR a day in 2026).
    allowance_day_rate_cents: int = Field(900, ge=0, le=100_00, alias="ALLOWANCE_DAY_RATE_CENTS")
    # ATT-6: Kela's two-week review periods are counted from this Monday.
    tt3_period_anchor: dt.date = Field(dt.date(2026, 1, 5), alias="TT3_PERIOD_ANCHOR")
    # ATT-12: entries drawn in one spot check.
    spot_check_sample_size: int = Field(20, ge=1, le=500, alias="SPOT_CHECK_SAMPLE_SIZE")
