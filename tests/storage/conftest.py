from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.db import Database
from tests.storage.databases import fresh_database_url, migrated


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async for url in fresh_database_url(request.param, tmp_path):
        yield url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async for database in migrated(database_url):
        yield database
