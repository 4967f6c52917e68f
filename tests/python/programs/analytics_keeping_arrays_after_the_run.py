"""An analytics that keeps every array of "x" it gets (window of 2), and a slice of each, past
the end of execute_callbacks(), then reads them.

Reports, in order: ``session`` (at t=0); then ``values`` ({t: the kept array}), ``slices``
(the kept slices), ``during`` ({t: the sum computed in the callback}) and ``after_run`` (the
run's shared memory segments still in /dev/shm once execute_callbacks() returned); then
``done`` once the kept arrays were dropped.
Used by test_dask_arrays.py: test_arrays_kept_after_the_run_stay_valid.
"""

import gc
import glob

from _support import report
from deisa import Deisa, Window

kept, during = [], {}
d = Deisa(timeout=20)


@d.register(Window("x", size=2))
def cb(x):
    kept.append(x[-1])
    kept.append(x[-1][1:3] * 1)  # a derived array keeps the blocks too
    during[x[-1].t] = float(x[-1].sum().compute())
    if x[-1].t == 0:
        report(session=d.session)


d.execute_callbacks()
gc.collect()
after_run = glob.glob(f"/dev/shm/deisa-{d.session}-*")
values = {}
for a in kept[0::2]:
    values[a.t] = a.compute().tolist()
slices = [a.compute().tolist() for a in kept[1::2]]
report(values=values, slices=slices, during=during, after_run=after_run)
del kept, a
gc.collect()
report(done=True)
