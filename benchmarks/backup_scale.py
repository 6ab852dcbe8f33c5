"""Backup timing: export, check and import 10,000 chats x 2 feeds (of 200) + today's delivery.

PYTHONPATH=. .venv/bin/python benchmarks/backup_scale.py   (PostgreSQL on 127.0.0.1:5432, db test)
"""
import asyncio, json, os, time, uuid
from datetime import UTC, datetime, date
import asyncpg
from sqlalchemy import insert
from bot.backup import export_backup, import_backup, parse_backup
from bot.storage.db import Database, migrate
from bot.storage.models import Delivery, Feed, Subscriber, Subscription

N = 10_000
now = datetime(2025, 6, 1, 12, tzinfo=UTC)

async def populate(db):
    async with db.transaction() as s:
        await s.execute(insert(Feed), [dict(id=i + 1, url=f"https://feeds.example/{i}.xml", title=f"Feed {i}", next_poll_at=now, failures=0, failure_reported=False, created_at=now) for i in range(200)])
        await s.execute(insert(Subscriber), [dict(id=i + 1, platform="telegram", chat_id=str(100000 + i), thread_id="", local_time="07:30", timezone="Europe/Berlin", stories=5, topics=["bridge"], paused=False, active=True, next_run_at=datetime(2025, 6, 2, 5, 30, tzinfo=UTC), created_at=now) for i in range(N)])
        await s.execute(insert(Subscription), [dict(subscriber_id=i + 1, feed_id=(i + k) % 200 + 1, keywords=["port"] if k else [], created_at=now) for i in range(N) for k in range(2)])
        await s.execute(insert(Delivery), [dict(subscriber_id=i + 1, local_date=date(2025, 6, 1), status="sent", attempts=1, story_ids=[1, 2], created_at=now, sent_at=now) for i in range(N)])

async def timed(label, coro):
    t = time.perf_counter(); r = await coro; print(f"{label}: {time.perf_counter() - t:.2f} s", flush=True); return r

async def main():
    for leftover in ("", "-wal", "-shm"):
        if os.path.exists("/tmp/newsbrief_backup_scale.db" + leftover):
            os.remove("/tmp/newsbrief_backup_scale.db" + leftover)
    src = "sqlite+aiosqlite:////tmp/newsbrief_backup_scale.db"
    await migrate(src); a = Database.connect(src); await populate(a)
    doc = await timed("export sqlite", export_backup(a, now))
    text = json.dumps(doc, indent=2); print(f"file size: {len(text.encode())/1e6:.1f} MB")
    backup = await timed("validate", asyncio.to_thread(parse_backup, text))
    admin = await asyncpg.connect(os.environ.get("NEWSBRIEF_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"))
    name = "nb_priv_" + uuid.uuid4().hex[:8]; await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        dst = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"  # same server as above
        await migrate(dst); b = Database.connect(dst)
        r = await timed("import into empty postgresql", import_backup(b, backup, now)); print(r.summary())
        r = await timed("import again (no changes)", import_backup(b, backup, now)); print(r.summary())
        await timed("export postgresql", export_backup(b, now))
        await b.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)'); await admin.close()
    await a.close()
asyncio.run(main())
