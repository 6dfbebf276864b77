"""The dependencies routes share, as ``Annotated`` types: settings, a database session, the executor."""

from __future__ import annotations

from typing import Annotated, Iterator

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api import db
from api.config import Settings
from api.executor import Executor


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    """One session per request. Sync routes only: FastAPI runs them (and this) in its thread pool,
    so no database call blocks the event loop."""
    with db.session(settings.database_url) as s:
        yield s


SessionDep = Annotated[Session, Depends(get_session)]


def get_executor(request: Request) -> Executor:
    return request.app.state.executor


ExecutorDep = Annotated[Executor, Depends(get_executor)]
