"""The Telegram adapter end to end: python-telegram-bot against a fake Bot API, the real core.

Updates go in through getUpdates (polling) or a webhook POST; we assert on what
the bot sent to the fake server: HTML that Telegram would accept, keyboards,
chat actions, callback answers. Rendering is also unit-tested on crafted replies.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import SecretStr

from bot.core import Bullets, Button, ChatCore, Context, Heading, Incoming, Quote, Reply, Text
from bot.core.chat import OnWork
from bot.telegram import (
    FRIENDLY_ERROR,
    MESSAGE_LIMIT,
    callback_data,
    check_token,
    render_html,
    render_keyboard,
    run_telegram,
    split_command,
)
from config import Settings
from summarizer.models import ModelService
from tests.fakes.telegram_api import (
    BOT_USERNAME,
    FakeTelegram,
    serve_fake_telegram,
    telegram_html_text,
)

BRIDGE = (Path(__file__).resolve().parents[2] / "examples" / "harbour-bridge-vote.txt").read_text(
    "utf-8"
)
TITLE = "Riverton council backs new harbour bridge after marathon session"
SECRET = "s3cret_Webhook-token"
HOSTILE = "<b>bold</b> & </i> <script>alert(1)</script> &amp; <a href='x'>"
T = TypeVar("T")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's future timedelta durations: RetryAfter warns about ints otherwise."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegram]:
    async with serve_fake_telegram() as fake:
        yield fake


@pytest.fixture
def tg_settings(settings: Settings, api: FakeTelegram) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(api.token),
            "telegram_api_url": api.api_url,
            "telegram_webhook_secret": SecretStr(SECRET),
        }
    )


@pytest.fixture
async def core(tg_settings: Settings, models: ModelService) -> AsyncIterator[ChatCore]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield ChatCore(tg_settings, models, http)


class Running:
    """A bot running in a task; ``until`` waits for something but fails fast if the bot died."""

    def __init__(self, task: asyncio.Task[None]):
        self.task = task

    async def until(self, waiting: Awaitable[T]) -> T:
        step = asyncio.ensure_future(waiting)
        done, _ = await asyncio.wait({step, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if step not in done:
            step.cancel()
            self.task.result()  # raises the bot's error
            raise AssertionError("the bot stopped early")
        return step.result()


@asynccontextmanager
async def running(settings: Settings, core: ChatCore, **options: Any) -> AsyncIterator[Running]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_telegram(settings, core, stop=stop, poll_timeout=1, **options))
    try:
        yield Running(task)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class TagChecker(HTMLParser):
    """Tags must nest and close within each message; collects the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in {"b", "i", "blockquote"}, tag
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible_text(part: str) -> str:
    checker = TagChecker()
    checker.feed(part)
    checker.close()
    assert not checker.stack, f"unclosed tags {checker.stack}"
    return "".join(checker.text)


