"""Platform-neutral messages: what comes in from a chat and what goes back out.

Adapters translate their platform's payloads into :class:`Incoming` and render
:class:`Reply` blocks into HTML (Telegram), Block Kit (Slack) or plain text
(console). No block carries markup: every string is plain text that the renderer
escapes for its platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Platform = Literal["telegram", "slack", "console", "test"]


@dataclass(frozen=True)
class Incoming:
    """One user action: a message, a command with arguments, or a button press."""

    platform: str
    chat_id: str
    user_id: str
    text: str = ""
    thread_id: str | None = None
    command: str | None = None  # without the slash: "brief", "ask", ...
    args: str = ""
    button: str | None = None  # the payload of a pressed button

    @property
    def chat_key(self) -> tuple[str, str, str]:
        """Conversation state is kept per platform chat and, in Slack, per thread."""
        return (self.platform, self.chat_id, self.thread_id or "")


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Text:
    text: str
    bold: bool = False


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Quote:
    """Words from the article, with who said them, when and where."""

    text: str
    speaker: str | None = None
    when: str | None = None
    where: str | None = None
    direct: bool = True


@dataclass(frozen=True)
class Context:
    """Small print: the source, a date, a hint."""

    text: str


Block = Heading | Text | Bullets | Quote | Context


@dataclass(frozen=True)
class Button:
    label: str
    payload: str  # short: Telegram allows 64 bytes of callback data


@dataclass(frozen=True)
class Reply:
    blocks: tuple[Block, ...]
    buttons: tuple[Button, ...] = field(default=())
    #: Slack: answer in the thread of the message (a brief starts a thread).
    in_thread: bool = True


def text_reply(*paragraphs: str) -> Reply:
    return Reply(tuple(Text(p) for p in paragraphs))


def plain_text(reply: Reply, *, buttons: bool = True) -> str:
    """A reply as plain text: the console renderer and a fallback for notifications."""
    lines: list[str] = []
    for block in reply.blocks:
        if isinstance(block, Heading):
            lines.append(block.text)
            lines.append("─" * min(len(block.text), 60))
        elif isinstance(block, Text):
            lines.append(block.text)
        elif isinstance(block, Bullets):
            lines.extend(f"• {item}" for item in block.items)
        elif isinstance(block, Quote):
            lines.append(format_quote(block))
        else:
            lines.append(f"({block.text})")
    if buttons and reply.buttons:
        lines.append("[" + "] [".join(b.label for b in reply.buttons) + "]")
    return "\n".join(lines)


def format_quote(block: Quote) -> str:
    said = f"“{block.text}”" if block.direct else block.text
    details = [d for d in (block.speaker, block.when, block.where) if d]
    return f"{said} — {', '.join(details)}" if details else said
