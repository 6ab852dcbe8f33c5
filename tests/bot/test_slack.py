"""The Slack adapter end to end: signed requests in, Web API calls out, on the real core and models.

The app runs in HTTP mode (``run_slack`` on port 0) against a fake Slack Web API
(``tests/fakes/slack_api.py``); requests are signed the way Slack signs them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.admin import AdminCommands
from bot.app import running_bot
from bot.core import Bullets, Button, ChatCore, Context, Heading, Quote, Reply, Text
from bot.delivery import BriefScheduler
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
    slack_commands,
    split_text,
)
from bot.storage import Database
from bot.storage.models import Feed, Subscriber, Subscription
from bot.subscriptions import SubscriptionCommands
from config import Settings
from summarizer.models import ModelService
from tests.fakes.feeds import FakeFeeds, serve_fake_feeds
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


@asynccontextmanager
async def serving(fake: FakeSlack, config: Settings, core: ChatCore) -> AsyncIterator[Running]:
    """``run_slack`` in HTTP mode on a free port for ``core``; stopped cleanly on exit."""
    async with aiohttp.ClientSession() as session:
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


@pytest.fixture
async def slack(settings: Settings, models: ModelService) -> AsyncIterator[Running]:
    """The Slack app in HTTP mode on a free port, talking to a fake Slack; stopped cleanly."""
    async with serve_fake_slack() as fake, httpx.AsyncClient() as http:
        config = slack_settings(settings, fake.api_url)
        async with serving(fake, config, ChatCore(config, models, http)) as running:
            yield running


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


# --------------------------------------------------------------------------- /brief subcommands
# Daily briefs and operator commands are plugins of the core; in Slack they are
# ``/brief <word>`` subcommands, and their buttons come back as block_actions.

ADMIN = "U0ADMIN01"
CHANNEL = "C0CHAN001"
PLUGIN_COMMANDS = SubscriptionCommands.commands | AdminCommands.commands


@dataclass
class Daily(Running):
    """The Slack app on a core wired as ``running_bot`` wires it."""

    db: Database
    site: FakeFeeds
    scheduler: BriefScheduler

    async def say(self, text: str, *, user: str = "U0USER001", channel: str = CHANNEL) -> ApiCall:
        """``/brief text`` from ``user``: the one answer posted to its response_url."""
        name = f"cmd{len(self.fake.responses())}"
        sent = await self.send.command(
            text, channel_id=channel, user_id=user, response_url=self.fake.response_url(name)
        )
        assert sent.status == 200 and sent.elapsed_s < 3, "Slack needs the ack within 3 seconds"
        [answer] = await self.fake.wait_for_responses(1, timeout=90, name=name)
        assert_valid_message(answer.payload)
        return answer

    async def press(
        self, button: dict[str, Any], *, user: str = "U0USER001", channel: str = CHANNEL
    ) -> ApiCall:
        """A signed block_actions press of a button on a /brief answer (no thread)."""
        name = f"press{len(self.fake.responses())}"
        sent = await self.send.block_action(
            button["value"],
            action_id=button["action_id"],
            channel_id=channel,
            user_id=user,
            message_ts="1700000000.000100",
            response_url=self.fake.response_url(name),
        )
        assert sent.status == 200 and sent.elapsed_s < 3
        [answer] = await self.fake.wait_for_responses(1, timeout=30, name=name)
        return answer


@pytest.fixture
async def daily(settings: Settings, models: ModelService, tmp_path: Path) -> AsyncIterator[Daily]:
    """The bot as ``serve`` builds it (``running_bot``), on SQLite, with a fake feed site."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'newsbrief.db'}"
    async with serve_fake_slack() as fake, serve_fake_feeds() as site:
        config = slack_settings(settings, fake.api_url, admins=[f"slack:{ADMIN}"], database_url=url)
        async with running_bot(config, models=models) as bot:
            db = Database.connect(url)
            try:
                async with serving(fake, config, bot.core) as running:
                    yield Daily(**vars(running), db=db, site=site, scheduler=bot.scheduler)
            finally:
                await db.close()


