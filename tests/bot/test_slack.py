"""The Slack adapter end to end: signed requests in, Web API calls out, on the real core and models.

The app runs in HTTP mode (``run_slack`` on port 0) against a fake Slack Web API
(``tests/fakes/slack_api.py``); requests are signed the way Slack signs them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from pydantic import SecretStr

from bot.core import Bullets, Button, ChatCore, Context, Heading, Quote, Reply, Text
from bot.slack import (
    MAX_BLOCKS,
    MAX_HEADER_CHARS,
    MAX_SECTION_CHARS,
    SeenCache,
    check_tokens,
    escape,
    fallback_text,
    from_slack_text,
    parse_command_text,
    render_blocks,
    render_messages,
    run_slack,
    split_text,
)
from config import Settings
from summarizer.models import ModelService
from tests.fakes.slack_api import BOT_USER_ID, ApiCall, FakeSlack, SlackSender, serve_fake_slack

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = (ROOT / "examples" / "harbour-bridge-vote.txt").read_text("utf-8")
HEATWAVE = (ROOT / "examples" / "heatwave-grid.txt").read_text("utf-8")
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


# --------------------------------------------------------------------------- helpers


def slack_settings(settings: Settings, api_url: str, **update: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": SecretStr("xoxb-1111-2222-test"),
        "slack_signing_secret": SecretStr(SECRET),
        "slack_app_token": None,
        "slack_api_url": api_url,
    }
    values.update(update)
    return settings.model_copy(update=values)


def all_text(blocks: list[dict[str, Any]]) -> str:
    """Every text in the blocks, joined: what a reader would see."""
    out: list[str] = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        for element in block.get("elements", []):
            text = element.get("text")
            out.append(text["text"] if isinstance(text, dict) else str(text))
    return "\n".join(out)


def assert_valid_message(payload: dict[str, Any]) -> None:
    """Block Kit limits every message must respect, and the text fallback."""
    blocks = payload.get("blocks") or []
    assert payload.get("text"), "a text fallback is always sent"
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= MAX_SECTION_CHARS
            assert block["text"]["type"] == "mrkdwn"
        if block["type"] == "header":
            assert 0 < len(block["text"]["text"]) <= MAX_HEADER_CHARS
            assert block["text"]["type"] == "plain_text"
    action_ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(action_ids) == len(set(action_ids))


@dataclass
class Running:
    fake: FakeSlack
    send: SlackSender
    core: ChatCore
    port: int


@pytest.fixture
async def slack(settings: Settings, models: ModelService) -> AsyncIterator[Running]:
    """The Slack app in HTTP mode on a free port, talking to a fake Slack; stopped cleanly."""
    async with serve_fake_slack() as fake:
        config = slack_settings(settings, fake.api_url)
        async with httpx.AsyncClient() as http, aiohttp.ClientSession() as session:
            core = ChatCore(config, models, http)
            stop = asyncio.Event()
            started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(
                run_slack(config, core, stop=stop, port=0, host="127.0.0.1", started=started)
            )
            port = await asyncio.wait_for(started, 10)
            url = f"http://127.0.0.1:{port}/slack/events"
            try:
                yield Running(fake, SlackSender(url, SECRET, session), core, port)
            finally:
                stop.set()
                await asyncio.wait_for(task, 60)


def sections(call: ApiCall) -> str:
    return all_text(call.blocks)


# --------------------------------------------------------------------------- end to end


async def test_direct_message_article_then_questions_in_threads(slack: Running) -> None:
    fake, send = slack.fake, slack.send
    dm = "D0USER001"
    article = send.message_event(BRIDGE, channel=dm)
    sent = await send.event(article)
    assert sent.status == 200
    assert sent.elapsed_s < 3

    [brief] = await fake.wait_for_posts(dm, 1, timeout=90)
    assert brief.payload["thread_ts"] == article["ts"], "the brief goes into the message's thread"
    assert_valid_message(brief.payload)
    kinds = [block["type"] for block in brief.blocks]
    assert kinds[0] == "header" and "section" in kinds and kinds[-1] == "actions"
    assert "Riverton council backs new harbour bridge" in brief.blocks[0]["text"]["text"]
    assert "• " in sections(brief)
    buttons = brief.blocks[-1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Quotes", "Who said what", "Timeline"]
    # "typing": an hourglass on the user's message while working, removed afterwards.
    await fake.wait_for(lambda: len(fake.calls_to("reactions.remove")) == 1, timeout=10)
    assert fake.calls_to("reactions.add")[0].payload["timestamp"] == article["ts"]

    question = send.message_event(
        "What did Okafor say about the cost?", channel=dm, thread_ts=article["ts"]
    )
    await send.event(question)
    answer = (await fake.wait_for_posts(dm, 2, timeout=60))[1]
    assert answer.payload["thread_ts"] == article["ts"]
    text = sections(answer)
    assert "Okafor" in text
    assert "the cost estimate was far too optimistic" in text

    # Another article in another thread: questions there are about that article.
    other = send.message_event(HEATWAVE, channel=dm)
    await send.event(other)
    await fake.wait_for_posts(dm, 3, timeout=60)
    await send.event(
        send.message_event("What did Lindqvist say?", channel=dm, thread_ts=other["ts"])
    )
    answer2 = (await fake.wait_for_posts(dm, 4, timeout=60))[3]
    assert answer2.payload["thread_ts"] == other["ts"]
    assert "Lindqvist" in sections(answer2) and "Okafor" not in sections(answer2)

    # ...and the first thread still answers about the bridge.
    await send.event(
        send.message_event("What did Vasquez say?", channel=dm, thread_ts=article["ts"])
    )
    answer3 = (await fake.wait_for_posts(dm, 5, timeout=60))[4]
    assert answer3.payload["thread_ts"] == article["ts"]
    assert "Vasquez" in sections(answer3)


async def test_slash_command_acks_fast_and_brief_arrives_by_response_url(slack: Running) -> None:
    fake, send = slack.fake, slack.send
    sent = await send.command(BRIDGE, response_url=fake.response_url("cmd1"))
    assert sent.status == 200
    assert sent.elapsed_s < 3, "Slack needs the ack within 3 seconds"

    [response] = await fake.wait_for_responses(1, timeout=90, name="cmd1")
    assert response.payload["response_type"] == "in_channel"
    assert response.payload["replace_original"] is False
    assert_valid_message(response.payload)
    assert response.blocks[0]["type"] == "header"
    assert response.blocks[-1]["type"] == "actions"

    # The channel's conversation now has the article: /brief quotes Okafor, /brief ask ...
    await send.command("quotes Okafor", response_url=fake.response_url("cmd2"))
    [quotes] = await fake.wait_for_responses(1, timeout=30, name="cmd2")
    assert "_Martin Okafor_" in sections(quotes)
    await send.command("ask what did Vasquez say?", response_url=fake.response_url("cmd3"))
    [answer] = await fake.wait_for_responses(1, timeout=30, name="cmd3")
    assert "Vasquez" in sections(answer)

    # A button on that top-level message answers through the action's response_url.
    value = response.blocks[-1]["elements"][1]["value"]
    await send.block_action(
        value, channel_id="C0CHAN001", message_ts="1.000001", response_url=fake.response_url("b")
    )
    [who] = await fake.wait_for_responses(1, timeout=30, name="b")
    assert "Who said what" in sections(who)
    assert fake.posts() == []


async def test_app_mention_question_in_channel_thread(slack: Running) -> None:
    fake, send = slack.fake, slack.send
    channel = "C0CHAN001"
    mention = send.mention_event(BRIDGE, channel=channel)
    await send.event(mention)
    [brief] = await fake.wait_for_posts(channel, 1, timeout=90)
    assert brief.payload["thread_ts"] == mention["ts"]
    assert "@" not in brief.blocks[0]["text"]["text"]

    question = send.mention_event(
        "what did Vasquez say about the vote?", channel=channel, thread_ts=mention["ts"]
    )
    await send.event(question)
    answer = (await fake.wait_for_posts(channel, 2, timeout=60))[1]
    assert answer.payload["thread_ts"] == mention["ts"]
    assert "Vasquez" in sections(answer)


async def test_button_press_posts_quotes_in_the_thread(slack: Running) -> None:
    fake, send = slack.fake, slack.send
    dm = "D0USER002"
    article = send.message_event(BRIDGE, channel=dm)
    await send.event(article)
    [brief] = await fake.wait_for_posts(dm, 1, timeout=90)
    quotes_button = brief.blocks[-1]["elements"][0]
    assert quotes_button["value"].startswith("q:")

    sent = await send.block_action(
        quotes_button["value"],
        action_id=quotes_button["action_id"],
        channel_id=dm,
        message_ts=brief.response["ts"] if brief.response else "",
        thread_ts=article["ts"],
        response_url=fake.response_url("button"),
    )
    assert sent.status == 200 and sent.elapsed_s < 3
    quotes = (await fake.wait_for_posts(dm, 2, timeout=30))[1]
    assert quotes.payload["thread_ts"] == article["ts"]
    assert_valid_message(quotes.payload)
    text = sections(quotes)
    assert "_Elena Vasquez_" in text
    assert any(line.startswith("> ") for line in text.splitlines())  # real blockquotes
    assert "We have argued about this bridge for twelve years" in text


async def test_forged_and_stale_requests_are_rejected(slack: Running) -> None:
    fake, send = slack.fake, slack.send
    event = send.message_event(BRIDGE)
    forged = await send.event(event, signature="v0=" + "0" * 64)
    assert forged.status == 401
    stale = await send.event(event, timestamp=int(time.time()) - 6 * 60)
    assert stale.status == 401
    wrong_secret = SlackSender(send.url, "not-the-secret", send.session)
    assert (await wrong_secret.command("help", response_url=fake.response_url())).status == 401
    await asyncio.sleep(0.3)
    assert fake.posts() == [] and fake.responses() == []


async def test_retried_event_is_answered_once(slack: Running) -> None:
    fake, send = slack.fake, slack.send
    dm = "D0USER003"
    event = send.message_event("help me", channel=dm)
    first = await send.event(event, event_id="Ev0RETRY01")
    again = await send.event(event, event_id="Ev0RETRY01", retry_num=1)
    third = await send.event(event, event_id="Ev0RETRY01", retry_num=2, retry_reason="http_error")
    assert first.status == again.status == third.status == 200
    await fake.wait_for_posts(dm, 1, timeout=30)
    # The same message delivered again as an app_mention (new event id) is not answered twice.
    mention = dict(event, type="app_mention")
    await send.event(mention)
    await asyncio.sleep(0.5)
    assert len(fake.posts(dm)) == 1


async def test_retry_of_an_unseen_event_depends_on_the_reason(slack: Running) -> None:
    """After a timeout the first delivery did reach us: skip. After an error it did not: answer."""
    fake, send = slack.fake, slack.send
    dm = "D0USER007"
    one = send.message_event("one", channel=dm)
    two = send.message_event("two", channel=dm)
    timed_out = await send.event(one, retry_num=1)
    failed = await send.event(two, retry_num=1, retry_reason="http_error")
    assert timed_out.status == failed.status == 200
    [post] = await fake.wait_for_posts(dm, 1, timeout=30)
    assert post.payload["thread_ts"] == two["ts"]
    await asyncio.sleep(0.3)
    assert len(fake.posts(dm)) == 1


async def test_bot_messages_edits_and_channel_messages_are_ignored(slack: Running) -> None:
    fake, send = slack.fake, slack.send
    await send.event(send.message_event("hello", channel="D0USER004", bot_id="B0OTHER"))
    await send.event(send.message_event("hello", channel="D0USER004", subtype="message_changed"))
    await send.event(send.message_event("hello", channel="C0CHAN009", channel_type="channel"))
    await send.event(send.message_event("real one", channel="D0USER004"))
    await fake.wait_for_posts("D0USER004", 1, timeout=30)
    await asyncio.sleep(0.3)
    assert len(fake.posts()) == 1


async def test_hostile_text_is_escaped_in_blocks(slack: Running) -> None:
    """What users type reaches the core as text and goes back escaped: no pings, no links."""
    fake, send = slack.fake, slack.send
    hostile = "&lt;!channel&gt; &lt;@U123&gt; AT&amp;T &lt;script&gt;x&lt;/script&gt;"
    article = f"{hostile}\n\n" + BRIDGE.split("\n", 1)[1]
    await send.command(article, response_url=fake.response_url("h1"))
    await send.command(f"quotes <!channel> <@U123> {hostile}", response_url=fake.response_url("h2"))
    [brief] = await fake.wait_for_responses(1, timeout=90, name="h1")
    [quotes] = await fake.wait_for_responses(1, timeout=30, name="h2")
    assert brief.blocks[0]["type"] == "header"  # plain_text: shown as typed, never parsed
    for call in (brief, quotes):
        mrkdwn = all_text([b for b in call.blocks if b["type"] != "header"])
        for text in (mrkdwn, call.payload["text"]):
            for raw in ("<!channel>", "<@U123>", "<script>", "@here"):
                assert raw not in text
    escaped = sections(quotes)
    assert "&lt;!channel&gt;" in escaped and "AT&amp;T" in escaped and "&lt;script&gt;" in escaped
    assert "@channel" in escaped  # a real @channel in the command comes back as plain words
    assert "&lt;!channel&gt;" in brief.payload["text"].lower()


async def test_rate_limited_post_is_retried(slack: Running) -> None:
    fake, send = slack.fake, slack.send
    dm = "D0USER006"
    await send.event(send.message_event("hi", channel=dm))  # auth.test happens first
    await fake.wait_for_posts(dm, 1, timeout=30)
    fake.rate_limit(1, retry_after_s=0)
    await send.event(send.message_event("hello again", channel=dm))
    await fake.wait_for_posts(dm, 2, timeout=30)
    assert [c.response["error"] for c in fake.calls if c.response and not c.response["ok"]] == [
        "ratelimited"
    ]


async def test_health_and_url_verification(slack: Running) -> None:
    send = slack.send
    async with send.session.get(f"http://127.0.0.1:{slack.port}/healthz") as resp:
        assert resp.status == 200 and await resp.text() == "ok"
    body = '{"token":"t","challenge":"c-123","type":"url_verification"}'
    sent = await send.send(body, "application/json")
    assert sent.status == 200 and "c-123" in sent.body


# --------------------------------------------------------------------------- rendering


def test_render_blocks_brief_shape() -> None:
    reply = Reply(
        (
            Heading("A bridge"),
            Context("Published 2025-03-12 · https://example.com/a?b=1&c=2"),
            Bullets(("one", "two")),
            Text("Who said what", bold=True),
            Quote("We build", speaker="Elena Vasquez", when="on Tuesday", where="in Riverton"),
            Quote("costs rise", speaker="Martin Okafor", direct=False),
        ),
        (Button("Quotes", "q:abc"), Button("Who said what", "w:abc")),
    )
    blocks = render_blocks(reply)
    assert [b["type"] for b in blocks] == [
        "header",
        "context",
        "section",
        "section",
        "section",
        "section",
        "actions",
    ]
    assert blocks[1]["elements"][0]["text"] == (
        "Published 2025-03-12 · <https://example.com/a?b=1&amp;c=2>"
    )
    assert blocks[2]["text"]["text"] == "• one\n• two"
    assert blocks[3]["text"]["text"] == "*Who said what*"
    assert blocks[4]["text"]["text"] == "> “We build”\n> — _Elena Vasquez_, on Tuesday, in Riverton"
    assert blocks[5]["text"]["text"] == "> costs rise\n> — _Martin Okafor_"
    elements = blocks[6]["elements"]
    assert [e["value"] for e in elements] == ["q:abc", "w:abc"]
    assert len({e["action_id"] for e in elements}) == 2


def test_hostile_text_cannot_mention_or_link() -> None:
    hostile = "<!channel> <@U123> <https://evil.example|bank> & <script>"
    reply = Reply((Heading(hostile), Text(hostile), Bullets((hostile,)), Quote(hostile, hostile)))
    blocks = render_blocks(reply)
    for block in blocks[1:]:
        text = block["text"]["text"]
        assert "<" not in text and ">" not in text.replace("> ", "").replace("\n>", "")
        assert "&lt;!channel&gt;" in text and "&amp;" in text
        assert block["text"]["verbatim"] is True
    # plain_text is shown literally by Slack and never parsed for mentions.
    assert blocks[0]["text"]["type"] == "plain_text"
    fallback = fallback_text(reply)
    assert "<!channel>" not in fallback and "&lt;!channel&gt;" in fallback


def test_long_text_is_split_into_sections_under_3000_chars() -> None:
    words = " ".join(f"word{i}&" for i in range(2000))  # & grows to &amp; when escaped
    text_blocks = render_blocks(Reply((Text(words),)))
    assert len(text_blocks) >= 5
    assert " ".join(b["text"]["text"] for b in text_blocks).split() == escape(words).split()
    blocks = render_blocks(Reply((Text(words), Bullets((words, "short")), Quote(words, "X"))))
    for block in blocks:
        text = block["text"]["text"]
        assert len(text) <= MAX_SECTION_CHARS
        assert "&" not in text.replace("&amp;", "")  # no entity cut in half
    # No spaces at all: a hard split still fits.
    pieces = split_text("&" * 1000, 100)
    assert "".join(pieces) == "&" * 1000 and all(len(escape(p)) <= 100 for p in pieces)


def test_header_is_cut_to_150_chars() -> None:
    [header] = render_blocks(Reply((Heading("Bridge " * 60),)))
    assert header["type"] == "header"
    assert len(header["text"]["text"]) <= MAX_HEADER_CHARS
    assert header["text"]["text"].endswith("…")
    assert render_blocks(Reply((Heading("   "),))) == []


def test_more_than_50_blocks_become_several_messages() -> None:
    quotes = tuple(Quote(f"quote {i}", f"Speaker {i}") for i in range(120))
    reply = Reply((Heading("Quotes"), *quotes), (Button("More", "q:x"),))
    messages = render_messages(reply)
    assert len(messages) == 3
    assert all(len(m.blocks) <= MAX_BLOCKS for m in messages)
    assert sum(len(m.blocks) for m in messages) == 122
    assert messages[-1].blocks[-1]["type"] == "actions"
    assert messages[0].text.startswith("Quotes\n")
    assert all(m.text for m in messages)


def test_text_fallback_is_plain_text_and_bounded() -> None:
    reply = Reply((Heading("Title"), Text("x " * 5000)), (Button("Quotes", "q:1"),))
    text = fallback_text(reply)
    assert text.startswith("Title\n─────\nx x")
    assert len(text) <= 3000 and text.endswith("…")
    assert "[Quotes]" not in text


# --------------------------------------------------------------------------- parsing


def test_from_slack_text_unwraps_markup() -> None:
    text = (
        f"<@{BOT_USER_ID}> read <https://example.com/a?x=1&amp;y=2|example.com/a> "
        "for <@U42|ann> in <#C1|news> &lt;3 <!here>"
    )
    assert from_slack_text(text, bot_user_id=BOT_USER_ID) == (
        "read https://example.com/a?x=1&y=2 for @ann in #news <3 @here"
    )


def test_parse_command_text() -> None:
    assert parse_command_text("quotes Trump") == ("quotes", "Trump")
    assert parse_command_text("who") == ("who", "")
    assert parse_command_text("WHEN") == ("when", "")
    assert parse_command_text("forget") == ("forget", "")
    assert parse_command_text("ask what did he say?") == ("ask", "what did he say?")
    assert parse_command_text("https://example.com/x") == ("brief", "https://example.com/x")
    assert parse_command_text("Who will pay? The council said") == (
        "brief",
        "Who will pay? The council said",
    )
    assert parse_command_text("") == ("brief", "")


def test_seen_cache_is_bounded_and_expires() -> None:
    cache = SeenCache(ttl_s=60, limit=3)
    assert cache.add("a") is False
    assert cache.add("a") is True
    assert cache.add("b", "c", "d") is False
    assert len(cache) == 3
    assert cache.add("a") is False  # dropped as the oldest
    expiring = SeenCache(ttl_s=0.0)
    expiring.add("x")
    time.sleep(0.01)
    assert expiring.add("x") is False


# --------------------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        ({"slack_bot_token": None}, "SLACK_BOT_TOKEN is not set"),
        ({"slack_bot_token": SecretStr("xoxp-user-token")}, "SLACK_BOT_TOKEN must be"),
        ({"slack_app_token": SecretStr("xoxb-wrong")}, "SLACK_APP_TOKEN must be"),
        ({"slack_signing_secret": None}, "SLACK_SIGNING_SECRET is not set"),
        ({"slack_signing_secret": SecretStr("  ")}, "SLACK_SIGNING_SECRET is not set"),
    ],
)
def test_check_tokens_errors(settings: Settings, update: dict[str, Any], expected: str) -> None:
    problem = check_tokens(slack_settings(settings, "http://127.0.0.1:9/api/", **update))
    assert problem is not None and problem.startswith(expected)
    assert "\n" not in problem
    assert "xoxp-user-token" not in problem and "xoxb-wrong" not in problem


def test_check_tokens_ok(settings: Settings) -> None:
    assert check_tokens(slack_settings(settings, "http://127.0.0.1:9/api/")) is None
    socket_mode = slack_settings(
        settings,
        "http://127.0.0.1:9/api/",
        slack_app_token=SecretStr("xapp-1-A1-123-abc"),
        slack_signing_secret=None,
    )
    assert check_tokens(socket_mode) is None


# --------------------------------------------------------------------------- socket mode


async def test_socket_mode_answers_and_acks_events(
    settings: Settings, models: ModelService
) -> None:
    async with serve_fake_slack() as fake:
        config = slack_settings(
            settings,
            fake.api_url,
            slack_app_token=SecretStr("xapp-1-A0FAKE001-1-abc"),
            slack_signing_secret=None,
        )
        async with httpx.AsyncClient() as http, aiohttp.ClientSession() as session:
            core = ChatCore(config, models, http)
            stop = asyncio.Event()
            started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(run_slack(config, core, stop=stop, started=started))
            try:
                assert await asyncio.wait_for(started, 10) == 0  # no HTTP port in Socket Mode
                opened = fake.calls_to("apps.connections.open")[0]
                assert opened.token == "xapp-1-A0FAKE001-1-abc"
                send = SlackSender("http://unused.invalid", SECRET, session)
                event = send.message_event("hello there", channel="D0SOCK001")
                envelope_id = await fake.send_envelope(send.event_envelope(event))
                await fake.wait_for(
                    lambda: {"envelope_id": envelope_id} in fake.socket_acks, timeout=10
                )
                [post] = await fake.wait_for_posts("D0SOCK001", 1, timeout=30)
                assert post.payload["thread_ts"] == event["ts"]
            finally:
                stop.set()
                await asyncio.wait_for(task, 30)
