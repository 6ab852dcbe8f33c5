"""Persistent state for subscriptions and daily briefs (SQLAlchemy 2 async + Alembic).

The database is the source of truth: schedules, feeds, stories and delivery
records live here so that a restart or a second bot process loses and repeats
nothing.
"""

from bot.storage.db import Database, create_engine, default_database_url, migrate

__all__ = ["Database", "create_engine", "default_database_url", "migrate"]
