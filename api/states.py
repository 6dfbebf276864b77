"""A run's life: the one module that changes a run's status.

::

    queued ──claim──> running ──finish──> succeeded | failed | cancelled
      │                  │
      └─cancel─> cancelled   └─went silent──> queued (resubmitted) | failed (too many attempts) | cancelled

Every change goes through :func:`_move`, which refuses a transition the diagram
does not have. The moves that race (two workers claiming a resubmitted run, a
cancel against a claim) are single conditional UPDATEs, so exactly one wins.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from api.db import FINAL, Delivery, Run, RunTag, session, summarise, utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
TRANSITIONS: dict[str, set[str]] = {
    QUEUED: {RUNNING, CANCELLED},
    RUNNING: {SUCCEEDED, FAILED, CANCELLED, QUEUED},
}


class TransitionError(Exception):
    """A status change the run's life does not have (a finished run cannot be cancelled)."""


def _line(text: str) -> str:
    return f"{utcnow().isoformat(timespec='seconds')} {text}\n"


def _move(run: Run, to: str, note: str, **fields: Any) -> None:
    if to not in TRANSITIONS.get(run.status, set()):
        raise TransitionError(f"run is {run.status}")
    run.status = to
    for k, v in fields.items():
        setattr(run, k, v)
    run.log = (run.log or "") + _line(note)
    if to in FINAL:
        _announce(object_session(run), run)


def _announce(s: Session, run: Run) -> None:
    """The run's webhook, if it asked for one, put in the outbox with its final state (the
    caller's commit writes both or neither)."""
    url = ((run.options or {}).get("webhook") or {}).get("url")
    if not url:
        return
    payload = {"event": "run.finished", "run": {"id": run.id, "status": run.status, "reason": run.reason, "detail": run.detail,
                                                "plan_status": run.plan_status, "profit": run.profit, "mip_gap": run.mip_gap,
                                                "name": run.name, "tags": run.tags or [], "href": f"/v1/runs/{run.id}"}}
    s.add(Delivery(run_id=run.id, tenant=run.tenant, event="run.finished", url=url, payload=payload, status="pending",
                   attempts=0, next_attempt_at=utcnow()))


def create(s: Session, *, tenant: str, request_hash: str, instance: dict, options: dict, name: str | None = None,
           tags: list[str] | None = None, idempotency_key: str | None = None, sync: bool = False, priority: int = 0,
           prepared: dict | None = None) -> Run:
    """A new queued run (added to the session; the caller commits)."""
    tags = list(dict.fromkeys(tags or []))
    run = Run(id=str(uuid.uuid4()), tenant=tenant, name=name, tags=tags, status=QUEUED, idempotency_key=idempotency_key, request_hash=request_hash,
              instance=instance, options=options, sync=sync, log=_line("accepted"), attempts=0, cancel_requested=False, priority=priority,
              prepared=prepared, created_at=utcnow())
    s.add(run)  # nothing is written before the caller commits (where a duplicate Idempotency-Key shows)
    s.add_all(RunTag(run_id=run.id, tag=t) for t in tags)
    return run


def claim(url: str, run_id: str) -> bool:
    """queued -> running, atomically: one worker wins, a resubmitted duplicate does nothing."""
    with session(url) as s:
        now = utcnow()
        res = s.execute(
            update(Run).where(Run.id == run_id, Run.status == QUEUED)
            .values(status=RUNNING, started_at=now, heartbeat_at=now, attempts=Run.attempts + 1)
        )
        s.commit()
        return res.rowcount == 1


def cancel(s: Session, run: Run) -> Run:
    """A queued run is cancelled at once; a running one is asked to stop (its worker finishes
    it, keeping its best plan); a finished one raises :class:`TransitionError`."""
    if run.status in FINAL:
        raise TransitionError(f"run is {run.status}")
    run.cancel_requested = True
    run.log = (run.log or "") + _line("cancel requested")
    s.commit()
    # the conditional update loses to a worker that claimed the run meanwhile: it is then running
    res = s.execute(update(Run).where(Run.id == run.id, Run.status == QUEUED)
                    .values(status=CANCELLED, reason="cancelled", detail="cancelled before it started", finished_at=utcnow()))
    s.refresh(run)
    if res.rowcount == 1:
        _announce(s, run)
    s.commit()
    return run


def delete(s: Session, run: Run) -> None:
    """A finished run and everything of it (tags, webhook deliveries); a queued or running one
    raises :class:`TransitionError` (cancel it first: its solve would write to a run that is gone)."""
    if run.status not in FINAL:
        raise TransitionError(f"run is {run.status}; cancel it first")
    _erase(s, [run.id])
    s.commit()


def _erase(s: Session, ids: list[str]) -> None:
    # explicit rather than through ON DELETE CASCADE: a database made before the foreign keys
    # (or SQLite without its pragma) would keep the rows
    s.execute(sql_delete(RunTag).where(RunTag.run_id.in_(ids)))
    s.execute(sql_delete(Delivery).where(Delivery.run_id.in_(ids)))
    s.execute(sql_delete(Run).where(Run.id.in_(ids)))


def purge_expired(url: str, days: float, batch: int = 500) -> int:
    """Delete finished runs that finished more than ``days`` ago (retention); how many went."""
    limit = utcnow() - dt.timedelta(days=days)
    gone = 0
    with session(url) as s:
        while True:
            ids = list(s.scalars(select(Run.id).where(Run.status.in_(FINAL), Run.finished_at < limit).limit(batch)))
            if not ids:
                return gone
            _erase(s, ids)
            s.commit()
            gone += len(ids)


