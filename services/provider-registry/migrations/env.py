from ktt_common.migrations import run_env

from ktt_registry.models import Base

run_env(Base.metadata, "provider-registry")