def words(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- polling, end to end


async def test_brief_question_and_buttons_over_polling(
    api: FakeTelegram, tg_settings: Settings, core: ChatCore
) -> None:
    chat = 501
    async with running(tg_settings, core) as bot:
        api.push_text(chat, BRIDGE)
        [brief] = await bot.until(api.wait_for_messages(chat, 1))

        assert brief.parse_mode == "HTML"
        assert brief.text.startswith(f"<b>{TITLE}</b>")
        assert brief.plain.count("• ") == 3
        assert "<blockquote>" in brief.text
        assert [b["text"] for b in brief.buttons] == ["Quotes", "Who said what", "Timeline"]
        assert all(len(b["callback_data"].encode()) <= 64 for b in brief.buttons)
        assert brief.params["link_preview_options"] == {"is_disabled": True}
        typing = api.method_calls("sendChatAction")
        assert typing and typing[0]["action"] == "typing" and typing[0]["chat_id"] == chat

        api.push_text(chat, "What did Okafor say about the cost?")
        answer = (await bot.until(api.wait_for_messages(chat, 2)))[1]
        assert "Okafor" in answer.plain and "Vasquez" not in answer.plain
        assert "cost" in answer.plain
        quoted = re.findall(r"“([^”]+)”", answer.plain)
        assert quoted, answer.plain
        for quote in quoted:
            assert quote.rstrip(" ,.") in BRIDGE, quote

        quotes_button = brief.buttons[0]["callback_data"]
        press = api.push_callback(chat, quotes_button, brief.message_id)
        quotes = (await bot.until(api.wait_for_messages(chat, 3)))[2]
        answered = api.method_calls("answerCallbackQuery")
        assert [a["callback_query_id"] for a in answered] == [press["callback_query"]["id"]]
        assert quotes.plain.startswith("Quotes")
        assert "Elena Vasquez" in quotes.plain and "Martin Okafor" in quotes.plain
        assert "We have argued about this bridge for twelve years" in quotes.plain

    assert not api.rejected, [(c.method, c.params) for c in api.rejected]
    assert {c["command"] for c in api.commands} >= {"brief", "ask", "quotes", "who", "when"}


async def test_commands_and_group_messages(
    api: FakeTelegram, tg_settings: Settings, core: ChatCore
) -> None:
    group = -100777
    async with running(tg_settings, core) as bot:
        api.push_command(group, "help", to_bot=True)
        [help_message] = await bot.until(api.wait_for_messages(group, 1))
        assert "/brief" in help_message.plain

        api.push_text(group, "just chatting among ourselves")  # not for the bot: ignored
        api.push_command(group, "brief", BRIDGE)
        [_, brief] = await bot.until(api.wait_for_messages(group, 2))
        assert TITLE in brief.plain

        api.push_text(group, f"@{BOT_USERNAME} quote Okafor")
        api.push_text(group, "what did Vasquez say?", reply_to_message_id=brief.message_id)
        sent = await bot.until(api.wait_for_messages(group, 4))
        assert "Okafor" in sent[2].plain
        assert "Vasquez" in sent[3].plain
        await asyncio.sleep(0.3)
        assert len(api.messages(group)) == 4  # the small talk got no answer


async def test_hostile_text_is_escaped(
    api: FakeTelegram, tg_settings: Settings, core: ChatCore
) -> None:
    chat = 502
    article = f"{HOSTILE} council vote\n\n" + BRIDGE.split("\n", 1)[1].replace(
        "Mr. Okafor said.", f"Mr. Okafor said. “{HOSTILE} is not a plan,” Mr. Okafor added."
    )
    async with running(tg_settings, core) as bot:
        api.push_text(chat, article)
        api.push_text(chat, f"What did Okafor say about {HOSTILE}?")
        api.push_command(chat, "quotes", "Okafor")
        sent = await bot.until(api.wait_for_messages(chat, 3))
    assert not api.rejected, [(c.method, c.params) for c in api.rejected]
    brief = sent[0]
    assert HOSTILE not in brief.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in brief.text
    assert brief.plain.startswith(HOSTILE)  # the user sees the title exactly as written
    assert any(HOSTILE in message.plain for message in sent[1:])
    for message in sent:
        assert "<script>" not in message.text
        assert telegram_html_text(message.text) == message.plain


async def test_retry_after_is_waited_out(
    api: FakeTelegram, tg_settings: Settings, core: ChatCore
) -> None:
    chat = 503
    api.flood(1, retry_after=1)
    async with running(tg_settings, core) as bot:
        started = time.monotonic()
        api.push_command(chat, "help")
        await bot.until(api.wait_for_messages(chat, 1))
        await asyncio.sleep(0.3)
    assert time.monotonic() - started >= 1.0
    assert len(api.messages(chat)) == 1
    assert [c.method for c in api.rejected] == ["sendMessage"]


async def test_a_blocked_chat_does_not_stop_the_bot(
    api: FakeTelegram, tg_settings: Settings, core: ChatCore
) -> None:
    api.block(504)
    async with running(tg_settings, core) as bot:
        api.push_command(504, "help")
        await bot.until(api.wait_for_call("sendMessage", lambda p: p["chat_id"] == 504))
        api.push_command(505, "help")
        await bot.until(api.wait_for_messages(505, 1))
    assert not api.messages(504)
    assert len(api.method_calls("sendMessage")) == 2  # no retries, no "something went wrong"


class GatedCore(ChatCore):
    """The real core, except that chat 600 waits for the test (a slow brief) and 650 fails."""

    def __init__(self, settings: Settings, models: ModelService, http: httpx.AsyncClient):
        super().__init__(settings, models, http)
        self.release = asyncio.Event()

    async def handle(self, message: Incoming, on_work: OnWork | None = None) -> list[Reply]:
        if message.chat_id == "600":
            await self.release.wait()
        if message.chat_id == "650":
            raise RuntimeError(f"adapter bug near {self.settings.telegram_api_url}")
        return await super().handle(message, on_work)


@pytest.fixture
async def gated_core(tg_settings: Settings, models: ModelService) -> AsyncIterator[GatedCore]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield GatedCore(tg_settings, models, http)


async def test_one_slow_chat_does_not_block_another(
    api: FakeTelegram, tg_settings: Settings, gated_core: GatedCore
) -> None:
    async with running(tg_settings, gated_core) as bot:
        api.push_command(600, "help")
        api.push_command(601, "help")
        await bot.until(api.wait_for_messages(601, 1, timeout=5))
        assert not api.messages(600)
        gated_core.release.set()
        await bot.until(api.wait_for_messages(600, 1, timeout=5))


async def test_answers_in_a_chat_arrive_in_order(
    api: FakeTelegram, tg_settings: Settings, core: ChatCore
) -> None:
    chat = 620
    # The brief is slow to send; /who, answered at once after it, must still come second.
    api.slow_down("sendMessage", 1.0, when=lambda params: TITLE in params.get("text", ""))
    async with running(tg_settings, core) as bot:
        api.push_text(chat, BRIDGE)
        api.push_command(chat, "who")
        brief, who = await bot.until(api.wait_for_messages(chat, 2))
    assert brief.plain.startswith(TITLE)
    assert who.plain.startswith("Who said what")


async def test_errors_are_logged_without_the_token_and_the_user_is_told(
    api: FakeTelegram,
    tg_settings: Settings,
    gated_core: GatedCore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(tg_settings, gated_core) as bot:
        api.push_command(650, "help")
        [sorry] = await bot.until(api.wait_for_messages(650, 1))
        api.push_command(651, "help")  # and the bot carries on
        await bot.until(api.wait_for_messages(651, 1))
    assert sorry.plain == FRIENDLY_ERROR
    assert "adapter bug near" in caplog.text and "RuntimeError" in caplog.text
    assert api.token not in caplog.text


# --------------------------------------------------------------------------- webhook


async def test_webhook_checks_the_secret(
    api: FakeTelegram, tg_settings: Settings, core: ChatCore
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    async with running(tg_settings, core, webhook_url=url, listen="127.0.0.1", port=port) as bot:
        webhook = await bot.until(api.wait_for_call("setWebhook"))
        assert webhook["url"] == url and webhook["secret_token"] == SECRET

        async def post(chat: int, headers: dict[str, str]) -> int:
            update = {"update_id": api.next_update_id(), **api.command_update(chat, "help")}
            async with httpx.AsyncClient() as client:
                for _ in range(50):  # the server starts listening right after setWebhook
                    try:
                        response = await client.post(url, json=update, headers=headers)
                        return response.status_code
                    except httpx.ConnectError:
                        await asyncio.sleep(0.1)
            raise AssertionError("webhook server did not start")

        assert await post(701, {}) == 403
        assert await post(702, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 403
        assert await post(703, {"X-Telegram-Bot-Api-Secret-Token": SECRET}) == 200
        [answer] = await bot.until(api.wait_for_messages(703, 1))
        assert "/brief" in answer.plain
        await asyncio.sleep(0.3)
    assert not api.messages(701) and not api.messages(702)
    assert not api.method_calls("getUpdates")


async def test_webhook_mode_needs_a_secret(tg_settings: Settings, core: ChatCore) -> None:
    settings = tg_settings.model_copy(update={"telegram_webhook_secret": None})
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        await run_telegram(
            settings, core, stop=asyncio.Event(), webhook_url="https://example.org/hook"
        )


# --------------------------------------------------------------------------- rendering


def test_long_replies_split_on_block_boundaries() -> None:
    sentence = "The council met again & argued about <costs> for a long while. "
    blocks = (
        Heading("A <long> answer"),
        Text(sentence * 70),  # one block longer than a message
        Bullets(tuple(f"point {n}: {sentence.strip()}" for n in range(30))),
        Quote(sentence * 80, speaker="Martin Okafor", when="Tuesday"),
        Context("source: example.org"),
    )
    reply = Reply(blocks)
    parts = render_html(reply)
    whole = "\n\n".join(visible_text(part) for part in render_html(reply, limit=10**9))
    assert len(whole) > 10_000
    assert len(parts) >= 4
    texts = []
    for part in parts:
        assert len(part.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT
        texts.append(visible_text(part))
        assert telegram_html_text(part) == texts[-1]
    assert words(" ".join(texts)) == words(whole)  # nothing lost, no word cut in two
    for text in texts[:-1]:
        assert text.rstrip().endswith((".", "Tuesday")) or "•" in text.splitlines()[-1], text[-80:]
    assert parts[0].startswith("<b>A &lt;long&gt; answer</b>")
    # the long quote is split inside its blockquote, which is reopened in the next part
    quote_parts = [p for p in parts if "<blockquote>" in p]
    assert len(quote_parts) >= 2 and all(
        p.count("<blockquote>") == p.count("</blockquote>") for p in parts
    )


def test_blocks_render_as_telegram_html() -> None:
    reply = Reply(
        (
            Heading("Title & <b>"),
            Text("bold </i>", bold=True),
            Bullets(("one", "<two>")),
            Quote(
                "we <will> build", speaker="Elena Vasquez", when="on Tuesday", where="in Riverton"
            ),
            Quote("said it was costly", speaker=None, direct=False),
            Context("Published 2025-03-12"),
        )
    )
    [html_text] = render_html(reply)
    assert html_text == (
        "<b>Title &amp; &lt;b&gt;</b>\n\n<b>bold &lt;/i&gt;</b>\n\n• one\n• &lt;two&gt;\n\n"
        "<blockquote>“we &lt;will&gt; build”\n— <i>Elena Vasquez</i>, on Tuesday, in Riverton"
        "</blockquote>"
        "\n\n<blockquote>said it was costly</blockquote>\n\n<i>Published 2025-03-12</i>"
    )
    assert render_html(Reply(())) == []


def test_keyboard_and_callback_data() -> None:
    reply = Reply((Text("x"),), (Button("Quotes", "q:abc"), Button("Long", "x" * 100)))
    keyboard = render_keyboard(reply)
    assert keyboard is not None
    data = [b.callback_data for row in keyboard.inline_keyboard for b in row]
    assert data[0] == "q:abc" and len(str(data[1]).encode()) == 64
    assert len(callback_data("é" * 40).encode()) <= 64
    assert render_keyboard(Reply((Text("x"),))) is None


def test_split_command() -> None:
    assert split_command("/quotes@NewsBriefBot  Okafor") == ("quotes", "Okafor")
    assert split_command("/brief\nLine one\nLine two") == ("brief", "Line one\nLine two")
    assert split_command("/WHO") == ("who", "")
    assert split_command("  ") == ("", "")


# --------------------------------------------------------------------------- token


@pytest.mark.parametrize(
    ("token", "fragment"),
    [
        (None, "not set"),
        ("", "not set"),
        ("not-a-token", "does not look like"),
        ("123456:short", "does not look like"),
        ("abc:AAFakeTokenForTests_0123456789abcde", "does not look like"),
    ],
)
def test_check_token_errors(settings: Settings, token: str | None, fragment: str) -> None:
    secret = SecretStr(token) if token is not None else None
    message = check_token(settings.model_copy(update={"telegram_bot_token": secret}))
    assert message is not None and "TELEGRAM_BOT_TOKEN" in message and fragment in message
    assert "\n" not in message
    if token:
        assert token not in message


def test_check_token_accepts_a_real_looking_token(settings: Settings) -> None:
    token = SecretStr("7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_")
    assert check_token(settings.model_copy(update={"telegram_bot_token": token})) is None
