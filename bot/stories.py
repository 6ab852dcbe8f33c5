"""Stories: ingest feed items once, merge duplicates, rank per subscriber, compose a digest.

Work grows with distinct stories, not subscribers: an item whose story is already
known (same canonical URL, guid, text hash, or a near-duplicate by MiniLM
embedding) only adds a source ("also reported by …"); a new story is fetched,
read and analysed once (``make_brief``) and its two-line summary and key quote
stored. Ranking and composing are pure Python over one in-memory pool of recent
stories per delivery pass.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import numpy as np
from sqlalchemy import Table, func, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.messages import Block, Bullets, Button, Context, Heading, Quote, Reply, Text
from bot.feeds import FeedItem, PollReport
from bot.storage.config import Clock, DeliverySettings
from bot.storage.db import Database
from bot.storage.models import Feed, Story, StorySource, Subscription
from bot.storage.repository import insert_ignore
from config.settings import Settings
from summarizer.briefing import Brief, make_brief
from summarizer.models import ModelError, ModelService
from summarizer.reading import Article, ReadError, build_article, read_source

log = logging.getLogger(__name__)

SUMMARY_LINES = 2

_TRACKING = re.compile(
    r"^(utm_\w*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_hsenc|_hsmi|ref|ref_src|"
    r"cmpid|ocid|ncid|smid|spm|at_medium|at_campaign|at_custom\d*|__twitter_impression)$",
    re.IGNORECASE,
)


def canonical_url(url: str | None) -> str | None:
    """One spelling per article URL: https, no www., no tracking parameters or fragment."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING.match(key)
    )
    return urlunsplit(("https", host, path, urlencode(query), ""))


def _lead(article: Article, title: str) -> str:
    """Title and first sentences: what near-duplicate detection compares."""
    heading = title.strip().lower()
    body = [s.text.strip() for s in article.sentences]
    if body and body[0].lower().startswith(heading):  # pages repeat their headline
        body[0] = body[0][len(heading) :].strip()
    lead = " ".join([text for text in body if len(text) > 30][:2])
    return f"{title}. {lead}".strip()[:1000]


@dataclass
class IngestStats:
    """Counters the benchmark and logs read; ``analysed`` is one model pass per story."""

    items: int = 0
    new_stories: int = 0
    merged: int = 0
    pages_fetched: int = 0
    page_fallbacks: int = 0
    embedded: int = 0
    analysed: int = 0
    skipped: int = 0


