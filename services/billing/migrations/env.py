from ktt_common.migrations import run_env

from ktt_billing.models import Base

run_env(Base.metadata, "billing")
