from ktt_common.migrations import run_env

from ktt_decision.models import Base

run_env(Base.metadata, "decision")
