"""A rank that only reports what deisa.testing gave it: its Comm's rank and size (also through
Get_rank and Get_size), its extra arguments, its working directory and $DEISA_TEST_VALUE.

Used by test_testing.py: test_start_ranks_starts_every_rank, test_start_ranks_starts_the_ranks_asked_for,
test_start_ranks_passes_environment_and_directory.
"""

import os
import sys

from _support import report
from deisa.testing import Comm

comm = Comm.from_argv()
report(rank=comm.rank, size=comm.size, get_rank=comm.Get_rank(), get_size=comm.Get_size(), args=sys.argv[3:],
       cwd=os.getcwd(), value=os.environ.get("DEISA_TEST_VALUE"))