class _NearIndex:
    """Recent story vectors (L2-normalised) kept in memory, refreshed from the database."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.seen: list[datetime] = []
        self.matrix = np.zeros((0, 384), dtype=np.float32)
        self.max_id = 0

    def add(self, story_id: int, vector: np.ndarray, seen: datetime) -> None:
        self.ids.append(story_id)
        self.seen.append(seen)
        row = vector.astype(np.float32).reshape(1, -1)
        self.matrix = row if not len(self.matrix) else np.vstack([self.matrix, row])
        self.max_id = max(self.max_id, story_id)

    def prune(self, since: datetime) -> None:
        keep = [i for i, seen in enumerate(self.seen) if seen >= since]
        if len(keep) != len(self.ids):
            self.ids = [self.ids[i] for i in keep]
            self.seen = [self.seen[i] for i in keep]
            self.matrix = self.matrix[keep] if keep else np.zeros((0, 384), dtype=np.float32)

    def nearest(self, vector: np.ndarray) -> tuple[int | None, float]:
        if not self.ids:
            return None, 0.0
        scores = self.matrix @ vector.astype(np.float32)
        best = int(np.argmax(scores))
        return self.ids[best], float(scores[best])


class StoryService:
    """Turns polled feed items into stored, analysed, de-duplicated stories."""

    def __init__(
        self,
        db: Database,
        models: ModelService,
        http: httpx.AsyncClient,
        settings: Settings,
        config: DeliverySettings,
        now: Clock,
        *,
        brief_cache: int = 2000,
    ) -> None:
        self.db = db
        self.models = models
        self.http = http
        self.settings = settings
        self.config = config
        self.now = now
        self.stats = IngestStats()
        self._briefs: OrderedDict[int, Brief] = OrderedDict()
        self._brief_cache = brief_cache
        self._index = _NearIndex()
        self._inflight: dict[str, asyncio.Future[int | None]] = {}
        self._analyse_lock = asyncio.Lock()  # dedup decision + analysis + insert, one at a time
        self._fetch = asyncio.Semaphore(config.article_fetch_concurrency)

    # --- ingest ---------------------------------------------------------------------------

    async def ingest(self, report: PollReport) -> list[int]:
        """All items of one polling pass; the ids of stories that are new."""
        batches = [self.ingest_feed(feed_id, items) for feed_id, items in report.items.items()]
        results = await asyncio.gather(*batches)
        return [story_id for ids in results for story_id in ids]

    async def ingest_feed(self, feed_id: int, items: Sequence[FeedItem]) -> list[int]:
        if not items:
            return []
        cutoff = self.now() - timedelta(hours=self.config.story_window_h)
        fresh = [i for i in items if i.published is None or i.published >= cutoff]
        self.stats.skipped += len(items) - len(fresh)
        guids = list(dict.fromkeys(i.guid[:2000] for i in fresh))
        async with self.db.sessions() as session:
            seen: set[str] = set()
            for start in range(0, len(guids), 500):
                result = await session.execute(
                    select(StorySource.guid).where(
                        StorySource.feed_id == feed_id,
                        StorySource.guid.in_(guids[start : start + 500]),
                    )
                )
                seen.update(result.scalars())
        new = [item for item in fresh if item.guid[:2000] not in seen]
        new = list({item.guid: item for item in new}.values())
        self.stats.items += len(new)
        created = await asyncio.gather(*(self._item(feed_id, item) for item in new))
        return [story_id for story_id in created if story_id is not None]

    async def _item(self, feed_id: int, item: FeedItem) -> int | None:
        """The id of the story if it is new; None when merged or unreadable."""
        canon = canonical_url(item.url)
        key = canon or f"guid:{item.guid}"
        waiting = self._inflight.get(key)
        if waiting is not None:  # the same URL from another feed, being read right now
            other = await asyncio.shield(waiting)
            if other is not None:
                await self._link(other, feed_id, item)
            return None
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        story_id: int | None = None
        created = False
        try:
            story_id, created = await self._resolve(feed_id, item, canon)
        except (ReadError, ModelError) as error:
            log.warning("story %s not analysed: %s", item.url or item.guid, error)
        finally:
            future.set_result(story_id)
            del self._inflight[key]
        return story_id if created else None

    async def _resolve(
        self, feed_id: int, item: FeedItem, canon: str | None
    ) -> tuple[int | None, bool]:
        existing = await self._known(canon, item.guid)
        if existing is not None:
            await self._link(existing, feed_id, item)
            return existing, False
        article = await self._read(item)
        if article is None:
            return None, False
        async with self._analyse_lock:
            return await self._store(feed_id, item, canon, article)

    async def _known(self, canon: str | None, guid: str) -> int | None:
        async with self.db.sessions() as session:
            if canon:
                found = await session.scalar(select(Story.id).where(Story.canonical_url == canon))
                if found is not None:
                    return int(found)
            found = await session.scalar(
                select(StorySource.story_id).where(StorySource.guid == guid[:2000]).limit(1)
            )
            return int(found) if found is not None else None

    async def _read(self, item: FeedItem) -> Article | None:
        """The article page read with summarizer.reading, else the feed's own summary."""
        published = item.published.date() if item.published else None
        if item.url:
            try:
                async with self._fetch:
                    self.stats.pages_fetched += 1
                    article = await read_source(
                        item.url,
                        published=published,
                        max_chars=self.settings.max_article_chars,
                        max_fetch_bytes=self.settings.max_fetch_bytes,
                        http_client=self.http,
                    )
                if article.title is None:
                    object.__setattr__(article, "title", item.title)
                return article
            except ReadError as error:
                log.info("reading %s failed (%s); using the feed's summary", item.url, error)
        self.stats.page_fallbacks += 1
        for text in (item.summary, f"{item.title}\n\n{item.summary}"):
            try:
                return build_article(
                    text,
                    title=item.title,
                    url=item.url,
                    published=published,
                    max_chars=self.settings.max_article_chars,
                )
            except ReadError:
                continue
        return None

    async def _store(
        self, feed_id: int, item: FeedItem, canon: str | None, article: Article
    ) -> tuple[int | None, bool]:
        content_hash = article.content_hash
        async with self.db.sessions() as session:
            same = await session.scalar(
                select(Story.id).where(Story.content_hash == content_hash).limit(1)
            )
        if same is not None:
            await self._link(int(same), feed_id, item)
            return int(same), False
        title = (article.title or item.title or "Untitled").strip()
        vector = (await self.models.embed([_lead(article, title)]))[0]
        self.stats.embedded += 1
        await self._refresh_index()
        near, score = self._index.nearest(vector)
        log.debug("closest to %r: story %s (%.3f)", _lead(article, title)[:200], near, score)
        if near is not None and score >= self.config.dedup_threshold:
            log.info("%s is a near-duplicate (%.2f) of story %d", item.url, score, near)
            await self._link(near, feed_id, item)
            return near, False
        brief = await make_brief(
            article, self.models, method=self.settings.summary_method, sentences=SUMMARY_LINES
        )
        self.stats.analysed += 1
        now = self.now()
        key = brief.who_said_what[0].quote if brief.who_said_what else None
        story = Story(
            canonical_url=canon,
            content_hash=content_hash,
            title=title[:1000],
            url=item.url,
            text=article.text,
            bullets=[b.text for b in brief.summary.bullets[:SUMMARY_LINES]],
            quote=key.content.strip().rstrip(",") if key else None,
            speaker=key.speaker if key else None,
            embedding=vector.astype(np.float32).tobytes(),
            published_on=article.published,
            first_seen_at=now,
            sources=1,
        )
        try:
            async with self.db.transaction() as session:
                session.add(story)
                await session.flush()
                session.add(
                    StorySource(
                        story_id=story.id,
                        feed_id=feed_id,
                        guid=item.guid[:2000],
                        url=item.url,
                        seen_at=now,
                    )
                )
        except IntegrityError:  # another bot process stored the same URL meanwhile
            other = await self._known(canon, item.guid)
            if other is not None:
                await self._link(other, feed_id, item)
            return other, False
        self._index.add(story.id, vector, now)
        self._cache(story.id, brief)
        self.stats.new_stories += 1
        return story.id, True

    async def _link(self, story_id: int, feed_id: int, item: FeedItem) -> None:
        """Record that a feed carried a known story; recount its distinct sources."""
        table = StorySource.__table__
        assert isinstance(table, Table)
        async with self.db.transaction() as session:
            dialect = session.get_bind().dialect.name
            await session.execute(
                insert_ignore(dialect, table, ["feed_id", "guid"]).values(
                    story_id=story_id,
                    feed_id=feed_id,
                    guid=item.guid[:2000],
                    url=item.url,
                    seen_at=self.now(),
                )
            )
            count = (
                select(func.count(func.distinct(StorySource.feed_id)))
                .where(StorySource.story_id == story_id)
                .scalar_subquery()
            )
            await session.execute(update(Story).where(Story.id == story_id).values(sources=count))
        self.stats.merged += 1

    async def _refresh_index(self) -> None:
        since = self.now() - timedelta(hours=self.config.story_window_h)
        self._index.prune(since)
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(Story.id, Story.embedding, Story.first_seen_at)
                .where(Story.id > self._index.max_id, Story.first_seen_at >= since)
                .order_by(Story.id)
            )
            for story_id, blob, seen in rows:
                if blob:
                    self._index.add(story_id, np.frombuffer(blob, dtype=np.float32), seen)

    # --- briefs kept for follow-up questions ----------------------------------------------

    def _cache(self, story_id: int, brief: Brief) -> None:
        self._briefs[story_id] = brief
        self._briefs.move_to_end(story_id)
        while len(self._briefs) > self._brief_cache:
            self._briefs.popitem(last=False)

    async def briefs_for(self, story_ids: Sequence[int], *, rebuild: bool = True) -> list[Brief]:
        """Briefs of delivered stories; after a restart rebuilt once from the stored text."""
        missing = [i for i in story_ids if i not in self._briefs]
        if missing and rebuild:
            async with self.db.sessions() as session:
                rows = (await session.execute(select(Story).where(Story.id.in_(missing)))).scalars()
                stories = list(rows)
            for story in stories:
                try:
                    article = build_article(
                        story.text, title=story.title, url=story.url, published=story.published_on
                    )
                    brief = await make_brief(
                        article,
                        self.models,
                        method=self.settings.summary_method,
                        sentences=SUMMARY_LINES,
                    )
                except (ReadError, ModelError) as error:
                    log.warning("cannot rebuild story %d: %s", story.id, error)
                    continue
                self._cache(story.id, brief)
        return [self._briefs[i] for i in story_ids if i in self._briefs]