async def subscriptions_in(db: Database) -> list[tuple[str, str, str, list[str]]]:
    """(platform, chat, feed URL, keywords) of every stored subscription."""
    async with db.sessions() as session:
        rows = await session.execute(
            select(Subscriber.platform, Subscriber.chat_id, Feed.url, Subscription.keywords)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .join(Feed, Feed.id == Subscription.feed_id)
        )
        return [(p, c, u, list(k or [])) for p, c, u, k in rows.all()]


async def subscriber_in(db: Database, chat: str = CHANNEL) -> Subscriber | None:
    async with db.sessions() as session:
        query = select(Subscriber).where(Subscriber.platform == "slack", Subscriber.chat_id == chat)
        return (await session.execute(query)).scalar_one_or_none()


def buttons_of(call: ApiCall) -> list[dict[str, Any]]:
    return [e for b in call.blocks if b["type"] == "actions" for e in b["elements"]]


def button(call: ApiCall, label: str) -> dict[str, Any]:
    return next(b for b in buttons_of(call) if b["text"]["text"] == label)


async def test_subscribe_list_and_remove_with_a_button(daily: Daily) -> None:
    feed = daily.site.feed("/planet.xml", "Daily Planet")
    # Slack wraps a link in <...>; the plugin gets the URL.
    confirm = await daily.say(f"subscribe <{feed}> tariffs")
    text = sections(confirm)
    assert "Subscribed to Daily Planet (only stories about tariffs)." in text
    assert "Your daily brief comes at 07:30 (UTC)" in text
    # The hint names the command as Slack users type it.
    assert "/brief timezone Europe/Berlin" in text and " /timezone" not in text
    assert "Berlin" in [b["text"]["text"] for b in buttons_of(confirm)]
    assert await subscriptions_in(daily.db) == [("slack", CHANNEL, feed, ["tariffs"])]
    assert daily.site.hits["/planet.xml"] == 1, "the feed is checked before subscribing"

    listing = await daily.say("subscriptions")
    assert listing.blocks[0]["text"]["text"] == "Your subscriptions"
    assert f"1. Daily Planet — {feed} (about tariffs)" in sections(listing)
    remove = button(listing, "Remove 1")
    assert remove["value"].startswith("s:rm:")

    done = await daily.press(remove)
    assert sections(done) == "Unsubscribed from Daily Planet."
    assert await subscriptions_in(daily.db) == []
    again = await daily.press(remove)
    assert sections(again) == "That subscription is already gone."
    assert "no subscriptions yet" in sections(await daily.say("subscriptions"))
    assert daily.fake.posts() == [], "every answer went through its response_url"


async def test_time_and_timezone_update_the_schedule(daily: Daily) -> None:
    feed = daily.site.feed("/planet.xml", "Daily Planet")
    assert "Subscribe to a feed first" in sections(await daily.say("time 07:30"))
    first = await daily.say(f"subscribe {feed}")

    assert "comes at 18:45 (UTC)" in sections(await daily.say("time 18:45"))
    answer = sections(await daily.say("timezone Europe/Berlin"))
    assert answer == "Done. Your daily brief comes at 18:45 (Europe/Berlin) with up to 5 stories."
    subscriber = await subscriber_in(daily.db)
    assert subscriber is not None and subscriber.next_run_at is not None
    assert (subscriber.local_time, subscriber.timezone) == ("18:45", "Europe/Berlin")
    due = subscriber.next_run_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    assert (due.hour, due.minute) == (18, 45)

    refusal = await daily.say("timezone Mars/Olympus")
    assert sections(refusal).startswith("I don't know the time zone “Mars/Olympus”.")
    assert "Europe/Berlin" in sections(refusal)
    assert (await subscriber_in(daily.db)).timezone == "Europe/Berlin"  # type: ignore[union-attr]
    tokyo = await daily.press(button(refusal, "Tokyo"))
    assert (
        sections(tokyo)
        == "Done. Your daily brief comes at 18:45 (Asia/Tokyo) with up to 5 stories."
    )
    # The zone buttons under the first confirmation work too.
    await daily.press(button(first, "New York"))
    assert (await subscriber_in(daily.db)).timezone == "America/New_York"  # type: ignore[union-attr]

    assert "paused" in sections(await daily.say("pause"))
    assert (await subscriber_in(daily.db)).next_run_at is None  # type: ignore[union-attr]
    assert "comes at 18:45 (America/New_York)" in sections(await daily.say("resume"))

    # /brief forget everything asks first, then deletes the stored subscription too.
    ask = await daily.say("forget everything")
    assert "your 1 feed subscription" in sections(ask)
    gone = await daily.press(button(ask, "Forget everything"))
    assert "your 1 feed subscription, topics and brief settings" in sections(gone)
    assert await subscriber_in(daily.db) is None


