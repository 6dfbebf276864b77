"""What runs on a Dask worker: one planning run, solved in a child process.

The Dask task holds one ``solve`` resource for as long as the run lasts, so a
worker never runs more solves than its slots. It claims the run in the
database (a resubmitted duplicate finds it claimed and does nothing), starts
the solve in a child process (``api.solve_child``, so a crash or a kill cannot
take the worker or the API down), and while the child works it relays
progress to the database, writes a heartbeat, and watches for a cancel request
or an overrun time limit — first asking the solve to stop and keep its best
plan, then killing the process if it does not stop within the grace period.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from typing import Any

from api import db, states

_CHECK_SECONDS = 0.25  # between looks at the child's output


def execute_run(run_id: str, url: str, conf: dict[str, Any]) -> str:
    """Solve one run (the Dask task). Returns the run's final status, or 'skipped'."""
    if not states.claim(url, run_id):
        return "skipped"
    with db.session(url) as s:
        run = s.get(db.Run, run_id)
        payload = {"instance": run.instance, "options": run.options, "models_dirs": conf.get("models_dirs") or [],
                   "dask_scheduler": conf.get("dask_scheduler"), "decompose_workers": conf.get("decompose_workers", 1)}
        attempt = run.attempts
    states.append_log(url, run_id, f"attempt {attempt}: solving (time limit {run.options['time_limit']:g}s) on pid {os.getpid()}")
    child = Child(payload, conf.get("solve_nice", 0))
    states.append_log(url, run_id, f"solve process pid {child.proc.pid}")
    outcome, why_stopped = _supervise(child, url, run_id, conf, hard_limit=run.options["time_limit"] + conf["kill_grace_seconds"] + conf["startup_seconds"])
    exitcode = child.close()
    if outcome is None and child.errors:
        states.append_log(url, run_id, "solver process stderr (last lines):\n" + "\n".join(child.errors))
    return states.finish(url, run_id, outcome, exitcode, why_stopped if outcome is None else None)


class Child:
    """The solve process: its payload on stdin, JSON lines on stdout, the last stderr lines kept.

    Whatever goes to the child (the payload, then perhaps ``cancel``) is written by a thread of
    its own: a payload larger than the pipe holds waits until the child has imported the solver
    and reads it (seconds on a busy machine), and the heartbeat must not wait with it."""

    command = (sys.executable, "-m", "api.solve_child")

    def __init__(self, payload: dict, nice: int = 0):
        self.proc = subprocess.Popen(
            list(self.command),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
        )
        if nice:
            # solves are batch work: the service's answers come first when both want the cores
            # (benchmarks/LOAD.md). Set before the payload is sent, so before HiGHS starts its threads.
            try:
                os.setpriority(os.PRIO_PROCESS, self.proc.pid, nice)
            except OSError:  # not allowed here: the solve runs at the service's priority
                pass
        self.inbox: queue.Queue = queue.Queue()  # lines for the child; None: close its stdin
        self.inbox.put(json.dumps(payload, default=str) + "\n")
        self.lines: queue.Queue = queue.Queue()
        self.errors: list[str] = []
        self._writer = threading.Thread(target=self._write_in, daemon=True)
        self._writer.start()
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _write_in(self) -> None:
        while (line := self.inbox.get()) is not None:
            try:
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
            except OSError:  # the child is gone: nothing more to tell it
                break
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def _read_out(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _read_err(self) -> None:
        for line in self.proc.stderr:
            self.errors.append(line.rstrip())
            del self.errors[:-40]

    def next(self) -> dict | None:
        """The next message (``{}`` when nothing came in time), or None once the child has ended."""
        try:
            line = self.lines.get(timeout=_CHECK_SECONDS)
        except queue.Empty:
            return {}
        if line is None:
            return None
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            return {}

    def ask_to_stop(self) -> None:
        self.inbox.put("cancel\n")

    def close(self) -> int | None:
        self.inbox.put(None)
        self._writer.join(10)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - defensive
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode


def _supervise(child: Child, url: str, run_id: str, conf: dict[str, Any], hard_limit: float) -> tuple[dict | None, str | None]:
    """Relay the child's progress, beat the heart, honour cancel and the hard limit; return what
    the child sent as its outcome (None if nothing) and why it was asked to stop (if it was)."""
    started = time.monotonic()
    last_beat = 0.0
    stop_asked_at: float | None = None
    why: str | None = None
    outcome = None

    def stop(reason: str, note: str) -> None:
        nonlocal stop_asked_at, why
        stop_asked_at, why = time.monotonic(), reason
        child.ask_to_stop()
        states.append_log(url, run_id, note)

    while (msg := child.next()) is not None:
        now = time.monotonic()
        wants_cancel = False
        if "progress" in msg:  # progress is a heartbeat too
            wants_cancel, last_beat = states.heartbeat(url, run_id, msg["progress"]), now
        elif "outcome" in msg:
            outcome = msg["outcome"]
        if now - last_beat >= conf["heartbeat_seconds"]:
            wants_cancel, last_beat = states.heartbeat(url, run_id), now
        if wants_cancel and stop_asked_at is None:
            stop("cancel", "cancel requested: asking the solver to stop and keep its best plan")
        if stop_asked_at is None and now - started > hard_limit:
            stop("time_limit", "time limit overrun: asking the solver to stop")
        if stop_asked_at is not None and now - stop_asked_at > conf["kill_grace_seconds"] and child.proc.poll() is None:
            child.proc.kill()
            states.append_log(url, run_id, "the solver did not stop in time: process killed")
    return outcome, why
