"""Operator commands: only for NEWSBRIEF_ADMINS, real numbers from the database, broadcasts.

Runs on SQLite and PostgreSQL (the ``db`` fixture); the broadcast also runs end to
end through python-telegram-bot and the fake Bot API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from bot.admin import AdminCommands, notifier
from bot.core import ChatCore, Incoming, Reply, plain_text
from bot.core.chat import HELP
from bot.delivery import MemorySender, platform_senders
from bot.storage.db import Database
from bot.storage.models import Delivery, Feed, Subscriber
from bot.telegram import run_telegram
from config import Settings
from summarizer.models import ModelService
from tests.delivery.helpers import CONFIG, add_story, add_subscriber, at
from tests.fakes.telegram_api import serve_fake_telegram
from tests.storage.databases import Clock

FEED_A = "https://a.example/rss.xml"
FEED_B = "https://b.example/rss.xml"
FEED_C = "https://c.example/rss.xml"
BOSS = "boss"


class Monotonic:
    def __init__(self) -> None:
        self.value = 50.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2025-06-02T10:00:00+00:00"))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


class Bot:
    """A core with the admin plugin, its sender and its uptime clock."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        models: ModelService,
        http: httpx.AsyncClient,
        clock: Clock,
    ) -> None:
        self.sender = MemorySender()
        self.uptime = Monotonic()
        self.settings = settings.model_copy(update={"admins": [f"test:{BOSS}"]})
        self.core = ChatCore(self.settings, models, http)
        self.admin = AdminCommands(
            db,
            CONFIG,
            self.settings.admins,
            clock,
            senders={"test": self.sender},
            core=self.core,
            monotonic=self.uptime,
        )
        self.core.plugins.append(self.admin)

    async def send(
        self, command: str, args: str = "", user: str = BOSS, chat: str | None = None
    ) -> list[Reply]:
        message = Incoming("test", chat or f"{user}-dm", user, command=command, args=args)
        return await self.core.handle(message)

    async def press(self, payload: str, user: str = BOSS) -> str:
        replies = await self.core.handle(Incoming("test", f"{user}-dm", user, button=payload))
        return text(replies)


def text(replies: list[Reply]) -> str:
    return "\n".join(plain_text(reply, buttons=False) for reply in replies)


@pytest.fixture
def bot(
    db: Database, settings: Settings, models: ModelService, http: httpx.AsyncClient, clock: Clock
) -> Bot:
    return Bot(db, settings, models, http, clock)


async def subscribers(db: Database, clock: Clock) -> dict[str, int]:
    """s1: feed A; s2: A and B; s3: B, paused; s4: C, blocked us; s5: no feeds left."""
    ids = {
        "s1": await add_subscriber(db, clock, "s1", [FEED_A]),
        "s2": await add_subscriber(db, clock, "s2", [FEED_A, FEED_B]),
        "s3": await add_subscriber(db, clock, "s3", [FEED_B]),
        "s4": await add_subscriber(db, clock, "s4", [FEED_C]),
        "s5": await add_subscriber(db, clock, "s5", []),
    }
    async with db.transaction() as session:
        await session.execute(
            update(Subscriber).where(Subscriber.id == ids["s3"]).values(paused=True)
        )
        await session.execute(
            update(Subscriber).where(Subscriber.id == ids["s4"]).values(active=False)
        )
        await session.execute(
            update(Feed).where(Feed.url == FEED_C).values(failures=4, last_error="HTTP 503")
        )
    return ids


# --------------------------------------------------------------------------- who may


async def test_a_non_admin_gets_no_admin_behaviour(bot: Bot, db: Database, clock: Clock) -> None:
    await subscribers(db, clock)
    unknown = text(await bot.send("frobnicate", user="mallory"))
    assert unknown == f"I don't know the command /frobnicate.\n{HELP[1]}"
    for command, args in [
        ("stats", ""),
        ("broadcast", "free crypto"),
        ("feeds", ""),
        ("feed_remove", FEED_A),
        ("feed_retry", FEED_C),
    ]:
        reply = text(await bot.send(command, args, user="mallory"))
        assert reply == unknown.replace("/frobnicate", f"/{command}")
    assert "/stats" not in text(await bot.send("help", user="mallory"))
    assert "/stats" in text(await bot.send("help"))
    # The admin's confirmation button does nothing for someone else.
    [confirm] = await bot.send("broadcast", "Maintenance at 22:00 UTC")
    send_button = confirm.buttons[0].payload
    assert await bot.press(send_button, user="mallory") == "That button has expired."
    assert bot.sender.sent == []
    async with db.sessions() as session:
        feeds = (await session.execute(select(Feed.url, Feed.failures))).all()
    assert sorted(feeds) == [(FEED_A, 0), (FEED_B, 0), (FEED_C, 4)]  # nothing changed
    assert await bot.press(send_button) == "Broadcast sent to 2 of 2 chats."


