"""When briefs go out: local time in two zones across DST, restarts, missed days, peers."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.core.messages import Incoming, plain_text
from bot.delivery import BriefScheduler, DeliveryReport, MemorySender, SendResult
from bot.storage.db import Database
from bot.storage.models import Delivery
from bot.subscriptions import SubscriptionCommands
from tests.delivery.helpers import CONFIG, add_story, add_subscriber, at, scheduler
from tests.storage.databases import Clock

FEED = "https://feeds.example/world.xml"


async def _sent_count(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).where(Delivery.status == "sent")) or 0)


async def test_briefs_at_local_time_in_two_zones_across_dst(db: Database) -> None:
    # New York springs forward on 9 March 2025, Berlin on 30 March 2025.
    clock = Clock(at("2025-03-07T20:00:00+00:00"))
    await add_subscriber(db, clock, "ny", [FEED], zone="America/New_York")
    await add_subscriber(db, clock, "berlin", [FEED], zone="Europe/Berlin")
    sender = MemorySender()
    brief = scheduler(db, clock, sender)
    expected = []
    for day in range(8, 12):
        expected.append(("berlin", datetime(2025, 3, day, 7, 30, tzinfo=ZoneInfo("Europe/Berlin"))))
        expected.append(("ny", datetime(2025, 3, day, 7, 30, tzinfo=ZoneInfo("America/New_York"))))
    for day in range(29, 32):
        expected.append(("berlin", datetime(2025, 3, day, 7, 30, tzinfo=ZoneInfo("Europe/Berlin"))))
    for chat, when in sorted(expected, key=lambda pair: pair[1]):
        await add_story(db, clock, [FEED], f"Story before {chat} {when:%d %H%M}")
        clock.set(when - timedelta(minutes=1))
        before = len(sender.sent)
        await brief.deliver_due()
        assert len(sender.sent) == before, f"{chat} got a brief before {when}"
        clock.set(when)
        await brief.deliver_due()
        assert [t.chat_id for t, _ in sender.sent[before:]] == [chat], when
    # The New York briefs moved from 12:30 UTC to 11:30 UTC; Berlin's from 06:30 to 05:30 UTC.
    async with db.sessions() as session:
        rows = (await session.execute(select(Delivery.sent_at, Delivery.local_date))).all()
    utc_times = sorted({sent.astimezone(UTC).strftime("%H:%M") for sent, _ in rows})
    assert utc_times == ["05:30", "06:30", "11:30", "12:30"]


async def test_missed_brief_sent_once_if_same_local_day(db: Database) -> None:
    clock = Clock(at("2025-06-01T00:00:00+00:00"))
    await add_subscriber(db, clock, "a", [FEED], zone="Europe/Berlin")  # 07:30 CEST = 05:30 UTC
    await add_story(db, clock, [FEED], "Early news")
    sender = MemorySender()
    clock.set(at("2025-06-01T09:00:00+00:00"))  # the bot was down at 07:30, back at 11:00 local
    assert (await scheduler(db, clock, sender).deliver_due()).sent == 1
    assert (await scheduler(db, clock, sender, owner="two").deliver_due()).sent == 0  # restart
    # Down from before 07:30 on 2 June until 01:00 local on 3 June: the 2 June brief is dropped.
    clock.set(at("2025-06-02T23:00:00+00:00"))
    report = await scheduler(db, clock, sender).deliver_due()
    assert (report.sent, report.skipped) == (0, 1)
    clock.set(at("2025-06-03T05:30:00+00:00"))
    assert (await scheduler(db, clock, sender).deliver_due()).sent == 1
    assert len(sender.sent) == 2


async def test_restart_mid_fan_out_sends_each_brief_once(db: Database) -> None:
    clock = Clock(at("2025-06-01T05:00:00+00:00"))
    chats = [f"c{i}" for i in range(12)]
    for chat in chats:
        await add_subscriber(db, clock, chat, [FEED])
    await add_story(db, clock, [FEED], "The news")
    sender = MemorySender(delay_s=0.05)
    config = CONFIG.__class__(**{**CONFIG.__dict__, "fanout_concurrency": 2})
    clock.set(at("2025-06-01T07:30:00+00:00"))
    first = scheduler(db, clock, sender, config=config)
    task = asyncio.create_task(first.deliver_due())
    while len(sender.sent) < 4:  # noqa: ASYNC110 - polling the fake sender is the point
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    done = len(sender.sent)
    assert 4 <= done < 12
    second = scheduler(db, clock, sender, owner="restarted", config=config)
    assert (await second.deliver_due()).sent == 0  # the old claims are still leased
    clock.advance(seconds=CONFIG.delivery_lease_s + 1)
    report = await second.deliver_due()
    assert report.sent == 12 - done
    assert sorted(t.chat_id for t, _ in sender.sent) == sorted(chats)
    assert await _sent_count(db) == 12


async def test_two_schedulers_on_one_database_never_double_send(
    database_url: str, db: Database
) -> None:
    clock = Clock(at("2025-06-01T05:00:00+00:00"))
    chats = [f"c{i}" for i in range(40)]
    for chat in chats:
        await add_subscriber(db, clock, chat, [FEED])
    await add_story(db, clock, [FEED], "The news")
    clock.set(at("2025-06-01T07:30:00+00:00"))
    sender = MemorySender(delay_s=0.001)
    other_db = Database.connect(database_url)  # a second process: its own engine and pool
    try:
        instances = [
            BriefScheduler(d, CONFIG, {"test": sender}, clock, owner=name, batch=7)
            for d, name in ((db, "one"), (other_db, "two"))
        ]
        reports: list[DeliveryReport] = await asyncio.gather(*(i.deliver_due() for i in instances))
        reports += await asyncio.gather(*(i.deliver_due() for i in instances))
    finally:
        await other_db.close()
    assert sorted(t.chat_id for t, _ in sender.sent) == sorted(chats)
    assert sum(r.sent for r in reports) == 40


async def test_unsubscribe_right_before_the_send(db: Database) -> None:
    clock = Clock(at("2025-06-01T05:00:00+00:00"))
    await add_subscriber(db, clock, "leaver", [FEED])
    await add_subscriber(db, clock, "stayer", [FEED])
    await add_story(db, clock, [FEED], "The news")
    clock.set(at("2025-06-01T07:30:00+00:00"))
    plugin = SubscriptionCommands(db, CONFIG, clock)
    sender = MemorySender()

    class UnsubscribeFirst(BriefScheduler):
        async def _fan_out(self, jobs, report):  # type: ignore[no-untyped-def]
            leave = Incoming("test", "leaver", "u", command="unsubscribe", args="all")
            await plugin.handle(leave, None)  # type: ignore[arg-type]
            await super()._fan_out(jobs, report)

    report = await UnsubscribeFirst(db, CONFIG, {"test": sender}, clock, owner="x").deliver_due()
    assert (report.claimed, report.sent, report.cancelled) == (2, 1, 1)
    assert [t.chat_id for t, _ in sender.sent] == ["stayer"]


async def test_digest_ranks_keywords_sources_and_merges(db: Database) -> None:
    clock = Clock(at("2025-06-01T05:00:00+00:00"))
    other = "https://feeds.example/business.xml"
    await add_subscriber(db, clock, "a", [FEED, other])
    await add_subscriber(db, clock, "kw", [FEED], keywords=["tariffs"])
    await add_story(db, clock, [FEED], "Weather is mild")
    await add_story(db, clock, [FEED, other], "Tariffs on steel rise", quote="This protects jobs")
    clock.set(at("2025-06-01T07:30:00+00:00"))
    sender = MemorySender()
    await scheduler(db, clock, sender).deliver_due()
    text_a = plain_text(sender.to("a")[0])
    assert text_a.index("Tariffs on steel rise") < text_a.index("Weather is mild")
    assert "also reported by" in text_a and "“This protects jobs” — Jane Okafor" in text_a
    text_kw = plain_text(sender.to("kw")[0])
    assert "Tariffs" in text_kw and "Weather" not in text_kw


async def test_failed_send_is_retried_later_while_the_rest_are_sent_once(db: Database) -> None:
    clock = Clock(at("2025-06-01T05:00:00+00:00"))
    chats = ["a", "b", "flaky", "c", "d"]
    for chat in chats:
        await add_subscriber(db, clock, chat, [FEED])
    await add_story(db, clock, [FEED], "The news")
    clock.set(at("2025-06-01T07:30:00+00:00"))
    sender = MemorySender(script={"flaky": [SendResult.failed("Bad Gateway")]})
    first = await scheduler(db, clock, sender).deliver_due()
    assert (first.sent, first.failed) == (4, 1)
    assert sorted(t.chat_id for t, _ in sender.sent) == ["a", "b", "c", "d"]
    assert (await scheduler(db, clock, sender).deliver_due()).sent == 0  # not yet retried
    clock.advance(seconds=61)
    assert (await scheduler(db, clock, sender).deliver_due()).sent == 1
    assert sorted(t.chat_id for t, _ in sender.sent) == sorted(chats)
    assert await _sent_count(db) == 5


async def test_a_brief_that_may_have_arrived_is_never_sent_again(db: Database) -> None:
    """A timeout after the request left: recorded 'uncertain', logged, not retried."""
    clock = Clock(at("2025-06-01T05:00:00+00:00"))
    for chat in ("a", "slow"):
        await add_subscriber(db, clock, chat, [FEED])
    await add_story(db, clock, [FEED], "The news")
    clock.set(at("2025-06-01T07:30:00+00:00"))
    sender = MemorySender(script={"slow": [SendResult.uncertain("Bot API unreachable")]})
    assert (await scheduler(db, clock, sender).deliver_due()).sent == 1
    clock.advance(seconds=3600)
    assert (await scheduler(db, clock, sender).deliver_due()).sent == 0
    assert [t.chat_id for t, _ in sender.sent] == ["a"]
    async with db.sessions() as session:
        statuses = set((await session.execute(select(Delivery.status))).scalars())
    assert statuses == {"sent", "uncertain"}
