"""Queries and updates shared by the plugin, the poller and the scheduler.

Each function takes an open :class:`AsyncSession` so the caller decides the
transaction (claims and their side effects must commit together).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Delivery, Feed, Story, StorySource, Subscriber, Subscription

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


# --------------------------------------------------------------------------- schedule


def valid_feed_url(value: str) -> bool:
    return re.match(r"(?i)^https?://[^\s/$.?#][^\s]*$", value) is not None


def parse_local_time(value: str) -> time:
    match = _TIME.match(value)
    if not match:
        raise ValueError(f"not a HH:MM time: {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def occurrence(local_time: str, zone: str, day: date) -> datetime:
    """The UTC instant of ``local_time`` on ``day`` in ``zone``.

    A time skipped by a DST jump (02:30 on a spring-forward night) maps to the
    instant it would have been without the jump, i.e. one hour later on the wall
    clock; a repeated time (02:30 on a fall-back night) means its first occurrence.
    Both come from ``fold=0`` (PEP 495).
    """
    wall = datetime.combine(day, parse_local_time(local_time), tzinfo=ZoneInfo(zone))
    return wall.replace(fold=0).astimezone(UTC)


def next_run(local_time: str, zone: str, after: datetime) -> tuple[datetime, date]:
    """The first brief strictly after ``after``: its UTC instant and its local date."""
    today = after.astimezone(ZoneInfo(zone)).date()
    for offset in range(-1, 3):
        day = today + timedelta(days=offset)
        instant = occurrence(local_time, zone, day)
        if instant > after:
            return instant, day
    raise AssertionError("unreachable: a local time recurs every day")


def local_date(zone: str, instant: datetime) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


# --------------------------------------------------------------------------- helpers


def insert_ignore(dialect: str, table: Table, index_elements: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))


# --------------------------------------------------------------------------- subscribers


async def find_subscriber(session: AsyncSession, platform: str, chat_id: str) -> Subscriber | None:
    result = await session.execute(
        select(Subscriber).where(
            Subscriber.platform == platform,
            Subscriber.chat_id == chat_id,
            Subscriber.thread_id == "",
        )
    )
    return result.scalar_one_or_none()


async def get_or_create_subscriber(
    session: AsyncSession,
    platform: str,
    chat_id: str,
    *,
    now: datetime,
    local_time: str,
    timezone: str,
    stories: int,
) -> Subscriber:
    dialect = session.get_bind().dialect.name
    table = Subscriber.__table__
    assert isinstance(table, Table)
    await session.execute(
        insert_ignore(dialect, table, ["platform", "chat_id", "thread_id"]).values(
            platform=platform,
            chat_id=chat_id,
            thread_id="",
            local_time=local_time,
            timezone=timezone,
            stories=stories,
            topics=[],
            paused=False,
            active=True,
            created_at=now,
        )
    )
    subscriber = await find_subscriber(session, platform, chat_id)
    assert subscriber is not None
    return subscriber


async def reschedule(session: AsyncSession, subscriber: Subscriber, now: datetime) -> None:
    """Recompute ``next_run_at`` from the stored local time and zone (None: nothing to send)."""
    has_feeds = await count_subscriptions(session, subscriber.id) > 0
    if not has_feeds or subscriber.paused or not subscriber.active:
        subscriber.next_run_at = None
        return
    subscriber.next_run_at, _ = next_run(subscriber.local_time, subscriber.timezone, now)


async def count_subscriptions(session: AsyncSession, subscriber_id: int) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(Subscription)
        .where(Subscription.subscriber_id == subscriber_id)
    )
    return int(result.scalar_one())


# --------------------------------------------------------------------------- feeds


async def get_or_create_feed(session: AsyncSession, url: str, *, now: datetime) -> Feed:
    dialect = session.get_bind().dialect.name
    table = Feed.__table__
    assert isinstance(table, Table)
    await session.execute(
        insert_ignore(dialect, table, ["url"]).values(
            url=url, next_poll_at=now, failures=0, failure_reported=False, created_at=now
        )
    )
    result = await session.execute(select(Feed).where(Feed.url == url))
    return result.scalar_one()


async def subscribe(
    session: AsyncSession,
    subscriber: Subscriber,
    feed: Feed,
    keywords: Sequence[str],
    *,
    now: datetime,
) -> bool:
    """Add (or update the keywords of) a subscription; True when it is new."""
    result = await session.execute(
        select(Subscription).where(
            Subscription.subscriber_id == subscriber.id, Subscription.feed_id == feed.id
        )
    )
    existing = result.scalar_one_or_none()
    if existing is not None:
        existing.keywords = list(keywords)
        return False
    session.add(
        Subscription(
            subscriber_id=subscriber.id, feed_id=feed.id, keywords=list(keywords), created_at=now
        )
    )
    await session.flush()
    return True


async def subscriptions_of(
    session: AsyncSession, subscriber_id: int
) -> list[tuple[Subscription, Feed]]:
    result = await session.execute(
        select(Subscription, Feed)
        .join(Feed, Feed.id == Subscription.feed_id)
        .where(Subscription.subscriber_id == subscriber_id)
        .order_by(Subscription.id)
    )
    return [(row[0], row[1]) for row in result.all()]


async def unsubscribe(
    session: AsyncSession, subscriber_id: int, subscription_id: int | None
) -> int:
    """Remove one subscription (or all with None); the number removed."""
    statement = delete(Subscription).where(Subscription.subscriber_id == subscriber_id)
    if subscription_id is not None:
        statement = statement.where(Subscription.id == subscription_id)
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


# --------------------------------------------------------------------------- privacy


@dataclass(frozen=True)
class Forgotten:
    """What deleting a chat's stored data removed (the reply tells the user)."""

    subscriber: bool = False
    subscriptions: int = 0
    deliveries: int = 0
    feeds: int = 0  # feeds nobody else subscribes to (their URLs may be private)


