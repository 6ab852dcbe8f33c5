"""Tables. Every timestamp is stored as naive UTC and read back as aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Naive UTC in the database (SQLite has no time zones), aware UTC in Python."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Subscriber(Base):
    """A chat that receives a daily brief, with its schedule."""

    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "thread_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str] = mapped_column(String(64), default="")
    local_time: Mapped[str] = mapped_column(String(5), default="07:30")  # HH:MM
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    stories: Mapped[int] = mapped_column(Integer, default=5)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: the chat blocked us
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_brief_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Feed(Base):
    """An RSS/Atom feed polled once for all its subscribers."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str | None] = mapped_column(String(512))
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    ttl_s: Mapped[float | None] = mapped_column(Float)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(512))
    failure_reported: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Subscription(Base):
    """A subscriber's feed, optionally narrowed to keywords."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("subscriber_id", "feed_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Story(Base):
    """One news story, however many feeds carry it; analysed once."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canonical_url: Mapped[str | None] = mapped_column(String(2048), unique=True)
    content_hash: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(1024))
    url: Mapped[str | None] = mapped_column(String(2048))
    text: Mapped[str] = mapped_column(Text)
    bullets: Mapped[list[str]] = mapped_column(JSON, default=list)
    quote: Mapped[str | None] = mapped_column(Text)
    speaker: Mapped[str | None] = mapped_column(String(256))
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    published_on: Mapped[date | None] = mapped_column(Date)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sources: Mapped[int] = mapped_column(Integer, default=1)


class StorySource(Base):
    """A feed item that carried a story: how "also reported by" is known.

    When the retention purge deletes an old story its items stay behind with
    ``story_id`` NULL for a while, so a feed that still lists the item does not
    bring the story back as new.
    """

    __tablename__ = "story_sources"
    __table_args__ = (
        UniqueConstraint("feed_id", "guid"),
        Index("ix_story_sources_feed_seen", "feed_id", "seen_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL only on the leftovers of purged stories, which no story query selects
    # (they are older than any ranking window), hence ``int`` for the readers.
    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), index=True, nullable=True
    )
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(String(2048))
    url: Mapped[str | None] = mapped_column(String(2048))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One brief for one subscriber and local day; the unique key makes sending idempotent.

    ``status``: claimed (being sent, owned until ``lease_until``), sent, skipped
    (missed while down or nothing to send), cancelled (unsubscribed), blocked, failed.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "local_date"),
        Index("ix_deliveries_status_lease", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    story_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(String(512))
