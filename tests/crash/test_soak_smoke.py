"""A short soak: 20 chats on Telegram and Slack at once against one ``serve all`` process.

The full soak (``benchmarks/soak.py``) runs 200 chats for minutes; this keeps its
promise checked in CI in well under a minute: every message answered, none with an
error, and the process still healthy enough to stop cleanly.
"""

from __future__ import annotations

from pathlib import Path

from tests.crash.helpers import BotProcess, bot_env
from tests.crash.load import UNLIMITED, drive, slack_settings, wait_until_connected
from tests.fakes.slack_api import serve_fake_slack
from tests.fakes.telegram_api import serve_fake_telegram


async def test_twenty_chats_for_twenty_seconds_all_answered_without_errors(
    tmp_path: Path,
) -> None:
    async with serve_fake_telegram() as telegram, serve_fake_slack() as slack:
        telegram.max_poll_s = 0.5
        env = bot_env(
            tmp_path,
            telegram=(telegram.api_url, telegram.token),
            slack=slack_settings(slack),
            extra=UNLIMITED,
        )
        bot = BotProcess("all", env, tmp_path / "bot.log")
        await bot.start()
        try:
            await wait_until_connected(telegram, slack)
            result = await drive(
                telegram,
                slack,
                telegram_chats=14,
                slack_chats=6,
                seconds=10,
                think_s=2,
                questions_per_article=2,
                min_turns=2,
                reply_timeout_s=120,
            )
            code = await bot.terminate(timeout_s=60)
        finally:
            await bot.stop_quietly()
    outcomes = [(s.platform, s.kind, s.outcome) for s in result.samples if s.outcome != "ok"]
    assert not outcomes, f"{outcomes}\n{bot.log_tail()}"
    assert len(result.of("article")) >= 20 and len(result.of("question")) >= 20
    assert {s.platform for s in result.samples} == {"telegram", "slack"}
    assert code == 0, bot.log_tail()
