"""Building the running bot: one model service, one HTTP client, one chat core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx

from config.settings import Settings
from summarizer.models import ModelService

if TYPE_CHECKING:
    from bot.core import ChatCore


def http_client(settings: Settings) -> httpx.AsyncClient:
    """The client used to fetch article links: timeouts, redirect limit, our user agent."""
    return httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=5,
        timeout=httpx.Timeout(settings.fetch_timeout_s),
        headers={"User-Agent": settings.user_agent},
    )


@asynccontextmanager
async def chat_core(settings: Settings) -> AsyncIterator[ChatCore]:
    """A ready chat core; models load lazily on first use and are released at exit."""
    from bot.core import ChatCore

    models = ModelService(settings)
    try:
        async with http_client(settings) as http:
            yield ChatCore(settings, models, http)
    finally:
        models.close()
