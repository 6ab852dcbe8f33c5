"""Schema, migrations, schedule arithmetic and URL/command parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

from bot.storage.db import Database, migrate, normalise_url
from bot.storage.models import Base
from bot.storage.repository import next_run, occurrence
from bot.stories import canonical_url
from bot.subscriptions import find_zone, parse_opml, parse_time


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_models_and_rerun(db: Database, database_url: str) -> None:
    await migrate(database_url)  # idempotent: a restart runs it again
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
        version = await connection.scalar(text("select version_num from alembic_version"))
    assert version == "0002"


def test_normalise_url() -> None:
    assert normalise_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"


def _local(instant: datetime, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def test_brief_stays_at_local_time_across_dst() -> None:
    after = datetime(2025, 3, 29, 12, tzinfo=UTC)
    first, day = next_run("07:30", "Europe/Berlin", after)
    assert day == date(2025, 3, 30) and _local(first, "Europe/Berlin") == "2025-03-30 07:30 CEST"
    assert first == datetime(2025, 3, 30, 5, 30, tzinfo=UTC)
    second, _ = next_run("07:30", "Europe/Berlin", first)
    assert _local(second, "Europe/Berlin") == "2025-03-31 07:30 CEST"
    autumn, _ = next_run("07:30", "America/New_York", datetime(2025, 11, 2, 0, tzinfo=UTC))
    assert _local(autumn, "America/New_York") == "2025-11-02 07:30 EST"


def test_nonexistent_and_ambiguous_local_times() -> None:
    # 02:30 does not exist on 30 March 2025 in Berlin: sent at 03:30 CEST, same instant as fold=0.
    gap = occurrence("02:30", "Europe/Berlin", date(2025, 3, 30))
    assert gap == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert _local(gap, "Europe/Berlin") == "2025-03-30 03:30 CEST"
    # 02:30 happens twice on 26 October 2025: the first one (CEST) is used.
    twice = occurrence("02:30", "Europe/Berlin", date(2025, 10, 26))
    assert twice == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)


def test_next_run_is_strictly_after() -> None:
    at = datetime(2025, 6, 1, 5, 30, tzinfo=UTC)  # 07:30 in Berlin
    assert next_run("07:30", "Europe/Berlin", at)[0] == datetime(2025, 6, 2, 5, 30, tzinfo=UTC)
    just_before = datetime(2025, 6, 1, 5, 29, tzinfo=UTC)
    assert next_run("07:30", "Europe/Berlin", just_before)[0] == at


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://www.Example.com/a/?utm_source=x&b=2&a=1#top", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?fbclid=1", "https://example.com/a"),
        ("https://example.com:8080//x//y/", "https://example.com:8080/x/y"),
        ("ftp://example.com/a", None),
        ("not a url", None),
    ],
)
def test_canonical_url(url: str, expected: str | None) -> None:
    assert canonical_url(url) == expected


def test_parse_time_and_zone() -> None:
    assert parse_time("7:30") == "07:30"
    assert parse_time("07:30") == "07:30"
    assert parse_time("7pm") == "19:00"
    assert parse_time("12am") == "00:00"
    assert parse_time("25:00") is None
    assert parse_time("7:75") is None
    assert parse_time("soon") is None
    assert find_zone("europe/berlin") == "Europe/Berlin"
    assert find_zone("Mars/Olympus") is None
    assert find_zone("../../etc/passwd") is None


def test_parse_opml_is_safe() -> None:
    opml = """<?xml version="1.0"?><opml version="2.0"><body>
      <outline text="News"><outline type="rss" xmlUrl="https://a.example/rss"/>
      <outline type="rss" xmlUrl="https://b.example/atom.xml"/></outline>
      <outline type="rss" xmlUrl="javascript:alert(1)"/></body></opml>"""
    assert parse_opml(opml) == ["https://a.example/rss", "https://b.example/atom.xml"]
    bomb = """<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>
      <opml><body><outline xmlUrl="https://x/&b;"/></body></opml>"""
    with pytest.raises(ValueError, match="not valid OPML"):
        parse_opml(bomb)
    with pytest.raises(ValueError):
        parse_opml("<opml><body>")
