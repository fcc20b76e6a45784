from ktt_common.migrations import run_env

from ktt_attendance.models import Base

run_env(Base.metadata, "attendance")
