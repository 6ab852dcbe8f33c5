"""Abuse limits through the chat core alone: token buckets, the model-work queue, time limits.

Buckets run on an injected clock, so refills are tested without sleeping; the
queue is exercised with real slow requests (a link to a page that answers late).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import http_client
from bot.core import ChatCore, Heading, Incoming, Reply, plain_text
from bot.core.limits import Refusal, TokenBuckets, WorkQueue, ordinal
from bot.storage.db import Database
from bot.subscriptions import SubscriptionCommands
from config import Settings
from summarizer.models import ModelService
from tests.delivery.helpers import CONFIG, add_subscriber
from tests.fakes.web import FakeWeb, Page, serve_fake_web
from tests.storage.databases import Clock

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BRIDGE = (EXAMPLES / "harbour-bridge-vote.txt").read_text("utf-8")
HEATWAVE = (EXAMPLES / "heatwave-grid.txt").read_text("utf-8")
BRIDGE_TITLE = "Riverton council backs new harbour bridge after marathon session"
HEATWAVE_TITLE = "Grid operator asks households to cut power use as heatwave deepens"


class FakeClock:
    """Monotonic seconds that only move when the test says so."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


Notices = list[tuple[Incoming, Reply]]
MakeCore = Callable[..., Awaitable[tuple[ChatCore, Notices]]]


@pytest.fixture
async def web() -> AsyncIterator[FakeWeb]:
    async with serve_fake_web() as fake:
        yield fake


@pytest.fixture
async def make_core(
    settings: Settings, models: ModelService
) -> AsyncIterator[Callable[..., Awaitable[tuple[ChatCore, Notices]]]]:
    """A core with some settings changed, a recording ``notify``, and the given clock."""
    clients: list[Any] = []

    async def make(clock: FakeClock | None = None, **changes: Any) -> tuple[ChatCore, Notices]:
        changed = settings.model_copy(update={"fetch_allow_hosts": ["127.0.0.1"], **changes})
        http = http_client(changed)
        clients.append(http)
        notices: Notices = []

        async def notify(message: Incoming, reply: Reply) -> None:
            notices.append((message, reply))

        core = ChatCore(changed, models, http, notify=notify, clock=clock or FakeClock())
        return core, notices

    yield make
    for client in clients:
        await client.aclose()


def article(text: str, chat: str = "c1", user: str = "u1") -> Incoming:
    return Incoming("test", chat, user, text=text)


def text_of(replies: list[Reply]) -> str:
    return "\n".join(plain_text(reply) for reply in replies)


def is_brief(replies: list[Reply], title: str = BRIDGE_TITLE) -> bool:
    first = replies[0].blocks[0] if replies and replies[0].blocks else None
    return isinstance(first, Heading) and first.text == title


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait (briefly polling) for a state the test cannot be told about otherwise."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - the core has no event for these states
            await asyncio.sleep(0.01)


# --------------------------------------------------------------------------- rate limits


async def test_a_burst_of_articles_then_a_refusal_that_says_when(make_core: MakeCore) -> None:
    clock = FakeClock()
    core, _ = await make_core(clock, rate_user_burst=2, rate_user_refill_s=20.0)
    assert is_brief(await core.handle(article(BRIDGE)))
    assert is_brief(await core.handle(article(HEATWAVE)), HEATWAVE_TITLE)
    refused = text_of(await core.handle(article(BRIDGE)))
    assert refused == ("You're sending articles faster than I can read them — try again in 20 s.")
    clock.advance(8)
    assert "try again in 12 s." in text_of(await core.handle(article(BRIDGE)))
    # Cheap things still work for the limited user: help, questions, buttons.
    assert "/brief" in text_of(await core.handle(Incoming("test", "c1", "u1", command="help")))
    answer = text_of(await core.handle(article("Who said reserves had fallen?")))
    assert "Lindqvist" in answer