def heartbeat(url: str, run_id: str, progress: dict | None = None) -> bool:
    """A running solve is alive (and how far it got); returns whether a cancel was asked for."""
    with session(url) as s:
        run = s.get(Run, run_id)
        run.heartbeat_at = utcnow()
        if progress is not None:
            run.progress = progress
        s.commit()
        return run.cancel_requested


def append_log(url: str, run_id: str, line: str) -> None:
    with session(url) as s:
        run = s.get(Run, run_id)
        if run is not None:
            run.log = (run.log or "") + _line(line)
            s.commit()


def queue_place(url: str, run_id: str) -> tuple[int, dt.datetime]:
    """A run's priority and the time it was accepted (in UTC): its place in the queue."""
    with session(url) as s:
        priority, created = s.execute(select(Run.priority, Run.created_at).where(Run.id == run_id)).one()
    return priority or 0, created if created.tzinfo else created.replace(tzinfo=dt.timezone.utc)


def runs_to_recover(url: str, stale_seconds: float) -> tuple[list[str], list[str]]:
    """Queued runs, oldest first (their Dask futures may be gone), and running runs whose
    heartbeat went silent."""
    limit = utcnow() - dt.timedelta(seconds=stale_seconds)
    with session(url) as s:
        queued = list(s.scalars(select(Run.id).where(Run.status == QUEUED).order_by(Run.created_at)))
        stale = []
        for run_id, hb in s.execute(select(Run.id, Run.heartbeat_at).where(Run.status == RUNNING)):
            if hb is not None and hb.tzinfo is None:
                hb = hb.replace(tzinfo=dt.timezone.utc)
            if hb is None or hb < limit:
                stale.append(run_id)
        return queued, stale


def requeue_or_fail(url: str, run_id: str, max_attempts: int) -> bool:
    """A running run whose solve went silent (its service or worker stopped): queued again,
    or failed after ``max_attempts``, or cancelled if that was asked. True: resubmit it."""
    with session(url) as s:
        run = s.get(Run, run_id)
        if run is None or run.status != RUNNING:
            return False
        silent = "the solve went silent (service or worker stopped)"
        if run.cancel_requested:
            _move(run, CANCELLED, f"{silent}: cancelled", reason="cancelled", finished_at=utcnow(),
                  detail="cancelled; the solve was lost with its worker")
        elif run.attempts >= max_attempts:
            _move(run, FAILED, f"{silent}: failed", reason="interrupted", finished_at=utcnow(),
                  detail=f"the solve was interrupted {run.attempts} times (service or worker stopped); giving up")
        else:
            _move(run, QUEUED, f"{silent}: resubmitted")
        s.commit()
        return run.status == QUEUED


def finish(url: str, run_id: str, outcome: dict | None, exitcode: int | None = None, why_stopped: str | None = None) -> str:
    """running -> succeeded, failed or cancelled, from what the solve process sent (``outcome``:
    ``{"kind": "result", "result": ...}``, ``{"kind": "invalid" | "error", "detail": ...}``, or
    None when it sent nothing: it crashed, or was killed for a cancel or an overrun)."""
    now = utcnow()
    with session(url) as s:
        run = s.get(Run, run_id)
        to, fields = _final_state(run, outcome, exitcode, why_stopped)
        if outcome is not None and outcome.get("trace"):
            run.log = (run.log or "") + outcome["trace"]
        if outcome is not None and outcome.get("kind") == "result":
            result = outcome["result"]
            fields.update(result=result, solve_seconds=(result.get("kpis") or {}).get("solve_seconds"))
            summarise(run, result)
            kpis = result.get("kpis") or {}
            if kpis.get("profit") is not None:  # the last progress report may predate the final plan
                fields["progress"] = {"elapsed": kpis.get("solve_seconds") or 0.0, "incumbent": kpis["profit"],
                                      "bound": kpis.get("best_bound"), "gap": kpis.get("mip_gap")}
        _move(run, to, f"finished: {to} ({fields.get('reason') or 'ok'})", finished_at=now, heartbeat_at=now, **fields)
        s.commit()
        return to


def _final_state(run: Run, outcome: dict | None, exitcode: int | None, why_stopped: str | None) -> tuple[str, dict[str, Any]]:
    cancelled = run.cancel_requested or why_stopped == "cancel"
    if outcome is None:
        if why_stopped == "cancel":
            return CANCELLED, {"reason": "cancelled", "detail": "cancelled; the solve was killed before it returned a plan"}
        if why_stopped == "time_limit":
            return FAILED, {"reason": "time_limit", "detail": "the solve overran its time limit and was killed"}
        return FAILED, {"reason": "solver_crashed", "detail": f"the solver process ended without a result (exit code {exitcode})"}
    if outcome["kind"] == "invalid":
        return FAILED, {"reason": "invalid_input", "detail": outcome["detail"]}
    if outcome["kind"] == "error":
        return FAILED, {"reason": "error", "detail": outcome["detail"]}
    result = outcome["result"]
    status = result["status"]
    has_plan = status in ("optimal", "feasible")
    if cancelled:
        return CANCELLED, {"reason": "cancelled", "detail": "cancelled; the best plan found so far is kept" if has_plan else "cancelled before any plan was found"}
    if has_plan:
        return SUCCEEDED, {"reason": None, "detail": f"plan {status}"}
    if status == "infeasible":
        return FAILED, {"reason": "infeasible", "detail": (result.get("explanation") or {}).get("message") or "no plan satisfies every requirement"}
    return FAILED, {"reason": status, "detail": "; ".join(result.get("messages", [])) or status}
