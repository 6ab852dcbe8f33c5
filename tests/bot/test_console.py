"""The terminal chat: paste an article, end with an empty line, then ask."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx

from bot.console import ConsoleChat, ReadLine, parse_command
from bot.core import ChatCore
from config import Settings
from summarizer.models import ModelService

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "harbour-bridge-vote.txt"


def scripted(lines: list[str]) -> ReadLine:
    feed: Iterator[str] = iter(lines)

    async def read() -> str | None:
        return next(feed, None)

    return read


async def test_paste_then_ask_then_press_a_button(settings: Settings, models: ModelService) -> None:
    article = SAMPLE.read_text("utf-8").splitlines(keepends=True)
    # The sample has blank lines between paragraphs: paste it without them, as a terminal
    # paste of one block, then end it with an empty line.
    pasted = [line for line in article if line.strip()] + ["\n"]
    lines = [*pasted, "Who warned about the cost estimate?\n", "1\n", "/quotes Vasquez\n"]
    out = io.StringIO()
    async with httpx.AsyncClient() as http:
        core = ChatCore(settings, models, http)
        await ConsoleChat(core, scripted(lines), out).run()
    text = out.getvalue()
    assert "Paste an article" in text
    assert "Riverton council backs new harbour bridge" in text
    assert "1) Quotes" in text and "2) Who said what" in text
    assert "Okafor" in text.split("Who warned about")[0] or "Okafor" in text
    assert "“We have argued about this bridge for twelve years”" in text
    assert "Traceback" not in text


def test_commands_are_parsed_like_chat_commands() -> None:
    assert parse_command("/quotes Trump") == ("quotes", "Trump")
    assert parse_command("/who@NewsBriefBot") == ("who", "")
    assert parse_command("what did he say?") == (None, "what did he say?")


def test_the_chat_command_reads_a_file_path_then_answers() -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input=f"{SAMPLE}\nWhat did Okafor say about the cost?\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Riverton council backs" in result.stdout
    assert "Okafor" in result.stdout.split("Riverton council backs", 1)[1]
    assert "Traceback" not in result.stderr