async def test_the_bucket_refills_as_the_clock_advances(make_core: MakeCore) -> None:
    clock = FakeClock()
    core, _ = await make_core(clock, rate_user_burst=1, rate_user_refill_s=30.0)
    assert is_brief(await core.handle(article(BRIDGE)))
    assert "try again in 30 s" in text_of(await core.handle(article(BRIDGE)))
    clock.advance(29.5)
    assert "try again in 1 s" in text_of(await core.handle(article(BRIDGE)))
    clock.advance(0.5)
    assert is_brief(await core.handle(article(BRIDGE)))
    # A whole idle hour refills the bucket only up to its burst.
    clock.advance(3600)
    assert is_brief(await core.handle(article(BRIDGE)))
    assert "try again in 30 s" in text_of(await core.handle(article(BRIDGE)))


async def test_two_users_in_one_group_share_the_chats_bucket(make_core: MakeCore) -> None:
    core, _ = await make_core(
        rate_user_burst=5, rate_user_refill_s=20.0, rate_chat_burst=3, rate_chat_refill_s=15.0
    )
    assert is_brief(await core.handle(article(BRIDGE, chat="group", user="ann")))
    assert is_brief(await core.handle(article(BRIDGE, chat="group", user="ann")))
    assert is_brief(await core.handle(article(BRIDGE, chat="group", user="bob")))
    refused = text_of(await core.handle(article(BRIDGE, chat="group", user="bob")))
    assert refused == (
        "This chat is sending articles faster than I can read them — try again in 15 s."
    )
    # Bob's own allowance is not used up: in his private chat he is served.
    assert is_brief(await core.handle(article(BRIDGE, chat="bob-dm", user="bob")))


async def test_questions_have_their_own_generous_bucket(make_core: MakeCore) -> None:
    clock = FakeClock()
    core, _ = await make_core(
        clock, rate_user_burst=1, rate_question_burst=3, rate_question_refill_s=2.0
    )
    assert is_brief(await core.handle(article(BRIDGE)))
    for _ in range(3):  # the brief did not use the question allowance
        assert "Okafor" in text_of(await core.handle(article("What did Okafor say?")))
    assert text_of(await core.handle(article("What did Okafor say?"))) == (
        "You're asking faster than I can answer — try again in 2 s."
    )
    clock.advance(2)
    assert "Okafor" in text_of(await core.handle(article("What did Okafor say?")))


async def test_admins_and_the_local_console_are_not_rate_limited(make_core: MakeCore) -> None:
    core, _ = await make_core(rate_user_burst=1, admins=["test:boss"])
    for _ in range(2):
        assert is_brief(await core.handle(article(BRIDGE, user="boss")))
        assert is_brief(await core.handle(Incoming("console", "local", "you", text=BRIDGE)))


async def test_digest_draws_from_the_same_bucket(make_core: MakeCore, db: Database) -> None:
    clock = Clock(datetime(2025, 6, 2, 9, 0, tzinfo=UTC))
    await add_subscriber(db, clock, "c1", ["https://a.example/rss.xml"])
    core, _ = await make_core(rate_user_burst=1, rate_user_refill_s=20.0)
    core.plugins.append(SubscriptionCommands(db, CONFIG, clock))
    digest = Incoming("test", "c1", "u1", command="digest")
    assert "Your brief right now" in text_of(await core.handle(digest))
    assert text_of(await core.handle(digest)) == (
        "You're asking for briefs faster than I can put them together — try again in 20 s."
    )
    # The subscription commands around it are cheap and stay free.
    listed = await core.handle(Incoming("test", "c1", "u1", command="subscriptions"))
    assert "a.example" in text_of(listed)


# --------------------------------------------------------------------------- the work queue


def slow_page(web: FakeWeb, path: str, delay_s: float) -> str:
    """The bridge article as a web page that answers only after ``delay_s``."""
    paragraphs = "".join(f"<p>{p}</p>" for p in BRIDGE.split("\n\n")[1:])
    html = (
        f"<html><head><title>{BRIDGE_TITLE}</title></head>"
        f"<body><article><h1>{BRIDGE_TITLE}</h1>{paragraphs}</article></body></html>"
    )
    web.pages[path] = Page(html.encode(), delay_s=delay_s)
    return web.url(path)


