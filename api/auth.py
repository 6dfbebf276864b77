"""API keys: hashed at start, never stored or logged in clear; each key belongs to a tenant and has scopes.

A key is sent as ``X-API-Key`` or as ``Authorization: Bearer``; both are
declared as security schemes (``fastapi.security``), so ``/openapi.json`` shows
them and every operation's required scope.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from api.config import Settings
from api.problems import HTTPProblem

SCOPES = ("read", "write")

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (PLANNER_API_KEYS); scopes read and write.")
bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token.")


@dataclass(frozen=True)
class Principal:
    tenant: str
    scopes: frozenset[str]


def sha256(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    """Hashes of the configured keys -> principal. Empty = authentication off (one tenant, 'default')."""

    def __init__(self, settings: Settings):
        self.keys: dict[str, Principal] = {}
        if settings.api_keys:
            for entry in settings.api_keys.split(","):
                parts = entry.strip().split(":")
                if len(parts) < 2 or not parts[0] or not parts[1]:
                    raise ValueError("PLANNER_API_KEYS entries are tenant:key[:scope+scope]")
                scopes = frozenset(parts[2].split("+")) if len(parts) > 2 and parts[2] else frozenset(SCOPES)
                self.keys[sha256(parts[1])] = Principal(parts[0], scopes)
        if settings.api_keys_file:
            for item in json.loads(Path(settings.api_keys_file).read_text()):
                self.keys[item["key_sha256"]] = Principal(item["tenant"], frozenset(item.get("scopes", SCOPES)))

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def principal(self, key: str | None, scopes: list[str]) -> Principal:
        if not self.enabled:
            return Principal("default", frozenset(SCOPES))
        if not key:
            raise HTTPProblem(401, "Authentication required", "send an API key in the X-API-Key header", headers={"WWW-Authenticate": "Bearer"})
        digest = sha256(key)
        match = next((p for h, p in self.keys.items() if hmac.compare_digest(h, digest)), None)
        if match is None:
            raise HTTPProblem(401, "Invalid API key", headers={"WWW-Authenticate": "Bearer"})
        for scope in scopes:
            if scope not in match.scopes:
                raise HTTPProblem(403, "Not allowed", f"this key lacks the '{scope}' scope")
        return match


def current_principal(
    security_scopes: SecurityScopes,
    request: Request,
    key: Annotated[str | None, Security(api_key_header)],
    token: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Principal:
    """The caller, with the scopes the operation requires."""
    store: KeyStore = request.app.state.keys
    who = store.principal(key or (token.credentials if token else None), security_scopes.scopes)
    request.app.state.rate.take(who.tenant)
    return who


Reader = Annotated[Principal, Security(current_principal, scopes=["read"])]
Writer = Annotated[Principal, Security(current_principal, scopes=["write"])]
