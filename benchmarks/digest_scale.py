"""Daily briefs at scale: N subscribers over F feeds, stories served by the local fake site.

Measures, for SQLite and PostgreSQL side by side: ingest wall time and model
calls (must equal the distinct stories stored), the delivery pass (compose and
fan out every brief into an in-memory sender, rate limits off), peak memory and
database size.

    .venv/bin/python -m benchmarks.digest_scale --subscribers 10000 --feeds 200 --stories 2000
    .venv/bin/python -m benchmarks.digest_scale --stories 100   # quick, then extrapolate

PostgreSQL: a throwaway database on NEWSBRIEF_TEST_POSTGRES (default postgres@127.0.0.1/test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert, text

from bot.delivery import BriefScheduler, MemorySender
from bot.feeds import FeedPoller, feed_client
from bot.storage.config import DeliverySettings
from bot.storage.db import Database, migrate
from bot.storage.models import Feed, Subscriber, Subscription
from bot.stories import StoryService
from config import load_settings
from summarizer.models import ModelService
from tests.fakes.feeds import FakeFeeds, serve_fake_feeds

TOPICS = [
    ("council", "bridge", "Mayor"),
    ("court", "ruling", "Judge"),
    ("storm", "flood", "Chief"),
    ("tariff", "steel", "Minister"),
    ("election", "ballot", "Senator"),
    ("hospital", "nurses", "Director"),
    ("football", "final", "Coach"),
    ("vaccine", "trial", "Professor"),
    ("airport", "strike", "Union leader"),
    ("museum", "painting", "Curator"),
    ("rail", "timetable", "Operator"),
    ("bank", "rates", "Governor"),
]
PLACES = [
    "Oslo",
    "Lima",
    "Accra",
    "Perth",
    "Quito",
    "Graz",
    "Davao",
    "Tampere",
    "Cork",
    "Fez",
    "Leeds",
    "Osaka",
]
NAMES = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Silva",
    "Novak",
    "Haddad",
    "Kowalski",
    "Byrne",
    "Mensah",
]


def story(i: int, rng: random.Random) -> tuple[str, list[str]]:
    subject, thing, role = TOPICS[i % len(TOPICS)]
    place, name = rng.choice(PLACES), rng.choice(NAMES)
    n = rng.randint(2, 900)
    title = f"{place} {subject} decision {i}: {n} {thing} plans"
    paragraphs = [
        f"Officials in {place} on Monday announced {n} changes to {thing} plans "
        f"after a long {subject} review number {i}.",
        f'"We owe the people of {place} a clear answer on {thing} {i}," '
        f"said {role} {name} at a briefing.",
        f"Critics said the {subject} process had taken {rng.randint(2, 40)} months "
        f"and cost {n * 3} thousand euros.",
        f"A final vote on the {thing} measures is expected within {rng.randint(2, 9)} weeks, "
        "the office said.",
    ]
    return title, paragraphs


def build_site(site: FakeFeeds, feeds: int, stories: int, items: int, rng: random.Random) -> None:
    paths = [site.feed(f"/feed{f}.xml", f"Feed {f}") for f in range(feeds)]
    links = []
    for i in range(stories):
        title, paragraphs = story(i, rng)
        feed_path = f"/feed{i % feeds}.xml"
        links.append(site.publish(feed_path, title, paragraphs, article_path=f"/news/{i}"))
    for j in range(items - stories):  # cross-posted: the same article in another feed
        item = links[j % stories]
        site.publish(
            f"/feed{(j * 7 + 3) % feeds}.xml",
            item.title,
            [item.summary],
            link=item.link + f"?utm_source=f{j}",
        )
    assert len(paths) == feeds


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("bench.db*"))


async def pg_database() -> tuple[str, Any]:
    admin_url = os.environ.get(
        "NEWSBRIEF_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
    )
    admin = await asyncpg.connect(admin_url)
    name = f"nb_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    netloc = admin_url.split("://", 1)[1].rsplit("/", 1)[0]

    async def drop() -> None:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    return f"postgresql+asyncpg://{netloc}/{name}", drop


async def run(kind: str, args: argparse.Namespace, site: FakeFeeds) -> dict[str, Any]:
    rng = random.Random(7)
    folder = Path(tempfile.mkdtemp())
    drop = None
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    else:
        url, drop = await pg_database()
    settings = load_settings(data_dir=folder)
    config = replace(
        DeliverySettings(),
        database_url=url,
        feed_min_interval_s=60,
        feed_items_per_poll=1000,
        article_fetch_concurrency=8,
        fanout_concurrency=64,
        telegram_rate_per_s=0,
    )
    clock_now = [datetime(2025, 6, 1, 5, 0, tzinfo=UTC)]
    now = lambda: clock_now[0]  # noqa: E731
    await migrate(url)
    db = Database.connect(url)
    models = ModelService(settings)
    try:
        async with db.transaction() as session:
            await session.execute(
                insert(Feed),
                [
                    {
                        "url": site.url(f"/feed{f}.xml"),
                        "next_poll_at": now(),
                        "failures": 0,
                        "failure_reported": False,
                        "created_at": now(),
                    }
                    for f in range(args.feeds)
                ],
            )
            await session.execute(
                insert(Subscriber),
                [
                    {
                        "platform": "test",
                        "chat_id": f"u{i}",
                        "thread_id": "",
                        "local_time": "07:30",
                        "timezone": "UTC",
                        "stories": 5,
                        "topics": [],
                        "paused": False,
                        "active": True,
                        "next_run_at": datetime(2025, 6, 1, 7, 30, tzinfo=UTC),
                        "created_at": now(),
                    }
                    for i in range(args.subscribers)
                ],
            )
            await session.execute(
                insert(Subscription),
                [
                    {"subscriber_id": i + 1, "feed_id": f + 1, "keywords": [], "created_at": now()}
                    for i in range(args.subscribers)
                    for f in rng.sample(range(args.feeds), 5)
                ],
            )
        async with feed_client(config, "bench") as http:
            await models.run(models.embed_sync, ["warm up"])  # load MiniLM outside the timing
            stories = StoryService(db, models, http, settings, config, now)
            poller = FeedPoller(db, http, config, now)
            sender = MemorySender()
            scheduler = BriefScheduler(
                db, config, {"test": sender}, now, stories=stories, poller=poller, owner="bench"
            )
            started = time.perf_counter()
            while True:
                polled = await poller.poll_due(limit=args.feeds)
                if not polled.polled:
                    break
                await stories.ingest(polled)
            ingest_s = time.perf_counter() - started
            clock_now[0] = datetime(2025, 6, 1, 7, 30, tzinfo=UTC)
            started = time.perf_counter()
            report = await scheduler.deliver_due()
            deliver_s = time.perf_counter() - started
        async with db.sessions() as session:
            stored = int(await session.scalar(text("select count(*) from stories")) or 0)
            if kind == "sqlite":
                size = await asyncio.to_thread(_folder_size, folder)
            else:
                size = int(
                    await session.scalar(text("select pg_database_size(current_database())")) or 0
                )
        assert report.sent == args.subscribers, report
        return {
            "db": kind,
            "ingest_s": ingest_s,
            "items": stories.stats.items,
            "stored": stored,
            "analysed": stories.stats.analysed,
            "embedded": stories.stats.embedded,
            "merged": stories.stats.merged,
            "deliver_s": deliver_s,
            "compose_s": report.compose_s,
            "sent": report.sent,
            "size_mb": size / 1e6,
            "per_story_s": ingest_s / max(1, stories.stats.analysed),
        }
    finally:
        models.close()
        await db.close()
        if drop:
            await drop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument(
        "--stories", type=int, default=2_000, help="distinct stories (items: x1.25)"
    )
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    items = args.items or int(args.stories * 1.25)
    results = []
    async with serve_fake_feeds() as site:
        build_site(site, args.feeds, args.stories, items, random.Random(1))
        for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
            results.append(await run(kind, args, site))

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"subscribers={args.subscribers} feeds={args.feeds} stories={args.stories} items={items}")
    print(
        "| db | items | stories stored | make_brief calls | embeddings | merged | ingest s "
        "| s/story | deliver s (compose s) | briefs | db MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['db']} | {r['items']} | {r['stored']} | {r['analysed']} | {r['embedded']} "
            f"| {r['merged']} | {r['ingest_s']:.1f} | {r['per_story_s']:.2f} "
            f"| {r['deliver_s']:.1f} ({r['compose_s']:.1f}) | {r['sent']} | {r['size_mb']:.1f} |"
        )
    print(f"peak RSS (whole process, models loaded): {peak_mb:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
