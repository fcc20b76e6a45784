"""The cyclic garbage collector held off while a posted batch is read, recorded and answered.

A 5,000-entry batch allocates some 80,000 container objects (entries, their contents, results,
event days) that all live until its answer is built and are then freed by reference counting;
none of them is cyclic garbage. Left on, the collector runs about a hundred times a batch and
walks them again and again as they age through its generations: about 60 ms of a batch's 350 ms
of CPU time (``tests.bench.profile_ingest`` reports it). Held off, it does not run during the
batch, and the batch's objects are gone before it is back on (``service.post_batch_body``).

The batch awaits the database in between, so other tasks of the process run with the collector
off for that while too: their cyclic garbage waits, and ages into the oldest generation (every
tenth batch therefore ends with a full collection: ``after_batch``).
When the collector is already off (another batch of the same process holds it off, or something
else turned it off), it is left as it is: the one who turned it off turns it on again, so with
overlapping batches it is on again whenever the batch that held it off ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def held_off() -> Iterator[None]:
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()



FULL_EVERY = 10  # batches of this process between two full collections
_batches = 0


def after_batch() -> None:
    """Every ``FULL_EVERY``-th batch of the process ends with a full collection. Held off during
    the batches, the collector's younger collections run rarely, so the cyclic garbage of the
    process's other tasks ages into the oldest generation, which is collected only when the
    younger ones have run often enough: measured, the second service process of the benchmark
    peaked 59 MiB higher over 95 batches (0.6 MiB a batch), and back at its old peak with a full
    collection after each batch (about 18 ms each). Every tenth bounds that garbage to a few MiB."""
    global _batches
    _batches += 1
    if _batches % FULL_EVERY == 0 and gc.isenabled():
        gc.collect()
