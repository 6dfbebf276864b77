"""Configuration every face shares, read once from the environment (``PLANNER_*``).

The faces read it at start and pass what it says down; nothing below the job
layer reads the environment. The service's own settings (database, workers,
keys) extend it in ``api/config.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlannerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLANNER_", extra="ignore")

    models_path: str | None = Field(None, description="Folders of user constraint families, separated by os.pathsep (':' on Linux).")
    dask_scheduler: str | None = Field(
        None, description="tcp://host:8786 of an existing Dask cluster: the service's runs go there, and a decomposed run's blocks "
                          "fan out over its workers. Unset: the service runs in an in-process cluster, and a decomposed run starts "
                          "a local cluster of decompose_workers processes.")
    decompose_workers: int = Field(1, ge=0, description="Worker processes of the local cluster a decomposed run starts (0: its blocks in the solving process).")

    def models_dirs(self, extra: list[Path] | None = None) -> list[Path]:
        """The user model folders: those of ``models_path``, then ``extra`` (the CLI's --models)."""
        dirs = [Path(p) for p in (self.models_path or "").split(os.pathsep) if p.strip()]
        return dirs + [Path(p) for p in extra or []]
