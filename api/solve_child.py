"""The solve process of one run: ``python -m api.solve_child``.

Reads the run's payload as one JSON line on stdin, writes JSON lines on stdout
(``{"progress": ...}`` while HiGHS searches, then one ``{"result": ...}``).
A later line ``cancel`` on stdin asks HiGHS to stop and keep its best plan;
stdin closing (the parent died) ends the process at once, so no solve is
ever orphaned.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback


def main() -> None:
    payload = json.loads(sys.stdin.readline())
    out = sys.stdout
    lock = threading.Lock()
    cancel = threading.Event()

    def emit(obj) -> None:
        line = json.dumps(obj, default=str)
        with lock:
            out.write(line + "\n")
            out.flush()

    def listen() -> None:
        for line in sys.stdin:
            if line.strip() == "cancel":
                cancel.set()
        os._exit(4)  # stdin closed: the parent is gone

    threading.Thread(target=listen, daemon=True).start()
    try:
        from models import OptionsError
        from planner.loading import LoadError, tables_from_mapping
        from planner.run import solve_instance
        from planner.solver import SolveOptions
        from planner.validation import validate

        report = validate(tables_from_mapping(payload["instance"]))
        if not report.ok:
            emit({"result": {"kind": "invalid", "detail": "; ".join(str(p) for p in report.errors[:20])}})
            return
        last = [0.0]

        def progress(p) -> None:
            if time.monotonic() - last[0] >= 1.0:
                last[0] = time.monotonic()
                emit({"progress": {"elapsed": p.elapsed, "incumbent": p.incumbent, "bound": p.bound, "gap": p.gap}})

        opts = SolveOptions(time_limit=payload["time_limit"], mip_gap=payload["mip_gap"], progress=progress, should_stop=cancel.is_set)
        analysis = payload.get("analysis")
        if analysis:
            from api.analysis import run_analysis

            plan, tables = run_analysis(analysis, report.instance, payload["instance"], opts, payload.get("model_options"), payload.get("models_dirs"))
            doc = plan.to_json_dict()
            doc["analysis"] = {"kind": analysis["kind"], "tables": tables}
            emit({"result": {"kind": "plan", "plan": doc, "stopped": cancel.is_set()}})
            return
        plan = solve_instance(report.instance, opts, payload.get("model_options"), payload.get("models_dirs"))
        emit({"result": {"kind": "plan", "plan": plan.to_json_dict(), "stopped": cancel.is_set()}})
    except (OptionsError, LoadError) as exc:
        emit({"result": {"kind": "invalid", "detail": str(exc)}})
    except Exception as exc:
        emit({"result": {"kind": "error", "detail": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}})


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)
