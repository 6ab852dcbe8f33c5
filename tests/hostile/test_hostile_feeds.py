"""Hostile feeds over real HTTP: huge, endless, malformed, entity bombs — all refused or bounded.

The fake news site (``tests/fakes/feeds.py``) serves them on 127.0.0.1; the fetcher must
answer each with a parsed feed within its caps or a one-line :class:`FeedError`.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.feeds import FeedError, feed_client, fetch_feed, parse_feed
from bot.storage.config import DeliverySettings
from bot.subscriptions import parse_opml
from tests.fakes.feeds import FakeFeeds, Item, serve_fake_feeds

CORPUS = Path(__file__).resolve().parent / "corpus"
CONFIG = DeliverySettings()
RSS = "application/rss+xml"


@pytest.fixture
async def site() -> AsyncIterator[FakeFeeds]:
    async with serve_fake_feeds() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with feed_client(CONFIG, "NewsBrief-test", allow_hosts=["127.0.0.1"]) as client:
        yield client


async def test_a_feed_of_ten_thousand_items_parses_within_the_cap_or_is_refused(
    site: FakeFeeds, http: httpx.AsyncClient
) -> None:
    url = site.feed("/huge.xml", "Everything, always")
    # About 170 bytes an item: 1.7 MB, just under the default 2 MB cap.
    site.feeds["/huge.xml"].items = [
        Item(f"{n}", f"Story {n} <b>&</b>", f"/s/{n}", f"S{n}") for n in range(10_000)
    ]
    started = time.perf_counter()
    result = await fetch_feed(http, url, max_bytes=CONFIG.feed_max_bytes, deadline_s=30)
    elapsed = time.perf_counter() - started
    assert result.feed is not None and len(result.feed.items) == 10_000
    assert result.feed.items[-1].title == "Story 9999 &"
    assert len({item.guid for item in result.feed.items}) == 10_000
    # feedparser takes about 0.2 ms an item on an idle core; generous for a busy machine.
    assert elapsed < 60, f"10,000 items took {elapsed:.1f} s"
    with pytest.raises(FeedError, match=r"larger than 200,000 bytes"):
        await fetch_feed(http, url, max_bytes=200_000, deadline_s=30)


async def test_a_feed_that_never_ends_is_cut_at_the_cap_or_the_deadline(
    site: FakeFeeds, http: httpx.AsyncClient
) -> None:
    started = time.perf_counter()
    with pytest.raises(FeedError, match=r"larger than 100,000 bytes"):
        await fetch_feed(http, site.url("/endless.xml"), max_bytes=100_000, deadline_s=10)
    # One that drips a few bytes at a time never reaches the cap: the deadline ends it.
    with pytest.raises(FeedError, match=r"in time"):
        await fetch_feed(http, site.url("/trickle.xml"), max_bytes=100_000, deadline_s=1.0)
    assert time.perf_counter() - started < 8


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ((CORPUS / "malformed.xml").read_bytes(), RSS),
        (b"", RSS),
        (b"\x00\x01\x02\xff\xfe" * 1000, RSS),
        (b'{"items": [{"title": "a JSON feed is not RSS"}]}', "application/rss+xml"),
        (b"<!doctype html><html><body><p>Not a feed.</p></body></html>", "text/html"),
        (b"<rss version='2.0'><channel><title>x</title>" + b"<item>" * 5000, RSS),
    ],
    ids=["truncated", "empty", "binary", "json", "html", "unclosed"],
)
async def test_malformed_feeds_are_reported_in_one_line_or_parsed_leniently(
    site: FakeFeeds, http: httpx.AsyncClient, body: bytes, content_type: str
) -> None:
    site.raw["/bad.xml"] = (body, content_type)
    try:
        result = await fetch_feed(http, site.url("/bad.xml"), max_bytes=100_000, deadline_s=5)
    except FeedError as error:
        message = str(error)
        assert message.strip() and "\n" not in message and "Traceback" not in message
        assert "not" in message, message
        return
    # feedparser is lenient: whatever it salvaged is plain text with usable ids.
    assert result.feed is not None
    for item in result.feed.items:
        assert item.guid and item.title and "<" not in item.title


async def test_billion_laughs_entities_are_not_expanded(
    site: FakeFeeds, http: httpx.AsyncClient
) -> None:
    site.raw["/lol.xml"] = ((CORPUS / "billion-laughs.xml").read_bytes(), RSS)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        try:
            result = await fetch_feed(http, site.url("/lol.xml"), max_bytes=100_000, deadline_s=5)
        except FeedError as error:
            assert "not" in str(error) and "\n" not in str(error)
            result = None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 5
    assert peak < 20_000_000, f"{peak:,} bytes for a 1 kB feed"
    if result is not None and result.feed is not None:
        texts = [result.feed.title or ""]
        texts += [t for i in result.feed.items for t in (i.title, i.summary)]
        assert all(len(text) < 1_000 for text in texts), [len(t) for t in texts]
        assert "lollollol" not in "".join(texts)


def test_quadratic_entity_blowup_is_bounded() -> None:
    """One 200 kB entity used 20,000 times would be 4 GB; expat refuses the amplification."""
    entity = b"a" * 200_000
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "' + entity + b'">]>'
        b'<rss version="2.0"><channel><title>q</title><item><guid>g</guid><title>'
        + b"&big;" * 20_000
        + b"</title></item></channel></rss>"
    )
    started = time.perf_counter()
    try:
        feed = parse_feed(body)
    except FeedError:
        return
    assert time.perf_counter() - started < 5
    assert all(len(item.title) <= len(body) for item in feed.items)


def test_opml_import_refuses_entity_bombs() -> None:
    with pytest.raises(ValueError, match=r"not valid OPML \(EntitiesForbidden\)"):
        parse_opml((CORPUS / "billion-laughs.opml").read_text("utf-8"))
