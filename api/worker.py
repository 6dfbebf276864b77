"""What runs on a Dask worker: one planning run, solved in a child process.

The Dask task holds one ``solve`` resource for as long as the run lasts, so a
worker never runs more solves than its slots. It claims the run in the
database (a resubmitted duplicate finds it claimed and does nothing), starts
the solve in a child process (spawned, so a crash or a kill cannot take the
worker or the API down), and while the child works it relays progress to the
database, writes a heartbeat, and watches for a cancel request or an overrun
time limit — first asking HiGHS to stop and keep its best plan, then killing
the process if it does not stop within the grace period.
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

from api import db

_HEARTBEAT_CHECKS = 0.25  # seconds between looks at the child's queue


def _finish(url: str, run_id: str, msg: dict | None, exitcode: int | None, why_stopped: str | None) -> str:
    now = db.utcnow()
    with db.session(url) as s:
        run = s.get(db.Run, run_id)
        cancelled = run.cancel_requested or why_stopped == "cancel"
        fields: dict[str, Any] = {"finished_at": now, "heartbeat_at": now}
        if msg is None:
            if why_stopped == "cancel":
                fields.update(status="cancelled", reason="cancelled", detail="cancelled; the solve was killed before it returned a plan")
            elif why_stopped == "time_limit":
                fields.update(status="failed", reason="time_limit", detail="the solve overran its time limit and was killed")
            else:
                fields.update(status="failed", reason="solver_crashed", detail=f"the solver process ended without a result (exit code {exitcode})")
        elif msg["kind"] == "invalid":
            fields.update(status="failed", reason="invalid_input", detail=msg["detail"])
        elif msg["kind"] == "error":
            fields.update(status="failed", reason="error", detail=msg["detail"])
            run.log = (run.log or "") + msg.get("trace", "")
        else:
            plan = msg["plan"]
            st = plan["status"]
            fields["result"] = plan
            fields["solve_seconds"] = plan["kpis"].get("solve_seconds")
            if cancelled:
                has_plan = st in ("optimal", "feasible")
                fields.update(status="cancelled", reason="cancelled", detail="cancelled; the best plan found so far is kept" if has_plan else "cancelled before any plan was found")
            elif st in ("optimal", "feasible"):
                fields.update(status="succeeded", reason=None, detail=f"plan {st}")
            elif st == "infeasible":
                exp = plan.get("explanation") or {}
                fields.update(status="failed", reason="infeasible", detail=exp.get("message") or "no plan satisfies every requirement")
            else:
                fields.update(status="failed", reason=st, detail="; ".join(plan.get("messages", [])) or st)
        for k, v in fields.items():
            setattr(run, k, v)
        run.log = (run.log or "") + f"{now.isoformat(timespec='seconds')} finished: {fields['status']} ({fields.get('reason') or 'ok'})\n"
        s.commit()
        return fields["status"]


def execute_run(run_id: str, url: str, conf: dict[str, Any]) -> str:
    """Solve one run (the Dask task). Returns the run's final status, or 'skipped'."""
    if not db.claim(url, run_id):
        return "skipped"
    with db.session(url) as s:
        run = s.get(db.Run, run_id)
        payload = {
            "instance": run.instance,
            "time_limit": run.options["time_limit"],
            "mip_gap": run.options["mip_gap"],
            "model_options": {"constraints": run.options["constraints"]} if run.options.get("constraints") else None,
            "models_dirs": conf.get("models_dirs"),
            "analysis": run.options.get("analysis"),
        }
        attempt = run.attempts
    db.append_log(url, run_id, f"attempt {attempt}: solving (time limit {payload['time_limit']:g}s) on pid {os.getpid()}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.solve_child"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
    )
    db.append_log(url, run_id, f"solve process pid {proc.pid}")
    proc.stdin.write(json.dumps(payload, default=str) + "\n")
    proc.stdin.flush()
    lines: queue.Queue = queue.Queue()
    errors: list[str] = []

    def read_out() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def read_err() -> None:
        for line in proc.stderr:
            errors.append(line.rstrip())
            del errors[:-40]

    threading.Thread(target=read_out, daemon=True).start()
    threading.Thread(target=read_err, daemon=True).start()
    started = time.monotonic()
    last_beat = 0.0
    stop_asked_at: float | None = None
    why_stopped: str | None = None
    msg = None
    ended = False
    grace = conf["kill_grace_seconds"]
    # the child's imports take a few seconds before HiGHS starts: allow for them in the hard limit
    hard_limit = payload["time_limit"] + grace + 15.0

    def ask_to_stop(why: str) -> None:
        nonlocal stop_asked_at, why_stopped
        stop_asked_at, why_stopped = time.monotonic(), why
        try:
            proc.stdin.write("cancel\n")
            proc.stdin.flush()
        except OSError:
            pass

    while not ended:
        try:
            line = lines.get(timeout=_HEARTBEAT_CHECKS)
            if line is None:
                ended = True
            else:
                try:
                    item = json.loads(line)
                except json.JSONDecodeError:
                    item = {}
                if "progress" in item:
                    db.update_run(url, run_id, progress=item["progress"], heartbeat_at=db.utcnow())
                    last_beat = time.monotonic()
                elif "result" in item:
                    msg = item["result"]
        except queue.Empty:
            pass
        now = time.monotonic()
        if now - last_beat >= conf["heartbeat_seconds"]:
            last_beat = now
            with db.session(url) as s:
                run = s.get(db.Run, run_id)
                run.heartbeat_at = db.utcnow()
                wants_cancel = run.cancel_requested
                s.commit()
            if wants_cancel and stop_asked_at is None:
                ask_to_stop("cancel")
                db.append_log(url, run_id, "cancel requested: asking the solver to stop and keep its best plan")
        if stop_asked_at is None and now - started > hard_limit:
            ask_to_stop("time_limit")
            db.append_log(url, run_id, "time limit overrun: asking the solver to stop")
        if stop_asked_at is not None and now - stop_asked_at > grace and proc.poll() is None:
            proc.kill()
            db.append_log(url, run_id, "the solver did not stop in time: process killed")
    try:
        proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:  # pragma: no cover - defensive
        proc.kill()
        proc.wait()
    if msg is None and errors:
        db.append_log(url, run_id, "solver process stderr (last lines):\n" + "\n".join(errors))
    return _finish(url, run_id, msg, proc.returncode, why_stopped if msg is None else None)
