"""Conversations with the platform-neutral core alone: no Telegram, no Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import http_client
from bot.core import Bullets, ChatCore, Heading, Incoming, Quote, Reply, plain_text
from config import Settings
from summarizer.models import ModelService
from tests.fakes.web import Page, serve_fake_web

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BRIDGE = (EXAMPLES / "harbour-bridge-vote.txt").read_text("utf-8")
HEATWAVE = (EXAMPLES / "heatwave-grid.txt").read_text("utf-8")


@pytest.fixture
async def core(settings: Settings, models: ModelService) -> AsyncIterator[ChatCore]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield ChatCore(settings, models, http)


def say(text: str, chat: str = "c1", **extra: str) -> Incoming:
    return Incoming("test", chat, "u1", text=text, **extra)


def command(name: str, args: str = "", chat: str = "c1") -> Incoming:
    return Incoming("test", chat, "u1", command=name, args=args)


def text_of(replies: list[Reply]) -> str:
    return "\n".join(plain_text(reply) for reply in replies)


def quotes_in(replies: list[Reply]) -> list[Quote]:
    return [block for reply in replies for block in reply.blocks if isinstance(block, Quote)]


async def test_a_pasted_article_gets_a_brief_with_buttons(core: ChatCore) -> None:
    worked: list[bool] = []

    async def on_work() -> None:
        worked.append(True)

    [reply] = await core.handle(say(BRIDGE), on_work)
    heading = reply.blocks[0]
    assert isinstance(heading, Heading)
    assert heading.text == "Riverton council backs new harbour bridge after marathon session"
    bullets = [b for b in reply.blocks if isinstance(b, Bullets)]
    assert len(bullets) == 1 and len(bullets[0].items) == 3
    assert [b.label for b in reply.buttons] == ["Quotes", "Who said what", "Timeline"]
    assert all(len(b.payload.encode()) < 64 for b in reply.buttons)
    assert worked, "the adapter is told to show 'typing' while models work"
    for quote in quotes_in([reply]):
        assert quote.text in BRIDGE


async def test_follow_up_questions_name_the_speaker_and_quote_verbatim(core: ChatCore) -> None:
    await core.handle(say(BRIDGE))
    first = await core.handle(say("What did Okafor say about the cost?"))
    text = text_of(first)
    assert "Okafor" in text
    assert "optimistic" in text or "bill we cannot explain" in text
    for quote in quotes_in(first):
        assert quote.text in BRIDGE
    more = await core.handle(say("and what else did he say?"))
    assert "Okafor" in text_of(more)
    assert text_of(more) != text


async def test_a_question_the_article_cannot_answer_is_not_found(core: ChatCore) -> None:
    await core.handle(say(BRIDGE))
    replies = await core.handle(say("What did the governor say about the bridge?"))
    assert "couldn't find" in text_of(replies).lower()
    assert not quotes_in(replies)


async def test_buttons_and_commands_list_quotes_speakers_and_dates(core: ChatCore) -> None:
    [brief] = await core.handle(say(BRIDGE))
    quotes_button, who_button, timeline_button = brief.buttons
    listed = await core.handle(Incoming("test", "c1", "u1", button=quotes_button.payload))
    assert len(quotes_in(listed)) >= 4
    assert {q.speaker for q in quotes_in(listed)} >= {"Elena Vasquez", "Martin Okafor"}
    who = await core.handle(Incoming("test", "c1", "u1", button=who_button.payload))
    assert "Elena Vasquez" in text_of(who)
    timeline = text_of(
        await core.handle(Incoming("test", "c1", "u1", button=timeline_button.payload))
    )
    assert (
        "2025-03-11" in timeline or "11 Mar 2025" in timeline
    )  # "Tuesday night" before publication
    only_okafor = await core.handle(command("quotes", "Okafor"))
    assert {q.speaker for q in quotes_in(only_okafor)} == {"Martin Okafor"}
    nobody = await core.handle(command("quotes", "Zelensky"))
    assert "couldn't find any quotes from Zelensky" in text_of(nobody)


async def test_chats_keep_separate_articles_and_forget_on_request(core: ChatCore) -> None:
    await core.handle(say(BRIDGE, chat="a"))
    await core.handle(say(HEATWAVE, chat="b"))
    answer_a = text_of(
        await core.handle(say("Who warned that the cost estimate was too optimistic?", chat="a"))
    )
    answer_b = text_of(await core.handle(say("Who said reserves had fallen?", chat="b")))
    assert "Okafor" in answer_a
    assert "Lindqvist" in answer_b
    forgotten = await core.handle(command("forget", chat="a"))
    assert "forgotten" in text_of(forgotten)
    after = text_of(await core.handle(say("Who warned about the cost?", chat="a")))
    assert "Send me an article first" in after


async def test_questions_can_name_an_earlier_article(core: ChatCore) -> None:
    await core.handle(say(BRIDGE))
    await core.handle(say(HEATWAVE))
    latest = text_of(await core.handle(say("Who said reserves had fallen?")))
    assert "Lindqvist" in latest
    earlier = text_of(
        await core.handle(say("In the first article, who warned about the cost estimate?"))
    )
    assert "Okafor" in earlier


async def test_a_question_before_any_article_asks_for_one(core: ChatCore) -> None:
    replies = await core.handle(say("what did she say?", chat="fresh"))
    assert "Send me an article first" in text_of(replies)


async def test_commands_help_and_unknown_ones(core: ChatCore) -> None:
    assert "/brief" in text_of(await core.handle(command("help")))
    assert "don't know the command /frobnicate" in text_of(await core.handle(command("frobnicate")))
    assert "link or the article" in text_of(await core.handle(command("brief")))


async def test_a_link_is_read_and_a_broken_link_gets_a_friendly_reply(
    settings: Settings, models: ModelService
) -> None:
    html = (EXAMPLES / "stadium-deal.html").read_bytes()
    async with serve_fake_web() as web, http_client(settings) as http:
        web.pages["/story"] = Page(html)
        core = ChatCore(settings, models, http)
        [brief] = await core.handle(say(f"have a look {web.url('/story')}"))
        assert brief.blocks[0] == Heading("Club and city agree stadium deal after months of talks")
        broken = text_of(await core.handle(say(web.url("/gone"))))
        assert "couldn't read that article" in broken and "404" in broken
        # The allow-list lets 127.0.0.1 through; other private addresses are refused.
        for link in ("http://10.0.0.1/intranet", "http://169.254.169.254/latest/meta-data/"):
            refused = text_of(await core.handle(say(link)))
            assert "can't open links to private addresses" in refused
        assert web.hits["/story"] == 1


async def test_a_question_outside_the_articles_thread_is_about_the_latest_article(
    core: ChatCore,
) -> None:
    await core.handle(Incoming("test", "dm", "u1", text=BRIDGE, thread_id="1700000000.0001"))
    replies = await core.handle(Incoming("test", "dm", "u1", text="Who warned about the cost?"))
    assert "Okafor" in text_of(replies)


async def test_a_question_answered_by_another_kept_article_says_which(core: ChatCore) -> None:
    await core.handle(say(BRIDGE))
    await core.handle(say(HEATWAVE))
    replies = await core.handle(say("Who warned that the cost estimate was too optimistic?"))
    text = text_of(replies)
    assert "Okafor" in text
    assert "Riverton council backs new harbour bridge" in text
    follow = text_of(await core.handle(say("and what else did he say?")))
    assert "Okafor" in follow
