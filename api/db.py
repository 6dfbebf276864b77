"""Run storage: a table of runs and one of their tags, through SQLAlchemy (SQLite by default, PostgreSQL by URL).

A run's large columns (its input, its result, its log) are deferred: listing and
status reads load only the summary columns, which carry what a list shows (plan
status, profit, gap) so that no plan is read to list runs. State changes go
through :mod:`api.states`, never through this module.
"""

from __future__ import annotations

import datetime as dt
import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, create_engine, event, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

FINAL = ("succeeded", "failed", "cancelled")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("tenant", "idempotency_key", name="uq_run_idempotency"),
        # a tenant's page of runs, newest first, read from the index without sorting the tenant's
        # runs (benchmarks/LOAD.md: listing among 10,000 runs)
        Index("ix_runs_tenant_created", "tenant", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), index=True)  # api.states: queued, running, succeeded, failed, cancelled
    reason: Mapped[str | None] = mapped_column(String(40))  # why failed or cancelled: infeasible, no_solution_found, error, crashed, ...
    detail: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    instance: Mapped[dict] = mapped_column(JSON, deferred=True)  # the exact input, as tables of rows
    options: Mapped[dict] = mapped_column(JSON)
    result: Mapped[dict | None] = mapped_column(JSON, deferred=True)  # the job's result document (the plan and any analysis)
    progress: Mapped[dict | None] = mapped_column(JSON)
    log: Mapped[str] = mapped_column(Text, default="", deferred=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    sync: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    solve_seconds: Mapped[float | None] = mapped_column(Float)
    # the result's summary, kept beside it so that lists and status reads never load a plan
    plan_status: Mapped[str | None] = mapped_column(String(20))
    profit: Mapped[float | None] = mapped_column(Float)
    mip_gap: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[dict | None] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher is solved first; equal ones by created_at
    prepared: Mapped[dict | None] = mapped_column(JSON, deferred=True)  # a run sent as exports: {crm, scm} as sent, and the derivation's tables


class Delivery(Base):
    """A webhook to send (the outbox): written in the same transaction as the run's final
    state, so no finished run goes unannounced, and sent by the dispatcher until it is
    answered 2xx or runs out of attempts."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    tenant: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(String(2000))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser of the web pages: the cookie holds a random token, the database only
    its hash (as for API keys), the tenant and scopes the key gave, and when it expires."""

    __tablename__ = "web_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list] = mapped_column(JSON)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class RunTag(Base):
    """One tag of a run, so that listing by tag is a query the database answers."""

    __tablename__ = "run_tags"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


#: Columns added since the runs table was first made: added to an older database at start.
_ADDED_COLUMNS = {"plan_status": "VARCHAR(20)", "profit": "FLOAT", "mip_gap": "FLOAT", "explanation": "JSON", "priority": "INTEGER DEFAULT 0", "prepared": "JSON"}

_engines: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """One engine per URL and process; SQLite in WAL mode so the API reads while a solve writes."""
    if url not in _engines:
        if url.startswith("sqlite"):
            eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

            @event.listens_for(eng, "connect")
            def _pragmas(conn, _):  # pragma: no cover - trivial
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()
        else:
            eng = create_engine(url, pool_pre_ping=True)
        before = set(inspect(eng).get_table_names())
        Base.metadata.create_all(eng)
        if "runs" in before:
            _upgrade(eng, tags_new="run_tags" not in before)
        _engines[url] = eng
    return _engines[url]


def _upgrade(eng: Engine, tags_new: bool) -> None:
    """Bring a database made by an earlier version up to this schema: the summary columns
    (filled from each finished run's result) and the tag rows."""
    for index in Run.__table__.indexes:  # indexes added since (create_all adds none to a table that exists)
        index.create(eng, checkfirst=True)
    present = {c["name"] for c in inspect(eng).get_columns("runs")}
    missing = {name: kind for name, kind in _ADDED_COLUMNS.items() if name not in present}
    with eng.begin() as conn:
        for name, kind in missing.items():
            conn.execute(text(f"ALTER TABLE runs ADD COLUMN {name} {kind}"))
    if set(missing) - {"priority", "prepared"}:
        with session_for(eng) as s:
            for run in s.scalars(select(Run).where(Run.status.in_(FINAL))):
                summarise(run, run.result or {})
            s.commit()
    if tags_new:
        with session_for(eng) as s:
            for run_id, tags in s.execute(select(Run.id, Run.tags)):
                s.add_all(RunTag(run_id=run_id, tag=t) for t in dict.fromkeys(tags or []))
            s.commit()


def summarise(run: Run, result: dict) -> None:
    """Copy a result's summary onto the run's own columns."""
    kpis = result.get("kpis") or {}
    run.plan_status = result.get("status")
    run.profit = kpis.get("profit")
    run.mip_gap = kpis.get("mip_gap")
    run.explanation = result.get("explanation")


@contextmanager
def session_for(eng: Engine) -> Iterator[Session]:
    with sessionmaker(eng, expire_on_commit=False)() as s:
        yield s


@contextmanager
def session(url: str) -> Iterator[Session]:
    with session_for(engine_for(url)) as s:
        yield s


def ping(url: str) -> None:
    with engine_for(url).connect() as c:
        c.execute(text("SELECT 1"))
