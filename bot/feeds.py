"""RSS/Atom feeds: fetch politely, parse safely, poll each feed on its own clock.

A feed is fetched with a conditional GET (ETag / Last-Modified), a streamed size
cap, a total deadline (a server that never stops sending cannot hold a worker)
and a redirect limit, through :mod:`summarizer.fetching`, which refuses private
addresses (feed links come from strangers). Its next poll is its TTL or the
configured interval, never sooner than ``feed_min_interval_s``; failures back
off exponentially and, once a feed has failed ``feed_failures_before_notice``
times in a row, its subscribers are told exactly once (a compare-and-set on
``failure_reported``, so two bot processes do not both tell them).
"""

from __future__ import annotations

import asyncio
import calendar
import html
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import feedparser
import httpx
from sqlalchemy import select, update

from bot.storage.config import Clock, DeliverySettings
from bot.storage.db import Database
from bot.storage.models import Feed, Subscription
from summarizer.fetching import FetchError, FetchPolicy, GuardedClient, Resolver, fetch

log = logging.getLogger(__name__)

_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t\r\f\v]+")


class FeedError(Exception):
    """A feed that could not be fetched or parsed; the message is one line."""


@dataclass(frozen=True)
class FeedItem:
    guid: str
    url: str | None
    title: str
    summary: str  # plain text
    published: datetime | None = None


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    ttl_s: float | None
    items: tuple[FeedItem, ...]


@dataclass(frozen=True)
class FetchResult:
    status: Literal["ok", "not_modified"]
    feed: ParsedFeed | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class PollReport:
    """What one polling pass found: new items per feed and feeds to report as failing."""

    items: dict[int, list[FeedItem]] = field(default_factory=dict)
    titles: dict[int, str] = field(default_factory=dict)
    failing: list[Feed] = field(default_factory=list)
    polled: int = 0
    errors: int = 0


def feed_client(
    config: DeliverySettings,
    user_agent: str,
    *,
    allow_hosts: Iterable[str] = (),
    resolver: Resolver | None = None,
) -> httpx.AsyncClient:
    """An HTTP client for feeds and article pages, safe for links strangers subscribe to.

    Private addresses are refused (``allow_hosts`` lets an operator's internal hosts
    through); timeouts, the redirect limit and our agent come from the config.
    """
    policy = FetchPolicy.build(
        allow_hosts, max_redirects=config.feed_max_redirects, resolver=resolver
    )
    return GuardedClient(
        policy,
        timeout_s=config.feed_timeout_s,
        connect_timeout_s=min(config.feed_timeout_s, 10.0),
        user_agent=user_agent,
    )


def html_to_text(value: str) -> str:
    """Feed summaries are HTML fragments; keep their text, one paragraph a line."""
    value = re.sub(r"(?i)<\s*(br|/p|/div|/li|/h\d)\s*/?>", "\n", value)
    value = html.unescape(_TAGS.sub(" ", value))
    lines = (_SPACE.sub(" ", line).strip() for line in value.splitlines())
    return "\n".join(line for line in lines if line)


def _entry_time(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError):
        return None


def parse_feed(body: bytes, content_type: str | None = None) -> ParsedFeed:
    """Parse RSS or Atom bytes (never the network: feedparser gets bytes, not a URL).

    The response's Content-Type lets feedparser honour its charset.
    """
    headers = {"content-type": content_type} if content_type else None
    parsed = feedparser.parse(body, response_headers=headers)
    if parsed.get("bozo") and not parsed.get("entries"):
        problem = parsed.get("bozo_exception")
        raise FeedError(f"not a readable RSS/Atom feed ({type(problem).__name__})")
    if not parsed.get("version") and not parsed.get("entries"):
        raise FeedError("not an RSS/Atom feed")
    items: list[FeedItem] = []
    for entry in parsed.get("entries", []):
        url = entry.get("link") or None
        title = html_to_text(entry.get("title") or "").strip()
        guid = entry.get("id") or url or title
        if not guid:
            continue
        summary = entry.get("summary") or ""
        if not summary and entry.get("content"):
            summary = entry["content"][0].get("value", "")
        items.append(
            FeedItem(
                str(guid),
                url,
                title or (url or "Untitled"),
                html_to_text(summary),
                _entry_time(entry),
            )
        )
    ttl_s = None
    raw_ttl = parsed.get("feed", {}).get("ttl")
    if raw_ttl:
        try:
            ttl_s = float(raw_ttl) * 60.0
        except ValueError:
            ttl_s = None
    feed_title = parsed.get("feed", {}).get("title") or None
    return ParsedFeed(html_to_text(feed_title) if feed_title else None, ttl_s, tuple(items))