async def test_digest_delivers_a_brief_and_questions_follow(daily: Daily) -> None:
    feed = daily.site.feed("/harbour.xml", "Riverton Gazette")
    title, body = BRIDGE.split("\n", 1)
    paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
    daily.site.publish("/harbour.xml", title, paragraphs)
    await daily.say(f"subscribe {feed}")
    assert await daily.scheduler.poll_feeds() == 1  # the story is read and analysed

    digest = await daily.say("digest")
    assert digest.blocks[0]["type"] == "header"
    assert digest.blocks[0]["text"]["text"].startswith("Your brief right now")
    text = sections(digest)
    assert f"*1. {title}*" in text
    assert "• " in text  # the story's summary lines
    assert "/brief digest" in text  # the small print's hint, spelled the Slack way
    assert button(digest, "My subscriptions")["value"] == "s:l"

    # The digest's story is this channel's article now: /brief ask is answered from it.
    answer = sections(await daily.say("ask What did Okafor say about the cost?"))
    assert "Okafor" in answer and "the cost estimate was far too optimistic" in answer


async def test_articles_starting_with_a_command_word_are_still_briefed(daily: Daily) -> None:
    lead = BRIDGE.split("\n", 1)[1].strip()
    brief = await daily.say("Time for a new bridge: " + BRIDGE)
    assert brief.blocks[0]["type"] == "header"
    assert "Riverton council backs new harbour bridge" in brief.blocks[0]["text"]["text"]
    assert [b["text"]["text"] for b in buttons_of(brief)] == ["Quotes", "Who said what", "Timeline"]
    one_line = await daily.say("Stories like this one: " + " ".join(lead.split()))
    assert one_line.blocks[0]["type"] == "header"
    assert "Vasquez" in sections(one_line)
    assert await subscriber_in(daily.db) is None, "no command ran"


async def test_operator_commands_answer_admins_only(daily: Daily) -> None:
    feed = daily.site.feed("/planet.xml", "Daily Planet")
    await daily.say(f"subscribe {feed}")  # one subscriber: this channel

    refused = sections(await daily.say("stats"))
    assert refused.startswith("I don't know the command /brief stats.")
    assert "/brief ask &lt;question&gt;" in refused and "Subscribers" not in refused
    assert "stats" not in sections(await daily.say("help"))

    stats = await daily.say("stats", user=ADMIN, channel="D0ADMIN01")
    assert stats.blocks[0]["text"]["text"] == "NewsBrief status"
    text = sections(stats)
    assert "• Subscribers: 1 active, 0 paused, 0 blocked the bot (1 chats in all)" in text
    assert "• Feeds: 1, 0 failing" in text
    assert "/brief stats" in sections(await daily.say("help", user=ADMIN, channel="D0ADMIN01"))

    # An operator's broadcast may run over several lines; it waits for a confirming press.
    notice = "Maintenance tonight at 22:00 UTC.\nBack by 22:10 — sorry for the gap."
    confirm = await daily.say(f"broadcast {notice}", user=ADMIN, channel="D0ADMIN01")
    assert confirm.blocks[0]["text"]["text"] == "Send this to 1 subscribers?"
    assert daily.fake.posts() == []
    send = button(confirm, "Send to 1")
    other = await daily.press(send, channel="D0ADMIN01")  # someone else's press does nothing
    assert sections(other) == "That button has expired."
    report = await daily.press(send, user=ADMIN, channel="D0ADMIN01")
    assert sections(report) == "Broadcast sent to 1 of 1 chats."
    [post] = daily.fake.posts(CHANNEL)
    assert "Maintenance tonight at 22:00 UTC." in sections(post)
    assert "Back by 22:10" in sections(post)
    # The same text from someone else is an article to brief, not a broadcast.
    stranger = sections(await daily.say(f"broadcast {notice}"))
    assert "Broadcast" not in stranger and len(daily.fake.posts()) == 1


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


