"""Backups and retention: what leaves the database, what comes back, and what expires.

``newsbrief export`` writes every chat's daily-brief settings, feeds and the
delivery records that keep today's brief exactly-once as one versioned JSON
document; ``newsbrief import`` checks the whole document before touching the
database, then writes it in one transaction, so a bad file changes nothing and
importing the same file twice changes nothing the second time. Neither ever
sees a secret: tokens live in the environment, not in the database.

The retention purge deletes stories, delivery records and seen feed items once
they are older than the configured number of days (:class:`Retention`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Table, delete, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.storage.config import Clock
from bot.storage.db import Database
from bot.storage.models import Delivery, Feed, Subscriber, Subscription
from bot.storage.repository import (
    Purged,
    Retention,
    get_or_create_feed,
    insert_ignore,
    next_run,
    parse_local_time,
    purge_expired,
    valid_feed_url,
)
from config.settings import Settings

log = logging.getLogger(__name__)

FORMAT = "newsbrief-backup"
VERSION = 1
MAX_PROBLEMS = 50  # lines printed for a bad file; the rest are counted
DELIVERY_STATUSES = ("claimed", "sent", "skipped", "cancelled", "blocked", "failed")


# --------------------------------------------------------------------------- the format


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DeliveryRecord(_Strict):
    """A brief for one local day: its row is what stops a second send that day."""

    local_date: date
    status: Literal["claimed", "sent", "skipped", "cancelled", "blocked", "failed"]
    attempts: int = Field(default=0, ge=0)
    created_at: AwareDatetime
    sent_at: AwareDatetime | None = None
    lease_until: AwareDatetime | None = None
    owner: str | None = Field(default=None, max_length=128)
    detail: str | None = Field(default=None, max_length=512)


class FeedSubscription(_Strict):
    feed: str = Field(min_length=1, max_length=2048)
    title: str | None = Field(default=None, max_length=512)
    keywords: list[str] = Field(default_factory=list)
    created_at: AwareDatetime

    @field_validator("feed")
    @classmethod
    def _feed_url(cls, value: str) -> str:
        if not valid_feed_url(value):
            raise ValueError(f"not a feed link (http or https): {value[:80]!r}")
        return value


class SubscriberRecord(_Strict):
    """One chat's daily brief: where, when, how many stories, about what."""

    platform: str = Field(min_length=1, max_length=16)
    chat_id: str = Field(min_length=1, max_length=64)
    thread_id: str = Field(default="", max_length=64)
    time: str
    timezone: str = Field(max_length=64)
    paused: bool = False
    active: bool = True
    stories: int = Field(ge=1, le=10)
    topics: list[str] = Field(default_factory=list)
    created_at: AwareDatetime
    next_run_at: AwareDatetime | None = None
    last_brief_at: AwareDatetime | None = None
    subscriptions: list[FeedSubscription] = Field(default_factory=list)
    deliveries: list[DeliveryRecord] = Field(default_factory=list)

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        try:
            parsed = parse_local_time(value)
        except ValueError:
            raise ValueError(f"not a HH:MM time: {value!r}") from None
        if parsed.strftime("%H:%M") != value:
            raise ValueError(f"write the time as HH:MM, e.g. {parsed.strftime('%H:%M')}")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.platform, self.chat_id, self.thread_id)


class Backup(_Strict):
    """The whole document; ``version`` changes whenever a reader would misread it."""

    format: Literal["newsbrief-backup"]
    version: int
    exported_at: AwareDatetime
    subscribers: list[SubscriberRecord]


