"""Runs go to Dask: an in-process LocalCluster by default, an existing cluster by address.

Each worker offers ``solve`` resources equal to its solve slots, and every run
asks for one, so no machine runs more solves at once than it is configured
for. The executor also recovers runs: at start, queued runs are resubmitted
(their futures died with the previous process) and a reaper thread finds
running runs whose heartbeat went silent (a crashed service or worker) and
resubmits them, or fails them with the reason after ``max_attempts``
(:func:`api.states.requeue_or_fail`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from distributed import Client, LocalCluster

from api import states, webhooks
from api.config import Settings
from api.worker import execute_run

log = logging.getLogger("planner.api")
PURGE_EVERY = 3600.0  # seconds between two retention sweeps
DELIVERY_POLL = 0.5  # seconds the webhook dispatcher sleeps when nothing is due


class Executor:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.url = settings.database_url
        self.cluster = None
        if settings.dask_scheduler:
            self.client = Client(settings.dask_scheduler, timeout="20s")
        else:
            self.cluster = LocalCluster(
                n_workers=1,
                threads_per_worker=settings.solve_slots,
                processes=False,
                resources={"solve": settings.solve_slots},
                dashboard_address=None,
            )
            self.client = Client(self.cluster)
        self.futures: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        #: what every solve needs to know besides its run (plain values: it travels to Dask workers)
        self.conf = {
            "kill_grace_seconds": settings.kill_grace_seconds,
            "heartbeat_seconds": settings.heartbeat_seconds,
            "startup_seconds": settings.startup_seconds,
            "models_dirs": [str(p) for p in settings.models_dirs()],
            "solve_nice": settings.solve_nice,
            "dask_scheduler": settings.dask_scheduler,
            "decompose_workers": settings.decompose_workers,
        }
        self._reaper = threading.Thread(target=self._reap_forever, name="planner-reaper", daemon=True)
        self._dispatcher = threading.Thread(target=self._deliver_forever, name="planner-webhooks", daemon=True)

    # ---- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        self.recover()
        self._reaper.start()
        if self.settings.webhook_secret:
            self._dispatcher.start()

    def close(self) -> None:
        self._stop.set()
        try:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        except Exception:  # pragma: no cover - shutting down anyway
            log.exception("closing the Dask client")

    def workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    # ---- submission ----------------------------------------------------------------
    def submit(self, run_id: str):
        """Queue a run on Dask. Its place: higher ``priority`` first, then older first, by the
        time it was accepted, so a run resubmitted after a crash goes back to where it was,
        not to the end of the queue."""
        priority, created = states.queue_place(self.url, run_id)
        fut = self.client.submit(
            execute_run, run_id, self.url, self.conf,
            key=f"run-{run_id}-{uuid.uuid4().hex[:8]}", resources={"solve": 1}, pure=False, retries=0,
            priority=priority * 1e10 - created.timestamp(),
        )
        with self._lock:
            self.futures[run_id] = fut
        fut.add_done_callback(lambda f, rid=run_id: self._done(rid, f))
        return fut

    def _done(self, run_id: str, fut) -> None:
        with self._lock:
            if self.futures.get(run_id) is fut:
                del self.futures[run_id]
        if fut.status == "error":  # the task itself failed: record it rather than leave the run hanging
            try:
                exc = fut.exception()
            except Exception as e:  # pragma: no cover
                exc = e
            log.error("run %s: task failed: %s", run_id, exc)
            states.append_log(self.url, run_id, f"execution failed: {type(exc).__name__}: {exc}")

    # ---- recovery ------------------------------------------------------------------
    def recover(self) -> None:
        queued, stale = states.runs_to_recover(self.url, self.settings.stale_seconds)
        for run_id in stale:
            if states.requeue_or_fail(self.url, run_id, self.settings.max_attempts):
                self.submit(run_id)
        for run_id in queued:
            with self._lock:
                known = run_id in self.futures
            if not known:
                self.submit(run_id)

    def _reap_forever(self) -> None:
        every = max(1.0, self.settings.stale_seconds / 3)
        last_purge = 0.0
        while not self._stop.wait(every):
            try:
                self.recover()
                if self.settings.retention_days and time.monotonic() - last_purge > PURGE_EVERY:
                    gone = states.purge_expired(self.url, self.settings.retention_days)
                    last_purge = time.monotonic()
                    if gone:
                        log.info("retention: deleted %d runs finished more than %g days ago", gone, self.settings.retention_days)
            except Exception:  # keep reaping whatever one pass hit
                log.exception("recovering runs")

    def _deliver_forever(self) -> None:
        with webhooks.client_for(self.settings) as http:
            while not self._stop.is_set():
                try:
                    sent = webhooks.send_due(self.settings, http)
                except Exception:  # a database hiccup: try again on the next pass
                    log.exception("sending webhooks")
                    sent = 0
                if not sent:
                    self._stop.wait(DELIVERY_POLL)
