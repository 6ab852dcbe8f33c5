"""Building blocks for delivery tests: subscribers and stories written straight to the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.delivery import BriefScheduler, MemorySender, Sender
from bot.storage.config import DeliverySettings
from bot.storage.db import Database
from bot.storage.models import Story, StorySource
from bot.storage.repository import (
    get_or_create_feed,
    get_or_create_subscriber,
    reschedule,
    subscribe,
)
from tests.storage.databases import Clock

CONFIG = DeliverySettings(
    database_url="unused",
    feed_min_interval_s=60,
    feed_default_interval_s=60,
    scheduler_tick_s=0.05,
    delivery_lease_s=120,
    telegram_rate_per_s=0,
    telegram_chat_interval_s=0,
    slack_rate_per_s=0,
    slack_chat_interval_s=0,
)


async def add_subscriber(
    db: Database,
    clock: Clock,
    chat_id: str,
    feed_urls: Sequence[str],
    *,
    platform: str = "test",
    zone: str = "UTC",
    local_time: str = "07:30",
    keywords: Sequence[str] = (),
) -> int:
    async with db.transaction() as session:
        subscriber = await get_or_create_subscriber(
            session, platform, chat_id, now=clock(), local_time=local_time, timezone=zone, stories=5
        )
        for url in feed_urls:
            feed = await get_or_create_feed(session, url, now=clock())
            await subscribe(session, subscriber, feed, keywords, now=clock())
        await reschedule(session, subscriber, clock())
        return subscriber.id


async def add_story(
    db: Database, clock: Clock, feed_urls: Sequence[str], title: str, *, quote: str | None = None
) -> int:
    """A stored, already analysed story carried by the given feeds (no models needed)."""
    async with db.transaction() as session:
        feeds = [await get_or_create_feed(session, url, now=clock()) for url in feed_urls]
        story = Story(
            canonical_url=f"https://news.example/{title.replace(' ', '-').lower()}",
            content_hash=title[:16],
            title=title,
            url=f"https://news.example/{title.replace(' ', '-').lower()}",
            text=title + ". " + "Some text.",
            bullets=[f"{title} happened.", "Officials commented."],
            quote=quote,
            speaker="Jane Okafor" if quote else None,
            first_seen_at=clock(),
            sources=len(feeds),
        )
        session.add(story)
        await session.flush()
        for feed in feeds:
            session.add(
                StorySource(story_id=story.id, feed_id=feed.id, guid=title, seen_at=clock())
            )
        return story.id


def scheduler(
    db: Database,
    clock: Clock,
    sender: Sender | None = None,
    *,
    owner: str = "one",
    config: DeliverySettings = CONFIG,
) -> BriefScheduler:
    return BriefScheduler(db, config, {"test": sender or MemorySender()}, clock, owner=owner)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
