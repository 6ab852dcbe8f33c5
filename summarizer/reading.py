"""Reading an article: from a file, stdin text, HTML or a URL to an :class:`Article`.

Every offset in an Article (paragraphs, sentences) is a Python string index into
``Article.text`` exactly as read, so that spans shown to users and tools can be
checked against the original text.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import pysbd

if TYPE_CHECKING:
    import httpx


class ReadError(ValueError):
    """An article that cannot be read; the message is one line a user can act on."""


@dataclass(frozen=True, slots=True)
class Paragraph:
    index: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Sentence:
    index: int
    paragraph: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Article:
    """The text of one news article with its structure and metadata."""

    text: str
    paragraphs: tuple[Paragraph, ...]
    sentences: tuple[Sentence, ...]
    title: str | None = None
    published: date | None = None
    author: str | None = None
    url: str | None = None
    source: str | None = None
    id: str = field(default="")

    @property
    def content_hash(self) -> str:
        """A stable key for caches: the same text is the same article."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    def paragraph_text(self, index: int) -> str:
        paragraph = self.paragraphs[index]
        return self.text[paragraph.start : paragraph.end]

    def sentences_in(self, paragraph_index: int) -> list[Sentence]:
        return [s for s in self.sentences if s.paragraph == paragraph_index]

    def sentence_at(self, offset: int) -> Sentence | None:
        """The sentence that contains character ``offset``, if any."""
        for sentence in self.sentences:
            if sentence.start <= offset < sentence.end:
                return sentence
        return None


# --------------------------------------------------------------------------- structure


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """Paragraph spans: blank-line separated blocks for hard-wrapped text, else one per line.

    News text usually keeps one paragraph per line; e-mail style text wraps lines
    at ~72 columns and separates paragraphs with blank lines.
    """
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    lines = [(s, e) for s, e in lines if text[s:e].strip()]
    if not lines:
        return []
    has_blank_lines = re.search(r"\n[ \t\r]*\n", text) is not None
    mean_length = sum(e - s for s, e in lines) / len(lines)
    if has_blank_lines and mean_length < 90 and len(lines) > 3:
        blocks = [(m.start(), m.end()) for m in re.finditer(r"\S(?:.|\n(?![ \t\r]*\n))*", text)]
        return [_strip_span(text, s, e) for s, e in blocks]
    return [_strip_span(text, s, e) for s, e in lines]


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]`` using pysbd (handles "Mr.", "U.S.", ".”")."""
    chunk = text[start:end]
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in _segmenter().segment(chunk):
        stripped = piece.strip()
        if not stripped:
            continue
        found = chunk.find(stripped, cursor)
        if found < 0:  # pysbd changed the text; keep the rest as one sentence
            rest = _strip_span(chunk, cursor, len(chunk))
            if rest[1] > rest[0]:
                spans.append(rest)
            cursor = len(chunk)
            break
        gap = _strip_span(chunk, cursor, found)
        if gap[1] > gap[0]:  # pysbd dropped text ("?!" after "A."): keep it, never lose words
            if spans:
                spans[-1] = (spans[-1][0], gap[1])
            else:
                spans.append(gap)
        spans.append((found, found + len(stripped)))
        cursor = found + len(stripped)
    tail = _strip_span(chunk, cursor, len(chunk))
    if tail[1] > tail[0]:
        if spans:
            spans[-1] = (spans[-1][0], tail[1])
        else:
            spans.append(tail)
    spans = [piece for s, e in spans for piece in _split_after_doubled_quotes(chunk, s, e)]
    return _merge_orphan_quotes(chunk, [(start + s, start + e) for s, e in spans], start)


_AFTER_DOUBLED_QUOTE = re.compile(r"(?<=[.!?]'')\s+(?=[A-Z])")


def _split_after_doubled_quotes(chunk: str, start: int, end: int) -> list[tuple[int, int]]:
    """pysbd does not see ``''`` (two apostrophes, as some papers print quotation marks) as
    a closing quote: "… ''beyond his control.'' Bloomberg says …" is two sentences."""
    pieces = []
    for found in _AFTER_DOUBLED_QUOTE.finditer(chunk, start, end):
        pieces.append((start, found.start()))
        start = found.end()
    pieces.append((start, end))
    return pieces


def _merge_orphan_quotes(
    chunk: str, spans: list[tuple[int, int]], base: int
) -> list[tuple[int, int]]:
    """Glue a lone closing quote mark, a short attribution tail or the name after a title
    ("then-Sen.| Barack Obama": no sentence ends on a title) back onto its sentence."""
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        piece = chunk[s - base : e - base]
        if merged and (
            re.search(
                r"(?:^|[\s\-(])(?:Sens?|Reps?|Gov|Gen|Lt|Col|Sgt|Capt|Dr|Mr|Mrs|Ms|Rev)\.$",
                chunk[merged[-1][0] - base : merged[-1][1] - base],
            )
            or re.fullmatch(r"[”\"’')\]]+", piece)
            or re.match(r"^[a-z]", piece)  # "… U.S. officials." continued in lower case
            or re.match(r"^[,;]", piece)  # "Sen. Rand Paul, R-Ky.|, told …": never a start
        ):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def build_article(
    text: str,
    *,
    title: str | None = None,
    published: date | None = None,
    author: str | None = None,
    url: str | None = None,
    source: str | None = None,
    article_id: str | None = None,
    max_chars: int = 200_000,
) -> Article:
    """Check text and split it into paragraphs and sentences."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    _check_text(text, max_chars)
    paragraphs: list[Paragraph] = []
    sentences: list[Sentence] = []
    for p_index, (p_start, p_end) in enumerate(split_paragraphs(text)):
        paragraphs.append(Paragraph(p_index, p_start, p_end))
        for s_start, s_end in split_sentences(text, p_start, p_end):
            sentences.append(Sentence(len(sentences), p_index, s_start, s_end, text[s_start:s_end]))
    if published is None:
        published = find_date_line(text)
    if title is None and paragraphs:
        first = text[paragraphs[0].start : paragraphs[0].end]
        if (
            len(paragraphs) > 1
            and len(first) < 150
            and not first.rstrip().endswith((".", "”", '"'))
        ):
            title = first.strip()
    article = Article(
        text=text,
        paragraphs=tuple(paragraphs),
        sentences=tuple(sentences),
        title=title,
        published=published,
        author=author,
        url=url,
        source=source,
    )
    object.__setattr__(article, "id", article_id or article.content_hash)
    return article