# --------------------------------------------------------------------------- ranking


@dataclass(frozen=True)
class PoolStory:
    id: int
    title: str
    url: str | None
    bullets: tuple[str, ...]
    quote: str | None
    speaker: str | None
    first_seen_at: datetime
    sources: int
    feeds: dict[int, datetime]  # feed id -> when that feed carried it
    haystack: str  # lower-case text searched for keywords


@dataclass(frozen=True)
class Profile:
    """What ranking needs to know about one subscriber."""

    subscriber_id: int
    stories: int
    topics: tuple[str, ...]
    since: datetime
    feeds: dict[int, tuple[str, ...]]  # feed id -> keywords (empty: everything)


@dataclass(frozen=True)
class Ranked:
    story: PoolStory
    score: float
    source: str
    also: tuple[str, ...]


@dataclass
class StoryPool:
    """Recent stories and feed titles, loaded once per delivery pass."""

    stories: dict[int, PoolStory] = field(default_factory=dict)
    by_feed: dict[int, list[int]] = field(default_factory=dict)
    titles: dict[int, str] = field(default_factory=dict)


def _matches(keyword: str, haystack: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(keyword.lower())}(?!\w)", haystack) is not None


async def load_pool(db: Database, since: datetime) -> StoryPool:
    """Every story a subscribed feed carried since ``since`` (bounded by a day or two of news)."""
    pool = StoryPool()
    async with db.sessions() as session:
        rows = await session.execute(
            select(StorySource.story_id, StorySource.feed_id, StorySource.seen_at).where(
                StorySource.seen_at >= since
            )
        )
        links: dict[int, dict[int, datetime]] = {}
        for story_id, feed_id, seen_at in rows:
            feeds = links.setdefault(story_id, {})
            feeds[feed_id] = min(seen_at, feeds.get(feed_id, seen_at))
        ids = list(links)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            result = await session.execute(select(Story).where(Story.id.in_(chunk)))
            for story in result.scalars():
                # all the feeds that carried it, also before ``since``, for "also reported by"
                pool.stories[story.id] = PoolStory(
                    id=story.id,
                    title=story.title,
                    url=story.url,
                    bullets=tuple(story.bullets or ()),
                    quote=story.quote,
                    speaker=story.speaker,
                    first_seen_at=story.first_seen_at,
                    sources=story.sources,
                    feeds=links[story.id],
                    haystack=" ".join(
                        [story.title, *(story.bullets or ()), story.quote or "", story.text[:3000]]
                    ).lower(),
                )
        all_sources = await session.execute(
            select(StorySource.story_id, StorySource.feed_id).where(StorySource.story_id.in_(ids))
            if len(ids) <= 30_000
            else select(StorySource.story_id, StorySource.feed_id).where(
                StorySource.seen_at >= since
            )
        )
        carriers: dict[int, set[int]] = {}
        for story_id, feed_id in all_sources:
            carriers.setdefault(story_id, set()).add(feed_id)
        for story_id, feed_ids in carriers.items():
            known = pool.stories.get(story_id)
            if known is not None:
                for feed_id in feed_ids:
                    known.feeds.setdefault(feed_id, known.first_seen_at)
        for story_id, pooled in pool.stories.items():
            for feed_id in pooled.feeds:
                pool.by_feed.setdefault(feed_id, []).append(story_id)
        titles = await session.execute(select(Feed.id, Feed.title, Feed.url))
        pool.titles = {feed_id: title or _host(url) for feed_id, title, url in titles}
    return pool


