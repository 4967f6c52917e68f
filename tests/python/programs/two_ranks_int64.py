"""Two ranks send int64 array "x" of global (1, 2), one element each: rank r sends (r + 1) * t
at t = 0 .. 4, then close. With ``--start-when FILE`` they open their bridges, then wait for
FILE (created by the test) before the first send.

Reports ``lost`` (bridge.analytics_lost) after closing.
Used by test_analytics_api.py: test_unknown_array_is_a_contract_error_before_any_data (with
--start-when), test_objects_of_the_start_are_frozen_out_of_the_collector_only_while_the_callbacks_run,
test_a_process_that_freezes_objects_itself_keeps_its_frozen_set,
test_exception_goes_to_the_handler_and_the_loop_continues,
test_default_handler_logs_with_traceback_and_continues, test_exception_handler_that_raises_does_not_hang,
test_assertion_and_timeout_errors_stop_the_analytics, test_analytics_started_after_the_simulation,
test_callbacks_of_one_timestep_run_in_registration_order, test_one_info_line_per_processed_timestep,
test_progress_line, test_window_shorter_at_the_start_and_slides,
test_two_windows_of_different_sizes_on_one_array, test_tcp_loopback_address_through_the_rendezvous,
test_default_rendezvous_is_dot_deisa_in_the_current_directory, test_rendezvous_record_is_private.
"""

import argparse
import sys

import numpy as np

from _support import report, wait_for_file
from deisa import Bridge
from deisa.testing import Comm

comm = Comm.from_argv()
parser = argparse.ArgumentParser()
parser.add_argument("--start-when")
start_when = parser.parse_args(sys.argv[3:]).start_when
b = Bridge(comm, {"x": {"global_shape": (1, 2), "chunk_shape": (1, 1), "chunk_position": (0, comm.rank)}}, timeout=20)
if start_when:
    wait_for_file(start_when)
for t in range(5):
    b.send("x", np.array([[(comm.rank + 1) * t]], dtype=np.int64), t)
b.close()
report(lost=b.analytics_lost)
