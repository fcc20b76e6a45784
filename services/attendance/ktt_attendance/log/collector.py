"""The cyclic garbage collector held off while a posted batch is read, recorded and answered.

A 5,000-entry batch allocates some 80,000 container objects (entries, their contents, results,
event days) that all live until its answer is built and are then freed by reference counting;
none of them is cyclic garbage. Left on, the collector runs about a hundred times a batch and
walks them again and again as they age through its generations: about 60 ms of a batch's 350 ms
of CPU time (``tests.bench.profile_ingest`` reports it). Held off, it does not run during the
batch, and the batch's objects are gone before it is back on (``service.post_batch_body``).

The batch awaits the database in between, so other tasks of the process run with the collector
off for that while too: their cyclic garbage waits until the batch ends (nothing else changes).
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
