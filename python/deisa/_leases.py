"""The run's block leases: each goes back to the core when its block is gone."""

import gc
import time


class Leases:
    """Gives each block's lease back to the core when the block is gone, and keeps track of
    the blocks of arrays that no window holds any more but that are still alive.

    Dask's compute leaves reference cycles (a recursive closure in dask.base's
    ``unpack_collections`` holds the collections computed) that keep the blocks of the arrays
    it computed until a garbage collection; until then their shared memory cannot be reused
    and the pool grows (a new segment, created and pre-faulted in a send). ``collect`` runs
    the young-generation collections that find them, which cost microseconds; the cycles a
    compute's own allocations promoted to the old generation need a full collection, which
    costs about 0.1 ms once the analytics' start was frozen out of collections (see
    ``Deisa.execute_callbacks``): it runs at once, but never more than a twentieth of the time
    (spaced by twenty times its own cost), or at once when the blocks waiting hold a quarter of
    the pool. Blocks a full collection leaves are held by the user and no longer tracked.
    """

    FULL_SPACING = 20  # a full collection waits 20 times its own cost after the last one

    def __init__(self, lib, handle, pool_bytes):
        self.lib, self.handle = lib, handle
        self.pending = {}  # lease -> nbytes
        self.pool_bytes = pool_bytes
        self._next_full = 0.0  # time.perf_counter() from which a full collection may run

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
        began = time.perf_counter()
        if began >= self._next_full or sum(self.pending.values()) * 4 >= self.pool_bytes:
            gc.collect()
            ended = time.perf_counter()
            self._next_full = ended + self.FULL_SPACING * (ended - began)
            # What a full collection left is really held (the user kept an array): stop trying.
            self.pending.clear()
