"""Building the running bot: models, HTTP clients, the database, the chat core, the scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from config.settings import Settings
from summarizer.models import ModelService

if TYPE_CHECKING:
    from bot.core import ChatCore
    from bot.delivery import BriefScheduler
    from bot.observability import Metrics


def http_client(settings: Settings) -> httpx.AsyncClient:
    """The client for article links strangers send: private addresses refused, time-limited.

    See :mod:`summarizer.fetching`; ``fetch_allow_hosts`` lets internal hosts through.
    """
    from summarizer.fetching import FetchPolicy, GuardedClient

    policy = FetchPolicy.build(
        settings.fetch_allow_hosts, max_redirects=5, deadline_s=settings.fetch_timeout_s * 2
    )
    return GuardedClient(
        policy,
        timeout_s=settings.fetch_timeout_s,
        connect_timeout_s=settings.fetch_connect_timeout_s,
        user_agent=settings.user_agent,
    )


def api_client(settings: Settings) -> httpx.AsyncClient:
    """The client for the platform APIs the operator configured (may be a local Bot API)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.fetch_timeout_s),
        headers={"User-Agent": settings.user_agent},
    )


@dataclass
class Bot:
    """What a running NewsBrief process is made of."""

    core: ChatCore
    scheduler: BriefScheduler


@asynccontextmanager
async def running_bot(
    settings: Settings, metrics: Metrics | None = None, models: ModelService | None = None
) -> AsyncIterator[Bot]:
    """A ready chat core with subscriptions, and the daily-brief scheduler.

    The database is migrated first (safe on every start); models load lazily on
    first use; everything is released at exit. ``models``: a model service the caller
    owns and closes (tests share one); by default the bot makes and closes its own.
    """
    from bot.admin import AdminCommands, notifier
    from bot.backup import retention_of, retention_running
    from bot.core import ChatCore
    from bot.delivery import BriefScheduler, platform_senders
    from bot.feeds import FeedPoller, feed_client
    from bot.storage import Database, migrate
    from bot.storage.config import delivery_settings, utc_now
    from bot.stories import StoryService
    from bot.subscriptions import SubscriptionCommands

    config = delivery_settings(settings)
    await migrate(config.database_url)
    db = Database.connect(config.database_url)
    owned = models is None
    models = models or ModelService(settings)
    try:
        async with (
            http_client(settings) as http,
            feed_client(
                config, settings.user_agent, allow_hosts=settings.fetch_allow_hosts
            ) as feeds,
            api_client(settings) as api,
        ):
            stories = StoryService(db, models, feeds, settings, config, utc_now)
            subscriptions = SubscriptionCommands(db, config, utc_now, http=feeds, stories=stories)
            senders = platform_senders(
                api,
                config,
                telegram=_credentials(settings.telegram_api_url, settings.telegram_bot_token),
                slack=_credentials(settings.slack_api_url, settings.slack_bot_token),
            )
            core = ChatCore(
                settings,
                models,
                http,
                plugins=[subscriptions],
                notify=notifier(senders),
                metrics=metrics,
            )
            subscriptions.on_briefs = core.remember
            core.plugins.append(
                AdminCommands(db, config, settings.admins, utc_now, senders=senders, core=core)
            )
            scheduler = BriefScheduler(
                db,
                config,
                senders,
                utc_now,
                stories=stories,
                poller=FeedPoller(db, feeds, config, utc_now),
                remember=core.remember,
                metrics=metrics,
            )
            # Old stories and delivery records are purged hourly while the bot runs.
            async with retention_running(db, retention_of(settings), utc_now):
                yield Bot(core, scheduler)
    finally:
        if owned:
            models.close()
        await db.close()


def _credentials(api_url: str, token: object) -> tuple[str, str] | None:
    from pydantic import SecretStr

    if isinstance(token, SecretStr) and token.get_secret_value():
        return api_url, token.get_secret_value()
    return None
