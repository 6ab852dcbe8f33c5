"""Checks that a rendered message would be accepted by Telegram or Slack and shows its text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from slack_sdk.models.blocks import Block as SlackBlock

from bot.core import Block, Bullets, Quote

TELEGRAM_TAGS = {"b", "i", "blockquote"}
_WHITESPACE = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """Text without whitespace: splitting may move or drop it, never other characters."""
    return _WHITESPACE.sub("", text)


# --------------------------------------------------------------------------- Telegram


class StrictHTML(HTMLParser):
    """Collects the text of a Telegram message and fails on anything but balanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in TELEGRAM_TAGS and not attrs, f"unexpected tag <{tag} {attrs}>"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise AssertionError(f"self-closing <{tag}/>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        raise AssertionError(f"a comment got through: {data[:40]!r}")

    def handle_decl(self, decl: str) -> None:
        raise AssertionError(f"a declaration got through: {decl[:40]!r}")

    def handle_pi(self, data: str) -> None:
        raise AssertionError(f"a processing instruction got through: {data[:40]!r}")

    def unknown_decl(self, data: str) -> None:
        raise AssertionError(f"a declaration got through: {data[:40]!r}")


def parse_telegram(message: str) -> str:
    parser = StrictHTML()
    parser.feed(message)
    parser.close()
    assert not parser.stack, f"unclosed tags {parser.stack}"
    return "".join(parser.text)


def shown_text(block: Block) -> str:
    """What a user should read for a block, whatever the platform."""
    if isinstance(block, Bullets):
        return "".join(f"• {item}" for item in block.items)
    if isinstance(block, Quote):
        said = f"“{block.text}”" if block.direct else block.text
        details = ", ".join(d for d in (block.when, block.where) if d)
        if details:
            details = (", " if block.speaker else "— ") + details
        return said + (f"— {block.speaker}" if block.speaker else "") + details
    return block.text


# --------------------------------------------------------------------------- Slack

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
ACTION_ID_LIMIT = 255
BUTTON_VALUE_LIMIT = 2000
# In escaped mrkdwn '&' only starts an entity, and '<' only a link we made ourselves.
BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")
_OUR_LINK = re.compile(r"<https?://[^<>\s|]+>")
_QUOTE_PREFIX = re.compile(r"(?m)^>(?: |$)")


def markup_free(text: str) -> str:
    """mrkdwn without the markup we write on purpose: our links and "> " quote prefixes."""
    return _QUOTE_PREFIX.sub("", _OUR_LINK.sub("", text))


def mrkdwn_texts(block: dict[str, Any]) -> list[str]:
    if block["type"] == "section":
        return [block["text"]["text"]]
    if block["type"] == "context":
        return [element["text"] for element in block["elements"]]
    return []


def unescape_mrkdwn(text: str) -> str:
    text = _QUOTE_PREFIX.sub("", _OUR_LINK.sub(lambda m: m.group(0)[1:-1], text))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def check_block(block: dict[str, Any]) -> None:
    """Block Kit's limits: slack_sdk's own validators plus the ones it does not check."""
    SlackBlock.parse(block).to_dict()  # type: ignore[union-attr]  # raises on a broken limit
    kind = block["type"]
    assert kind in {"section", "header", "context", "actions"}
    if kind == "header":
        text = block["text"]["text"]
        assert block["text"]["type"] == "plain_text"
        assert text.strip() and len(text) <= HEADER_LIMIT
    for text in mrkdwn_texts(block):
        assert text.strip(), "Slack refuses empty text"
        assert len(text) <= SECTION_LIMIT
        assert not BARE_AMPERSAND.search(text), text[:200]
        assert "<" not in markup_free(text) and ">" not in markup_free(text), text[:200]
    if kind == "context":
        assert 1 <= len(block["elements"]) <= 10
    if kind == "actions":
        assert 1 <= len(block["elements"]) <= 25
        for button in block["elements"]:
            label = button["text"]["text"]
            assert label.strip() and len(label) <= BUTTON_TEXT_LIMIT
            assert len(button["action_id"]) <= ACTION_ID_LIMIT
            assert len(button["value"]) <= BUTTON_VALUE_LIMIT