def _host(url: str) -> str:
    return (urlsplit(url).hostname or url).removeprefix("www.")


def rank(pool: StoryPool, profile: Profile, now: datetime) -> list[Ranked]:
    """A subscriber's top stories: keyword/topic match, sources, recency since the last brief."""
    topics = [t.lower() for t in profile.topics]
    scored: dict[int, Ranked] = {}
    for feed_id, keywords in profile.feeds.items():
        for story_id in pool.by_feed.get(feed_id, ()):
            story = pool.stories[story_id]
            seen = story.feeds.get(feed_id)
            if seen is None or seen < profile.since or story_id in scored:
                continue
            hits = sum(_matches(k, story.haystack) for k in keywords)
            if keywords and not hits:
                continue
            topic_hits = sum(_matches(t, story.haystack) for t in topics)
            if topics and not topic_hits:
                continue
            age_h = max(0.0, (now - story.first_seen_at).total_seconds() / 3600)
            score = (
                2.0 * min(hits + topic_hits, 3)
                + math.log2(1 + story.sources)
                + math.exp(-age_h / 12)
            )
            others = tuple(
                pool.titles.get(other, "another feed")
                for other in sorted(story.feeds)
                if other != feed_id
            )
            scored[story_id] = Ranked(story, score, pool.titles.get(feed_id, "your feed"), others)
    ranked = sorted(
        scored.values(), key=lambda r: (-r.score, -r.story.first_seen_at.timestamp(), r.story.id)
    )
    return ranked[: profile.stories]