# --------------------------------------------------------------------------- /stats


async def test_stats_show_real_numbers_from_the_database(
    bot: Bot, db: Database, clock: Clock
) -> None:
    ids = await subscribers(db, clock)
    await add_story(db, clock, [FEED_A], "Bridge vote passes")
    await add_story(db, clock, [FEED_B], "Storm floods towns")
    clock.advance(days=-3)
    await add_story(db, clock, [FEED_A], "An old story")
    clock.advance(days=3)
    async with db.transaction() as session:
        today, yesterday = clock().date(), clock().date() - timedelta(days=1)
        session.add_all(
            [
                Delivery(
                    subscriber_id=ids["s1"],
                    local_date=today,
                    status="sent",
                    created_at=clock() - timedelta(hours=3),
                ),
                Delivery(
                    subscriber_id=ids["s2"],
                    local_date=today,
                    status="failed",
                    created_at=clock() - timedelta(hours=3),
                ),
                Delivery(
                    subscriber_id=ids["s3"],
                    local_date=today,
                    status="uncertain",
                    created_at=clock() - timedelta(hours=2),
                ),
                Delivery(
                    subscriber_id=ids["s1"],
                    local_date=yesterday,
                    status="sent",
                    created_at=clock() - timedelta(days=1),
                ),
            ]
        )
    await bot.send("help", user="x", chat="x")
    await bot.send("help", user="y", chat="y")
    bot.uptime.value += 2 * 3600 + 5 * 60
    lines = text(await bot.send("stats")).splitlines()
    assert lines[0] == "NewsBrief status"
    assert lines[2:] == [
        "• Up for 2 h 5 min",
        "• Subscribers: 2 active, 1 paused, 1 blocked the bot (5 chats in all)",
        "• Feeds: 3, 1 failing",
        "• Stories: 3, 2 new in the last 24 h",
        "• Daily briefs today (UTC): 1 sent, 1 failed, 0 blocked, 1 may not have arrived, "
        "0 being sent",
        f"• Chats in memory: 3 (of {bot.settings.chat_sessions_max:,})",
        "• Model work: 0 running (limit 2), 0 waiting (limit 25); "
        "0 served, 0 had to wait, 0 turned away",
        "• Models: "
        + ", ".join(
            f"{name} {'loaded' if ok else 'not loaded yet'}"
            for name, ok in bot.core.models.loaded().items()
        ),
    ]


# --------------------------------------------------------------------------- feeds


async def test_feed_health_retry_and_remove(bot: Bot, db: Database, clock: Clock) -> None:
    await subscribers(db, clock)
    health = text(await bot.send("feeds")).splitlines()
    assert health[0] == "Feeds: 3, 1 failing"
    assert health[2] == (
        f"• ⚠ {FEED_C} · failed 4 times in a row: HTTP 503 · last read never · 1 subscriber"
    )
    assert health[3] == f"• ✓ {FEED_A} · last read never · 2 subscribers"

    clock.advance(minutes=5)
    retried = text(await bot.send("feed_retry", FEED_C))
    assert retried.startswith(f"I'll read “{FEED_C}” again on the next pass")
    async with db.sessions() as session:
        feed = (await session.execute(select(Feed).where(Feed.url == FEED_C))).scalar_one()
    assert (feed.failures, feed.next_poll_at) == (0, clock())
    assert "I have no feed" in text(await bot.send("feed_retry", "https://nowhere.example/"))

    [confirm] = await bot.send("feed_remove", FEED_A)
    assert plain_text(confirm, buttons=False).splitlines()[0] == f"Remove the feed “{FEED_A}”?"
    assert "2 subscribers will lose it" in plain_text(confirm)
    assert bot.sender.sent == []  # nothing happens before the confirmation
    remove, _cancel = (button.payload for button in confirm.buttons)
    done = await bot.press(remove)
    assert done.startswith(f"Removed “{FEED_A}” from 2 subscriptions.")
    assert "Notice sent to 2 of 2 chats." in done
    told = {target.chat_id: plain_text(reply) for target, reply in bot.sender.sent}
    assert set(told) == {"s1", "s2"}
    assert "removed by the bot's operators" in told["s1"]
    async with db.sessions() as session:
        urls = set((await session.execute(select(Feed.url))).scalars())
        schedule = dict(
            (await session.execute(select(Subscriber.chat_id, Subscriber.next_run_at))).all()
        )
    assert urls == {FEED_B, FEED_C}
    assert schedule["s1"] is None  # no feed left: no daily brief
    assert schedule["s2"] is not None  # still has feed B
    assert "already used" in await bot.press(remove)
    assert len(bot.sender.sent) == 2


