"""Running ``newsbrief serve`` as a real process against the fake servers, and killing it.

Crash tests need the bot in its own process so SIGKILL is a real crash (no
``finally`` runs, no buffers flushed) and the test keeps the only copy of the
truth: the fake servers' records and the database. The soak benchmark uses the
same launcher so its memory readings are the bot's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot.storage.db import Database
from bot.storage.models import Delivery, Subscriber
from bot.storage.repository import get_or_create_feed, get_or_create_subscriber, subscribe

ROOT = Path(__file__).resolve().parents[2]

#: Variables of the caller's environment the bot process must not inherit.
_PRIVATE = (
    "TELEGRAM_",
    "SLACK_",
    "DATABASE_URL",
    "NEWSBRIEF_",
)


def bot_env(
    data_dir: Path,
    *,
    database_url: str | None = None,
    telegram: tuple[str, str] | None = None,
    slack: tuple[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a bot process: only what the test gives it, plus PATH and the like.

    ``telegram`` is ``(api_url, token)``, ``slack`` is ``(api_url, bot_token)``; Slack runs
    in Socket Mode (the fake serves the websocket). The model cache is the caller's
    ``NEWSBRIEF_CACHE_DIR`` when set, so converted weights are reused.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE)}
    if os.environ.get("NEWSBRIEF_CACHE_DIR"):
        env["NEWSBRIEF_CACHE_DIR"] = os.environ["NEWSBRIEF_CACHE_DIR"]
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_VERBOSITY": "error",
            "TOKENIZERS_PARALLELISM": "false",
            "PTB_TIMEDELTA": "true",
            "PYTHONUNBUFFERED": "1",
            "NEWSBRIEF_DATA_DIR": str(data_dir),
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    if telegram:
        env["TELEGRAM_API_URL"], env["TELEGRAM_BOT_TOKEN"] = telegram
    if slack:
        env["SLACK_API_URL"], env["SLACK_BOT_TOKEN"] = slack
        env["SLACK_APP_TOKEN"] = "xapp-1-A0FAKE001-1-fake"
    env.update(extra or {})
    return env


@dataclass
class BotProcess:
    """One ``python -m bot serve PLATFORM`` process at a time; its output goes to ``log_path``."""

    platform: str
    env: dict[str, str]
    log_path: Path
    args: Sequence[str] = ()
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    exit_codes: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        assert not self.running, "already running"
        self.starts += 1
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"\n===== start {self.starts} =====\n")
            log.flush()
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "-v",
                "serve",
                self.platform,
                *self.args,
                cwd=ROOT,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

    async def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up, like a power cut for the bot."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        self.exit_codes.append(await self.process.wait())

    async def terminate(self, timeout_s: float = 60.0) -> int:
        """SIGTERM and wait for the exit code (the process is killed if it overruns)."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout_s)
        except TimeoutError:
            await self.kill()
            raise AssertionError(
                f"the bot did not exit within {timeout_s} s of SIGTERM:\n{self.log_tail()}"
            ) from None
        self.exit_codes.append(code)
        return code

    async def stop_quietly(self) -> None:
        """Clean-up for ``finally`` blocks: whatever state the process is in, end it."""
        if self.running:
            await self.kill()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.is_file():
            return "(no output)"
        return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-lines:])


# --------------------------------------------------------------------------- daily briefs


async def add_due_subscribers(
    db: Database, count: int, feed_url: str, *, platform: str = "telegram", first_chat: int = 1000
) -> dict[str, int]:
    """``count`` subscribers of one feed whose brief is due right now: chat id -> subscriber id.

    ``next_run_at`` is set a few seconds in the past (but on the same local day), so the
    bot's first delivery pass claims them all, with the real clock.
    """
    now = datetime.now(UTC)
    due = max(now - timedelta(seconds=5), now.replace(hour=0, minute=0, second=0, microsecond=0))
    ids: dict[str, int] = {}
    async with db.transaction() as session:
        feed = await get_or_create_feed(session, feed_url, now=now)
        for number in range(count):
            chat_id = str(first_chat + number)
            subscriber = await get_or_create_subscriber(
                session,
                platform,
                chat_id,
                now=now,
                local_time="07:30",
                timezone="UTC",
                stories=3,
            )
            await subscribe(session, subscriber, feed, [], now=now)
            ids[chat_id] = subscriber.id
        await session.execute(
            update(Subscriber).where(Subscriber.id.in_(ids.values())).values(next_run_at=due)
        )
    return ids


async def delivery_states(db: Database) -> dict[int, list[str]]:
    """Subscriber id -> the status of each of its delivery rows."""
    async with db.sessions() as session:
        rows = (await session.execute(select(Delivery.subscriber_id, Delivery.status))).all()
    states: dict[int, list[str]] = {}
    for subscriber_id, status in rows:
        states.setdefault(int(subscriber_id), []).append(str(status))
    return states
