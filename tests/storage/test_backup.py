"""Backups: export, import into the other engine, idempotence, bad files, no resends."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.backup import BackupError, export_backup, import_backup, parse_backup
from bot.cli import main
from bot.delivery import MemorySender
from bot.storage.db import Database
from bot.storage.models import Delivery, Feed, Subscriber, Subscription
from bot.storage.repository import get_or_create_feed, reschedule, subscribe
from tests.delivery.helpers import add_story, add_subscriber, at, scheduler
from tests.storage.databases import Clock, fresh_database_url, migrated

WORLD = "https://feeds.example/world.xml"
SPORT = "https://feeds.example/sport.xml?key=private-token"


async def _populate(db: Database, clock: Clock) -> None:
    """Chats with every setting away from its default, and today's brief already sent."""
    await add_subscriber(db, clock, "berlin", [WORLD, SPORT], zone="Europe/Berlin")
    await add_subscriber(
        db, clock, "tokyo", [WORLD], zone="Asia/Tokyo", local_time="06:15", keywords=["Ōsaka"]
    )
    await add_subscriber(db, clock, "paused", [SPORT], platform="slack", zone="UTC")
    async with db.transaction() as session:
        rows = {s.chat_id: s for s in (await session.execute(select(Subscriber))).scalars()}
        rows["berlin"].topics = ["bridge", "harbour"]
        rows["berlin"].stories = 3
        rows["paused"].paused = True
        rows["paused"].next_run_at = None
        rows["tokyo"].active = False  # the chat blocked the bot
        rows["tokyo"].next_run_at = None
        feed = (await session.execute(select(Feed).where(Feed.url == WORLD))).scalar_one()
        feed.title = "World news"
        thread = Subscriber(
            platform="slack",
            chat_id="C42",
            thread_id="1700000000.000100",
            local_time="21:05",
            timezone="America/New_York",
            stories=7,
            topics=[],
            paused=False,
            active=True,
            created_at=clock(),
        )
        session.add(thread)
        await session.flush()
        await subscribe(
            session, thread, await get_or_create_feed(session, WORLD, now=clock()), [], now=clock()
        )
        await reschedule(session, thread, clock())
    # Berlin's brief of today goes out (07:30 CEST); an older delivery is not exported.
    clock.set(at("2025-06-02T05:30:00+00:00"))
    await add_story(db, clock, [WORLD], "Harbour bridge vote")
    sender = MemorySender()
    await scheduler(db, clock, sender).deliver_due()
    assert [t.chat_id for t, _ in sender.sent] == ["berlin"]
    async with db.transaction() as session:
        berlin = (
            await session.execute(select(Subscriber).where(Subscriber.chat_id == "berlin"))
        ).scalar_one()
        session.add(
            Delivery(
                subscriber_id=berlin.id,
                local_date=date(2025, 5, 20),
                status="sent",
                attempts=1,
                story_ids=[],
                created_at=at("2025-05-20T05:30:00+00:00"),
            )
        )


