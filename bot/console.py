"""``newsbrief chat``: a terminal chat on the same core as Telegram and Slack, no token needed.

Paste an article and end it with an empty line (or give a file path or a link),
then ask questions, one per line. Commands work as in the chat apps (/quotes,
/who, /when, /forget, /help); buttons are offered as numbered choices.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.core import ChatCore, Incoming, Reply, plain_text

ReadLine = Callable[[], Awaitable[str | None]]

PROMPT_ARTICLE = "Paste an article and end it with an empty line (or type a file path or a link):"
PROMPT_QUESTION = "Ask a question (or paste another article; /help for commands; Ctrl-D to quit)."


def parse_command(line: str) -> tuple[str | None, str]:
    """'/quotes Trump' -> ('quotes', 'Trump'); anything else -> (None, line)."""
    if not line.startswith("/") or line.startswith("//"):
        return None, line
    name, _, args = line[1:].partition(" ")
    return name.split("@", 1)[0].lower(), args.strip()


class ConsoleChat:
    """Reads the terminal, sends neutral messages to the core, prints plain text back."""

    def __init__(self, core: ChatCore, read_line: ReadLine, out: TextIO, *, session: str = "local"):
        self.core = core
        self.read_line = read_line
        self.out = out
        self.session = session
        self.buttons: list[str] = []

    async def run(self) -> None:
        self._say(PROMPT_ARTICLE)
        pending: list[str] = []
        while True:
            line = await self.read_line()
            if line is None:
                if pending:
                    await self._send("\n".join(pending))
                return
            stripped = line.strip()
            if pending:
                if stripped:
                    pending.append(line.rstrip("\n"))
                    continue
                await self._send("\n".join(pending))
                pending = []
                continue
            if not stripped:
                continue
            if stripped.isdigit() and self.buttons:
                await self._press(int(stripped))
            elif (
                stripped.startswith("/")
                or _is_file(stripped)
                or stripped.lower().startswith(("http://", "https://"))
            ):
                await self._send(stripped)
            elif self._starts_article(stripped):
                pending = [line.rstrip("\n")]
            else:
                await self._send(stripped)

    def _starts_article(self, line: str) -> bool:
        """A long line, or anything before the first article, begins a pasted article."""
        has_article = self.core.sessions.get(("console", self.session, "")).current is not None
        return not has_article or len(line) >= 200

    async def _press(self, number: int) -> None:
        if not 1 <= number <= len(self.buttons):
            self._say(f"Choose 1–{len(self.buttons)}.")
            return
        message = Incoming("console", self.session, "you", button=self.buttons[number - 1])
        await self._deliver(await self.core.handle(message, self._typing))

    async def _send(self, text: str) -> None:
        if _is_file(text):
            try:
                text = await asyncio.to_thread(_read_local_file, text)
            except (OSError, UnicodeDecodeError) as error:
                self._say(f"I couldn't read {text}: {type(error).__name__}.")
                return
            message = Incoming("console", self.session, "you", command="brief", args=text)
        else:
            command, args = parse_command(text)
            message = Incoming(
                "console",
                self.session,
                "you",
                text=text if command is None else "",
                command=command,
                args=args,
            )
        await self._deliver(await self.core.handle(message, self._typing))

    async def _typing(self) -> None:
        self._say("… working on it")

    async def _deliver(self, replies: list[Reply]) -> None:
        self.buttons = []
        for reply in replies:
            self._say(plain_text(reply, buttons=False))  # buttons listed below, numbered
            for button in reply.buttons:
                self.buttons.append(button.payload)
                self._say(f"  {len(self.buttons)}) {button.label}")
        self._say("")
        if self.core.sessions.get(("console", self.session, "")).current is not None:
            self._say(PROMPT_QUESTION)

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def _read_local_file(name: str) -> str:
    return Path(name).expanduser().read_text("utf-8")


def _is_file(text: str) -> bool:
    if "\n" in text or len(text) > 4096:
        return False
    try:
        return Path(text).expanduser().is_file()
    except OSError:
        return False


def stdin_reader() -> ReadLine:
    """Read lines from stdin in a thread so the event loop stays free."""

    async def read() -> str | None:
        line = await asyncio.to_thread(sys.stdin.readline)
        return line if line else None

    return read
