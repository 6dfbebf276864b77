"""Load benchmark of the service: a real ``planner serve`` (uvicorn) on loopback, under an
open-loop load, while two solves hold both solve slots.

    python -m benchmarks.load             # about 2 minutes
    python -m benchmarks.load --write     # also rewrite benchmarks/LOAD.md and the README's copy

Set-up: a fresh SQLite database seeded with 10,000 finished runs of the tenant; the service
with two solve slots, both taken by 200-product instances solved to a zero gap (they run for
the whole benchmark). Then, one phase after the other, each at a fixed rate (requests are
sent on schedule whatever the answers; latency is counted from the scheduled moment, so a
server that falls behind is charged for the wait):

1. status reads, ``GET /v1/runs/{id}`` of a running run, 20 a second for 30 s;
2. 1 MB submissions, ``POST /v1/runs`` of a valid 200-product instance, 20 a second for 15 s
   (each is parsed, validated, checked and stored before its 202), then again at 2 a second;
3. mixed, as an ERP polls: 20 a second for 30 s, every tenth a 1 MB submission, the rest status reads;
4. listing, ``GET /v1/runs`` pages at random offsets among 10,000+ runs, 20 a second for 30 s.

Printed per phase: requests, errors (any answer but the expected status: a submission turned
away with 503 because the service is checking as many as it can counts as one), latency p50 /
p95 / max, and the service process's memory (RSS) at the start and end of the phase and its peak.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import insert

from api import db
from benchmarks.machine import machine
from instances.generator import generate

HERE = Path(__file__).resolve().parent
KEY = "load-key"
STORED = 10_000
START, END = "<!-- load benchmark: start -->", "<!-- load benchmark: end -->"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def instance(products: int, seed: int) -> dict:
    return {name: json.loads(df.to_json(orient="records")) for name, df in generate(products=products, suppliers=10, seed=seed).items()}


def seed_runs(url: str, n: int) -> None:
    """n finished runs of the tenant, as the service stores them, written straight to the database."""
    now = db.utcnow()
    rows = [{"id": str(uuid.uuid4()), "tenant": "load", "name": f"stored {i}", "tags": ["stored"], "status": "succeeded", "reason": None,
             "detail": "plan optimal", "idempotency_key": None, "request_hash": "0" * 64, "instance": {"products": []},
             "options": {"time_limit": 60, "mip_gap": 0.001}, "result": {"status": "optimal", "kpis": {"profit": float(i)}},
             "progress": None, "log": "", "attempts": 1, "cancel_requested": False, "sync": False, "created_at": now, "started_at": now,
             "finished_at": now, "heartbeat_at": now, "solve_seconds": 1.0, "plan_status": "optimal", "profit": float(i), "mip_gap": 0.0,
             "explanation": None, "priority": 0} for i in range(n)]
    with db.session(url) as s:
        s.execute(insert(db.Run), rows)
        s.commit()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


async def phase(client: httpx.AsyncClient, name: str, rate: float, seconds: float, make, expect: int, pid: int) -> dict:
    """``rate`` requests a second for ``seconds``, each sent at its scheduled moment."""
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.1
    latencies, errors, memory = [], [], [rss_mb(pid)]

    kinds: dict[str, list[float]] = {}

    async def one(i: int) -> None:
        at = t0 + i / rate
        await asyncio.sleep(max(0.0, at - loop.time()))
        method, path, kw = make(i)
        try:
            r = await client.request(method, path, **kw)
            if r.status_code != (expect[method] if isinstance(expect, dict) else expect):
                errors.append(f"{r.status_code} {r.text[:200]}")
        except httpx.HTTPError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        latencies.append(loop.time() - at)
        kinds.setdefault(method, []).append(loop.time() - at)

    async def watch() -> None:
        while loop.time() < t0 + seconds:
            memory.append(rss_mb(pid))
            await asyncio.sleep(1.0)

    await asyncio.gather(watch(), *(one(i) for i in range(int(rate * seconds))))
    memory.append(rss_mb(pid))
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))]  # noqa: E731
    out = {"phase": name, "requests": len(latencies), "rate": rate, "errors": len(errors), "p50_ms": q(0.50) * 1e3, "p95_ms": q(0.95) * 1e3,
           "max_ms": latencies[-1] * 1e3, "rss_start": memory[0], "rss_end": memory[-1], "rss_peak": max(memory), "first_errors": errors[:3]}
    if len(kinds) > 1:  # a mixed phase: each kind of request on its own too
        for method, values in sorted(kinds.items()):
            values.sort()
            out[f"p95_ms_{method}"] = values[min(len(values) - 1, int(0.95 * len(values)))] * 1e3
            out[f"n_{method}"] = len(values)
    print(f"{name:<34} {out['requests']:>5} req  {out['errors']:>3} errors  p50 {out['p50_ms']:7.1f} ms  p95 {out['p95_ms']:7.1f} ms  "
          f"max {out['max_ms']:7.1f} ms  RSS {out['rss_start']:.0f} -> {out['rss_end']:.0f} MB (peak {out['rss_peak']:.0f})", flush=True)
    for e in sorted(set(errors))[:3]:
        print(f"    e.g. {e}", flush=True)
    return out


async def measure(base: str, pid: int, rate: float, submit_rate: float, read_s: float, submit_s: float, list_s: float) -> tuple[list[dict], dict]:
    headers = {"X-API-Key": KEY}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=httpx.Limits(max_connections=200)) as client:
        solving = []
        for seed in (1, 2):
            r = await client.post("/v1/runs", json={"instance": instance(200, seed), "options": {"mip_gap": 0, "time_limit": 900, "name": f"hold a slot {seed}"}})
            r.raise_for_status()
            solving.append(r.json()["id"])
        for _ in range(600):
            states = [(await client.get(f"/v1/runs/{i}")).json()["status"] for i in solving]
            if states == ["running", "running"]:
                break
            await asyncio.sleep(0.5)
        else:
            raise SystemExit(f"the two solves did not start: {states}")
        body = json.dumps({"instance": instance(200, 3), "options": {"time_limit": 60}}).encode()
        print(f"two solves running; submission body {len(body) / 1e6:.2f} MB; {STORED:,} runs stored", flush=True)
        results = [
            await phase(client, "status reads (GET /v1/runs/{id})", rate, read_s, lambda i: ("GET", f"/v1/runs/{solving[i % 2]}", {}), 200, pid),
            *[await phase(client, f"1 MB submissions at {r:g}/s (POST /v1/runs)", r, submit_s,
                          lambda i: ("POST", "/v1/runs", {"content": body, "headers": {"content-type": "application/json"}}), 202, pid)
              for r in (rate, submit_rate)],
            await phase(client, "mixed: 9 status reads to 1 MB submission", rate, read_s,
                        lambda i: ("POST", "/v1/runs", {"content": body, "headers": {"content-type": "application/json"}}) if i % 10 == 9
                        else ("GET", f"/v1/runs/{solving[i % 2]}", {}), {"GET": 200, "POST": 202}, pid),
            await phase(client, "listing (GET /v1/runs?offset=)", rate, list_s,
                        lambda i: ("GET", f"/v1/runs?limit=20&offset={random.randrange(0, STORED - 20)}", {}), 200, pid),
        ]
        still = [(await client.get(f"/v1/runs/{i}")).json() for i in solving]
        for r in still:
            await client.post(f"/v1/runs/{r['id']}/cancel")
        context = {"solves_still_running": sum(r["status"] == "running" for r in still),
                   "solve_progress": [r.get("progress") for r in still]}
    return results, context


def report(results: list[dict], context: dict, args) -> str:
    lines = [
        "# Load benchmark",
        "",
        f"Latest run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `python -m benchmarks.load`; "
        f"machine: {machine()}.",
        f"A real `planner serve` (uvicorn, SQLite) on loopback with {STORED:,} stored runs; both solve slots held by 200-product "
        f"instances solved to a zero gap ({context['solves_still_running']} of 2 still running at the end). Open-loop load at "
        f"{args.rate:g} requests a second per phase (submissions also at {args.submit_rate:g}); latency counted from each request's scheduled moment. RSS is the service process's.",
        "",
        "| phase | requests | errors | p50 ms | p95 ms | max ms | RSS start → end (peak) MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "p95_ms_POST" in r:
            r["phase"] += f" (p95: {r['n_GET']} reads {r['p95_ms_GET']:.1f} ms, {r['n_POST']} submissions {r['p95_ms_POST']:.1f} ms)"
        lines.append(f"| {r['phase']} | {r['requests']} | {r['errors']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['max_ms']:.1f} | "
                     f"{r['rss_start']:.0f} → {r['rss_end']:.0f} ({r['rss_peak']:.0f}) |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--submit-rate", type=float, default=2.0, help="a second submission phase at this rate (what the machine sustains)")
    ap.add_argument("--read-seconds", type=float, default=30.0)
    ap.add_argument("--submit-seconds", type=float, default=15.0)
    ap.add_argument("--list-seconds", type=float, default=30.0)
    ap.add_argument("--write", action="store_true", help="rewrite benchmarks/LOAD.md and the README's copy")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="planner-load-"))
    url = f"sqlite:///{tmp}/service.db"
    db.engine_for(url)
    seed_runs(url, STORED)
    port = free_port()
    env = {**os.environ, "PLANNER_DATABASE_URL": url, "PLANNER_SOLVE_SLOTS": "2", "PLANNER_API_KEYS": f"load:{KEY}",
           "PLANNER_REQUESTS_PER_SECOND": "1000", "PLANNER_MAX_RUNS_PER_MINUTE": "100000", "PLANNER_MAX_ACTIVE_RUNS": "100000",
           "PLANNER_RETENTION_DAYS": "0"}
    exe = shutil.which("planner") or os.path.join(os.path.dirname(sys.executable), "planner")
    log = open(tmp / "server.log", "wb")
    server = subprocess.Popen([exe, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(base + "/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        results, context = asyncio.run(measure(base, server.pid, args.rate, args.submit_rate, args.read_seconds, args.submit_seconds, args.list_seconds))
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # the service and its solve processes
        server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    md = report(results, context, args)
    print("\n" + md)
    if args.write:
        (HERE / "LOAD.md").write_text(md)
        readme = HERE.parent / "README.md"
        text = readme.read_text()
        if START in text and END in text:
            a, b = text.index(START) + len(START), text.index(END)
            table = md.split("\n", 2)[2].strip()
            readme.write_text(text[:a] + "\n\n" + table + "\n\n" + text[b:])


if __name__ == "__main__":
    main()