def _check_text(text: str, max_chars: int) -> None:
    if "\x00" in text:
        raise ReadError("this looks like binary data, not article text")
    if not text.strip():
        raise ReadError("the article is empty")
    if len(text) > max_chars:
        raise ReadError(
            f"the article is too long ({len(text):,} characters; the limit is {max_chars:,})"
        )
    letters = sum(ch.isalpha() for ch in text)
    if letters < 20:
        raise ReadError("there is too little text here to be an article")
    printable = sum(ch.isprintable() or ch in "\n\t" for ch in text)
    if printable / len(text) < 0.9:
        raise ReadError("this looks like binary data, not article text")


_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE_LINE = re.compile(
    rf"(?P<iso>\b\d{{4}}-\d{{2}}-\d{{2}}\b)|(?P<mdy>\b{_MONTHS}\s+\d{{1,2}},?\s+\d{{4}}\b)|"
    rf"(?P<dmy>\b\d{{1,2}}\s+{_MONTHS}\s+\d{{4}}\b)"
)


def find_date_line(text: str) -> date | None:
    """A publication date written near the top ("Published March 17, 2025", "2025-03-17")."""
    head = text[:400]
    for line in head.splitlines()[:4]:
        if len(line) > 120:
            continue
        match = _DATE_LINE.search(line)
        if match:
            return parse_date(match.group(0))
    return None


def parse_date(value: str) -> date | None:
    """Parse an absolute date string; None when it is not one."""
    value = value.strip()
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        pass
    import dateparser

    parsed = dateparser.parse(
        value,
        languages=["en"],
        settings={"STRICT_PARSING": True, "REQUIRE_PARTS": ["day", "month", "year"]},
    )
    return parsed.date() if parsed else None


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None
    author: str | None
    published: date | None


