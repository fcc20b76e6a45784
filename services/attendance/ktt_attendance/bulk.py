"""Set-based writes; the helper now lives in ``ktt_common.bulk`` (billing writes its lines with it too)."""

from ktt_common.bulk import write_rows

__all__ = ["write_rows"]