@pytest.fixture
async def other_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the *other* engine."""
    kind = "postgresql" if database_url.startswith("sqlite") else "sqlite"
    async for url in fresh_database_url(kind, tmp_path / "other"):
        yield url


async def _counts(db: Database) -> dict[str, int]:
    async with db.sessions() as session:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in (Subscriber, Subscription, Feed, Delivery)
        }


def _without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "exported_at"}


async def test_export_import_into_the_other_engine_round_trips_every_field(
    db: Database, other_url: str
) -> None:
    clock = Clock(at("2025-06-01T12:00:00+00:00"))
    await _populate(db, clock)
    exported = await export_backup(db, clock())
    text = json.dumps(exported)
    document = json.loads(text)
    assert document["format"] == "newsbrief-backup" and document["version"] == 1
    berlin = next(s for s in document["subscribers"] if s["chat_id"] == "berlin")
    assert berlin["timezone"] == "Europe/Berlin" and berlin["time"] == "07:30"
    assert berlin["topics"] == ["bridge", "harbour"] and berlin["stories"] == 3
    assert [s["feed"] for s in berlin["subscriptions"]] == [SPORT, WORLD]
    assert [(d["local_date"], d["status"]) for d in berlin["deliveries"]] == [
        ("2025-06-02", "sent")
    ], "only the delivery that can still be 'today' somewhere"
    async for other in migrated(other_url):
        report = await import_backup(other, parse_backup(text), clock())
        assert (report.subscribers_new, report.subscriptions_new, report.deliveries_new) == (
            4,
            5,
            1,
        )
        again = await export_backup(other, clock())
        assert _without_time(again) == _without_time(exported)
        async with other.sessions() as session:
            tokyo = (
                await session.execute(select(Subscriber).where(Subscriber.chat_id == "tokyo"))
            ).scalar_one()
            keywords = (
                await session.execute(
                    select(Subscription.keywords).where(Subscription.subscriber_id == tokyo.id)
                )
            ).scalar_one()
        assert (tokyo.timezone, tokyo.local_time, tokyo.active, keywords) == (
            "Asia/Tokyo",
            "06:15",
            False,
            ["Ōsaka"],
        )


async def test_a_restored_backup_does_not_resend_todays_brief(db: Database, tmp_path: Path) -> None:
    clock = Clock(at("2025-06-01T12:00:00+00:00"))
    await _populate(db, clock)
    text = json.dumps(await export_backup(db, clock()))
    async for restored in migrated(f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"):
        await import_backup(restored, parse_backup(text), clock())
        await add_story(restored, clock, [WORLD], "More on the bridge")
        sender = MemorySender()
        await scheduler(restored, clock, sender).deliver_due()
        assert sender.sent == [], "Berlin already had today's brief before the backup"
        clock.set(at("2025-06-03T05:30:00+00:00"))
        await scheduler(restored, clock, sender).deliver_due()
        assert [t.chat_id for t, _ in sender.sent] == ["berlin"], "tomorrow's comes as usual"


async def test_importing_twice_changes_nothing(db: Database, tmp_path: Path) -> None:
    clock = Clock(at("2025-06-01T12:00:00+00:00"))
    await _populate(db, clock)
    backup = parse_backup(json.dumps(await export_backup(db, clock())))
    async for target in migrated(f"sqlite+aiosqlite:///{tmp_path / 'target.db'}"):
        await import_backup(target, backup, clock())
        counts, snapshot = await _counts(target), await export_backup(target, clock())
        clock.advance(hours=1)
        second = await import_backup(target, backup, clock())
        assert second.summary() == (
            "0 new and 0 changed chats; 0 new and 0 changed subscriptions; 0 new delivery records"
        )
        assert await _counts(target) == counts
        assert _without_time(await export_backup(target, clock())) == _without_time(snapshot)
    # ... and into the database it came from, too.
    before = await _counts(db)
    report = await import_backup(db, backup, clock())
    assert report.subscribers_updated == 0 and await _counts(db) == before


async def test_merge_keeps_other_chats_and_replace_removes_them(db: Database) -> None:
    clock = Clock(at("2025-06-01T12:00:00+00:00"))
    await add_subscriber(db, clock, "kept", [WORLD])
    backup = parse_backup(json.dumps(await export_backup(db, clock())))
    await add_subscriber(db, clock, "newer", [SPORT])
    await add_subscriber(db, clock, "kept", [SPORT])  # a second feed since the backup
    merged = await import_backup(db, backup, clock())
    assert merged.subscribers_removed == 0
    assert (await _counts(db))["subscribers"] == 2
    replaced = await import_backup(db, backup, clock(), replace=True)
    assert (replaced.subscribers_removed, replaced.subscriptions_removed) == (1, 1)
    document = await export_backup(db, clock())
    assert [
        (s["chat_id"], [f["feed"] for f in s["subscriptions"]]) for s in document["subscribers"]
    ] == [("kept", [WORLD])]


def test_a_newer_format_version_is_refused_in_one_line() -> None:
    with pytest.raises(BackupError) as caught:
        parse_backup(
            '{"format": "newsbrief-backup", "version": 2, "exported_at": "2025-06-01T00:00:00Z",'
            ' "subscribers": []}'
        )
    assert caught.value.problems == [
        "format version 2 is newer than this NewsBrief reads (1); upgrade"
    ]


# --------------------------------------------------------------------------- command line


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    for name in list(os.environ):
        if name.startswith(("NEWSBRIEF_", "TELEGRAM_", "SLACK_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET-telegram-token")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-SECRET-slack-token")
    return database_url


async def test_cli_export_writes_a_private_file_without_secrets(
    db: Database, cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = Clock(at("2025-06-01T12:00:00+00:00"))
    await add_subscriber(db, clock, "berlin", [WORLD], zone="Europe/Berlin")
    target = tmp_path / "backups" / "newsbrief.json"
    assert await asyncio.to_thread(main, ["export", "-o", str(target)]) == 0
    assert "Exported 1 chats and 1 subscriptions" in capsys.readouterr().err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert await asyncio.to_thread(main, ["export"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["subscribers"][0]["chat_id"] == "berlin"
    assert "SECRET" not in out and cli_env.split("://")[1] not in out
    assert await asyncio.to_thread(main, ["import", str(target)]) == 0
    assert "0 new and 0 changed chats" in capsys.readouterr().out


async def test_cli_import_of_a_bad_file_writes_nothing_and_lists_each_problem(
    db: Database, cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = Clock(at("2025-06-01T12:00:00+00:00"))
    await add_subscriber(db, clock, "existing", [WORLD])
    good = await export_backup(db, clock())
    newcomer = dict(good["subscribers"][0], chat_id="newcomer")
    broken = dict(
        good["subscribers"][0],
        chat_id="broken",
        timezone="Mars/Olympus_Mons",
        time="25:00",
        stories="five",
    )
    broken["subscriptions"] = [dict(broken["subscriptions"][0], feed="ftp://feeds.example/x")]
    good["subscribers"] = [newcomer, broken, dict(newcomer)]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(good), "utf-8")
    before = await _counts(db)
    code = await asyncio.to_thread(main, ["import", str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    where = f"newsbrief: {path}: subscribers[1] (test:broken)"
    assert err == [
        f"{where}.time: not a HH:MM time: '25:00'",
        f"{where}.timezone: unknown time zone 'Mars/Olympus_Mons'",
        f"{where}.stories: Input should be a valid integer",
        f"{where}.subscriptions[0].feed: not a feed link (http or https): 'ftp://feeds.example/x'",
        "newsbrief: nothing was imported (4 problems)",
    ]
    assert await _counts(db) == before, "the valid newcomer was not written either"
    path.write_text(json.dumps({**good, "subscribers": [newcomer, dict(newcomer)]}), "utf-8")
    assert await asyncio.to_thread(main, ["import", str(path)]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"newsbrief: {path}: subscribers[1] (test:newcomer): the same chat as subscribers[0]",
        "newsbrief: nothing was imported (1 problem)",
    ]
    path.write_text('{"format": "newsbrief-backup", "version": 1,', "utf-8")
    assert await asyncio.to_thread(main, ["import", str(path)]) == 1
    assert "not JSON: Expecting property name enclosed in double quotes at line 1" in (
        capsys.readouterr().err
    )
    assert await asyncio.to_thread(main, ["import", str(tmp_path / "missing.json")]) == 1
    assert capsys.readouterr().err.strip() == (
        f"newsbrief: backup file not found: {tmp_path / 'missing.json'}"
    )
    assert await _counts(db) == before
