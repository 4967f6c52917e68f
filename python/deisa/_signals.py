"""Ctrl-C and SIGTERM while the main thread waits in libdeisa.so, or is stuck in a callback.

Python runs a signal's handler in the main thread between two bytecodes, so a main thread
blocked in a native call (a rank waiting for the analytics, the analytics for the ranks)
would see Ctrl-C only when that call returns. While a bridge or a run is open, the process's
signal wake-up fd (``signal.set_wakeup_fd``, which Python's C-level handler writes the signal
number to at once) is read by a watcher thread:

- SIGINT or SIGTERM whose Python handler has not run 50 ms later (the main thread is in a
  native call): the watched bridges and runs are interrupted (``deisa_*_interrupt``), the
  call returns and the handler raises in the main thread (``KeyboardInterrupt``, or
  :class:`deisa.errors.Terminated` for SIGTERM), so that the run removes what it owns on the
  way out;
- a handler still not run after a second (a callback stuck in native code that never
  returns): the watcher cleans up what is watched itself (the run's record, sockets and
  shared memory; the ranks are told) and the process exits (status 128 + the signal);
- SIGTERM not done within two seconds (a ``finally`` stuck), or a second Ctrl-C before the
  first was done: the same, at once for the second Ctrl-C.

Only the process's own default handlers are wrapped (``default_int_handler`` for SIGINT;
SIG_DFL for SIGTERM, and only for an analytics: a rank owns nothing to remove and dies as
before): a program with its own handlers keeps them, and then its waits are not interrupted.
A wake-up fd set before (asyncio's) still gets every signal number. Nothing is done outside
the main thread, where Python cannot set handlers.
"""

import itertools
import os
import select
import signal
import socket
import sys
import threading
import time

from .errors import Terminated

PATIENCE = 0.05     # seconds the main thread has to run a handler before its native wait is interrupted
STUCK = 1.0         # seconds after which a handler that has not run means a stuck main thread
TERMINATE = 2.0     # seconds SIGTERM leaves a run to end by itself

_lock = threading.Lock()
_watched = {}       # token -> Watched
_tokens = itertools.count(1)
_state = None       # the installed _Installation, while something is watched


class Watched:
    """What the watcher may do to one bridge or run: ``interrupt()`` ends its native wait;
    ``cleanup()`` (a run's) removes what it owns when the process must exit without it."""

    __slots__ = ("interrupt", "cleanup", "terminate")

    def __init__(self, interrupt, cleanup, terminate):
        self.interrupt, self.cleanup, self.terminate = interrupt, cleanup, terminate


def watch(interrupt, cleanup=None, terminate=False):
    """Watches a bridge (``interrupt``) or a run (``interrupt``, ``cleanup``, ``terminate``:
    SIGTERM raises :class:`Terminated`); returns a token for :func:`unwatch`, or None outside
    the main thread."""
    global _state
    if threading.current_thread() is not threading.main_thread():
        return None
    with _lock:
        if _state is None:
            _state = _Installation()
        token = next(_tokens)
        _watched[token] = Watched(interrupt, cleanup, terminate)
        if terminate:
            _state.handle_sigterm()
        return token


def unwatch(token):
    """Stops watching; the last one restores the handlers and the wake-up fd (main thread)."""
    global _state
    if token is None:
        return
    with _lock:
        _watched.pop(token, None)
        installed = _state
        if installed is None:
            return
        installed.done.set()  # a signal's run ended: a second Ctrl-C is a first one again
        if _watched or threading.current_thread() is not threading.main_thread():
            return
        _state = None
    installed.uninstall()  # outside the lock, which the watcher takes


def _snapshot():
    with _lock:
        return list(_watched.values())


class _Installation:
    """The wake-up fd, the wrapped handlers and the watcher thread, while something is watched."""

    def __init__(self):
        self.received = {signal.SIGINT: 0, signal.SIGTERM: 0}  # counted by the watcher
        self.handled = {signal.SIGINT: 0, signal.SIGTERM: 0}   # counted by the handlers
        self.done = threading.Event()
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {}
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._on_sigint)
        self._thread = threading.Thread(target=self._watch, name="deisa-signals", daemon=True)
        self._thread.start()

    def handle_sigterm(self):
        if signal.SIGTERM not in self._previous and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            self._previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._on_sigterm)

    def uninstall(self):
        for signum, previous in self._previous.items():
            if signal.getsignal(signum) in (self._on_sigint, self._on_sigterm):
                signal.signal(signum, previous)
        current = signal.set_wakeup_fd(self._previous_fd)
        if current != self._writer.fileno():  # set by someone else since: theirs stays
            signal.set_wakeup_fd(current)
        self._writer.close()  # the watcher reads the end and stops
        self._thread.join(timeout=1.0)
        self._reader.close()

    # The handlers run in the main thread, between two bytecodes.
    def _on_sigint(self, signum, frame):
        self.handled[signal.SIGINT] += 1
        signal.default_int_handler(signum, frame)

    def _on_sigterm(self, signum, frame):
        self.handled[signal.SIGTERM] += 1
        raise Terminated()

    def _watch(self):
        pending = {}  # signum -> when its oldest unhandled or unfinished receipt came
        interrupted = set()
        while True:
            wait = 0.02 if pending else None
            try:
                ready, _, _ = select.select([self._reader], [], [], wait)
                data = self._reader.recv(64) if ready else b""
            except OSError:
                return
            if ready and not data:
                return  # uninstalled
            if data and self._previous_fd != -1:
                try:
                    os.write(self._previous_fd, data)
                except OSError:
                    pass
            now = time.monotonic()
            for signum in data:
                if signum not in self.received or signum not in self._previous:
                    continue
                self.received[signum] += 1
                if signum == signal.SIGINT and signal.SIGINT in pending and not self.done.is_set():
                    _exit(signum, "a second Ctrl-C")
                pending.setdefault(signum, now)
                self.done.clear()
            for signum, since in list(pending.items()):
                handled = self.handled[signum] >= self.received[signum]
                if self.done.is_set() and handled:
                    del pending[signum]
                    interrupted.discard(signum)
                    continue
                if not handled and now - since >= PATIENCE and signum not in interrupted:
                    interrupted.add(signum)
                    for w in _snapshot():
                        try:
                            w.interrupt()
                        except Exception:  # noqa: BLE001 - a handle freed meanwhile
                            pass
                if not handled and now - since >= STUCK:
                    _exit(signum, "the main thread is stuck outside Python (a callback in native code?)")
                if signum == signal.SIGTERM and now - since >= TERMINATE and _snapshot():
                    _exit(signum, f"the run did not end within {TERMINATE:g} s")
                if handled and signum == signal.SIGINT and not _snapshot():
                    del pending[signum]


def _exit(signum, why):
    """Removes what every watched run owns, then ends the process as the signal would."""
    name = signal.Signals(signum).name
    watched = _snapshot()
    if any(w.cleanup for w in watched):
        sys.stderr.write(f"deisa: {name}: {why}; removing the run's files and shared memory, then exiting\n")
    else:
        sys.stderr.write(f"deisa: {name}: {why}; exiting\n")
    sys.stderr.flush()
    for w in watched:
        if w.cleanup is not None:
            try:
                w.cleanup()
            except Exception:  # noqa: BLE001 - exiting all the same
                pass
    os._exit(128 + signum)
