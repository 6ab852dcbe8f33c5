"""SIGTERM while a brief is being computed: the user still gets it, and the bot exits 0.

``newsbrief serve`` is what a service manager stops with SIGTERM (systemd, Docker,
Kubernetes): in-flight work must finish and be delivered, then the process must end on
its own, in time, with exit code 0.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.crash.helpers import ROOT, BotProcess, bot_env
from tests.fakes.telegram_api import serve_fake_telegram

ARTICLE = (ROOT / "examples" / "harbour-bridge-vote.txt").read_text("utf-8")
#: Generous: the brief may include loading the models in a loaded CI machine.
EXIT_WITHIN_S = 150.0


async def test_sigterm_delivers_the_brief_in_flight_and_exits_cleanly(tmp_path: Path) -> None:
    async with serve_fake_telegram() as telegram:
        telegram.max_poll_s = 0.5
        env = bot_env(tmp_path, telegram=(telegram.api_url, telegram.token))
        bot = BotProcess("telegram", env, tmp_path / "bot.log")
        await bot.start()
        try:
            telegram.push_command(7, "help")  # the bot is up and polling
            await telegram.wait_for_messages(7, 1, timeout=120)
            telegram.push_text(42, ARTICLE)
            # "typing…" is sent when the work on the article starts.
            await telegram.wait_for_call(
                "sendChatAction", lambda p: str(p.get("chat_id")) == "42", timeout=60
            )
            assert not telegram.messages(42), "the brief came before SIGTERM could interrupt it"
            started = time.monotonic()
            code = await bot.terminate(timeout_s=EXIT_WITHIN_S)
            took = time.monotonic() - started
        finally:
            await bot.stop_quietly()
        [brief] = telegram.messages(42)
    assert code == 0, bot.log_tail()
    assert "Riverton council backs new harbour bridge" in brief.plain
    assert took < EXIT_WITHIN_S
    assert "Traceback" not in bot.log_path.read_text("utf-8")


async def test_sigterm_when_idle_exits_within_seconds(tmp_path: Path) -> None:
    async with serve_fake_telegram() as telegram:
        telegram.max_poll_s = 0.5
        bot = BotProcess(
            "telegram",
            bot_env(tmp_path, telegram=(telegram.api_url, telegram.token)),
            tmp_path / "bot.log",
        )
        await bot.start()
        try:
            telegram.push_command(7, "help")
            await telegram.wait_for_messages(7, 1, timeout=120)
            started = time.monotonic()
            code = await bot.terminate(timeout_s=30)
        finally:
            await bot.stop_quietly()
    assert code == 0, bot.log_tail()
    assert time.monotonic() - started < 15