async def test_a_waiting_user_is_told_their_place_and_still_answered(
    make_core: MakeCore, web: FakeWeb
) -> None:
    core, notices = await make_core(work_max_active=1, work_max_waiting=3)
    slow = slow_page(web, "/slow", 2.0)
    first = asyncio.create_task(core.handle(article(slow, chat="a", user="ann")))
    await until(lambda: core.work.active == 1)
    second = asyncio.create_task(core.handle(article(BRIDGE, chat="b", user="bob")))
    third = asyncio.create_task(core.handle(article(HEATWAVE, chat="c", user="cat")))
    await until(lambda: len(notices) == 2)
    assert not second.done() and not third.done()
    told = {message.chat_id: plain_text(reply) for message, reply in notices}
    assert told == {
        "b": "I'm busy — you're next in line. I'll answer as soon as I can.",
        "c": "I'm busy — you're 2nd in line. I'll answer as soon as I can.",
    }
    assert is_brief(await first)
    assert is_brief(await second)
    assert is_brief(await third, HEATWAVE_TITLE)
    assert core.work.active == 0 and core.work.waiting == 0
    assert (core.work.served, core.work.waited, core.work.refused) == (3, 2, 0)


async def test_a_full_queue_refuses_at_once_and_does_not_charge_the_user(
    make_core: MakeCore, web: FakeWeb
) -> None:
    clock = FakeClock()
    core, notices = await make_core(clock, work_max_active=1, work_max_waiting=1, rate_user_burst=1)
    slow = slow_page(web, "/slow", 2.0)
    first = asyncio.create_task(core.handle(article(slow, chat="a", user="ann")))
    await until(lambda: core.work.active == 1)
    second = asyncio.create_task(core.handle(article(BRIDGE, chat="b", user="bob")))
    await until(lambda: core.work.waiting == 1)
    refused = await core.handle(article(HEATWAVE, chat="c", user="cat"))
    assert text_of(refused) == (
        "I'm too busy to take on more right now — please try again in a minute."
    )
    assert [m.chat_id for m, _ in notices] == ["b"]  # the refused user was not queued
    assert is_brief(await first) and is_brief(await second)
    # Cat's one token was given back: her next try is served, not rate-limited.
    assert is_brief(
        await core.handle(article(HEATWAVE, chat="c", user="cat")),
        HEATWAVE_TITLE,
    )


async def test_a_request_over_its_time_limit_gets_a_friendly_reply(
    make_core: MakeCore, web: FakeWeb
) -> None:
    core, _ = await make_core(request_timeout_s=0.5)
    slow = slow_page(web, "/very-slow", 5.0)
    replies = await asyncio.wait_for(core.handle(article(slow)), 4.0)
    assert text_of(replies) == (
        "That took me too long (over 0.5 s), so I stopped. Please try again later — "
        "a shorter article or a different link may work better."
    )
    assert core.work.active == 0 and core.work.waiting == 0  # the slot was given back


# --------------------------------------------------------------------------- units


def test_token_buckets_wait_take_and_refund() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(burst=2, refill_s=10.0, clock=clock)
    key = ("test", "u")
    assert buckets.wait_s(key) == 0
    buckets.take(key)
    buckets.take(key)
    assert buckets.wait_s(key) == pytest.approx(10.0)
    clock.advance(4)
    assert buckets.wait_s(key) == pytest.approx(6.0)
    buckets.refund(key)
    assert buckets.wait_s(key) == 0
    assert Refusal(11.2, "user").wait_text() == "12 s"
    assert Refusal(600, "chat").wait_text() == "10 min"
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"
    ]  # fmt: skip


def test_many_users_do_not_grow_memory_without_bound() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(burst=1, refill_s=1.0, clock=clock, max_keys=100)
    for user in range(1000):
        buckets.take(("test", str(user)))
        clock.advance(0.5)
    assert len(buckets) <= 100


async def test_a_cancelled_waiter_gives_its_place_up() -> None:
    queue = WorkQueue(max_active=1, max_waiting=2)
    order: list[str] = []
    release = asyncio.Event()

    async def job(name: str) -> None:
        async with queue.slot():
            order.append(name)
            await release.wait()

    holder = asyncio.create_task(job("a"))
    await until(lambda: queue.active == 1)
    leaver = asyncio.create_task(job("b"))
    stayer = asyncio.create_task(job("c"))
    await until(lambda: queue.waiting == 2)
    leaver.cancel()
    await asyncio.gather(leaver, return_exceptions=True)
    assert queue.waiting == 1
    release.set()
    await asyncio.gather(holder, stayer)
    assert order == ["a", "c"] and queue.active == 0
