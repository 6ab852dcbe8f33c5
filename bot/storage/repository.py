"""Queries and updates shared by the plugin, the poller and the scheduler.

Each function takes an open :class:`AsyncSession` so the caller decides the
transaction (claims and their side effects must commit together).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Feed, Subscriber, Subscription

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


# --------------------------------------------------------------------------- schedule


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
