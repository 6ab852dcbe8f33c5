"""Backup timing at scale: export, check and import N chats (default 10,000).

Each chat subscribes to 2 of the feeds (200 by default, one with a keyword) and has
today's delivery record. Timed, each step once: exporting the SQLite database to the
backup dict, checking the JSON text (``parse_backup``, what ``newsbrief import`` does
before writing anything), importing it into a fresh PostgreSQL database, importing the
same file again (nothing changes: idempotence costs a full read and compare), and
exporting from PostgreSQL. Also reported: the size of the JSON file.

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/backup_scale.py [--chats 10000]
        [--feeds 200] [--out benchmarks/results/backup_scale.md]

The SQLite database is a throwaway file; the PostgreSQL one is a throwaway database on
the server of NEWSBRIEF_TEST_POSTGRES (default postgres@127.0.0.1:5432/test), dropped
at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]
from _common import ROOT, machine
from sqlalchemy import insert

from bot.backup import Backup, ImportReport, export_backup, import_backup, parse_backup
from bot.storage.db import Database, migrate
from bot.storage.models import Delivery, Feed, Subscriber, Subscription

RESULTS = ROOT / "benchmarks" / "results" / "backup_scale.md"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
FEEDS_PER_CHAT = 2

T = TypeVar("T")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=10_000, help="chats in the backup")
    parser.add_argument("--feeds", type=int, default=200, help="distinct feeds they subscribe to")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results markdown file")
    return parser.parse_args(argv)


async def populate(db: Database, chats: int, feeds: int) -> None:
    """Chats, their feed subscriptions and today's delivery, written in one transaction."""
    async with db.transaction() as session:
        await session.execute(
            insert(Feed),
            [
                {
                    "id": i + 1,
                    "url": f"https://feeds.example/{i}.xml",
                    "title": f"Feed {i}",
                    "next_poll_at": NOW,
                    "failures": 0,
                    "failure_reported": False,
                    "created_at": NOW,
                }
                for i in range(feeds)
            ],
        )
        await session.execute(
            insert(Subscriber),
            [
                {
                    "id": i + 1,
                    "platform": "telegram",
                    "chat_id": str(100_000 + i),
                    "thread_id": "",
                    "local_time": "07:30",
                    "timezone": "Europe/Berlin",
                    "stories": 5,
                    "topics": ["bridge"],
                    "paused": False,
                    "active": True,
                    "next_run_at": datetime(2025, 6, 2, 5, 30, tzinfo=UTC),
                    "created_at": NOW,
                }
                for i in range(chats)
            ],
        )
        await session.execute(
            insert(Subscription),
            [
                {
                    "subscriber_id": i + 1,
                    "feed_id": (i + k) % feeds + 1,
                    "keywords": ["port"] if k else [],
                    "created_at": NOW,
                }
                for i in range(chats)
                for k in range(FEEDS_PER_CHAT)
            ],
        )
        await session.execute(
            insert(Delivery),
            [
                {
                    "subscriber_id": i + 1,
                    "local_date": date(2025, 6, 1),
                    "status": "sent",
                    "attempts": 1,
                    "story_ids": [1, 2],
                    "created_at": NOW,
                    "sent_at": NOW,
                }
                for i in range(chats)
            ],
        )


async def timed(label: str, work: Awaitable[T], timings: dict[str, float]) -> T:
    """Await ``work``, record its wall time under ``label`` and print it as it happens."""
    started = time.perf_counter()
    result = await work
    timings[label] = time.perf_counter() - started
    print(f"{label}: {timings[label]:.2f} s", file=sys.stderr, flush=True)
    return result


async def connect_admin(url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        raise SystemExit(
            f"PostgreSQL not reachable at {url} ({type(error).__name__}: {error}); "
            "start it or set NEWSBRIEF_TEST_POSTGRES"
        ) from None


async def run_postgresql(
    admin: asyncpg.Connection, admin_url: str, backup: Backup, timings: dict[str, float]
) -> tuple[ImportReport, ImportReport]:
    """Import twice into a throwaway PostgreSQL database, then export it; drop it after."""
    name = f"nb_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+asyncpg://{urlsplit(admin_url).netloc}/{name}"
        await migrate(url)
        db = Database.connect(url)
        try:
            first = await timed(
                "import into empty PostgreSQL", import_backup(db, backup, NOW), timings
            )
            again = await timed(
                "import the same file again (no changes)", import_backup(db, backup, NOW), timings
            )
            await timed("export PostgreSQL", export_backup(db, NOW), timings)
        finally:
            await db.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return first, again


@dataclass
class Measured:
    timings: dict[str, float]  # step -> seconds, in the order they ran
    size_mb: float
    first: ImportReport
    again: ImportReport


async def measure(chats: int, feeds: int) -> Measured:
    admin_url = os.environ.get("NEWSBRIEF_TEST_POSTGRES", DEFAULT_ADMIN_URL)
    admin = await connect_admin(admin_url)  # before any work: fail fast when it is down
    try:
        return await measure_with(admin, admin_url, chats, feeds)
    finally:
        await admin.close()


async def measure_with(
    admin: asyncpg.Connection, admin_url: str, chats: int, feeds: int
) -> Measured:
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="newsbrief-backup-scale-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'source.db'}"
        await migrate(url)
        db = Database.connect(url)
        try:
            await populate(db, chats, feeds)
            document = await timed("export SQLite", export_backup(db, NOW), timings)
        finally:
            await db.close()
    text = json.dumps(document, indent=2)
    size_mb = len(text.encode()) / 1e6
    print(f"file size: {size_mb:.1f} MB", file=sys.stderr, flush=True)
    checked = asyncio.to_thread(parse_backup, text)
    backup = await timed("check the file (parse_backup)", checked, timings)
    first, again = await run_postgresql(admin, admin_url, backup, timings)
    return Measured(timings, size_mb, first, again)


def report(
    measured: Measured, args: argparse.Namespace, argv: list[str], loads: tuple[float, float]
) -> str:
    command = "PYTHONPATH=. nice -n 10 " + shlex.join(
        [".venv/bin/python", "benchmarks/backup_scale.py", *argv]
    )
    lines = [
        f"# Backup export and import: {args.chats:,} chats",
        "",
        f"- command: `{command}`",
        f"- machine: {machine()}, shared with other jobs: 1-minute load average "
        f"{loads[0]:.1f} at the start, {loads[1]:.1f} at the end",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- data: {args.chats:,} Telegram chats, each with {FEEDS_PER_CHAT} of {args.feeds} "
        f"feeds and today's delivery record; JSON file (indented) {measured.size_mb:.1f} MB",
        "",
        "| step | seconds |",
        "|---|---:|",
        *(f"| {label} | {seconds:.2f} |" for label, seconds in measured.timings.items()),
        "",
        f"- first import: {measured.first.summary()}",
        f"- second import: {measured.again.summary()}",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.chats < 1 or args.feeds < FEEDS_PER_CHAT:
        raise SystemExit(f"need --chats >= 1 and --feeds >= {FEEDS_PER_CHAT}")
    load_before = os.getloadavg()[0]
    measured = asyncio.run(measure(args.chats, args.feeds))
    text = report(measured, args, argv, (load_before, os.getloadavg()[0]))
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