async def load_profiles(
    db: Database, subscribers: Iterable[tuple[int, int, Sequence[str], datetime]]
) -> dict[int, Profile]:
    """Profiles for ``(subscriber id, stories, topics, since)`` rows, their feeds in one query."""
    rows = list(subscribers)
    feeds: dict[int, dict[int, tuple[str, ...]]] = {row[0]: {} for row in rows}
    ids = list(feeds)
    async with db.sessions() as session:
        for start in range(0, len(ids), 500):
            result = await session.execute(
                select(
                    Subscription.subscriber_id, Subscription.feed_id, Subscription.keywords
                ).where(Subscription.subscriber_id.in_(ids[start : start + 500]))
            )
            for subscriber_id, feed_id, keywords in result:
                feeds[subscriber_id][feed_id] = tuple(keywords or ())
    return {
        sid: Profile(sid, stories, tuple(topics), since, feeds[sid])
        for sid, stories, topics, since in rows
    }


def compose_digest(ranked: Sequence[Ranked], day: date, *, title: str = "Your news brief") -> Reply:
    """One message: each story with a two-line summary, its key quote and who else reported it."""
    blocks: list[Block] = [Heading(f"{title} · {day.strftime('%a %d %b %Y')}")]
    if not ranked:
        blocks.append(Text("Nothing new from your feeds since your last brief."))
        return Reply(tuple(blocks), (Button("My subscriptions", "s:l"),))
    for number, item in enumerate(ranked, 1):
        story = item.story
        blocks.append(Text(f"{number}. {story.title}", bold=True))
        if story.bullets:
            blocks.append(Bullets(story.bullets[:SUMMARY_LINES]))
        if story.quote:
            blocks.append(Quote(story.quote, story.speaker))
        meta = [item.source]
        if item.also:
            meta.append("also reported by " + ", ".join(item.also[:4]))
        if story.url:
            meta.append(story.url)
        blocks.append(Context(" · ".join(meta)))
    blocks.append(
        Context("Ask me about the top story — e.g. “who said what?” — or send /digest any time.")
    )
    return Reply(tuple(blocks), (Button("My subscriptions", "s:l"),))
