"""`newsbrief serve all`: Telegram and Slack in one process and one event loop."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from bot.serve import serve
from config import Settings
from tests.fakes.slack_api import serve_fake_slack
from tests.fakes.telegram_api import serve_fake_telegram


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta durations (ints warn, and warnings are errors here)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def test_serve_all_answers_on_telegram_and_stops_both_cleanly(settings: Settings) -> None:
    async with serve_fake_telegram() as telegram, serve_fake_slack() as slack:
        configured = settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(telegram.token),
                "telegram_api_url": telegram.api_url,
                "slack_bot_token": SecretStr("xoxb-test-token"),
                "slack_signing_secret": SecretStr("signing-secret"),
                "slack_app_token": None,
                "slack_api_url": slack.api_url,
            }
        )
        stop = asyncio.Event()
        running = asyncio.create_task(
            serve(configured, ["telegram", "slack"], slack_port=0, stop=stop)
        )
        telegram.push_command(42, "help")
        [reply] = await telegram.wait_for_messages(42, 1, timeout=60)
        assert "/brief" in reply.text
        stop.set()
        await asyncio.wait_for(running, timeout=60)
    assert running.exception() is None
