"""The service's settings, from the environment (``PLANNER_*``), read once at start.

They extend the settings every face shares (:class:`~planner.jobs.settings.PlannerSettings`:
the user model folders of ``PLANNER_MODELS_PATH``).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from planner.jobs.settings import PlannerSettings


class Settings(PlannerSettings):
    database_url: str = Field("sqlite:///planner.db", description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://... for PostgreSQL.")
    solve_slots: int = Field(1, ge=1, description="Solves one machine (Dask worker) runs at once.")
    solve_nice: int = Field(10, ge=0, le=19, description="Niceness of the solve processes: the service's answers come first when both want the CPU.")
    max_concurrent_submissions: int = Field(4, ge=1, description="Submissions one service process reads and checks at once; more wait.")
    submission_wait_seconds: float = Field(10.0, gt=0, description="A submission that has waited this long for its turn is answered 503 with Retry-After.")
    max_body_bytes: int = Field(20 * 1024 * 1024, ge=1, description="Largest request body accepted (413 above).")
    max_attempts: int = Field(3, ge=1, description="Times a run interrupted by a crash is retried before it fails.")
    heartbeat_seconds: float = Field(2.0, gt=0, description="How often a running solve reports that it is alive.")
    stale_seconds: float = Field(15.0, gt=0, description="A running run silent this long is taken as lost and resubmitted.")
    default_time_limit: float = Field(300.0, gt=0, description="Time limit of a run that gives none (seconds).")
    max_time_limit: float = Field(3600.0, gt=0, description="Largest time limit a run may ask for (seconds).")
    sync_time_limit: float = Field(30.0, gt=0, description="Hard time limit of POST /v1/solve (seconds).")
    kill_grace_seconds: float = Field(20.0, gt=0, description="Time a solve gets past its limit or a cancel before its process is killed.")
    startup_seconds: float = Field(15.0, ge=0, description="Time allowed on top of a run's limit for its solve process to start (imports, reading the input).")
    api_keys: str | None = Field(None, description="tenant:key[:scope+scope],... (scopes: read, write); unset = no authentication.")
    api_keys_file: str | None = Field(None, description='JSON file [{"tenant", "key_sha256", "scopes"}] of hashed keys.')
    # quotas, per tenant (429 with Retry-After beyond them)
    max_active_runs: int = Field(20, ge=1, description="Runs a tenant may have queued or running at once.")
    max_runs_per_minute: int = Field(60, ge=1, description="Runs a tenant may submit in any 60 seconds.")
    requests_per_second: float = Field(50.0, gt=0, description="Requests a tenant may make per second, on average (bursts of twice as many).")
    # retention
    retention_days: float = Field(90.0, ge=0, description="Finished runs are deleted this many days after they finish; 0 keeps them.")
    # webhooks
    webhook_secret: str | None = Field(None, description="Key each tenant's webhook signing secret is derived from; unset = webhooks off.")
    webhook_allow: str | None = Field(None, description="Comma-separated URL prefixes a run's webhook may point at (https://erp.example.com/hooks/).")
    webhook_max_attempts: int = Field(8, ge=1, description="Times a webhook is tried before it is marked failed.")
    webhook_backoff_seconds: float = Field(5.0, gt=0, description="Wait before the first retry; doubled after each failure.")
    webhook_backoff_cap: float = Field(3600.0, gt=0, description="Longest wait between two attempts.")
    webhook_timeout: float = Field(10.0, gt=0, description="Seconds a receiver has to answer.")

    def webhook_prefixes(self) -> list[str]:
        return [p.strip() for p in (self.webhook_allow or "").split(",") if p.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
