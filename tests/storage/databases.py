"""Fresh databases for tests: a SQLite file, or a uniquely named PostgreSQL database.

PostgreSQL on 127.0.0.1:5432 is skipped with a reason when unreachable, unless
NEWSBRIEF_REQUIRE_POSTGRES=1 (CI), which turns that into a failure.
Override the server with NEWSBRIEF_TEST_POSTGRES (``postgresql://user@host:port/db``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from bot.storage.db import Database, migrate

ADMIN_URLS = (
    [os.environ["NEWSBRIEF_TEST_POSTGRES"]]
    if os.environ.get("NEWSBRIEF_TEST_POSTGRES")
    else ["postgresql://postgres@127.0.0.1:5432/test", "postgresql://root@127.0.0.1:5432/test"]
)


def postgres_required() -> bool:
    return os.environ.get("NEWSBRIEF_REQUIRE_POSTGRES", "") not in ("", "0", "false")


async def _admin() -> tuple[asyncpg.Connection, str]:
    problems = []
    for url in ADMIN_URLS:
        try:
            return await asyncpg.connect(url, timeout=5), url
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            problems.append(f"{url}: {type(error).__name__}: {error}")
    message = "PostgreSQL not reachable (" + "; ".join(problems) + ")"
    if postgres_required():
        pytest.fail(message + " and NEWSBRIEF_REQUIRE_POSTGRES is set")
    pytest.skip(message)


async def fresh_database_url(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'newsbrief.db'}"
        return
    admin, admin_url = await _admin()
    name = f"nb_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    try:
        yield f"postgresql+asyncpg://{parts.netloc}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def migrated(url: str) -> AsyncIterator[Database]:
    await migrate(url)
    db = Database.connect(url)
    try:
        yield db
    finally:
        await db.close()


class Clock:
    """A controllable ``now()``: tests move time instead of sleeping until 07:30."""

    def __init__(self, start: datetime) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def set(self, value: datetime) -> None:
        self.value = value.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.value += timedelta(**delta)