async def test_a_broadcast_can_be_cancelled(bot: Bot, db: Database, clock: Clock) -> None:
    await subscribers(db, clock)
    [confirm] = await bot.send("broadcast", "Hello")
    assert plain_text(confirm).startswith("Send this to 2 subscribers?")
    send, cancel = (button.payload for button in confirm.buttons)
    assert await bot.press(cancel) == "Cancelled — nothing was sent or changed."
    assert "already used" in await bot.press(send)
    assert bot.sender.sent == []


# --------------------------------------------------------------------------- end to end


async def test_broadcast_reaches_every_active_subscriber_once_over_telegram(
    db: Database,
    settings: Settings,
    models: ModelService,
    http: httpx.AsyncClient,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB warns about int durations otherwise
    message = "NewsBrief will be down for maintenance at 22:00 UTC <for 10 minutes> & back."
    for chat in ("201", "202", "203", "206"):
        await add_subscriber(db, clock, chat, [FEED_A], platform="telegram")
    paused = await add_subscriber(db, clock, "204", [FEED_A], platform="telegram")
    await add_subscriber(db, clock, "205", [], platform="telegram")  # unsubscribed from all
    async with db.transaction() as session:
        await session.execute(update(Subscriber).where(Subscriber.id == paused).values(paused=True))
    async with serve_fake_telegram() as api:
        api.block(206)
        config = settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(api.token),
                "telegram_api_url": api.api_url,
                "admins": ["telegram:900"],
            }
        )
        senders = platform_senders(http, CONFIG, telegram=(api.api_url, api.token))
        core = ChatCore(config, models, http, notify=notifier(senders))
        core.plugins.append(
            AdminCommands(db, CONFIG, config.admins, clock, senders=senders, core=core)
        )
        stop = asyncio.Event()
        running = asyncio.create_task(run_telegram(config, core, stop=stop, poll_timeout=1))
        try:
            api.push_command(901, "broadcast", "free crypto")  # not an admin
            [refused] = await api.wait_for_messages(901, 1)
            assert refused.plain.startswith("I don't know the command /broadcast.")

            api.push_command(900, "broadcast", message)
            [confirm] = await api.wait_for_messages(900, 1)
            assert confirm.plain.startswith("Send this to 4 subscribers?")
            assert message in confirm.plain
            send = confirm.buttons[0]["callback_data"]
            api.push_callback(900, send, confirm.message_id)
            report = (await api.wait_for_messages(900, 2))[1]
            assert report.plain == (
                "Broadcast sent to 3 of 4 chats (1 blocked the bot, now marked inactive)."
            )
            api.push_callback(900, send, confirm.message_id)  # a second tap sends nothing
            again = (await api.wait_for_messages(900, 3))[2]
            assert "already used" in again.plain
        finally:
            stop.set()
            await asyncio.wait_for(running, 20)
    assert [str(c.params.get("chat_id")) for c in api.rejected] == ["206"]  # blocked us
    for chat in (201, 202, 203):
        assert [m.plain for m in api.messages(chat)] == [message]
    for chat in (204, 205, 206):
        assert api.messages(chat) == []
    async with db.sessions() as session:
        active = dict((await session.execute(select(Subscriber.chat_id, Subscriber.active))).all())
    assert active["206"] is False and active["201"] is True
