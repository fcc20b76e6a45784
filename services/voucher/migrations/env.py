from ktt_common.migrations import run_env

from ktt_voucher.models import Base

run_env(Base.metadata, "voucher")