class BackupError(ValueError):
    """A document that cannot be imported; ``problems`` has one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(problems[0] if problems else "invalid backup")
        self.problems = list(problems)


# --------------------------------------------------------------------------- export


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


async def export_backup(db: Database, now: datetime) -> dict[str, Any]:
    """Every chat's settings, feeds and recent delivery records, as a JSON-ready dict.

    Only deliveries whose local date may still be "today" somewhere (from
    yesterday's UTC date on) are exported: older ones cannot cause a resend.
    """
    since = now.astimezone(UTC).date() - timedelta(days=1)
    async with db.sessions() as session:
        subscribers = list(
            (
                await session.execute(
                    select(Subscriber).order_by(
                        Subscriber.platform, Subscriber.chat_id, Subscriber.thread_id
                    )
                )
            ).scalars()
        )
        feeds: dict[int, list[dict[str, Any]]] = {}
        rows = await session.execute(
            select(Subscription, Feed)
            .join(Feed, Feed.id == Subscription.feed_id)
            .order_by(Subscription.subscriber_id, Feed.url)
        )
        for subscription, feed in rows:
            feeds.setdefault(subscription.subscriber_id, []).append(
                {
                    "feed": feed.url,
                    "title": feed.title,
                    "keywords": list(subscription.keywords or []),
                    "created_at": _iso(subscription.created_at),
                }
            )
        sent: dict[int, list[dict[str, Any]]] = {}
        for delivery in (
            await session.execute(
                select(Delivery)
                .where(Delivery.local_date >= since)
                .order_by(Delivery.subscriber_id, Delivery.local_date)
            )
        ).scalars():
            sent.setdefault(delivery.subscriber_id, []).append(
                {
                    "local_date": delivery.local_date.isoformat(),
                    "status": delivery.status,
                    "attempts": delivery.attempts,
                    "created_at": _iso(delivery.created_at),
                    "sent_at": _iso(delivery.sent_at),
                    "lease_until": _iso(delivery.lease_until),
                    "owner": delivery.owner,
                    "detail": delivery.detail,
                }
            )
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _iso(now),
        "subscribers": [
            {
                "platform": s.platform,
                "chat_id": s.chat_id,
                "thread_id": s.thread_id,
                "time": s.local_time,
                "timezone": s.timezone,
                "paused": s.paused,
                "active": s.active,
                "stories": s.stories,
                "topics": list(s.topics or []),
                "created_at": _iso(s.created_at),
                "next_run_at": _iso(s.next_run_at),
                "last_brief_at": _iso(s.last_brief_at),
                "subscriptions": feeds.get(s.id, []),
                "deliveries": sent.get(s.id, []),
            }
            for s in subscribers
        ],
    }


# --------------------------------------------------------------------------- validation


def _where(loc: Sequence[int | str], data: Any) -> str:
    """``subscribers[3] (telegram:42).timezone`` from a pydantic error location."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            parts.append(f"[{step}]")
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if (
                len(parts) == 2
                and isinstance(node, dict)
                and isinstance(node.get("platform"), str)
                and isinstance(node.get("chat_id"), str | int)
            ):
                parts.append(f" ({node['platform']}:{node['chat_id']})")
        else:
            parts.append(("." if parts else "") + step)
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts) or "the document"


def _duplicates(backup: Backup) -> list[str]:
    problems: list[str] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, record in enumerate(backup.subscribers):
        where = f"subscribers[{index}] ({record.platform}:{record.chat_id})"
        if record.key in seen:
            problems.append(f"{where}: the same chat as subscribers[{seen[record.key]}]")
        seen.setdefault(record.key, index)
        feeds = [s.feed for s in record.subscriptions]
        for feed in sorted({f for f in feeds if feeds.count(f) > 1}):
            problems.append(f"{where}.subscriptions: {feed} is listed more than once")
        days = [d.local_date for d in record.deliveries]
        for day in sorted({d for d in days if days.count(d) > 1}):
            problems.append(f"{where}.deliveries: {day.isoformat()} is listed more than once")
    return problems


