"""The solve process of one run: ``python -m api.solve_child``.

Reads the run's payload as one JSON line on stdin (its input tables, its options
and the user model folders), performs the job through the job layer, and
writes JSON lines on stdout: ``{"progress": ...}`` while HiGHS searches, then
one ``{"outcome": ...}`` (the result document, or why there is none). A later
line ``cancel`` on stdin asks the solve to stop and keep its best plan; stdin
closing (the parent died) ends the process at once, so no solve is ever orphaned.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback

from api.schemas import RunOptions
from planner import jobs
from planner.contract.loading import tables_from_mapping
from planner.contract.problems import ProblemsError
from planner.contract.validation import validate


def main() -> None:
    payload = json.loads(sys.stdin.readline())
    lock = threading.Lock()
    cancel = threading.Event()

    def emit(obj) -> None:
        line = json.dumps(obj, default=str)
        with lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def listen() -> None:
        for line in sys.stdin:
            if line.strip() == "cancel":
                cancel.set()
        os._exit(4)  # stdin closed: the parent is gone

    threading.Thread(target=listen, daemon=True).start()
    last = [0.0]

    def progress(p) -> None:
        if time.monotonic() - last[0] >= 1.0:
            last[0] = time.monotonic()
            emit({"progress": {"elapsed": p.elapsed, "incumbent": p.incumbent, "bound": p.bound, "gap": p.gap}})

    try:
        report = validate(tables_from_mapping(payload["instance"]))
        if not report.ok:
            emit({"outcome": {"kind": "invalid", "detail": "; ".join(str(p) for p in report.errors[:20])}})
            return
        request = RunOptions.model_validate(payload["options"]).job_request(
            report.instance, payload["models_dirs"], progress=progress, should_stop=cancel.is_set,
            dask_scheduler=payload.get("dask_scheduler"), workers=payload.get("decompose_workers", 1),
        )
        emit({"outcome": {"kind": "result", "result": jobs.run(request).to_json_dict()}})
    except ProblemsError as exc:
        emit({"outcome": {"kind": "invalid", "detail": str(exc)}})
    except Exception as exc:
        emit({"outcome": {"kind": "error", "detail": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}})


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)
