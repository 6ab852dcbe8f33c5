"""Shared fixtures: the real-data folder, settings in a temp cache, one model service."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.storage.db import Database
from config import Settings, load_settings
from summarizer.models import ModelService
from tests.storage.databases import fresh_database_url, migrated

# Tests never reach a model hub: every model they load is local.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("NEWSBRIEF_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _shared_required() -> bool:
    return os.environ.get("NEWSBRIEF_REQUIRE_SHARED", "") not in ("", "0", "false")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder; skipped in a user's clone without it, mandatory in CI."""
    if not (SHARED_DATA / "README.md").is_file():
        if _shared_required():
            pytest.fail(f"NEWSBRIEF_REQUIRE_SHARED is set but {SHARED_DATA} is missing")
        pytest.skip(f"real corpora not present at {SHARED_DATA} (see README: Data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where converted models are cached: the user's cache when set, else a temp folder."""
    configured = os.environ.get("NEWSBRIEF_CACHE_DIR")
    return Path(configured) if configured else tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def settings(model_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Links to private addresses are refused; the fake servers all listen on 127.0.0.1.
    return load_settings(
        cache_dir=model_cache_dir,
        data_dir=tmp_path_factory.mktemp("data"),
        fetch_allow_hosts=["127.0.0.1"],
    )


@pytest.fixture(scope="session")
def models(settings: Settings) -> Iterator[ModelService]:
    """One model service for the whole run: the real bundled models, loaded once."""
    service = ModelService(settings)
    yield service
    service.close()


@pytest.fixture(scope="session")
def seed_article_path(shared_data: Path) -> Path:
    return shared_data / "seed" / "trump-putin-call.txt"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: storage and delivery tests run on both engines."""
    async for url in fresh_database_url(request.param, tmp_path):
        yield url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    async for database in migrated(database_url):
        yield database