def parse_backup(text: str) -> Backup:
    """The document, checked whole; :class:`BackupError` lists every problem, one per line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BackupError(
            [f"not JSON: {error.msg} at line {error.lineno}, column {error.colno}"]
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(['not a NewsBrief backup (no "format": "newsbrief-backup")'])
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise BackupError(
            [f"format version {version} is newer than this NewsBrief reads ({VERSION}); upgrade"]
        )
    if version != VERSION:
        raise BackupError([f"unknown format version {version!r} (expected {VERSION})"])
    try:
        backup = Backup.model_validate_json(text)
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            message = str(item["msg"]).removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = "unknown field"
            problems.append(f"{_where(item['loc'], data)}: {message}")
        raise BackupError(problems) from None
    problems = _duplicates(backup)
    if problems:
        raise BackupError(problems)
    return backup


# --------------------------------------------------------------------------- import


@dataclass
class ImportReport:
    subscribers_new: int = 0
    subscribers_updated: int = 0
    subscribers_removed: int = 0
    subscriptions_new: int = 0
    subscriptions_updated: int = 0
    subscriptions_removed: int = 0
    deliveries_new: int = 0

    def summary(self) -> str:
        parts = [
            f"{self.subscribers_new} new and {self.subscribers_updated} changed chats",
            f"{self.subscriptions_new} new and {self.subscriptions_updated} changed subscriptions",
            f"{self.deliveries_new} new delivery records",
        ]
        if self.subscribers_removed or self.subscriptions_removed:
            parts.append(
                f"removed {self.subscribers_removed} chats and "
                f"{self.subscriptions_removed} subscriptions not in the file"
            )
        return "; ".join(parts)


def _schedule(record: SubscriberRecord, has_feeds: bool, now: datetime) -> datetime | None:
    """The file's next brief when it can still be sent, else the next one from now."""
    if not has_feeds or record.paused or not record.active:
        return None
    if record.next_run_at is not None:
        # A past instant is fine: the scheduler sends it today or skips a missed day.
        return record.next_run_at.astimezone(UTC)
    return next_run(record.time, record.timezone, now)[0]


def _assign(target: Any, values: dict[str, Any]) -> bool:
    """Set attributes that differ; True when anything changed (so re-imports report nothing)."""
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


