"""Both renderers on any reply: Telegram HTML always parses, Slack blocks always validate.

A reply's strings come from articles and users, so they may hold markup, entities, RTL
marks, emoji and megabytes of text; whatever they hold, every message must be accepted
by the platform and show the text as written.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import Block, Bullets, Context, Heading, Quote, Reply, Text
from bot.slack import fallback_text, render_messages
from bot.telegram import CALLBACK_DATA_LIMIT, MESSAGE_LIMIT, render_html, render_keyboard
from tests.fakes.telegram_api import telegram_html_text, utf16_len
from tests.hostile.checks import (
    BARE_AMPERSAND,
    MAX_BLOCKS,
    SECTION_LIMIT,
    check_block,
    mrkdwn_texts,
    parse_telegram,
    shown_text,
    squeeze,
    unescape_mrkdwn,
)
from tests.hostile.strategies import BLOCK, REPLY, TEXT


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REPLY)
def test_telegram_html_always_parses_escapes_everything_and_fits_a_message(reply: Reply) -> None:
    messages = render_html(reply)
    shown: list[str] = []
    for message in messages:
        text = parse_telegram(message)
        # The fake Bot API's parser: bare '&', stray '<' and unknown tags are refused.
        assert telegram_html_text(message) == text
        assert utf16_len(text) <= MESSAGE_LIMIT
        assert utf16_len(message) <= MESSAGE_LIMIT
        assert text.strip(), "Telegram refuses an empty message"
        shown.append(text)
    expected = "".join(shown_text(b) for b in reply.blocks if squeeze(shown_text(b)))
    # Nothing lost, nothing added, in order; only the whitespace at split points may move.
    assert squeeze("".join(shown)) == squeeze(expected)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REPLY)
def test_telegram_buttons_carry_at_most_64_bytes_of_callback_data(reply: Reply) -> None:
    markup = render_keyboard(reply)
    if markup is None:
        assert all(not b.payload for b in reply.buttons)
        return
    for row in markup.inline_keyboard:
        for button in row:
            data = button.callback_data
            assert isinstance(data, str) and data
            assert len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT


def test_telegram_splits_a_huge_article_quote_into_several_valid_messages() -> None:
    sentence = "The mayor said <costs> & “overruns” would be “unprecedented” 👩‍👩‍👧. "
    reply = Reply((Heading("Bridge"), Quote(sentence * 400, speaker="Elena <Vasquez>")))
    messages = render_html(reply)
    assert len(messages) >= 5
    for message in messages:
        text = parse_telegram(message)
        assert utf16_len(text) <= MESSAGE_LIMIT
    assert "&lt;costs&gt; &amp;" in messages[1]
    assert messages[-1].endswith("<i>Elena &lt;Vasquez&gt;</i></blockquote>")


# --------------------------------------------------------------------------- Slack


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REPLY)
def test_slack_messages_are_always_valid_block_kit_with_escaped_text(reply: Reply) -> None:
    messages = render_messages(reply)
    assert messages
    shown: list[str] = []
    action_ids: list[str] = []
    for message in messages:
        assert message.text.strip() and len(message.text) <= SECTION_LIMIT
        assert not BARE_AMPERSAND.search(message.text)
        assert "<" not in message.text and ">" not in message.text
        assert len(message.blocks) <= MAX_BLOCKS
        for block in message.blocks:
            check_block(block)
            if block["type"] == "header":
                shown.append(block["text"]["text"])
            shown.extend(unescape_mrkdwn(text) for text in mrkdwn_texts(block))
            if block["type"] == "actions":
                action_ids.extend(b["action_id"] for b in block["elements"])
    assert len(action_ids) == len(set(action_ids)), "action_id must be unique in a message"
    # Every character of body text reaches the user (headers are shortened, bold text
    # loses its own asterisks, and each line of a bullet item gets its own bullet).
    everything = plain("".join(shown))
    for source in reply.blocks:
        if isinstance(source, Text | Bullets | Context):
            assert plain(shown_text(source)) in everything


def plain(text: str) -> str:
    return squeeze(text).replace("*", "").replace("•", "")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(BLOCK, max_size=4).map(tuple), TEXT)
def test_slack_fallback_text_is_escaped_and_bounded(blocks: tuple[Block, ...], extra: str) -> None:
    text = fallback_text(Reply((*blocks, Text(extra))))
    assert text.strip() and len(text) <= SECTION_LIMIT
    assert not BARE_AMPERSAND.search(text)
    assert "<" not in text and ">" not in text
    assert unescape_mrkdwn(text).strip()


def test_slack_escapes_markup_from_an_article_instead_of_pinging_the_channel() -> None:
    reply = Reply((Text("Officials said <!channel> & <@U123> were <b>told</b>."),))
    [message] = render_messages(reply)
    section = message.blocks[0]["text"]["text"]
    assert section == (
        "Officials said &lt;!channel&gt; &amp; &lt;@U123&gt; were &lt;b&gt;told&lt;/b&gt;."
    )


def test_slack_context_dense_with_links_stays_under_the_text_limit() -> None:
    # Each link adds "<" and ">": 400 short URLs once made a 3,301-character element.
    [message] = render_messages(Reply((Context("http://a.b " * 400),)))
    for block in message.blocks:
        check_block(block)
    shown = "".join(unescape_mrkdwn(t) for b in message.blocks for t in mrkdwn_texts(b))
    assert squeeze(shown) == squeeze("http://a.b " * 400)


def test_slack_cuts_a_huge_attribution_between_entities_not_inside_one() -> None:
    # A speaker of 2,990 "&" once ended "…&amp;&amp…", a broken entity Slack shows raw.
    [message] = render_messages(Reply((Quote("We will build it.", speaker="&" * 2990),)))
    for block in message.blocks:
        check_block(block)
    assert message.blocks[-1]["text"]["text"].endswith("&amp;…")
