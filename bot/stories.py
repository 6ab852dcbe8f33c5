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
import contextlib
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
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
#: Texts per embedding call while ingesting: few calls, each far inside the model time limit.
EMBED_CHUNK = 64

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


@dataclass(eq=False)
class _Candidate:
    """A read article that is not a known URL: merged into a story or a new one."""

    key: str
    canon: str | None
    first: tuple[int, FeedItem]  # the feed and item it was read from
    article: Article
    title: str
    same_text: int | None  # a stored story with exactly this text
    vector: np.ndarray | None = None
    story: Story | None = None
    story_id: int | None = None

    @property
    def item(self) -> FeedItem:
        return self.first[1]

    @property
    def resolved(self) -> int | None:
        return self.story.id if self.story is not None else self.story_id


class _NearIndex:
    """Recent story vectors (L2-normalised) kept in memory, refreshed from the database."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.seen: list[datetime] = []
        self.rows: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None
        self.max_id = 0

    def add(self, story_id: int, vector: np.ndarray, seen: datetime) -> None:
        self.ids.append(story_id)
        self.seen.append(seen)
        self.rows.append(vector.astype(np.float32).reshape(-1))
        self._matrix = None  # stacked again on the next search, not on every add
        self.max_id = max(self.max_id, story_id)

    def prune(self, since: datetime) -> None:
        keep = [i for i, seen in enumerate(self.seen) if seen >= since]
        if len(keep) != len(self.ids):
            self.ids = [self.ids[i] for i in keep]
            self.seen = [self.seen[i] for i in keep]
            self.rows = [self.rows[i] for i in keep]
            self._matrix = None

    def nearest(self, vector: np.ndarray) -> tuple[int | None, float]:
        if not self.ids:
            return None, 0.0
        if self._matrix is None:
            self._matrix = np.stack(self.rows)
        scores = self._matrix @ vector.astype(np.float32)
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
        self._analyse_lock = asyncio.Lock()
        self._fetch = asyncio.Semaphore(config.article_fetch_concurrency)

    # --- ingest ---------------------------------------------------------------------------

    async def ingest(self, report: PollReport) -> list[int]:
        """All items of one polling pass, as one batch; the ids of stories that are new.

        Batched so the cost is per distinct story, not per item or per round trip: known
        URLs and guids are looked up in bulk, pages are read concurrently, every lead is
        embedded in one model call and every new story's sentences in a few more (the
        analysis then finds them cached), and the new stories and all their sources are
        written in one transaction.
        """
        pending: list[tuple[int, FeedItem]] = []
        for feed_id, items in report.items.items():
            pending.extend((feed_id, item) for item in await self._unseen(feed_id, items))
        return await self._ingest_items(pending)

    async def ingest_feed(self, feed_id: int, items: Sequence[FeedItem]) -> list[int]:
        return await self._ingest_items([(feed_id, i) for i in await self._unseen(feed_id, items)])

    async def _unseen(self, feed_id: int, items: Sequence[FeedItem]) -> list[FeedItem]:
        """Recent items of a feed whose guid this feed has not carried before."""
        if not items:
            return []
        cutoff = self.now() - timedelta(hours=self.config.story_window_h)
        fresh = [i for i in items if i.published is None or i.published >= cutoff]
        self.stats.skipped += len(items) - len(fresh)
        guids = list(dict.fromkeys(i.guid[:2000] for i in fresh))
        seen: set[str] = set()
        async with self.db.sessions() as session:
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
        return new

    async def _ingest_items(self, entries: Sequence[tuple[int, FeedItem]]) -> list[int]:
        if not entries:
            return []
        # One representative per URL (or guid); the others only add their feed as a source.
        groups: dict[str, list[tuple[int, FeedItem]]] = {}
        canons: dict[str, str | None] = {}
        for feed_id, item in entries:
            canon = canonical_url(item.url)
            key = canon or f"guid:{item.guid}"
            groups.setdefault(key, []).append((feed_id, item))
            canons[key] = canon
        async with self._analyse_lock:  # dedup decisions + analysis + insert, one batch at a time
            known = await self._known_many(groups, canons)
            links: list[tuple[int | _Candidate, int, FeedItem]] = []
            unread = []
            for key, members in groups.items():
                if key in known:
                    links.extend((known[key], feed_id, item) for feed_id, item in members)
                else:
                    unread.append(key)
            articles = await asyncio.gather(*(self._read(groups[k][0][1]) for k in unread))
            read = [(k, a) for k, a in zip(unread, articles, strict=True) if a is not None]
            try:
                candidates = await self._candidates(read, groups, canons)
            except ModelError as error:  # the items stay unseen: the next poll retries them
                log.warning("%d stories not analysed: %s", len(read), error)
                candidates = []
            fresh = await self._decide(candidates, links, groups)
            created = await self._analyse_and_store(fresh)
            await self._link_many(links)
        return created

    async def _known_many(
        self, groups: Mapping[str, list[tuple[int, FeedItem]]], canons: Mapping[str, str | None]
    ) -> dict[str, int]:
        """Keys whose URL or guid is already a stored story."""
        by_canon = {canon: key for key, canon in canons.items() if canon}
        by_guid = {item.guid[:2000]: key for key, members in groups.items() for _, item in members}
        found: dict[str, int] = {}
        async with self.db.sessions() as session:
            urls = list(by_canon)
            for start in range(0, len(urls), 500):
                rows = await session.execute(
                    select(Story.canonical_url, Story.id).where(
                        Story.canonical_url.in_(urls[start : start + 500])
                    )
                )
                for canon, story_id in rows:
                    if canon in by_canon:
                        found.setdefault(by_canon[canon], int(story_id))
            guids = list(by_guid)
            for start in range(0, len(guids), 500):
                sources = await session.execute(
                    select(StorySource.guid, StorySource.story_id).where(
                        StorySource.guid.in_(guids[start : start + 500]),
                        StorySource.story_id.is_not(None),
                    )
                )
                for guid, story_id in sources:
                    found.setdefault(by_guid[guid], int(story_id))
        return found

    async def _candidates(
        self,
        read: Sequence[tuple[str, Article]],
        groups: Mapping[str, list[tuple[int, FeedItem]]],
        canons: Mapping[str, str | None],
    ) -> list[_Candidate]:
        """Read articles with their content hash's stored story (if any) and lead vector."""
        hashes = list({article.content_hash for _, article in read})
        stored: dict[str, int] = {}
        async with self.db.sessions() as session:
            for start in range(0, len(hashes), 500):
                rows = await session.execute(
                    select(Story.content_hash, Story.id).where(
                        Story.content_hash.in_(hashes[start : start + 500])
                    )
                )
                for content_hash, story_id in rows:
                    stored.setdefault(content_hash, int(story_id))
        out = []
        for key, article in read:
            item = groups[key][0][1]
            title = (article.title or item.title or "Untitled").strip()
            same = stored.get(article.content_hash)
            out.append(_Candidate(key, canons[key], groups[key][0], article, title, same))
        todo = [c for c in out if c.same_text is None]
        for start in range(0, len(todo), EMBED_CHUNK):  # each call well inside the time limit
            chunk = todo[start : start + EMBED_CHUNK]
            vectors = await self.models.embed([_lead(c.article, c.title) for c in chunk])
            self.stats.embedded += len(chunk)
            for candidate, vector in zip(chunk, vectors, strict=True):
                candidate.vector = vector
        return out

    async def _decide(
        self,
        candidates: Sequence[_Candidate],
        links: list[tuple[int | _Candidate, int, FeedItem]],
        groups: Mapping[str, list[tuple[int, FeedItem]]],
    ) -> list[_Candidate]:
        """In arrival order: same text or near a known (or earlier new) story → merged."""
        await self._refresh_index()
        fresh: list[_Candidate] = []
        batch = np.zeros((len(candidates), 384), dtype=np.float32)  # vectors of ``fresh``
        by_hash: dict[str, _Candidate] = {}
        for candidate in candidates:
            target: int | _Candidate | None = candidate.same_text
            if target is None:
                target = by_hash.get(candidate.article.content_hash)
            if target is None and candidate.vector is not None:
                near, score = self._index.nearest(candidate.vector)
                best: int | _Candidate | None = near
                if fresh:  # new stories of this same batch
                    scores = batch[: len(fresh)] @ candidate.vector.astype(np.float32)
                    closest = int(np.argmax(scores))
                    if float(scores[closest]) > score:
                        best, score = fresh[closest], float(scores[closest])
                if best is not None and score >= self.config.dedup_threshold:
                    log.info("%s is a near-duplicate (%.2f)", candidate.item.url, score)
                    target = best
            members = groups[candidate.key]
            if target is None:
                if candidate.vector is not None:
                    batch[len(fresh)] = candidate.vector
                fresh.append(candidate)
                by_hash[candidate.article.content_hash] = candidate
                links.extend((candidate, feed_id, item) for feed_id, item in members[1:])
            else:
                links.extend((target, feed_id, item) for feed_id, item in members)
        return fresh

    async def _analyse_and_store(self, fresh: Sequence[_Candidate]) -> list[int]:
        """One model pass per new story, then every new story in one transaction."""
        if not fresh:
            return []
        # Embed every sentence of the batch in a few length-sorted calls; each story's
        # analysis below then finds its sentences in the model service's cache.
        briefs: list[tuple[_Candidate, Brief]] = []
        for index, candidate in enumerate(fresh):
            if index % 32 == 0:
                chunk = fresh[index : index + 32]
                texts = sorted({s.text for c in chunk for s in c.article.sentences}, key=len)
                for start in range(0, len(texts), EMBED_CHUNK):
                    with contextlib.suppress(ModelError):  # make_brief retries and reports
                        await self.models.embed(texts[start : start + EMBED_CHUNK])
            try:
                brief = await make_brief(
                    candidate.article,
                    self.models,
                    method=self.settings.summary_method,
                    sentences=SUMMARY_LINES,
                )
            except ModelError as error:
                log.warning("story %s not analysed: %s", candidate.item.url, error)
                continue
            self.stats.analysed += 1
            briefs.append((candidate, brief))
        now = self.now()
        try:
            async with self.db.transaction() as session:
                for candidate, brief in briefs:
                    candidate.story = self._story_row(candidate, brief, now)
                    session.add(candidate.story)
                await session.flush()
                for candidate, _ in briefs:
                    assert candidate.story is not None
                    session.add(self._source_row(candidate.story.id, *candidate.first, now))
        except IntegrityError:  # another bot process stored one of these URLs meanwhile
            return await self._store_one_by_one(briefs, now)
        created = []
        for candidate, brief in briefs:
            assert candidate.story is not None and candidate.vector is not None
            self._index.add(candidate.story.id, candidate.vector, now)
            self._cache(candidate.story.id, brief)
            created.append(candidate.story.id)
        self.stats.new_stories += len(created)
        return created

    async def _store_one_by_one(
        self, briefs: Sequence[tuple[_Candidate, Brief]], now: datetime
    ) -> list[int]:
        created = []
        for candidate, brief in briefs:
            candidate.story = None
            story = self._story_row(candidate, brief, now)
            try:
                async with self.db.transaction() as session:
                    session.add(story)
                    await session.flush()
                    session.add(self._source_row(story.id, *candidate.first, now))
            except IntegrityError:
                other = await self._known_many(
                    {candidate.key: [candidate.first]}, {candidate.key: candidate.canon}
                )
                candidate.story_id = other.get(candidate.key)
                if candidate.story_id is not None:
                    await self._link_many([(candidate.story_id, *candidate.first)])
                continue
            candidate.story = story
            assert candidate.vector is not None
            self._index.add(story.id, candidate.vector, now)
            self._cache(story.id, brief)
            created.append(story.id)
        self.stats.new_stories += len(created)
        return created

    def _story_row(self, candidate: _Candidate, brief: Brief, now: datetime) -> Story:
        key = brief.who_said_what[0].quote if brief.who_said_what else None
        assert candidate.vector is not None
        return Story(
            canonical_url=candidate.canon,
            content_hash=candidate.article.content_hash,
            title=candidate.title[:1000],
            url=candidate.item.url,
            text=candidate.article.text,
            bullets=[b.text for b in brief.summary.bullets[:SUMMARY_LINES]],
            quote=key.content.strip().rstrip(",") if key else None,
            speaker=key.speaker if key else None,
            embedding=candidate.vector.astype(np.float32).tobytes(),
            published_on=candidate.article.published,
            first_seen_at=now,
            sources=1,
        )

    @staticmethod
    def _source_row(story_id: int, feed_id: int, item: FeedItem, now: datetime) -> StorySource:
        return StorySource(
            story_id=story_id, feed_id=feed_id, guid=item.guid[:2000], url=item.url, seen_at=now
        )

    async def _link_many(self, links: Sequence[tuple[int | _Candidate, int, FeedItem]]) -> None:
        """Record that feeds carried known stories; recount their distinct sources."""
        rows: list[dict[str, Any]] = []
        for target, feed_id, item in links:
            story_id = target if isinstance(target, int) else target.resolved
            if story_id is None:  # its story could not be analysed or stored
                continue
            rows.append(
                {
                    "story_id": story_id,
                    "feed_id": feed_id,
                    "guid": item.guid[:2000],
                    "url": item.url,
                    "seen_at": self.now(),
                }
            )
        if not rows:
            return
        table = StorySource.__table__
        assert isinstance(table, Table)
        stories = sorted({row["story_id"] for row in rows})
        async with self.db.transaction() as session:
            dialect = session.get_bind().dialect.name
            for start in range(0, len(rows), 500):
                await session.execute(
                    insert_ignore(dialect, table, ["feed_id", "guid"]), rows[start : start + 500]
                )
            for start in range(0, len(stories), 500):
                chunk = stories[start : start + 500]
                counts = await session.execute(
                    select(StorySource.story_id, func.count(func.distinct(StorySource.feed_id)))
                    .where(StorySource.story_id.in_(chunk))
                    .group_by(StorySource.story_id)
                )
                await session.execute(
                    update(Story),
                    [{"id": int(sid), "sources": int(n)} for sid, n in counts if sid is not None],
                )
        self.stats.merged += len(rows)

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
