"""Settings for feeds, stories and delivery, until the lead adds them to ``Settings``.

:func:`delivery_settings` reads each value from :class:`config.settings.Settings`
when it has a field of that name, else uses the default here, so wiring them
into the real settings later needs no change in the callers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.storage.db import default_database_url
from config.settings import Settings

#: The time source of feeds, schedules and deliveries; tests pass a controllable one.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeliverySettings:
    """Everything the subscription, feed and delivery code may be tuned with."""

    database_url: str = "sqlite+aiosqlite:///newsbrief.db"
    # --- feeds
    feed_min_interval_s: float = 300.0  # never poll a feed more often, whatever its TTL
    feed_default_interval_s: float = 900.0
    feed_max_bytes: int = 2_000_000
    feed_timeout_s: float = 15.0
    feed_max_redirects: int = 5
    feed_max_backoff_s: float = 6 * 3600.0
    feed_failures_before_notice: int = 3
    feed_items_per_poll: int = 50
    article_fetch_concurrency: int = 4
    # --- stories
    digest_stories: int = 5
    digest_max_stories: int = 10
    digest_window_h: float = 24.0  # a first brief (or one after a long pause) looks back this far
    story_window_h: float = 48.0  # near-duplicates are searched among stories this recent
    # cosine of MiniLM title+lead vectors; best F1 on real news (benchmarks/dedup_threshold.py)
    dedup_threshold: float = 0.72
    # --- schedule
    default_time: str = "07:30"
    default_timezone: str = "UTC"
    # --- delivery
    scheduler_tick_s: float = 20.0
    delivery_lease_s: float = 300.0  # a claimed brief not marked sent by then is taken over
    delivery_attempts: int = 3
    fanout_concurrency: int = 16
    telegram_rate_per_s: float = 25.0  # Bot API: about 30 messages a second overall
    telegram_chat_interval_s: float = 1.0  # ... and one a second per chat
    slack_rate_per_s: float = 20.0
    slack_chat_interval_s: float = 1.1  # chat.postMessage: about one a second per channel


def delivery_settings(settings: Settings, **overrides: Any) -> DeliverySettings:
    """Build from the app settings (fields of the same name win over defaults)."""
    values: dict[str, Any] = {}
    for item in dataclasses.fields(DeliverySettings):
        if hasattr(settings, item.name):
            values[item.name] = getattr(settings, item.name)
    values["database_url"] = default_database_url(settings.database_url, settings.data_dir)
    values.update(overrides)
    return DeliverySettings(**values)