async def delete_subscriber(session: AsyncSession, platform: str, chat_id: str) -> Forgotten:
    """Delete everything stored for a chat: its settings, feeds, topics and delivery records.

    Children are deleted explicitly rather than through ON DELETE CASCADE so the
    counts are exact and nothing depends on SQLite's foreign-key pragma. Its
    feeds that no other chat subscribes to go too: a feed URL can carry a
    private token.
    """
    subscriber = await find_subscriber(session, platform, chat_id)
    if subscriber is None:
        return Forgotten()
    feed_ids = list(
        (
            await session.execute(
                select(Subscription.feed_id).where(Subscription.subscriber_id == subscriber.id)
            )
        ).scalars()
    )
    deliveries = await session.execute(
        delete(Delivery).where(Delivery.subscriber_id == subscriber.id)
    )
    subscriptions = await session.execute(
        delete(Subscription).where(Subscription.subscriber_id == subscriber.id)
    )
    await session.execute(delete(Subscriber).where(Subscriber.id == subscriber.id))
    feeds = 0
    if feed_ids:
        feeds = _count(
            await session.execute(
                delete(Feed).where(
                    Feed.id.in_(feed_ids),
                    ~exists().where(Subscription.feed_id == Feed.id),
                )
            )
        )
    session.expunge(subscriber)
    return Forgotten(True, _count(subscriptions), _count(deliveries), feeds)


# --------------------------------------------------------------------------- retention


@dataclass(frozen=True)
class Retention:
    """How long stored news and delivery records are kept (``config.settings``)."""

    story_days: int = 30
    delivery_days: int = 14
    seen_item_days: int = 180

    def __post_init__(self) -> None:
        # Today's delivery row (a local date at most one day behind UTC) is what
        # makes a brief exactly-once, and ranking looks back up to 48 hours.
        if self.delivery_days < 2 or self.story_days < 3 or self.seen_item_days < 1:
            raise ValueError("retention too short: deliveries >= 2 days, stories >= 3 days")


@dataclass(frozen=True)
class Purged:
    stories: int = 0
    deliveries: int = 0
    seen_items: int = 0


async def purge_expired(session: AsyncSession, now: datetime, retention: Retention) -> Purged:
    """Delete stories, delivery records and seen feed items older than ``retention``.

    A story goes once it is ``story_days`` old *and* no feed has carried it for
    that long; its feed items stay (``story_id`` NULL) for ``seen_item_days`` so
    a feed that still lists it does not make it news again. Delivery records go
    by local date, ``delivery_days`` behind today's UTC date, so the row that
    stops a second brief today is never touched.
    """
    story_cutoff = now - timedelta(days=retention.story_days)
    carried = (
        select(StorySource.id)
        .where(StorySource.story_id == Story.id, StorySource.seen_at >= story_cutoff)
        .exists()
    )
    old = list(
        (
            await session.execute(
                select(Story.id).where(Story.first_seen_at < story_cutoff, ~carried)
            )
        ).scalars()
    )
    stories = 0
    for start in range(0, len(old), 500):
        chunk = old[start : start + 500]
        # What ON DELETE SET NULL does, spelled out so it holds without SQLite's pragma.
        await session.execute(
            update(StorySource).where(StorySource.story_id.in_(chunk)).values(story_id=None)
        )
        stories += _count(await session.execute(delete(Story).where(Story.id.in_(chunk))))
    day = now.astimezone(UTC).date() - timedelta(days=retention.delivery_days)
    deliveries = await session.execute(delete(Delivery).where(Delivery.local_date < day))
    seen = await session.execute(
        delete(StorySource).where(
            StorySource.story_id.is_(None),
            StorySource.seen_at < now - timedelta(days=retention.seen_item_days),
        )
    )
    return Purged(stories, _count(deliveries), _count(seen))