async def fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    deadline_s: float,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """GET a feed conditionally; raise :class:`FeedError` on anything unusable."""
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        response = await fetch(
            client, url, kind="feed", max_bytes=max_bytes, deadline_s=deadline_s, headers=headers
        )
    except FetchError as error:
        raise FeedError(str(error)) from None
    if response.status == 304:
        return FetchResult("not_modified", etag=etag, last_modified=last_modified)
    content_type = response.headers.get("content-type")
    feed = await asyncio.to_thread(parse_feed, response.body, content_type)
    return FetchResult(
        "ok", feed, response.headers.get("etag"), response.headers.get("last-modified")
    )


class FeedPoller:
    """Polls due feeds. The database says what is due, so restarts and peers agree."""

    def __init__(
        self, db: Database, http: httpx.AsyncClient, config: DeliverySettings, now: Clock
    ) -> None:
        self.db = db
        self.http = http
        self.config = config
        self.now = now

    def interval_s(self, ttl_s: float | None) -> float:
        return max(self.config.feed_min_interval_s, ttl_s or self.config.feed_default_interval_s)

    def backoff_s(self, failures: int) -> float:
        base = max(self.config.feed_min_interval_s, 1.0)
        return float(min(self.config.feed_max_backoff_s, base * 2 ** min(failures, 30)))

    async def claim_due(self, limit: int = 50) -> list[Feed]:
        """Due feeds someone reads, each claimed with a compare-and-set (one poller wins)."""
        now = self.now()
        async with self.db.transaction() as session:
            subscribed = select(Subscription.id).where(Subscription.feed_id == Feed.id).exists()
            result = await session.execute(
                select(Feed)
                .where(Feed.next_poll_at <= now, subscribed)  # nobody reads it: not polled
                .order_by(Feed.next_poll_at)
                .limit(limit)
            )
            due = list(result.scalars())
        lease = now + timedelta(seconds=self.config.feed_timeout_s * 4 + 60)
        claimed: list[Feed] = []
        for feed in due:
            async with self.db.transaction() as session:
                won = await session.execute(
                    update(Feed)
                    .where(Feed.id == feed.id, Feed.next_poll_at == feed.next_poll_at)
                    .values(next_poll_at=lease)
                )
            if getattr(won, "rowcount", 0) == 1:
                claimed.append(feed)
        return claimed

    async def poll_due(self, limit: int = 50) -> PollReport:
        report = PollReport()
        feeds = await self.claim_due(limit)
        results = await asyncio.gather(*(self._poll(feed, report) for feed in feeds))
        report.polled = len(results)
        return report

    async def _poll(self, feed: Feed, report: PollReport) -> None:
        try:
            result = await fetch_feed(
                self.http,
                feed.url,
                max_bytes=self.config.feed_max_bytes,
                deadline_s=self.config.feed_timeout_s * 2,
                etag=feed.etag,
                last_modified=feed.last_modified,
            )
        except FeedError as error:
            report.errors += 1
            await self._failed(feed, str(error), report)
            return
        now = self.now()
        values: dict[str, Any] = {"failures": 0, "last_error": None, "last_ok_at": now}
        values["failure_reported"] = False
        ttl_s = feed.ttl_s
        if result.feed is not None:
            ttl_s = result.feed.ttl_s
            values.update(etag=result.etag, last_modified=result.last_modified, ttl_s=ttl_s)
            if result.feed.title:
                values["title"] = result.feed.title[:500]
            items = list(result.feed.items[: self.config.feed_items_per_poll])
            if items:
                report.items[feed.id] = items
            report.titles[feed.id] = result.feed.title or feed.title or feed.url
        values["next_poll_at"] = now + timedelta(seconds=self.interval_s(ttl_s))
        async with self.db.transaction() as session:
            await session.execute(update(Feed).where(Feed.id == feed.id).values(**values))

    async def _failed(self, feed: Feed, error: str, report: PollReport) -> None:
        failures = feed.failures + 1
        now = self.now()
        log.info("feed %s failed (%d in a row): %s", feed.url, failures, error)
        async with self.db.transaction() as session:
            await session.execute(
                update(Feed)
                .where(Feed.id == feed.id)
                .values(
                    failures=failures,
                    last_error=error[:500],
                    next_poll_at=now + timedelta(seconds=self.backoff_s(failures)),
                )
            )
            if failures >= self.config.feed_failures_before_notice:
                won = await session.execute(
                    update(Feed)
                    .where(Feed.id == feed.id, Feed.failure_reported.is_(False))
                    .values(failure_reported=True)
                )
                if getattr(won, "rowcount", 0) == 1:
                    feed.failures, feed.last_error = failures, error
                    report.failing.append(feed)
