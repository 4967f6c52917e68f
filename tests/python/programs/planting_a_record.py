"""Run as another user (the test creates one): in the directory given, creates ``.deisa/`` and
a rendezvous record of a live "analytics" — this process, its pid and start time — whose
address is a Unix socket this process listens on, as someone who wants the ranks of another
user to connect to her. Reports ``ready``, then ``connected`` if anyone connects within the
seconds given (second argument), then ``done``. Plain Python: no deisa, no venv.

Used by test_stale_runs.py: test_a_record_planted_by_another_user_is_never_followed.
"""

import json
import os
import socket
import sys

directory = os.path.join(sys.argv[1], ".deisa")
os.makedirs(directory, mode=0o700)
path = os.path.join(directory, "analytics-0123456789ab.sock")
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(path)
listener.listen(16)
with open("/proc/self/stat") as f:
    start = int(f.read().rsplit(")", 1)[1].split()[19])
record = {"session": "0123456789ab", "token": "t" * 48, "address": f"unix:{path}", "pid": os.getpid(),
          "host": os.uname().nodename, "pid_start": start, "cluster": False}
with open(os.path.join(directory, "analytics.json"), "w") as f:
    json.dump(record, f)
print("REPORT " + json.dumps({"ready": True}), flush=True)
listener.settimeout(float(sys.argv[2]))
try:
    listener.accept()
    print("REPORT " + json.dumps({"connected": True}), flush=True)
except TimeoutError:
    pass
print("REPORT " + json.dumps({"done": True}), flush=True)
