"""Feeds over real HTTP (fake site), ingest with the bundled models, chat commands, senders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from bot.core.chat import ChatCore
from bot.core.messages import Context, Incoming, Reply, plain_text
from bot.delivery import (
    BriefScheduler,
    MemorySender,
    SendResult,
    SlackSender,
    Target,
    TelegramSender,
)
from bot.feeds import FeedError, FeedPoller, feed_client, fetch_feed
from bot.storage.db import Database
from bot.storage.models import Feed, Story, Subscriber
from bot.stories import StoryService
from bot.subscriptions import SubscriptionCommands
from config.settings import Settings
from summarizer.models import ModelService
from tests.delivery.helpers import CONFIG, add_story, add_subscriber, at
from tests.fakes.feeds import FakeFeeds, serve_fake_feeds
from tests.storage.databases import Clock

BRIDGE = [
    "The city council on Monday approved a budget of 40 million dollars for three new bridges.",
    '"This is a historic day for our city," said Mayor Jane Okafor at a press conference.',
    "Opposition leader Tom Briggs said the plan was reckless and would raise taxes.",
    "Construction is expected to begin in the spring, according to the transport authority.",
]
BRIDGE_PARAPHRASE = [
    "Councillors voted on Monday to spend 40 million dollars on three new bridges, "
    "a move Mayor Jane Okafor hailed as historic.",
    '"Today is historic for the city," Okafor told reporters, while Tom Briggs of the opposition '
    "called the spending reckless.",
    "Work on the bridges should start in spring, the transport authority said.",
]
STORM = [
    "Heavy rain flooded three coastal towns overnight, officials said on Tuesday.",
    '"We have never seen water this high," said fire chief Maria Lopez.',
    "Hundreds of residents spent the night in school gyms as roads stayed closed.",
]


@pytest.fixture
async def site() -> AsyncIterator[FakeFeeds]:
    async with serve_fake_feeds() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with feed_client(CONFIG, "NewsBrief-test", allow_hosts=["127.0.0.1"]) as client:
        yield client


async def test_fetch_feed_conditional_get_and_hostile_feeds(
    site: FakeFeeds, http: httpx.AsyncClient
) -> None:
    url = site.feed("/rss.xml", "Daily Planet", ttl_min=30)
    site.publish("/rss.xml", "Bridge approved", BRIDGE)
    first = await fetch_feed(http, url, max_bytes=100_000, deadline_s=5)
    assert first.status == "ok" and first.feed is not None
    assert first.feed.title == "Daily Planet" and first.feed.ttl_s == 1800
    assert [i.title for i in first.feed.items] == ["Bridge approved"]
    again = await fetch_feed(http, url, max_bytes=100_000, deadline_s=5, etag=first.etag)
    assert again.status == "not_modified" and site.not_modified == 1
    atom = site.feed("/atom.xml", "Atom Times", kind="atom")
    site.publish("/atom.xml", "Storm floods towns", STORM)
    parsed = await fetch_feed(http, atom, max_bytes=100_000, deadline_s=5)
    assert parsed.feed is not None and parsed.feed.items[0].title == "Storm floods towns"
    for path, problem in [
        ("/endless.xml", "larger than"),
        ("/malformed.xml", "not a readable"),
        ("/failing.xml", "HTTP 500"),
        ("/loop", "too many redirects"),
    ]:
        with pytest.raises(FeedError, match=problem):
            await fetch_feed(http, site.url(path), max_bytes=50_000, deadline_s=5)


async def test_feeds_at_private_addresses_or_of_the_wrong_type_are_refused(
    site: FakeFeeds, http: httpx.AsyncClient
) -> None:
    url = site.feed("/rss.xml", "Daily Planet")
    async with feed_client(CONFIG, "NewsBrief-test") as strict:  # no allow-list
        with pytest.raises(FeedError, match="can't open links to private addresses"):
            await fetch_feed(strict, url, max_bytes=100_000, deadline_s=5)
    assert "/rss.xml" not in site.hits
    page = site.article("/news/page", "Bridge approved", BRIDGE)  # text/html
    with pytest.raises(FeedError, match=r"not a feed \(it is text/html\)"):
        await fetch_feed(http, page, max_bytes=100_000, deadline_s=5)


async def test_failing_feed_backs_off_and_is_reported_once(
    db: Database, site: FakeFeeds, http: httpx.AsyncClient
) -> None:
    clock = Clock(at("2025-06-01T00:00:00+00:00"))
    url = site.url("/failing.xml")
    await add_subscriber(db, clock, "reader", [url])
    sender = MemorySender()
    poller = FeedPoller(db, http, CONFIG, clock)
    brief = BriefScheduler(db, CONFIG, {"test": sender}, clock, poller=poller, owner="x")
    gaps = []
    for _ in range(6):
        await brief.poll_feeds()
        async with db.sessions() as session:
            feed = (await session.execute(select(Feed))).scalar_one()
        gaps.append((feed.next_poll_at - clock()).total_seconds())
        await brief.poll_feeds()  # not due yet: no request
        clock.set(feed.next_poll_at)
    assert site.hits["/failing.xml"] == 6
    assert gaps == [120, 240, 480, 960, 1920, 3840]  # exponential back-off from the 60 s minimum
    notices = [plain_text(r) for r in sender.to("reader")]
    assert len(notices) == 1 and "couldn't read the feed" in notices[0] and "HTTP 500" in notices[0]


async def test_ingest_merges_duplicates_and_answers_follow_ups(
    db: Database, site: FakeFeeds, http: httpx.AsyncClient, settings: Settings, models: ModelService
) -> None:
    clock = Clock(at("2025-06-01T05:00:00+00:00"))
    planet = site.feed("/planet.xml", "Daily Planet")
    herald = site.feed("/herald.xml", "Herald", kind="atom")
    gazette = site.feed("/gazette.xml", "Gazette")
    item = site.publish("/planet.xml", "Council approves bridge budget", BRIDGE)
    # The same article with tracking parameters, and a rewrite of it on another site.
    site.publish(
        "/herald.xml", "Council approves bridge budget", BRIDGE, link=item.link + "?utm_source=rss"
    )
    site.publish("/gazette.xml", "City backs $40m bridge plan", BRIDGE_PARAPHRASE)
    site.publish("/gazette.xml", "Storm floods coastal towns", STORM)
    sender = MemorySender()
    core = ChatCore(settings, models, http)
    stories = StoryService(db, models, http, settings, CONFIG, clock)
    brief = BriefScheduler(
        db,
        CONFIG,
        {"test": sender},
        clock,
        stories=stories,
        poller=FeedPoller(db, http, CONFIG, clock),
        remember=core.remember,
        owner="x",
    )
    plugin = SubscriptionCommands(db, CONFIG, clock, http=http)
    for url in (planet, herald, gazette):
        reply = await plugin.handle(
            Incoming("test", "reader", "u", command="subscribe", args=url), None
        )  # type: ignore[arg-type]
        assert "Subscribed to" in plain_text(reply[0])
    await brief.poll_feeds()
    assert stories.stats.analysed == 2 and stories.stats.new_stories == 2  # bridge + storm
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Story)) == 2
    clock.set(at("2025-06-01T07:30:00+00:00"))
    await brief.poll_feeds()  # nothing new: conditional GETs
    assert site.not_modified == 3 and stories.stats.analysed == 2
    report = await brief.deliver_due()
    assert report.sent == 1
    digest = plain_text(sender.to("reader")[0])
    # whichever version was read first stands for both
    assert ("Council approves bridge budget" in digest) != ("City backs $40m bridge plan" in digest)
    assert "Storm floods" in digest
    assert "also reported by" in digest and "Jane Okafor" in digest
    # The daily brief is remembered in the chat: a follow-up question is answered from it.
    answer = await core.handle(Incoming("test", "reader", "u", text="What did Okafor say?"))
    assert "historic" in plain_text(answer[0]), plain_text(answer[0])


async def test_chat_commands_are_friendly(
    db: Database, site: FakeFeeds, http: httpx.AsyncClient, settings: Settings, models: ModelService
) -> None:
    clock = Clock(at("2025-06-01T05:00:00+00:00"))
    plugin = SubscriptionCommands(db, CONFIG, clock, http=http)
    core = ChatCore(settings, models, http, plugins=[plugin])

    async def say(command: str, args: str = "", button: str | None = None) -> str:
        message = Incoming("test", "chat", "u", command=command or None, args=args, button=button)
        replies = await core.handle(message)
        return "\n".join(plain_text(r) for r in replies)

    async def buttons(command: str, args: str = "") -> list[str]:
        replies = await core.handle(Incoming("test", "chat", "u", command=command, args=args))
        return [b.payload for r in replies for b in r.buttons]

    assert "not a feed link" in await say("subscribe", "ftp://x")
    assert "Which feed?" in await say("subscribe")
    assert "couldn't read a feed" in await say("subscribe", site.url("/malformed.xml"))
    assert "Subscribe to a feed first" in await say("time", "08:00")
    url = site.feed("/rss.xml", "Daily Planet")
    reply = await say("subscribe", f"{url} tariffs steel")
    assert "Subscribed to Daily Planet (only stories about tariffs, steel)" in reply
    assert "07:30 (UTC)" in reply
    assert "When should" in await say("time", "25:61")
    assert "08:15 (UTC)" in await say("time", "8:15am")
    zone_buttons = await buttons("timezone", "Mars/Olympus")
    assert "s:tz:Europe/Berlin" in zone_buttons and all(len(p.encode()) < 64 for p in zone_buttons)
    assert "(Europe/Berlin)" in await say("", button="s:tz:Europe/Berlin")
    assert "(America/New_York)" in await say("timezone", "america/new_york")
    assert "How many stories" in await say("stories", "0")
    assert "up to 3 stories" in await say("stories", "3")
    assert "only has stories about: trade" in await say("topics", "trade")
    assert "paused" in await say("pause")
    async with db.sessions() as session:
        subscriber = (await session.execute(select(Subscriber))).scalar_one()
        assert subscriber.next_run_at is None
    assert "08:15" in await say("resume")
    outlines = f'<outline xmlUrl="{site.url("/a.xml")}"/><outline xmlUrl="{url}"/>'
    opml = f'<opml version="2.0"><body>{outlines}</body></opml>'
    assert "Imported 1 new feeds (1 you already had)" in await say("import", opml)
    assert "couldn't read that" in await say("import", "<opml><body>")
    listing = await buttons("subscriptions")
    assert len(listing) == 2 and all(
        p.startswith("s:rm:") and len(p.encode()) < 64 for p in listing
    )
    assert "Unsubscribed from" in await say("", button=listing[0])
    assert "already gone" in await say("", button=listing[0])
    assert "not subscribed" in await say("unsubscribe", "https://nope.example/rss")
    assert "Nothing new" in await say("digest")
    assert "all 1 feeds" in await say("unsubscribe", "all")
    assert "no subscriptions yet" in await say("subscriptions")


async def test_digest_command_and_blocked_chat(db: Database) -> None:
    clock = Clock(at("2025-06-01T05:00:00+00:00"))
    feed = "https://feeds.example/world.xml"
    await add_subscriber(db, clock, "gone", [feed])
    await add_story(db, clock, [feed], "The news")
    plugin = SubscriptionCommands(db, CONFIG, clock)
    reply = await plugin.handle(Incoming("test", "gone", "u", command="digest"), None)  # type: ignore[arg-type]
    assert "The news" in plain_text(reply[0])
    clock.advance(hours=2, minutes=30)
    sender = MemorySender(script={"gone": [SendResult.blocked("Forbidden: bot was blocked")]})
    report = await BriefScheduler(db, CONFIG, {"test": sender}, clock, owner="x").deliver_due()
    assert report.blocked == 1
    async with db.sessions() as session:
        subscriber = (await session.execute(select(Subscriber))).scalar_one()
    assert not subscriber.active and subscriber.next_run_at is None
    clock.advance(days=1)
    assert (
        await BriefScheduler(db, CONFIG, {"test": sender}, clock, owner="x").deliver_due()
    ).claimed == 0


async def test_telegram_sender_against_fake_bot_api() -> None:
    from tests.fakes.telegram_api import serve_fake_telegram

    async with serve_fake_telegram() as fake, httpx.AsyncClient() as http:
        sender = TelegramSender(http, fake.api_url, fake.token)
        clock = Clock(at("2025-06-01T05:00:00+00:00"))
        from bot.stories import compose_digest

        reply = compose_digest([], clock().date())
        assert (await sender.send(Target("telegram", "42"), reply)).status == "ok"
        sent = fake.messages(42)
        assert len(sent) == 1 and "Nothing new" in sent[0].plain
        assert [b["callback_data"] for b in sent[0].buttons] == ["s:l"]
        fake.flood(1, retry_after=3)
        result = await sender.send(Target("telegram", "42"), reply)
        assert result.status == "retry_after" and result.retry_after_s == 3
        fake.block(42)
        assert (await sender.send(Target("telegram", "42"), reply)).status == "blocked"


async def test_slack_sender_against_fake_web_api() -> None:
    from tests.fakes.slack_api import serve_fake_slack

    async with serve_fake_slack() as fake, httpx.AsyncClient() as http:
        sender = SlackSender(http, fake.api_url, "xoxb-test")
        from bot.stories import compose_digest

        reply = compose_digest([], at("2025-06-01T05:00:00+00:00").date())
        result = await sender.send(Target("slack", "C1"), reply)
        assert result.status == "ok" and result.refs
        assert fake.posts("C1")[0].blocks
        hint = Reply([Context("Ask me about the top story, or send /digest any time.")])
        await sender.send(Target("slack", "C1"), hint)
        assert "/brief digest" in fake.posts("C1")[1].payload["text"], "Slack's spelling"
        fake.rate_limit(1, retry_after_s=2)
        result = await sender.send(Target("slack", "C1"), reply)
        assert result.status == "retry_after" and result.retry_after_s == 2
        fake.fail("chat.postMessage", "channel_not_found")
        assert (await sender.send(Target("slack", "C1"), reply)).status == "blocked"


def test_rate_limiter_spaces_sends() -> None:
    import asyncio

    from bot.delivery import RateLimiter

    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(round(seconds, 3))

    limiter = RateLimiter(per_second=10, per_chat_s=1.0, clock=lambda: now[0], sleep=sleep)

    async def go() -> None:
        for chat in ("a", "b", "a"):
            await limiter.wait(chat)

    asyncio.run(go())
    assert waits == [0.1, 1.0]
    assert timedelta(seconds=1)


async def test_a_feed_nobody_reads_any_more_is_not_polled(
    db: Database, site: FakeFeeds, http: httpx.AsyncClient
) -> None:
    from sqlalchemy import delete

    from bot.storage.models import Subscription

    clock = Clock(at("2025-06-01T00:00:00+00:00"))
    url = site.url("/failing.xml")
    await add_subscriber(db, clock, "reader", [url])
    poller = FeedPoller(db, http, CONFIG, clock)
    await poller.poll_due()
    assert site.hits["/failing.xml"] == 1
    async with db.transaction() as session:
        await session.execute(delete(Subscription))  # the reader unsubscribed
    clock.set(clock() + timedelta(days=1))
    await poller.poll_due()
    assert site.hits["/failing.xml"] == 1, "an unread feed costs no more requests"


async def test_telegram_sender_tells_a_lost_answer_from_a_request_never_sent() -> None:
    """No connection: nothing sent, retry later. Sent but no answer: may have arrived."""
    import socket

    from aiohttp import web

    from bot.delivery import TelegramSender

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    reply = Reply([Context("Your brief")])
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.5)) as http:
        refused = TelegramSender(http, f"http://127.0.0.1:{closed}/bot", "1:x")
        assert (await refused.send(Target("telegram", "1"), reply)).status == "failed"

        async def silent(request: web.Request) -> web.Response:
            await request.read()
            await asyncio.sleep(5)  # the message went through; the answer never comes
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_post("/{path:.*}", silent)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            lost = TelegramSender(http, f"http://127.0.0.1:{port}/bot", "1:x")
            result = await lost.send(Target("telegram", "1"), reply)
        finally:
            await runner.cleanup()
    assert result.status == "uncertain" and "ReadTimeout" in result.detail