async def import_backup(
    db: Database, backup: Backup, now: datetime, *, replace: bool = False
) -> ImportReport:
    """Write ``backup`` in one transaction: chats and subscriptions upserted by their keys.

    Without ``replace`` nothing in the database is removed. With it, chats not in
    the file are deleted and each chat's feeds become exactly the file's.
    Delivery records are only ever added: a record already in the database (a
    brief sent since the backup) is kept, so restoring never resends a brief.
    """
    report = ImportReport()
    wanted = {record.key: record for record in backup.subscribers}
    async with db.transaction() as session:
        dialect = session.get_bind().dialect.name
        existing = {
            (s.platform, s.chat_id, s.thread_id): s
            for s in (await session.execute(select(Subscriber))).scalars()
        }
        if replace:
            gone = [s.id for key, s in existing.items() if key not in wanted]
            for start in range(0, len(gone), 500):
                chunk = gone[start : start + 500]
                await session.execute(delete(Delivery).where(Delivery.subscriber_id.in_(chunk)))
                await session.execute(
                    delete(Subscription).where(Subscription.subscriber_id.in_(chunk))
                )
                await session.execute(delete(Subscriber).where(Subscriber.id.in_(chunk)))
            report.subscribers_removed = len(gone)
        feeds: dict[str, Feed] = {}
        for record in backup.subscribers:
            for item in record.subscriptions:
                if item.feed not in feeds:
                    feed = await get_or_create_feed(session, item.feed, now=now)
                    if item.title and not feed.title:
                        feed.title = item.title
                    feeds[item.feed] = feed
        subscribers: dict[tuple[str, str, str], Subscriber] = {}
        for key, record in wanted.items():
            subscriber = existing.get(key)
            if subscriber is None:
                subscriber = Subscriber(
                    platform=record.platform,
                    chat_id=record.chat_id,
                    thread_id=record.thread_id,
                    created_at=record.created_at,
                )
                session.add(subscriber)
                report.subscribers_new += 1
            subscribers[key] = subscriber
        await session.flush()
        current: dict[int, dict[int, Subscription]] = {}
        ids = [s.id for s in subscribers.values()]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = select(Subscription).where(Subscription.subscriber_id.in_(chunk))
            for row in (await session.execute(query)).scalars():
                current.setdefault(row.subscriber_id, {})[row.feed_id] = row
        deliveries: list[dict[str, Any]] = []
        for key, record in wanted.items():
            subscriber = subscribers[key]
            mine = current.get(subscriber.id, {})
            listed = {feeds[item.feed].id: item for item in record.subscriptions}
            for feed_id, item in listed.items():
                subscription = mine.get(feed_id)
                if subscription is None:
                    session.add(
                        Subscription(
                            subscriber_id=subscriber.id,
                            feed_id=feed_id,
                            keywords=list(item.keywords),
                            created_at=item.created_at,
                        )
                    )
                    report.subscriptions_new += 1
                elif _assign(
                    subscription, {"keywords": list(item.keywords), "created_at": item.created_at}
                ):
                    report.subscriptions_updated += 1
            if replace:
                for feed_id, subscription in mine.items():
                    if feed_id not in listed:
                        await session.delete(subscription)
                        report.subscriptions_removed += 1
            has_feeds = bool(listed) or (not replace and bool(mine))
            changed = _assign(
                subscriber,
                {
                    "local_time": record.time,
                    "timezone": record.timezone,
                    "stories": record.stories,
                    "topics": list(record.topics),
                    "paused": record.paused,
                    "active": record.active,
                    "created_at": record.created_at,
                    "last_brief_at": record.last_brief_at,
                    "next_run_at": _schedule(record, has_feeds, now),
                },
            )
            if changed and key in existing:
                report.subscribers_updated += 1
            deliveries.extend(
                {
                    "subscriber_id": subscriber.id,
                    "local_date": item.local_date,
                    "status": item.status,
                    "owner": item.owner,
                    "lease_until": item.lease_until,
                    "attempts": item.attempts,
                    "story_ids": [],  # story ids do not carry over between databases
                    "created_at": item.created_at,
                    "sent_at": item.sent_at,
                    "detail": item.detail,
                }
                for item in record.deliveries
            )
        await session.flush()
        table = Delivery.__table__
        assert isinstance(table, Table)
        for start in range(0, len(deliveries), 1000):
            result = await session.execute(
                insert_ignore(dialect, table, ["subscriber_id", "local_date"])
                .values(deliveries[start : start + 1000])
                .returning(table.c.id)
            )
            report.deliveries_new += len(result.all())
    return report


# --------------------------------------------------------------------------- retention


def retention_of(settings: Settings) -> Retention:
    return Retention(
        story_days=settings.story_retention_days,
        delivery_days=settings.delivery_retention_days,
        seen_item_days=settings.seen_item_retention_days,
    )


async def purge(db: Database, now: datetime, retention: Retention) -> Purged:
    """One retention pass in one transaction (safe to run from several processes)."""
    async with db.transaction() as session:
        purged = await purge_expired(session, now, retention)
    if purged.stories or purged.deliveries or purged.seen_items:
        log.info(
            "retention: deleted %d stories, %d delivery records, %d seen feed items",
            purged.stories,
            purged.deliveries,
            purged.seen_items,
        )
    return purged


Sleep = Callable[[float], Awaitable[None]]
PURGE_EVERY_S = 3600.0


