"""Run storage: one table of runs, through SQLAlchemy (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import datetime as dt
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text, UniqueConstraint, create_engine, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

FINAL = ("succeeded", "failed", "cancelled")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("tenant", "idempotency_key", name="uq_run_idempotency"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), index=True)  # queued, running, succeeded, failed, cancelled
    reason: Mapped[str | None] = mapped_column(String(40))  # why failed or cancelled: infeasible, no_solution_found, error, crashed, ...
    detail: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    instance: Mapped[dict] = mapped_column(JSON)  # the exact input, as tables of rows
    options: Mapped[dict] = mapped_column(JSON)
    result: Mapped[dict | None] = mapped_column(JSON)  # plan.json of the run
    progress: Mapped[dict | None] = mapped_column(JSON)
    log: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    sync: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    solve_seconds: Mapped[float | None] = mapped_column(Float)


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
                cur.close()
        else:
            eng = create_engine(url, pool_pre_ping=True)
        Base.metadata.create_all(eng)
        _engines[url] = eng
    return _engines[url]


@contextmanager
def session(url: str) -> Iterator[Session]:
    maker = sessionmaker(engine_for(url), expire_on_commit=False)
    with maker() as s:
        yield s


def ping(url: str) -> None:
    with engine_for(url).connect() as c:
        c.execute(text("SELECT 1"))


def update_run(url: str, run_id: str, **values: Any) -> None:
    with session(url) as s:
        run = s.get(Run, run_id)
        if run is None:
            return
        for k, v in values.items():
            setattr(run, k, v)
        s.commit()


def append_log(url: str, run_id: str, line: str) -> None:
    with session(url) as s:
        run = s.get(Run, run_id)
        if run is not None:
            run.log = (run.log or "") + f"{utcnow().isoformat(timespec='seconds')} {line}\n"
            s.commit()


def claim(url: str, run_id: str) -> bool:
    """Atomically move a queued run to running (one worker wins; a resubmitted duplicate does nothing)."""
    with session(url) as s:
        res = s.execute(
            Run.__table__.update()
            .where(Run.id == run_id, Run.status == "queued")
            .values(status="running", started_at=utcnow(), heartbeat_at=utcnow(), attempts=Run.attempts + 1)
        )
        s.commit()
        return res.rowcount == 1


def runs_to_recover(url: str, stale_seconds: float) -> tuple[list[str], list[str]]:
    """Queued runs (their Dask futures may be gone) and running runs whose heartbeat went silent."""
    limit = utcnow() - dt.timedelta(seconds=stale_seconds)
    with session(url) as s:
        queued = list(s.scalars(select(Run.id).where(Run.status == "queued").order_by(Run.created_at)))
        stale = []
        for run in s.scalars(select(Run).where(Run.status == "running")):
            hb = run.heartbeat_at
            if hb is not None and hb.tzinfo is None:
                hb = hb.replace(tzinfo=dt.timezone.utc)
            if hb is None or hb < limit:
                stale.append(run.id)
        return queued, stale
