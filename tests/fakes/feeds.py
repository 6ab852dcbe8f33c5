"""A news site on 127.0.0.1 (port 0): RSS/Atom feeds and article pages that change between polls.

Feeds answer conditional GETs (ETag → 304). Special paths: a failing feed (500),
a feed that never ends (streams forever, fast or in a slow trickle), malformed XML, a
redirect loop, and ``raw`` bodies served as given.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from html import escape

from aiohttp import web


@dataclass
class Item:
    guid: str
    title: str
    link: str
    summary: str
    published: datetime | None = None


@dataclass
class FakeFeed:
    title: str
    kind: str = "rss"  # or "atom"
    ttl_min: int | None = None
    items: list[Item] = field(default_factory=list)


@dataclass
class FakeFeeds:
    """Feeds (path -> FakeFeed) and article pages (path -> paragraphs) served on ``base_url``."""

    base_url: str = ""
    feeds: dict[str, FakeFeed] = field(default_factory=dict)
    articles: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    not_modified: int = 0
    failing: set[str] = field(default_factory=set)
    #: Bodies served as they are (path -> (bytes, content type)): hostile feeds, for one.
    raw: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url + path

    def feed(self, path: str, title: str, *, kind: str = "rss", ttl_min: int | None = None) -> str:
        self.feeds[path] = FakeFeed(title, kind, ttl_min)
        return self.url(path)

    def article(self, path: str, title: str, paragraphs: list[str]) -> str:
        self.articles[path] = (title, paragraphs)
        return self.url(path)

    def publish(
        self,
        feed_path: str,
        title: str,
        paragraphs: list[str],
        *,
        article_path: str | None = None,
        link: str | None = None,
        guid: str | None = None,
        published: datetime | None = None,
    ) -> Item:
        """Add an item (newest first) and, unless ``link`` is given, its article page."""
        if link is None:
            path = article_path or f"/news/{hashlib.sha1(title.encode()).hexdigest()[:10]}"
            if path not in self.articles:
                self.article(path, title, paragraphs)
            link = self.url(path)
        item = Item(guid or link, title, link, paragraphs[0], published)
        self.feeds[feed_path].items.insert(0, item)
        return item

    # --- rendering ----------------------------------------------------------------------

    def render(self, feed: FakeFeed) -> bytes:
        if feed.kind == "atom":
            entries = "".join(
                f"<entry><id>{escape(i.guid)}</id><title>{escape(i.title)}</title>"
                f'<link href="{escape(i.link)}"/><summary>{escape(i.summary)}</summary>'
                + (f"<updated>{i.published.isoformat()}</updated>" if i.published else "")
                + "</entry>"
                for i in feed.items
            )
            return (
                '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>{escape(feed.title)}</title><id>urn:fake</id>"
                f"<updated>2025-01-01T00:00:00Z</updated>{entries}</feed>"
            ).encode()
        ttl = f"<ttl>{feed.ttl_min}</ttl>" if feed.ttl_min else ""
        items = "".join(
            f"<item><title>{escape(i.title)}</title><link>{escape(i.link)}</link>"
            f'<guid isPermaLink="false">{escape(i.guid)}</guid>'
            f"<description>{escape('<p>' + i.summary + '</p>')}</description>"
            + (f"<pubDate>{format_datetime(i.published)}</pubDate>" if i.published else "")
            + "</item>"
            for i in feed.items
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(feed.title)}</title><link>{self.base_url}</link>"
            f"<description>fake</description>{ttl}{items}</channel></rss>"
        ).encode()

    def page(self, title: str, paragraphs: list[str]) -> str:
        body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        return (
            f"<!doctype html><html><head><title>{escape(title)}</title></head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>{escape(title)}</h1>{body}</article>"
            "<footer>© Fake News Ltd</footer></body></html>"
        )

    # --- handlers -----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] = self.hits.get(path, 0) + 1
        if path in self.failing or path == "/failing.xml":
            return web.Response(status=500, text="internal error")
        if path == "/malformed.xml":
            return web.Response(
                body=b"<rss><channel><title>Broken</ti", content_type="application/rss+xml"
            )
        if path == "/loop":
            raise web.HTTPFound("/loop")
        if path in self.raw:
            body, content_type = self.raw[path]
            return web.Response(body=body, headers={"Content-Type": content_type})
        if path == "/trickle.xml":  # never ends, but too slowly to reach any size cap
            response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            await response.prepare(request)
            try:
                await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
                while True:
                    await response.write(b"<item><title>drip</title></item>")
                    await asyncio.sleep(0.05)
            except (ConnectionResetError, asyncio.CancelledError):
                return response
        if path == "/endless.xml":
            response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            await response.prepare(request)
            await response.write(
                b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
            )
            try:
                while True:
                    await response.write(b"<item><title>again</title></item>" * 100)
                    await asyncio.sleep(0.01)
            except (ConnectionResetError, asyncio.CancelledError):
                return response
        feed = self.feeds.get(path)
        if feed is not None:
            body = self.render(feed)
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if request.headers.get("If-None-Match") == etag:
                self.not_modified += 1
                return web.Response(status=304, headers={"ETag": etag})
            content_type = "application/atom+xml" if feed.kind == "atom" else "application/rss+xml"
            return web.Response(body=body, headers={"ETag": etag, "Content-Type": content_type})
        article = self.articles.get(path)
        if article is not None:
            return web.Response(text=self.page(*article), content_type="text/html")
        return web.Response(status=404, text="not found")


@asynccontextmanager
async def serve_fake_feeds() -> AsyncIterator[FakeFeeds]:
    fake = FakeFeeds()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield fake
    finally:
        await runner.cleanup()
