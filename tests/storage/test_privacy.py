"""/forget through the chat core, and the retention purge with an injected clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.backup import purge, retention_running
from bot.core import ChatCore, Incoming, Reply, plain_text
from bot.delivery import MemorySender
from bot.feeds import FeedItem
from bot.storage.db import Database
from bot.storage.models import Delivery, Feed, Story, StorySource, Subscriber
from bot.storage.repository import Purged, Retention
from bot.stories import StoryService
from bot.subscriptions import SubscriptionCommands
from config import Settings, load_settings
from config.settings import ConfigError
from summarizer.models import ModelService
from tests.delivery.helpers import CONFIG, add_story, add_subscriber, at, scheduler
from tests.storage.databases import Clock

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BRIDGE = (EXAMPLES / "harbour-bridge-vote.txt").read_text("utf-8")
WORLD = "https://feeds.example/world.xml"
PRIVATE = "https://feeds.example/mine.xml?token=only-for-reader"
QUESTION = "Who warned that the cost estimate was too optimistic?"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


class Chat:
    """One chat talking to the core, as an adapter would."""

    def __init__(self, core: ChatCore, chat_id: str) -> None:
        self.core = core
        self.chat_id = chat_id

    async def send(
        self, text: str = "", *, command: str | None = None, args: str = "", button: str = ""
    ) -> list[Reply]:
        message = Incoming(
            "test", self.chat_id, "u1", text=text, command=command, args=args, button=button or None
        )
        return await self.core.handle(message)

    async def say(self, text: str = "", **kwargs: str) -> str:
        return "\n".join(plain_text(reply) for reply in await self.send(text, **kwargs))


async def _subscribers(db: Database) -> list[str]:
    async with db.sessions() as session:
        return sorted((await session.execute(select(Subscriber.chat_id))).scalars())


async def test_forget_everything_deletes_memory_and_subscription_and_stops_briefs(
    db: Database, settings: Settings, models: ModelService, http: httpx.AsyncClient
) -> None:
    clock = Clock(at("2025-06-01T05:00:00+00:00"))
    core = ChatCore(settings, models, http, plugins=[SubscriptionCommands(db, CONFIG, clock)])
    reader, other = Chat(core, "reader"), Chat(core, "other")
    assert "Subscribed to" in await reader.say(command="subscribe", args=f"{WORLD} bridge")
    assert "Subscribed to" in await reader.say(command="subscribe", args=PRIVATE)
    assert "Subscribed to" in await other.say(command="subscribe", args=WORLD)
    await add_story(db, clock, [WORLD], "Harbour bridge approved")
    clock.set(at("2025-06-01T07:30:00+00:00"))
    sender = MemorySender()
    await scheduler(db, clock, sender).deliver_due()
    assert sorted(t.chat_id for t, _ in sender.sent) == ["other", "reader"]
    await reader.say(BRIDGE)
    assert "Okafor" in await reader.say(QUESTION)

    [ask] = await reader.send(command="forget", args="everything")
    assert "your 2 feed subscriptions, topics, brief time and time zone" in plain_text(ask)
    assert [(b.label, b.payload) for b in ask.buttons] == [
        ("Forget everything", "s:fg:a"),
        ("Cancel", "s:fg:x"),
    ]
    assert await _subscribers(db) == ["other", "reader"], "nothing goes before the button"
    done = await reader.say(button="s:fg:a")
    assert done == (
        "Done — I've deleted the 1 article you sent here and our conversation, "
        "your 2 feed subscriptions, topics and brief settings and 1 record of briefs sent. "
        "You won't get daily briefs any more; /subscribe starts afresh."
    )
    assert "Send me an article first" in await reader.say(QUESTION)
    assert "no subscriptions yet" in await reader.say(command="subscriptions")
    assert await _subscribers(db) == ["other"]
    async with db.sessions() as session:
        feeds = list((await session.execute(select(Feed.url))).scalars())
    assert feeds == [WORLD], "a private feed nobody else reads goes; a shared one stays"

    clock.set(at("2025-06-02T07:30:00+00:00"))
    await add_story(db, clock, [WORLD], "Bridge construction starts")
    sender.sent.clear()
    await scheduler(db, clock, sender).deliver_due()
    assert [t.chat_id for t, _ in sender.sent] == ["other"], "no brief for a forgotten chat"


async def test_forget_asks_first_and_by_default_keeps_the_daily_brief(
    db: Database, settings: Settings, models: ModelService, http: httpx.AsyncClient
) -> None:
    clock = Clock(at("2025-06-01T05:00:00+00:00"))
    core = ChatCore(settings, models, http, plugins=[SubscriptionCommands(db, CONFIG, clock)])
    reader = Chat(core, "reader")
    await reader.say(command="subscribe", args=WORLD)
    await reader.say(BRIDGE)

    [ask] = await reader.send(command="forget")
    assert "delete the articles you sent here" in plain_text(ask)
    assert "Your daily brief and its feeds stay" in plain_text(ask)
    assert [b.payload for b in ask.buttons] == ["s:fg:c", "s:fg:x"]
    assert await reader.say(button="s:fg:x") == "OK — I haven't deleted anything."
    assert "Okafor" in await reader.say(QUESTION), "cancelled: the article is still here"

    await reader.send(command="forget")
    assert await reader.say(button="s:fg:c") == (
        "Done — I've deleted the 1 article you sent here and our conversation."
    )
    assert "Send me an article first" in await reader.say(QUESTION)
    assert "Okafor" not in await reader.say(command="quotes")
    await add_story(db, clock, [WORLD], "Harbour bridge approved")
    clock.set(at("2025-06-01T07:30:00+00:00"))
    sender = MemorySender()
    await scheduler(db, clock, sender).deliver_due()
    assert [t.chat_id for t, _ in sender.sent] == ["reader"], "the daily brief still comes"
    assert "/forget everything" in await reader.say(command="forget", args="please")


async def _titles(db: Database) -> list[str]:
    async with db.sessions() as session:
        return sorted((await session.execute(select(Story.title))).scalars())


async def test_retention_purges_old_stories_and_keeps_exactly_once(
    db: Database, settings: Settings, models: ModelService, http: httpx.AsyncClient
) -> None:
    clock = Clock(at("2025-05-01T05:00:00+00:00"))
    await add_subscriber(db, clock, "reader", [WORLD])
    await add_story(db, clock, [WORLD], "Old story")
    carried = await add_story(db, clock, [WORLD], "Old but still carried")
    clock.set(at("2025-05-01T07:30:00+00:00"))
    sender = MemorySender()
    await scheduler(db, clock, sender).deliver_due()  # the brief of 1 May

    clock.set(at("2025-06-01T05:00:00+00:00"))
    await add_story(db, clock, [WORLD], "Fresh story")
    async with db.transaction() as session:  # another feed carried it yesterday
        feed = (await session.execute(select(Feed).where(Feed.url == WORLD))).scalar_one()
        session.add(
            StorySource(
                story_id=carried, feed_id=feed.id, guid="yesterday", seen_at=at("2025-05-31T09:00Z")
            )
        )
    await scheduler(db, clock, sender).deliver_due()  # the days missed while down: skipped
    clock.set(at("2025-06-01T07:30:00+00:00"))
    await scheduler(db, clock, sender).deliver_due()  # today's brief, before the purge
    assert len(sender.sent) == 2

    assert await purge(db, clock(), Retention()) == Purged(stories=1, deliveries=1, seen_items=0)
    assert await _titles(db) == ["Fresh story", "Old but still carried"]
    async with db.sessions() as session:
        days = list((await session.execute(select(Delivery.local_date))).scalars())
    assert [d.isoformat() for d in days] == ["2025-06-01"]
    # Exactly once: today's record survived, so neither this process nor a peer resends.
    clock.advance(minutes=1)
    await scheduler(db, clock, sender).deliver_due()
    await scheduler(db, clock, sender, owner="peer").deliver_due()
    assert len(sender.sent) == 2
    # The purged story's feed item is remembered: the feed still listing it is not news.
    stories = StoryService(db, models, http, settings, CONFIG, clock)
    again = FeedItem(guid="Old story", url=None, title="Old story", summary="Some text. " * 20)
    assert await stories.ingest_feed(feed.id, [again]) == []
    assert stories.stats.analysed == 0 and await _titles(db) == [
        "Fresh story",
        "Old but still carried",
    ]
    assert await purge(db, clock(), Retention()) == Purged()  # nothing more to do
    clock.advance(days=181)
    purged = await purge(db, clock(), Retention())
    assert (purged.stories, purged.seen_items) == (2, 4)  # all their feed items are old too
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StorySource)) == 0


async def test_the_bot_purges_in_the_background_as_its_clock_moves(db: Database) -> None:
    clock = Clock(at("2025-05-01T05:00:00+00:00"))
    await add_story(db, clock, [WORLD], "Story of May")
    clock.set(at("2025-05-20T05:00:00+00:00"))
    await add_story(db, clock, [WORLD], "Story of late May")
    clock.set(at("2025-06-01T05:00:00+00:00"))

    async def wait_for(titles: list[str]) -> None:
        for _ in range(200):
            if await _titles(db) == titles:
                return
            await asyncio.sleep(0.02)
        assert await _titles(db) == titles

    async with retention_running(db, Retention(story_days=30), clock, every_s=0.02) as task:
        await wait_for(["Story of late May"])
        clock.advance(days=30)
        await wait_for([])
    assert task.done()


def test_retention_settings_refuse_what_would_break_exactly_once() -> None:
    assert load_settings(story_retention_days=7).story_retention_days == 7
    with pytest.raises(ConfigError, match="delivery_retention_days"):
        load_settings(delivery_retention_days=1)
    with pytest.raises(ValueError, match="too short"):
        Retention(delivery_days=1)
