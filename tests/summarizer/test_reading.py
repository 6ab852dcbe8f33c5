"""Reading articles: structure with exact offsets, metadata, and one clear error per bad input."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summarizer.fetching import FetchPolicy, GuardedClient
from summarizer.reading import ReadError, build_article, read_source
from tests.fakes.web import Page, serve_fake_web

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TRICKY = (
    "Mr. Trump met U.S. officials in Washington on Monday. "
    "“We are hoping to see if there’s a way,” he said. "
    "Dr. Osei, of St. Mary’s, said the plan cost $4.5 million.\n"
    "A new paragraph starts here. It has two sentences."
)


def test_sentences_do_not_break_on_titles_abbreviations_or_closing_quotes() -> None:
    article = build_article(TRICKY)
    texts = [s.text for s in article.sentences]
    assert texts == [
        "Mr. Trump met U.S. officials in Washington on Monday.",
        "“We are hoping to see if there’s a way,” he said.",
        "Dr. Osei, of St. Mary’s, said the plan cost $4.5 million.",
        "A new paragraph starts here.",
        "It has two sentences.",
    ]
    assert [s.paragraph for s in article.sentences] == [0, 0, 0, 1, 1]


def test_a_title_after_a_hyphen_keeps_its_name_in_the_sentence() -> None:
    article = build_article("He compared the mayor with then-Sen. Ann Park of Ohio. Both smiled.")
    assert [s.text for s in article.sentences] == [
        "He compared the mayor with then-Sen. Ann Park of Ohio.",
        "Both smiled.",
    ]


def test_a_quotation_closed_with_two_apostrophes_ends_its_sentence() -> None:
    article = build_article(
        "The mayor said the fund was ''beyond her control.'' Critics say it is hers. "
        "She said ''no.'' then left."
    )
    assert [s.text for s in article.sentences] == [
        "The mayor said the fund was ''beyond her control.''",
        "Critics say it is hers.",
        "She said ''no.'' then left.",
    ]


def test_every_offset_points_into_the_text_as_read() -> None:
    article = build_article(TRICKY)
    for sentence in article.sentences:
        assert article.text[sentence.start : sentence.end] == sentence.text
    for paragraph in article.paragraphs:
        assert article.text[paragraph.start : paragraph.end].strip()


def test_hard_wrapped_text_keeps_paragraphs_together() -> None:
    text = (
        "The council met on Tuesday to discuss the new\nbridge over the harbour, which"
        " has been\ndelayed for years.\n\nThe mayor said the vote\nwould happen soon."
        "\n\nCritics were not\nconvinced by the plan.\n\nMore talks follow."
    )
    article = build_article(text)
    assert len(article.paragraphs) == 4
    assert article.sentences[0].text.startswith("The council met")
    assert article.sentences[0].text.endswith("delayed for years.")


def test_a_date_line_near_the_top_gives_the_publication_date() -> None:
    text = (
        "Bridge vote\nPublished March 12, 2025\n\nThe council voted on Tuesday night to build it."
    )
    assert build_article(text).published == date(2025, 3, 12)


def test_no_date_line_leaves_the_date_unknown_not_today() -> None:
    assert build_article("The council voted on Tuesday night to build a bridge.").published is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n\t  \n", "empty"),
        ("abc\x00def" * 10, "binary"),
        ("12345 67890 !!!", "too little text"),
    ],
)
def test_bad_text_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(ReadError, match=message):
        build_article(text)


def test_an_article_over_the_size_limit_is_refused() -> None:
    with pytest.raises(ReadError, match="too long"):
        build_article("The vote was close. " * 200, max_chars=1_000)


async def test_sample_text_file_reads_with_title_and_date() -> None:
    article = await read_source(str(EXAMPLES / "harbour-bridge-vote.txt"))
    assert article.title == "Riverton council backs new harbour bridge after marathon session"
    assert article.published == date(2025, 3, 12)
    assert any("Vasquez" in s.text for s in article.sentences)


async def test_an_html_file_gives_main_text_and_metadata_without_navigation() -> None:
    article = await read_source(str(EXAMPLES / "stadium-deal.html"))
    assert article.title == "Club and city agree stadium deal after months of talks"
    assert article.author == "Jordan Ellis"
    assert article.published == date(2025, 5, 20)
    assert "Victor Hale" in article.text
    assert "Subscribe" not in article.text and "Home" not in article.text


async def test_published_option_wins_over_the_text(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Published March 12, 2025\n\nThe council voted on Tuesday night.", "utf-8")
    article = await read_source(str(path), published=date(2025, 3, 13))
    assert article.published == date(2025, 3, 13)


async def test_bad_files_are_one_clear_error(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Le président a déclaré que la réunion aurait lieu.".encode("latin-1"))
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    with pytest.raises(ReadError, match="not UTF-8"):
        await read_source(str(latin1))
    with pytest.raises(ReadError, match="binary"):
        await read_source(str(binary))
    with pytest.raises(ReadError, match="no such file"):
        await read_source(str(tmp_path / "missing.txt"))
    with pytest.raises(ReadError, match="folder"):
        await read_source(str(tmp_path))


ARTICLE_HTML = (EXAMPLES / "stadium-deal.html").read_bytes()


def local_client(timeout_s: float = 5.0) -> GuardedClient:
    """A link client that may reach the fake servers on 127.0.0.1 (and nothing else private)."""
    return GuardedClient(FetchPolicy.build(["127.0.0.1"]), timeout_s=timeout_s, user_agent="test")


async def test_a_link_is_fetched_and_read() -> None:
    async with serve_fake_web() as web, local_client() as client:
        web.pages["/news/stadium"] = Page(ARTICLE_HTML)
        article = await read_source(web.url("/news/stadium"), http_client=client)
    assert article.url is not None and article.url.endswith("/news/stadium")
    assert "Deputy Mayor Claire Donovan" in article.text
    assert article.published == date(2025, 5, 20)


async def test_links_that_are_not_articles_are_one_clear_error() -> None:
    async with serve_fake_web() as web, local_client(timeout_s=0.5) as client:
        web.pages["/image"] = Page(b"\x89PNG....", content_type="image/png")
        web.pages["/slow"] = Page(ARTICLE_HTML, delay_s=2.0)
        web.pages["/empty"] = Page(b"<html><body><nav>Home</nav></body></html>")
        web.pages["/big"] = Page(b"<p>" + b"word " * 40_000 + b"</p>")
        web.pages["/bomb"] = Page(
            gzip.compress(b"<p>" + b"a" * 3_000_000 + b"</p>"),
            headers={"Content-Encoding": "gzip"},
        )
        cases = {
            "/missing": "HTTP 404",
            "/image": "not an article page",
            "/slow": "did not answer in time",
            "/empty": "(could not find an article|too little text)",
            "/big": "larger than",
            "/bomb": "larger than",
        }
        for path, message in cases.items():
            with pytest.raises(ReadError, match=message):
                await read_source(web.url(path), http_client=client, max_fetch_bytes=100_000)
    async with local_client(timeout_s=0.5) as client:
        with pytest.raises(ReadError, match="could not open the link"):
            await read_source("http://127.0.0.1:9/nothing-listens-here", http_client=client)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=400))
def test_any_text_gives_an_article_or_a_read_error(text: str) -> None:
    try:
        article = build_article(text)
    except ReadError:
        return
    for sentence in article.sentences:
        assert article.text[sentence.start : sentence.end] == sentence.text
        assert sentence.text.strip()