async def run_retention(
    db: Database,
    retention: Retention,
    now: Clock,
    *,
    every_s: float = PURGE_EVERY_S,
    stop: asyncio.Event | None = None,
) -> None:
    """Purge at start and then every ``every_s`` until ``stop`` (or cancellation)."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await purge(db, now(), retention)
        except (DBAPIError, OSError) as error:
            log.error("retention purge failed, retrying later: %s", error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)


@contextlib.asynccontextmanager
async def retention_running(
    db: Database, retention: Retention, now: Clock, *, every_s: float = PURGE_EVERY_S
) -> AsyncIterator[asyncio.Task[None]]:
    """The purge loop in the background for as long as the bot runs."""
    task = asyncio.create_task(
        run_retention(db, retention, now, every_s=every_s), name="newsbrief-retention"
    )
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def problems_text(problems: Iterable[str], limit: int = MAX_PROBLEMS) -> list[str]:
    """At most ``limit`` problem lines, then how many more there were."""
    lines = list(problems)
    if len(lines) > limit:
        return [*lines[:limit], f"... and {len(lines) - limit} more problems"]
    return lines


# --------------------------------------------------------------------------- command line


def add_parsers(commands: Any) -> None:
    """``newsbrief export`` and ``newsbrief import`` (``commands``: argparse subparsers)."""
    export = commands.add_parser(
        "export", help="write chats, their settings and feeds as JSON (a backup)"
    )
    export.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    export.set_defaults(handler=cmd_export)
    load = commands.add_parser("import", help="restore a backup written by export")
    load.add_argument("file", metavar="FILE", help="the backup, or - for stdin")
    load.add_argument(
        "--replace",
        action="store_true",
        help="delete chats and subscriptions that are not in the file",
    )
    load.set_defaults(handler=cmd_import)


def _fail(*lines: str) -> int:
    for line in lines:
        print(f"newsbrief: {line}", file=sys.stderr)
    return 1


def _database_url(settings: Settings) -> str:
    from bot.storage.db import default_database_url

    return default_database_url(settings.database_url, settings.data_dir)


def _missing_sqlite(url: str) -> Path | None:
    """The SQLite file a URL names when it does not exist (nothing to export)."""
    if url.startswith("sqlite") and ":///" in url and not url.endswith(":memory:"):
        path = Path(url.split(":///", 1)[1])
        return None if path.exists() else path
    return None


def _db_problem(error: Exception) -> str:
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"database error ({type(error).__name__}: {detail[0] if detail else 'no detail'})"


def _write_private(path: Path, text: str) -> None:
    """Write atomically, readable by the owner only: a backup holds chat IDs and feed URLs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def cmd_export(args: Any, settings: Settings) -> int:
    from bot.storage.config import utc_now
    from bot.storage.db import migrate

    url = _database_url(settings)
    missing = _missing_sqlite(url)
    if missing is not None:
        return _fail(f"no database at {missing}: nothing to export")

    async def run() -> dict[str, Any]:
        await migrate(url)
        db = Database.connect(url)
        try:
            return await export_backup(db, utc_now())
        finally:
            await db.close()

    try:
        document = asyncio.run(run())
    except (SQLAlchemyError, OSError) as error:
        return _fail(_db_problem(error))
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    chats = len(document["subscribers"])
    feeds = sum(len(s["subscriptions"]) for s in document["subscribers"])
    if args.output and args.output != "-":
        try:
            _write_private(Path(args.output), text)
        except OSError as error:
            return _fail(f"cannot write {args.output}: {error.strerror or error}")
        print(
            f"Exported {chats} chats and {feeds} subscriptions to {args.output}.", file=sys.stderr
        )
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0


def cmd_import(args: Any, settings: Settings) -> int:
    from bot.storage.config import utc_now
    from bot.storage.db import migrate

    name = "stdin" if args.file == "-" else args.file
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
    except FileNotFoundError:
        return _fail(f"backup file not found: {args.file}")
    except UnicodeDecodeError:
        return _fail(f"{name}: not UTF-8 text")
    except OSError as error:
        return _fail(f"cannot read {args.file}: {error.strerror or error}")
    try:
        backup = parse_backup(text)
    except BackupError as error:
        count = len(error.problems)
        return _fail(
            *(f"{name}: {line}" for line in problems_text(error.problems)),
            f"nothing was imported ({count} problem{'s' if count != 1 else ''})",
        )
    url = _database_url(settings)

    async def run() -> ImportReport:
        await migrate(url)
        db = Database.connect(url)
        try:
            return await import_backup(db, backup, utc_now(), replace=args.replace)
        finally:
            await db.close()

    try:
        report = asyncio.run(run())
    except (SQLAlchemyError, OSError) as error:
        return _fail(_db_problem(error), "nothing was imported")
    print(f"Imported {name}: {report.summary()}.")
    return 0