def extract_html(html: str | bytes, url: str | None = None) -> Extracted:
    """Main text and metadata of a news page (trafilatura)."""
    import trafilatura

    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False
    )
    if document is None:
        raise ReadError("I could not find an article on that page")
    text = (getattr(document, "text", None) or "").strip()
    if not text:
        raise ReadError("I could not find an article on that page")
    raw_date = getattr(document, "date", None)
    return Extracted(
        text=text,
        title=getattr(document, "title", None) or None,
        author=getattr(document, "author", None) or None,
        published=parse_date(raw_date) if raw_date else None,
    )


def decode_text(data: bytes, *, what: str = "the file") -> str:
    if b"\x00" in data[:8192]:
        raise ReadError(f"{what} looks like binary data, not article text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReadError(f"{what} is not UTF-8 text") from None


def is_url(source: str) -> bool:
    return re.match(r"(?i)^https?://", source.strip()) is not None


async def read_source(
    source: str,
    *,
    published: date | None = None,
    max_chars: int = 200_000,
    max_fetch_bytes: int = 5_000_000,
    http_client: httpx.AsyncClient | None = None,
    article_id: str | None = None,
) -> Article:
    """Read a path, ``-`` (stdin) or an http(s) URL into an Article.

    ``published`` given by the caller wins over anything found in the source.
    """
    if is_url(source):
        if http_client is None:
            raise ReadError("reading links needs an HTTP client")
        extracted = await fetch_article(http_client, source.strip(), max_bytes=max_fetch_bytes)
        return build_article(
            extracted.text,
            title=extracted.title,
            author=extracted.author,
            published=published or extracted.published,
            url=source.strip(),
            source=source,
            article_id=article_id,
            max_chars=max_chars,
        )
    if source == "-":
        data = sys.stdin.buffer.read(max_chars * 4 + 1)
        # Over 4 bytes a character allowed is too long in any script; checked before
        # decoding, since the cut may fall inside a character.
        if len(data) > max_chars * 4:
            raise ReadError(f"the article is too long (the limit is {max_chars:,} characters)")
        text = decode_text(data, what="the input")
        return build_article(
            text, published=published, source=source, article_id=article_id, max_chars=max_chars
        )
    if source.strip().lower().startswith(("ftp:", "file:", "javascript:", "data:")):
        raise ReadError("only http and https links are supported")
    data = await asyncio.to_thread(_read_file, source, max_chars * 4)
    path = PurePath(source)
    text = decode_text(data, what=f"{path.name}")
    if path.suffix.lower() in (".html", ".htm", ".xhtml") or looks_like_html(text):
        extracted = await asyncio.to_thread(extract_html, text, None)
        return build_article(
            extracted.text,
            title=extracted.title,
            author=extracted.author,
            published=published or extracted.published,
            source=source,
            article_id=article_id,
            max_chars=max_chars,
        )
    return build_article(
        text, published=published, source=source, article_id=article_id, max_chars=max_chars
    )


def _read_file(source: str, max_bytes: int) -> bytes:
    path = Path(source).expanduser()
    if not path.exists():
        raise ReadError(f"no such file: {source}")
    if path.is_dir():
        raise ReadError(f"{source} is a folder, not an article file")
    size = path.stat().st_size
    if size > max_bytes:
        raise ReadError(f"the file is too large ({size:,} bytes)")
    return path.read_bytes()


def looks_like_html(text: str) -> bool:
    head = text[:1000].lstrip().lower()
    return head.startswith(("<!doctype html", "<html"))


async def fetch_article(client: httpx.AsyncClient, url: str, *, max_bytes: int) -> Extracted:
    """Fetch a page safely (see :mod:`summarizer.fetching`) and extract the article from it."""
    from summarizer.fetching import FetchError, decode_body, fetch

    try:
        page = await fetch(client, url, kind="article", max_bytes=max_bytes)
        text = decode_body(
            page.body, charset=page.charset, sniff_meta=page.media_type != "text/plain"
        )
    except FetchError as error:
        raise ReadError(str(error)) from None
    if page.media_type == "text/plain" or (not page.media_type and not looks_like_html(text)):
        return Extracted(text=text, title=None, author=None, published=find_date_line(text))
    return await asyncio.to_thread(extract_html, text, page.url)