def test_parse_command_text_with_plugin_commands() -> None:
    more = PLUGIN_COMMANDS
    feed = "https://example.com/rss.xml"
    assert parse_command_text(f"subscribe {feed} tariffs steel", more) == (
        "subscribe",
        f"{feed} tariffs steel",
    )
    assert parse_command_text("Time 07:30", more) == ("time", "07:30")
    assert parse_command_text("timezone Europe/Berlin", more) == ("timezone", "Europe/Berlin")
    assert parse_command_text("subscriptions", more) == ("subscriptions", "")
    assert parse_command_text("stats", more) == ("stats", "")
    assert parse_command_text("forget everything", more) == ("forget", "everything")
    # Without the plugins (a core without subscriptions) the words are article text.
    assert parse_command_text(f"subscribe {feed}", frozenset()) == ("brief", f"subscribe {feed}")
    # A plugin word followed by an article is an article: several lines, or long prose.
    article = "Time is running out for the causeway.\nThe council voted 7-2 on Tuesday."
    assert parse_command_text(article, more) == ("brief", article)
    prose = "Stories " + "about the harbour bridge vote " * 10
    assert parse_command_text(prose, more) == ("brief", prose.strip())
    # /import takes OPML, which spans lines.
    opml = '<opml version="2.0"><body>\n<outline xmlUrl="https://a.example/rss"/>\n</body></opml>'
    assert parse_command_text(f"import {opml}", more) == ("import", opml)
    # A broadcast keeps its lines, but only for those allowed to send one.
    notice = "broadcast Down at 22:00 UTC.\nBack by 22:10."
    assert parse_command_text(notice, more, frozenset({"broadcast"})) == (
        "broadcast",
        "Down at 22:00 UTC.\nBack by 22:10.",
    )
    assert parse_command_text(notice, more) == ("brief", notice)


def test_command_hints_are_spelled_as_brief_subcommands() -> None:
    words = PLUGIN_COMMANDS | {"ask", "quotes", "brief", "help", "forget"}
    reply = Reply(
        (
            Heading("Why /time matters"),
            Text("Set it with /time 07:30 or /timezone Europe/Berlin; see /subscriptions."),
            Context("Send /digest any time · https://news.example/time · 24/7 · and/or /brief x"),
            Bullets(("“/forget everything” deletes it all",)),
            Quote("type /help now", "Jane Okafor"),
        )
    )
    blocks = slack_commands(reply, words).blocks
    assert blocks[0] == Heading("Why /time matters")  # article words stay as written
    assert blocks[1] == Text(
        "Set it with /brief time 07:30 or /brief timezone Europe/Berlin; see /brief subscriptions."
    )
    assert blocks[2] == Context(
        "Send /brief digest any time · https://news.example/time · 24/7 · and/or /brief x"
    )
    assert blocks[3] == Bullets(("“/brief forget everything” deletes it all",))
    assert blocks[4] == Quote("type /help now", "Jane Okafor")
    assert slack_commands(Reply((Text("nothing to change"),)), words) == Reply(
        (Text("nothing to change"),)
    )


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


async def test_forget_in_a_thread_forgets_that_thread_only(slack: Running) -> None:
    """Slash commands cannot be used in Slack threads: "forget" sent in a thread does it."""
    fake, send = slack.fake, slack.send
    dm = "D0USER003"
    bridge = send.message_event(BRIDGE, channel=dm)
    await send.event(bridge)
    await fake.wait_for_posts(dm, 1, timeout=90)
    heat = send.message_event(HEATWAVE, channel=dm)
    await send.event(heat)
    await fake.wait_for_posts(dm, 2, timeout=90)

    await send.event(send.message_event("forget", channel=dm, thread_ts=bridge["ts"]))
    forgotten = (await fake.wait_for_posts(dm, 3, timeout=30))[2]
    assert forgotten.payload["thread_ts"] == bridge["ts"]
    assert "forgotten" in sections(forgotten)

    await send.event(send.message_event("What did Okafor say?", channel=dm, thread_ts=bridge["ts"]))
    after = (await fake.wait_for_posts(dm, 4, timeout=30))[3]
    assert "Send me an article first" in sections(after)
    await send.event(
        send.message_event("What did Lindqvist say?", channel=dm, thread_ts=heat["ts"])
    )
    other = (await fake.wait_for_posts(dm, 5, timeout=60))[4]
    assert "Lindqvist" in sections(other)
