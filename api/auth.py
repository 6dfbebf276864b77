"""API keys: hashed at start, never stored or logged in clear; each key belongs to a tenant and has scopes."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from api.config import Settings
from api.problems import Problem

SCOPES = ("read", "write")


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

    def principal(self, request: Request, scope: str) -> Principal:
        if not self.enabled:
            return Principal("default", frozenset(SCOPES))
        key = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if key is None and auth.lower().startswith("bearer "):
            key = auth[7:].strip()
        if not key:
            raise Problem(401, "Authentication required", "send an API key in the X-API-Key header", headers={"WWW-Authenticate": "Bearer"})
        digest = sha256(key)
        match = next((p for h, p in self.keys.items() if hmac.compare_digest(h, digest)), None)
        if match is None:
            raise Problem(401, "Invalid API key", headers={"WWW-Authenticate": "Bearer"})
        if scope not in match.scopes:
            raise Problem(403, "Not allowed", f"this key lacks the '{scope}' scope")
        return match
