"""The run's block leases: each goes back to the core when its block is gone."""

import gc
import time


class Leases:
    """Gives each block's lease back to the core when the block is gone, and keeps track of
    the blocks of arrays that no window holds any more but that are still alive.

    Dask's compute leaves reference cycles (recursive closures in dask.base) that keep the
    blocks of the arrays it computed until a garbage collection; until then their shared
    memory cannot be reused and the pool grows (a new segment, created and pre-faulted in a
    send). ``collect`` runs the young-generation collections that find them, which cost
    microseconds, and a full one (tens of ms) only when they hold a quarter of the pool or
    once a second; blocks a full collection leaves are held by the user and not tracked.
    """

    FULL_EVERY_S = 1.0

    def __init__(self, lib, handle, pool_bytes):
        self.lib, self.handle = lib, handle
        self.pending = {}  # lease -> nbytes
        self.pool_bytes = pool_bytes
        self._last_full = time.monotonic()

    def release(self, lease):
        """The block with this lease is gone (after the run ended the handle is gone and the
        call is a harmless error code)."""
        self.lib.deisa_analytics_release_block(self.handle, lease)
        self.pending.pop(lease, None)

    def dropped(self, blocks):
        """No window holds these blocks any more: they should go soon."""
        for b in blocks.values():
            if b.holds_lease():
                self.pending[b.lease] = b.nbytes

    def collect(self):
        if not self.pending:
            return
        for generation in (0, 1):
            gc.collect(generation)
            if not self.pending:
                return
        now = time.monotonic()
        if sum(self.pending.values()) * 4 >= self.pool_bytes or now - self._last_full >= self.FULL_EVERY_S:
            gc.collect()
            self._last_full = now
            # What a full collection left is really held (the user kept an array): stop trying.
            self.pending.clear()
