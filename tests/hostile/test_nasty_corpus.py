"""A corpus of nasty inputs through the CLI and the chat: one clear line, never a traceback.

Small files live in ``tests/hostile/corpus/``; the empty, binary, NUL, non-UTF-8 and
10 MB inputs are made here so that nothing large or binary is committed.
"""

from __future__ import annotations

import io
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from bot.core import ChatCore, Heading, Incoming, Reply, plain_text
from bot.slack import render_messages
from bot.telegram import render_html
from config import Settings
from summarizer.models import ModelService
from summarizer.reading import ReadError, read_source
from tests.hostile.checks import check_block, parse_telegram

CORPUS = Path(__file__).resolve().parent / "corpus"
TEN_MB = 10 * 1024 * 1024
LINE = b"All work and no play makes a dull article. " * 64 + b"\n"
ARTICLE = (
    "Council backs harbour bridge\n"
    "Riverton's city council voted on Tuesday to approve a new bridge across the harbour.\n"
    "Martin Okafor said the cost estimate was far too optimistic.\n"
)

#: Inputs that must be refused, with the words the one-line reason must contain.
REFUSED = {
    "empty.txt": "the article is empty",
    "whitespace.txt": "the article is empty",
    "ten-mb.txt": "too large",
    "binary.bin": "binary data",
    "nul-bytes.txt": "binary data",
    "latin1.txt": "not UTF-8",
}
#: Inputs that are odd but readable: they must give a brief.
READABLE = ("rtl-emoji.txt", "zalgo.txt", "quote-marks.txt", "script.html")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("nasty")
    made = {
        "empty.txt": b"",
        "ten-mb.txt": LINE * (TEN_MB // len(LINE) + 1),
        "binary.bin": bytes(range(256)) * 64,
        "nul-bytes.txt": ARTICLE.encode() + b"\x00" * 9000 + ARTICLE.encode(),
        "latin1.txt": ("Café Müller: " + ARTICLE).encode("latin-1"),
    }
    files = {name: CORPUS / name for name in ("whitespace.txt", *READABLE)}
    for name, data in made.items():
        (folder / name).write_bytes(data)
        files[name] = folder / name
    assert files["ten-mb.txt"].stat().st_size > TEN_MB
    return files


def test_cli_gives_one_clear_line_per_nasty_file_and_briefs_the_odd_ones(
    corpus: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(corpus[name]) for name in (*REFUSED, *READABLE)]
    code = main(["brief", *paths])
    out, err = capsys.readouterr()
    assert code == 1, "some articles failed"
    assert "Traceback" not in out + err and "internal error" not in err
    lines = [line for line in err.splitlines() if line.startswith("newsbrief:")]
    assert len(lines) == len(REFUSED), err
    for name, reason in REFUSED.items():
        [line] = [line for line in lines if line.startswith(f"newsbrief: {corpus[name]}: ")]
        assert reason in line, line
    # The odd-but-readable ones each got a brief; the page's scripts never reach it.
    assert out.count("extractive summary") == len(READABLE)
    assert "Council backs harbour bridge" in out
    assert "INJECTED" not in out and "alert(" not in out and "STYLE TEXT" not in out


async def test_a_ten_megabyte_file_is_refused_by_its_size_before_it_is_read(
    corpus: dict[str, Path],
) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ReadError, match="too large"):
            await read_source(str(corpus["ten-mb.txt"]))
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 1_000_000, f"{peak:,} bytes allocated to refuse a 10 MB file"


# --------------------------------------------------------------------------- the chat


@pytest.fixture
async def core(settings: Settings, models: ModelService) -> AsyncIterator[ChatCore]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield ChatCore(settings, models, http)


def say(text: str, chat: str) -> Incoming:
    return Incoming("test", chat, "u1", text=text)


def assert_renders_everywhere(replies: list[Reply]) -> str:
    """The replies are valid on Telegram and Slack; their plain text, for checks."""
    assert replies
    for reply in replies:
        for message in render_html(reply):
            assert parse_telegram(message).strip()
        for slack in render_messages(reply):
            for block in slack.blocks:
                check_block(block)
    text = "\n".join(plain_text(reply) for reply in replies)
    assert text.strip() and "Traceback" not in text and "Error:" not in text
    return text


def as_chat_text(data: bytes) -> str:
    """What a chat client would deliver for these bytes: text, undecodable bytes replaced."""
    return data.decode("utf-8", errors="replace")


async def test_the_chat_answers_every_nasty_paste_kindly(
    corpus: dict[str, Path], core: ChatCore
) -> None:
    for name in REFUSED:
        text = as_chat_text(corpus[name].read_bytes())
        replies = await core.handle(say(text, chat=name))
        shown = assert_renders_everywhere(replies)
        if not text.strip():
            assert "article" in shown.lower()  # the help text: send an article or a link
        elif len(text) >= 400:
            assert "I couldn't read that article" in shown, (name, shown[:200])
        else:
            assert "article" in shown.lower(), (name, shown[:200])


async def test_the_chat_briefs_odd_articles_and_answers_about_them(
    corpus: dict[str, Path], core: ChatCore
) -> None:
    for name in READABLE:
        text = corpus[name].read_text("utf-8")
        [brief] = await core.handle(say(text, chat=name))
        assert isinstance(brief.blocks[0], Heading), (name, plain_text(brief)[:200])
        shown = assert_renders_everywhere([brief])
        assert "INJECTED" not in shown and "alert(" not in shown
        for question in ("What did she say?", "Who said it was optimistic?", "<b>when</b> &amp;"):
            assert_renders_everywhere(await core.handle(say(question, chat=name)))


async def test_a_ten_megabyte_message_is_refused_fast_with_bounded_memory(core: ChatCore) -> None:
    text = "All work and no play makes a dull article. " * (TEN_MB // 43)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        replies = await core.handle(Incoming("test", "big", "u1", command="brief", args=text))
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "the article is too long" in assert_renders_everywhere(replies)
    assert elapsed < 5.0
    assert peak < 3 * len(text), f"{peak:,} bytes allocated for a {len(text):,}-character message"


@pytest.mark.parametrize("alphabet", ["All work and no play. ", "مجلس المدينة 🌉 "])
async def test_ten_megabytes_on_standard_input_are_too_long_not_garbled(
    alphabet: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the first 800 kB are read; cutting inside a character must not make it "not UTF-8".
    data = (alphabet * (TEN_MB // len(alphabet.encode()))).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    started = time.perf_counter()
    with pytest.raises(ReadError, match="too long"):
        await read_source("-")
    assert time.perf_counter() - started < 5
