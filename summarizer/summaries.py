"""Summaries of one article: extractive (default) or abstractive behind a faithfulness guard.

``extractive`` picks the N most informative sentences with MiniLM sentence vectors,
a lead prior (news puts the essentials first), a length prior and MMR redundancy
removal. Bullets stay in article order and each carries the span of the text it
shows, so ``article.text[start:end]`` is the bullet (only the first letter may be
capitalised after a leading "But"/"And" is dropped).

``abstractive`` asks the configured generative model for a summary and shows only
the generated sentences the article supports (:func:`check_support`): they are close
in embedding space to an article sentence (their evidence, given as spans), every
name, number and quoted word in them occurs in the article, and most of their content
words do. Unsupported sentences are dropped, with the reason, and replaced by
extractive picks.

Entry points: :func:`summarize` (async, models off the event loop) and
:func:`summarize_sync` (batch tools); the pure parts, :func:`summarize_extractive`,
:func:`summarize_abstractive` and :func:`check_support`, take vectors and text.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from config.settings import SummaryMethod
from summarizer.models import ModelError
from summarizer.reading import Article

if TYPE_CHECKING:
    from summarizer.models import ModelService

log = logging.getLogger(__name__)

Span = tuple[int, int]
Vectors = npt.NDArray[np.float32]
SupportReason = Literal[
    "unknown-name", "unknown-number", "unknown-quote", "unknown-words", "unrelated"
]
DropReason = Literal[SupportReason, "fragment", "repeat", "extra"]

METHODS: tuple[SummaryMethod, ...] = ("extractive", "abstractive")

#: Minimum cosine similarity between a generated sentence and its closest article
#: sentence (MiniLM, L2-normalised). On the CNN/DM dev rows it keeps 91% of the human
#: highlight sentences and rejects every highlight sentence of another article.
SUPPORT_THRESHOLD = 0.5

#: Largest share of a generated sentence's content words (4+ letters) that the article
#: may lack. 95% of CNN/DM highlight sentences (human, abstractive) stay within it.
NOVEL_WORDS_LIMIT = 0.5

#: What the generative model is asked to do (SmolLM2 follows short, plain instructions).
INSTRUCTION = (
    "Summarize the news article below in {n} short sentences. "
    "Use only facts, names and numbers from the article."
)
#: Characters of article text given to the generative model (its prompt is ~1k tokens).
PROMPT_CHARS = 2500


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Bullet:
    """One line of a summary and the article text behind it.

    For an extractive bullet ``spans`` cover exactly the text shown; for a generated
    one they are its evidence: the article sentence(s) it is closest to.
    """

    text: str
    spans: tuple[Span, ...]
    generated: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "spans": [list(span) for span in self.spans],
            "generated": self.generated,
        }


@dataclass(frozen=True)
class DroppedSentence:
    """A generated sentence that was not shown, and why."""

    text: str
    reason: DropReason
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class Summary:
    """A summary: its bullets and, for ``abstractive``, what the model wrote and what was cut."""

    method: SummaryMethod
    bullets: tuple[Bullet, ...]
    #: Every sentence the generative model wrote, in order (empty for ``extractive``).
    generated: tuple[str, ...] = ()
    #: Generated sentences that failed the guard (or were surplus), with the reason.
    dropped: tuple[DroppedSentence, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def kept(self) -> tuple[Bullet, ...]:
        """The generated bullets that passed the guard."""
        return tuple(bullet for bullet in self.bullets if bullet.generated)

    @property
    def text(self) -> str:
        return "\n".join(f"• {bullet.text}" for bullet in self.bullets)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "bullets": [bullet.to_json() for bullet in self.bullets],
            "generated": list(self.generated),
            "dropped": [dropped.to_json() for dropped in self.dropped],
            "timings_ms": {key: round(value, 1) for key, value in self.timings_ms.items()},
        }


# --------------------------------------------------------------------------- candidate units


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: Words that end in a full stop without ending a sentence.
_ABBREVIATIONS = _wordset(
    "mr mrs ms dr prof gov sen rep st gen col lt sgt capt cpl maj adm cmdr spc pte pc det supt "
    "insp rev fr hon jr sr inc co corp ltd bros no nos mt ft ave rd blvd dept univ vs etc al "
    "approx jan feb mar apr aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun "
    "eg ie cf vol op fig ch p pp"
)

#: A sentence boundary that pysbd missed: ". " (or "?", "!", optionally after a closing
#: quote) followed by a capital letter, a digit or an opening quote.
_BOUNDARY = re.compile(r"""(?<=[.!?])(?P<close>["'”’)\]]*)\s+(?=["'“‘(\[]?[A-Z0-9£$])""")

#: A leading dateline: "(CNN)", "WASHINGTON (CNN) --", "LONDON, England (Reuters) -".
_DATELINE = re.compile(
    r"""^(?:(?:[A-Z][A-Za-z.'’-]*(?:[ ,]+[A-Z][A-Za-z.'’-]*){0,4}\s*)?
        \((?:CNN|AP|Reuters|AFP|UPI|EW\.com|CNN\s?Money|CNN\sStudent\sNews|Mashable)\)
        |\((?:The\s)?[A-Z][\w.&'’-]*(?:\s[A-Z][\w.&'’-]*){0,3}\)(?=\s*[A-Z"“‘'])
        )\s*(?:--|—|–|-)?\s*""",
    re.VERBOSE,
)

#: A leading Daily Mail byline block: "By . Jane Doe . PUBLISHED: 10:01 EST, 5 May 2014 . |
#: . UPDATED: 11:40 EST, 5 May 2014 . " and its shorter forms.
_BYLINE = re.compile(
    r"""\s*(?:(?:
        By\s*\.\s*[A-Z][^.|\n]{0,80}?\s*\.
        |By\s+(?:[A-Z][\w'’-]*\s+){1,4}(?:for|in)\s+
            (?:MailOnline|Daily\s+Mail|The\s+Mail\s+on\s+Sunday|Mail\s+Online)\b\s*\.?
        |(?:PUBLISHED|UPDATED|Last\s+updated(?:\s+at)?)\s*:?\s*\.?\s*[\d:.]+\s*
            (?:[AaPp]\.?[Mm]\.?|EST|EDT|GMT|BST)?\s*,?\s*\d{1,2}\s+[A-Z][a-z]+\s+\d{4}\s*\.?
        |\|\s*\.?
    )\s*)+""",
    re.VERBOSE,
)

#: Lines that are page furniture, never content.
_FURNITURE = re.compile(
    r"(?i)\bscroll\s+down\s+for\b|\bclick\s+here\b|\bfollow\s+@|\bread\s+more\s*:|"
    r"\bshare\s+this\s+article\b|\bsee\s+more\s+at\b|\bsign\s+up\s+for\b|^\s*(?:video|photos?)\s*:|"
    r"^\s*(?:pictured|advertisement)\s*[:.]?\s*$"
)

#: A photo caption label: "Accused: Dr Ram Manohar, 38, ..." (one to three words, a colon,
#: then a capital letter), but not "He said: 'We ...'" nor "With the new Avengers: Age ...".
_CAPTION = re.compile(r"^[A-Z][\w'’!-]*(?:\s+[\w'’!-]+){0,2}:\s+[\"'‘“]?[A-Z0-9£$]")
_CAPTION_INSIDE = re.compile(
    r"(?<=[a-z0-9)])\s+(?=[A-Z][\w'’!-]*(?:\s+[\w'’!-]+){0,2}:\s+[\"'‘“]?[A-Z0-9£$])"
)
_NOT_LABEL = re.compile(
    r"(?i)\b(?:said|says|say|told|tells|added|adds|explained|wrote|writes|asked|the|a|an|of|"
    r"with|in|on|for|to|and|is|was|are|were)\b"
)
_SCROLL = re.compile(r"(?i)^\s*scroll\s+down\s+for\s+(?:the\s+)?(?:videos?|more)\b[.…]*\s*")
#: Where a sentence starts right after a caption that has no full stop:
#: "... charged with assault A senior doctor facing ...".
_GLUE = re.compile(
    r"(?<=[a-z0-9)%’'])\s+(?=(?:A|An|The|He|She|It|They|His|Her|Their|Its|This|These|Those|"
    r"Police|Officers|Authorities|Mr|Mrs|Ms|Dr|According|After|When|While|Now|Last|But)\s)"
)

#: Connectives that can open a sentence but mean nothing without the previous one.
_LEADING_CONNECTIVE = re.compile(r"^(?:But|And|However,|Meanwhile,|Yet)\s+(?=\S)")

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.-]*")


@dataclass(frozen=True)
class Unit:
    """A sentence that may become a bullet: its shown text and where that text is.

    ``text`` is ``article.text[start:end]`` except perhaps its first letter, which is
    capitalised when a leading connective was dropped.
    """

    index: int
    start: int
    end: int
    text: str
    paragraph: int
    #: "content" units are candidates; "weak" ones (short, questions, captions) are used
    #: only when an article has too few content units; "junk" ones never.
    kind: Literal["content", "weak", "junk"]
    words: int
    original: Span

    @property
    def span(self) -> Span:
        return (self.start, self.end)


def _split_missed(text: str, start: int, end: int) -> list[Span]:
    """Split a pysbd sentence at clear boundaries it missed ("... students. These are ...")."""
    piece = text[start:end]
    spans: list[Span] = []
    cursor = 0
    for match in _BOUNDARY.finditer(piece):
        punct = match.start() - 1
        if piece[punct] == "." and piece[max(0, punct - 2) : punct + 1] != "...":
            word_start = punct
            while word_start > 0 and not piece[word_start - 1].isspace():
                word_start -= 1
            word = piece[word_start:punct].lstrip("\"'“‘([")
            if word.lower().replace(".", "") in _ABBREVIATIONS:
                continue
            if re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", word):  # initials, "U.S."
                continue
        left_end = match.start() + len(match.group("close"))
        if left_end > cursor:
            spans.append((start + cursor, start + left_end))
        cursor = match.end()
    spans.append((start + cursor, end))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _trim(text: str, start: int, end: int) -> tuple[int, bool]:
    """New start after dropping a byline, a dateline or a leading connective.

    Returns ``(start, capitalise)`` where ``capitalise`` says the first letter of the
    shown text must be upper-cased.
    """
    capitalise = False
    for _ in range(3):
        piece = text[start:end]
        match = _BYLINE.match(piece) or _DATELINE.match(piece)
        if match and match.end() > 0 and match.end() < len(piece):
            start += match.end()
            continue
        break
    piece = text[start:end]
    match = _LEADING_CONNECTIVE.match(piece)
    if match and len(piece) - match.end() > 20:
        start += match.end()
        capitalise = text[start].islower()
    while start < end and text[start].isspace():
        start += 1
    return start, capitalise


def _is_caption(text: str) -> bool:
    label = _CAPTION.match(text)
    if label is None:
        return False
    return _NOT_LABEL.search(text[: text.index(":", 0, label.end())]) is None


def _split_captions(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """Split "Scroll down for video" and photo captions glued to a sentence.

    Returns ``(start, end, is_furniture)`` pieces; a caption's text never ends with a
    full stop, so the sentence glued after it is the last piece when that one does.
    """
    piece = text[start:end]
    scroll = _SCROLL.match(piece)
    pieces: list[tuple[int, int, bool]] = []
    offset = 0
    if scroll:
        pieces.append((start, start + scroll.end(), True))
        offset = scroll.end()
        if offset >= len(piece):
            return pieces
    rest = piece[offset:]
    if not scroll and not _is_caption(rest):
        return [(start, end, False)]
    cuts = sorted(
        {m.end() for m in _GLUE.finditer(rest)}
        | {m.end() for m in _CAPTION_INSIDE.finditer(rest) if _is_caption(rest[m.end() :])}
    )
    bounds = [0, *cuts, len(rest)]
    for index, (a, b) in enumerate(itertools.pairwise(bounds)):
        last = index == len(bounds) - 2
        sentence = last and index > 0 and re.search(r"[.!?][\"'”’)\]]*\s*$", rest[a:b]) is not None
        pieces.append((start + offset + a, start + offset + b, not sentence))
    return pieces


def _classify(shown: str, raw: str, words: int) -> Literal["content", "weak", "junk"]:
    if _FURNITURE.search(raw) or _BYLINE.fullmatch(raw) or words == 0:
        return "junk"
    if words < 6:
        return "weak"
    stripped = shown.rstrip("\"'”’) ")
    if stripped.endswith("?") or stripped.endswith(":"):
        return "weak"
    if _is_caption(shown):
        return "weak"
    if not re.search(r"[.!?][\"'”’)\]]*$", shown.rstrip()):  # caption glued on, no full stop
        return "weak"
    return "content"


def sentence_spans(article: Article) -> list[Span]:
    """Sentence spans: the article's sentences, split where pysbd missed a clear boundary.

    The first three are the Lead-3 baseline of the benchmarks.
    """
    spans: list[Span] = []
    for sentence in article.sentences:
        spans.extend(_split_missed(article.text, sentence.start, sentence.end))
    return spans


def summary_units(article: Article) -> list[Unit]:
    """The article's sentences as bullet candidates, trimmed and classified.

    Vectors given to :func:`summarize_extractive` are rows for these units, in order.
    """
    text = article.text
    byline = _BYLINE.match(text)
    head_end = byline.end() if byline else 0  # a byline block opening the article
    units: list[Unit] = []
    for sentence in article.sentences:
        for piece_start, piece_end in _split_missed(text, sentence.start, sentence.end):
            if piece_end <= head_end:
                continue
            for raw_start, raw_end, furniture in _split_captions(
                text, max(piece_start, head_end), piece_end
            ):
                start, capitalise = _trim(text, raw_start, raw_end)
                while raw_end > start and text[raw_end - 1].isspace():
                    raw_end -= 1
                shown = text[start:raw_end]
                if not shown.strip():
                    continue
                if capitalise:
                    shown = shown[0].upper() + shown[1:]
                raw = text[raw_start:raw_end]
                words = len(_WORD.findall(shown))
                kind = _classify(shown, raw, words)
                if furniture and kind != "junk":
                    kind = "junk" if _SCROLL.match(raw) else "weak"
                units.append(
                    Unit(
                        index=len(units),
                        start=start,
                        end=raw_end,
                        text=shown,
                        paragraph=sentence.paragraph,
                        kind=kind,
                        words=words,
                        original=(raw_start, raw_end),
                    )
                )
    return units


# --------------------------------------------------------------------------- extractive


@dataclass(frozen=True)
class ExtractiveParams:
    """Weights of the extractive scorer.

    The defaults were tuned by coordinate ascent on the odd rows of the CNN/DM file
    (ROUGE-2 + ROUGE-1/4) and checked on the even rows; see benchmarks/README.md.
    """

    #: Lead prior: lead_weight / (1 + rank / lead_scale), rank among candidate units,
    #: plus lead_bonus for the first lead_count candidates.
    lead_weight: float = 1.5
    lead_scale: float = 2.0
    lead_bonus: float = 0.2
    lead_count: int = 4
    #: Cosine similarity to the article centroid and to the lead (first two candidates).
    centroid_weight: float = 0.5
    lead_similarity_weight: float = 0.45
    #: Length prior: penalty per word outside [short_words, long_words].
    short_words: int = 10
    long_words: int = 25
    length_penalty: float = 0.02
    #: Surface cues: share of the sentence inside quote marks, a number, share of
    #: capitalised (name) words, an opening pronoun that needs the previous sentence.
    quote_weight: float = -0.4
    number_weight: float = 0.05
    name_weight: float = 0.5
    pronoun_weight: float = -0.15
    #: MMR: score - redundancy * max cosine to already chosen bullets.
    redundancy: float = 0.75
    #: Never choose two bullets closer than this (near-duplicates).
    duplicate_threshold: float = 0.88
    #: Look for bullets among this many leading candidates (news is front-loaded).
    window: int = 12


DEFAULT_PARAMS = ExtractiveParams()


_QUOTE_SPAN = re.compile(r"[\"“][^\"“”]*[\"”]|(?:^|(?<=[\s(]))[‘'][^‘’']*?[’'](?=[\s.,;:!?)]|$)")
_NAME = re.compile(r"(?<=[\w,;:)] )[A-Z][a-z]+")
_PRONOUN = re.compile(r"^[\"'‘“]?(?:He|She|It|They|His|Her|Its|Their|This|That|These|Those|Him)\b")


def _cues(unit: Unit) -> tuple[float, float, float, float]:
    """(share inside quotes, has a number, share of name words, opens with a pronoun)."""
    text = unit.text
    quoted = sum(len(m.group(0)) for m in _QUOTE_SPAN.finditer(text)) / max(len(text), 1)
    number = 1.0 if re.search(r"\d", text) else 0.0
    names = len(_NAME.findall(text)) / max(unit.words, 1)
    pronoun = 1.0 if _PRONOUN.match(text) else 0.0
    return quoted, number, names, pronoun


def unit_scores(units: Sequence[Unit], vectors: Vectors, params: ExtractiveParams) -> list[float]:
    """Informativeness of each candidate unit before redundancy: lead, centrality, length."""
    candidates = [u.index for u in units if u.kind != "junk"]
    scores = [float("-inf")] * len(units)
    if not candidates:
        return scores
    matrix = vectors[candidates]
    centroid = matrix.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
    lead = matrix[: min(2, len(candidates))].mean(axis=0)
    lead /= max(float(np.linalg.norm(lead)), 1e-9)
    to_centroid = matrix @ centroid
    to_lead = matrix @ lead
    for rank, index in enumerate(candidates):
        unit = units[index]
        score = params.lead_weight / (1.0 + rank / params.lead_scale)
        score += params.centroid_weight * float(to_centroid[rank])
        score += params.lead_similarity_weight * float(to_lead[rank])
        if rank < params.lead_count:
            score += params.lead_bonus
        if unit.words < params.short_words:
            score -= params.length_penalty * (params.short_words - unit.words)
        elif unit.words > params.long_words:
            score -= params.length_penalty * (unit.words - params.long_words)
        cues = _cues(unit)
        score += params.quote_weight * cues[0] + params.number_weight * cues[1]
        score += params.name_weight * cues[2] + params.pronoun_weight * cues[3]
        scores[index] = score
    return scores


def select_units(
    units: Sequence[Unit],
    vectors: Vectors,
    n: int,
    params: ExtractiveParams = DEFAULT_PARAMS,
    *,
    exclude: Vectors | None = None,
) -> list[Unit]:
    """The ``n`` best units by MMR, in article order; ``exclude`` rows count as chosen."""
    if n <= 0 or not units:
        return []
    if len(vectors) != len(units):
        raise ValueError(f"{len(vectors)} vectors for {len(units)} sentences")
    scores = unit_scores(units, vectors, params)
    chosen: list[int] = []
    chosen_vectors: list[Vectors] = [] if exclude is None else [row for row in exclude]
    content = [u.index for u in units if u.kind == "content"]
    lead_window = max(params.window, n)
    tiers = (
        content[:lead_window],  # news is front-loaded: look here first
        content[lead_window:],  # then the rest of the article
        [u.index for u in units if u.kind == "weak"],  # short lines, questions, captions
    )
    for pool in tiers:
        while len(chosen) < n and pool:
            best, best_value = -1, float("-inf")
            for index in pool:
                redundancy = max((float(vectors[index] @ v) for v in chosen_vectors), default=0.0)
                if redundancy >= params.duplicate_threshold:
                    continue
                value = scores[index] - params.redundancy * redundancy
                if value > best_value:
                    best, best_value = index, value
            if best < 0:
                break
            chosen.append(best)
            chosen_vectors.append(vectors[best])
            pool.remove(best)
        if len(chosen) >= n:
            break
    return [units[i] for i in sorted(chosen)]


def summarize_extractive(
    article: Article,
    vectors: Vectors,
    n: int = 3,
    *,
    units: Sequence[Unit] | None = None,
    params: ExtractiveParams = DEFAULT_PARAMS,
) -> Summary:
    """Pick ``n`` bullets; ``vectors`` are the rows for ``summary_units(article)``.

    Rows for junk units are never read (they may be zeros, as :func:`unit_vectors` gives).
    """
    began = time.perf_counter()
    if units is None:
        units = summary_units(article)
    picked = select_units(units, vectors, n, params)
    bullets = tuple(Bullet(u.text, (u.span,), generated=False) for u in picked)
    return Summary(
        method="extractive",
        bullets=bullets,
        timings_ms={"select": (time.perf_counter() - began) * 1000},
    )


# --------------------------------------------------------------------------- the guard

_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "thousand": 1000, "dozen": 12,
}  # fmt: skip
#: Capitalised words that start sentences without naming anything.
_STARTERS = _wordset(
    "the a an in on at for with by from to of as after before while when during since "
    "he she it they we i you his her its their our this that these those there here "
    "however but and also additionally overall meanwhile moreover furthermore finally "
    "according although despite though if once now today yesterday earlier later then "
    "some many most several both each one two three all no other such what who why how"
)  # fmt: skip
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTED = re.compile(r"[\"“]([^\"“”]{2,}?)[\"”]|(?:^|(?<=\s))[‘']([^‘’']{2,}?)[’'](?=[\s.,;:!?]|$)")


def _norm(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).lower()


def _number_value(token: str) -> float | None:
    try:
        return float(token.replace(",", ""))
    except ValueError:
        return None


_FUNCTION_WORDS = _wordset(
    "this that these those with from have having been were will would could should shall "
    "their there they them then than what when where which while about after before into "
    "over under also just more most some such very only other being does did also upon "
    "said says told each both many much because since until your yours ours itself"
)


@dataclass(frozen=True)
class _ArticleFacts:
    words: frozenset[str]
    #: First five letters of every word: a crude stemmer ("injured" ~ "injuries").
    prefixes: frozenset[str]
    numbers: frozenset[float]
    normalised: str


_FACTS_CACHE: dict[str, _ArticleFacts] = {}


def _facts(article: Article) -> _ArticleFacts:
    key = article.content_hash
    cached = _FACTS_CACHE.get(key)
    if cached is not None:
        return cached
    tokens = {w.lower().strip("'’.-") for w in re.findall(r"[\w'’.-]+", article.text)}
    words = tokens | {part for w in tokens for part in re.split(r"[.-]", w)}
    words |= {w.removesuffix("'s").removesuffix("’s") for w in words}
    numbers: set[float] = set()
    for token in _DIGITS.findall(article.text):
        value = _number_value(token)
        if value is not None:
            numbers.add(value)
    for word in words:
        if word in _NUMBER_WORDS:
            numbers.add(float(_NUMBER_WORDS[word]))
    facts = _ArticleFacts(
        frozenset(words),
        frozenset(w[:5] for w in words if len(w) >= 5),
        frozenset(numbers),
        _norm(article.text),
    )
    if len(_FACTS_CACHE) > 256:
        _FACTS_CACHE.clear()
    _FACTS_CACHE[key] = facts
    return facts


def _listing(items: Sequence[str]) -> str:
    unique = list(dict.fromkeys(items))
    shown = ", ".join(f"“{item}”" for item in unique[:4])
    return shown + (f" and {len(unique) - 4} more" if len(unique) > 4 else "")


def _verb(items: Sequence[str]) -> str:
    return "does" if len(set(items)) == 1 else "do"


def check_facts(sentence: str, article: Article) -> tuple[SupportReason, str] | None:
    """The names, numbers, quotes or wording in ``sentence`` that the article lacks.

    Checks in this order and reports the first kind that fails: capitalised words
    (names, places, months), numbers (digits and number words, by value), quoted
    words (verbatim) and the share of content words the article never uses.
    """
    facts = _facts(article)
    lead = re.match(r"\W*", sentence)
    first_word_at = lead.end() if lead else 0
    names: list[str] = []
    for match in _CAPITALISED.finditer(sentence):
        word = match.group(0).strip("'’.-")
        key = word.lower().removesuffix("'s").removesuffix("’s")
        if not key or key in facts.words:
            continue
        if "-" in key and all(part in facts.words for part in key.split("-") if part):
            continue
        if match.start() == first_word_at and key in _STARTERS:
            continue
        names.append(word)
    if names:
        return "unknown-name", f"{_listing(names)} {_verb(names)} not occur in the article"
    numbers = [
        m.group(0)
        for m in _DIGITS.finditer(sentence)
        if (value := _number_value(m.group(0))) is not None and value not in facts.numbers
    ]
    numbers += [
        word
        for word in re.findall(r"[a-z]+", sentence.lower())
        if word in _NUMBER_WORDS and float(_NUMBER_WORDS[word]) not in facts.numbers
    ]
    if numbers:
        return "unknown-number", f"{_listing(numbers)} {_verb(numbers)} not occur in the article"
    for match in _QUOTED.finditer(sentence):
        quoted = (match.group(1) or match.group(2) or "").strip(" ,.")
        if quoted and _norm(quoted) not in facts.normalised:
            return "unknown-quote", f"the quoted words “{quoted}” are not in the article"
    content = [w for w in re.findall(r"[a-z]+", sentence.lower()) if len(w) >= 4]
    content = [w for w in content if w not in _FUNCTION_WORDS]
    novel = [w for w in content if w not in facts.words and w[:5] not in facts.prefixes]
    if content and len(novel) / len(content) > NOVEL_WORDS_LIMIT:
        return (
            "unknown-words",
            f"{len(novel)} of {len(content)} content words are not in the article: "
            + _listing(novel),
        )
    return None


def check_support(
    sentence: str,
    article: Article,
    *,
    similarity: float | None = None,
    threshold: float = SUPPORT_THRESHOLD,
) -> DroppedSentence | None:
    """None when the article supports ``sentence``, else why not.

    ``similarity`` is the sentence's best cosine to an article sentence; when given it
    must reach ``threshold`` (checked first: a sentence about something else is
    "unrelated" whatever words it uses). Then :func:`check_facts`.
    """
    if similarity is not None and similarity < threshold:
        return DroppedSentence(
            sentence,
            "unrelated",
            f"closest article sentence has similarity {similarity:.2f} < {threshold:.2f}",
        )
    problem = check_facts(sentence, article)
    if problem is not None:
        return DroppedSentence(sentence, problem[0], problem[1])
    return None


# --------------------------------------------------------------------------- abstractive


_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*\s*$")


def max_new_tokens(models: ModelService, n: int) -> int:
    """Tokens to generate: about 36 a sentence, never more than the configured limit."""
    return min(models.settings.max_new_tokens, 36 * n + 16)


def prompt_text(units: Sequence[Unit], limit: int = PROMPT_CHARS) -> str:
    """The article without page furniture, cut at a sentence end near ``limit`` characters."""
    parts: list[str] = []
    size = 0
    for unit in units:
        if unit.kind == "junk":
            continue
        if parts and size + len(unit.text) > limit:
            break
        parts.append(unit.text)
        size += len(unit.text) + 1
    return " ".join(parts)


def split_generated(output: str) -> list[str]:
    """The model's output as clean sentences (list markers and headings removed)."""
    from summarizer.reading import split_sentences

    sentences: list[str] = []
    for line in output.splitlines():
        line = re.sub(r"^\s*(?:[-*•]+|\d+[.)])\s*", "", line).strip()
        if not line or re.fullmatch(r"(?i)(?:here is |here's )?(?:a |the )?summary.*:", line):
            continue
        line = re.sub(r"(?i)^(?:summary|in summary|to summarize)\s*[:,]\s*", "", line)
        for start, end in split_sentences(line, 0, len(line)):
            sentence = line[start:end].strip()
            if sentence:
                sentences.append(sentence)
    return sentences


def summarize_abstractive(
    article: Article,
    generated: Sequence[str],
    generated_vectors: Vectors,
    *,
    units: Sequence[Unit],
    vectors: Vectors,
    n: int = 3,
    threshold: float = SUPPORT_THRESHOLD,
    params: ExtractiveParams = DEFAULT_PARAMS,
) -> Summary:
    """Guard the generated sentences and fill the gaps with extractive picks.

    ``generated_vectors`` are rows for ``generated``; ``vectors`` rows for ``units``.
    """
    candidates = [i for i, u in enumerate(units) if u.kind != "junk"]
    kept: list[tuple[int, Bullet]] = []
    kept_vectors: list[Vectors] = []
    dropped: list[DroppedSentence] = []
    for row, sentence in enumerate(generated):
        if len(_WORD.findall(sentence)) < 4 or not re.search(r"[a-z]", sentence):
            dropped.append(DroppedSentence(sentence, "fragment", "too short to be a sentence"))
            continue
        if row == len(generated) - 1 and not _ENDS_SENTENCE.search(sentence):
            dropped.append(DroppedSentence(sentence, "fragment", "cut off by the length limit"))
            continue
        vector = generated_vectors[row]
        if any(float(vector @ other) >= params.duplicate_threshold for other in kept_vectors):
            dropped.append(DroppedSentence(sentence, "repeat", "says the same as a kept sentence"))
            continue
        similarities = vectors[candidates] @ vector if candidates else np.zeros(0)
        best = int(np.argmax(similarities)) if len(similarities) else -1
        similarity = float(similarities[best]) if best >= 0 else 0.0
        problem = check_support(sentence, article, similarity=similarity, threshold=threshold)
        if problem is not None:
            dropped.append(problem)
            continue
        if len(kept) >= n:
            dropped.append(DroppedSentence(sentence, "extra", f"only {n} sentences are shown"))
            continue
        evidence = units[candidates[best]]
        kept.append((evidence.start, Bullet(sentence, (evidence.span,), generated=True)))
        kept_vectors.append(vector)
    exclude = np.stack(kept_vectors) if kept_vectors else None
    fill = select_units(units, vectors, n - len(kept), params, exclude=exclude)
    entries = kept + [(u.start, Bullet(u.text, (u.span,), generated=False)) for u in fill]
    entries.sort(key=lambda entry: entry[0])
    return Summary(
        method="abstractive",
        bullets=tuple(bullet for _, bullet in entries),
        generated=tuple(generated),
        dropped=tuple(dropped),
    )


# --------------------------------------------------------------------------- entry points


#: Sentences per embedding call: sorted by length, small batches pad less (~25% less
#: CPU than one padded batch per article).
EMBED_BATCH = 8


def unit_vectors(models: ModelService, units: Sequence[Unit]) -> Vectors:
    """Embeddings for ``units`` (rows in order); junk units get zero rows, never used."""
    rows = [u.index for u in units if u.kind != "junk"]
    rows.sort(key=lambda index: len(units[index].text))
    batches = [rows[i : i + EMBED_BATCH] for i in range(0, len(rows), EMBED_BATCH)]
    vectors: Vectors | None = None
    for batch in batches or [[]]:
        embedded = models.embed_sync([units[index].text for index in batch])
        if vectors is None:
            vectors = np.zeros((len(units), embedded.shape[1]), dtype=np.float32)
        if batch:
            vectors[batch] = embedded
    assert vectors is not None
    return vectors


def _resolve(
    models: ModelService, method: SummaryMethod | None, sentences: int | None
) -> tuple[SummaryMethod, int]:
    chosen = method or models.settings.summary_method
    if chosen not in METHODS:
        raise ValueError(f"unknown summary method {chosen!r}; use one of {', '.join(METHODS)}")
    count = sentences if sentences is not None else models.settings.summary_sentences
    if count < 1:
        raise ValueError("a summary needs at least one sentence")
    return chosen, count


def _finish(summary: Summary, timings: dict[str, float], began: float) -> Summary:
    timings = {**timings, **summary.timings_ms}
    timings["total"] = (time.perf_counter() - began) * 1000
    return Summary(summary.method, summary.bullets, summary.generated, summary.dropped, timings)


def summarize_sync(
    article: Article,
    models: ModelService,
    *,
    method: SummaryMethod | None = None,
    sentences: int | None = None,
) -> Summary:
    """Summarise ``article`` in this thread (batch tools, benchmarks)."""
    began = time.perf_counter()
    method, n = _resolve(models, method, sentences)
    units = summary_units(article)
    clock = time.perf_counter()
    vectors = unit_vectors(models, units)
    timings = {"embed": (time.perf_counter() - clock) * 1000}
    if method == "extractive":
        return _finish(summarize_extractive(article, vectors, n, units=units), timings, began)
    clock = time.perf_counter()
    output = models.generate_sync(
        INSTRUCTION.format(n=n), prompt_text(units), max_new_tokens(models, n)
    )
    timings["generate"] = (time.perf_counter() - clock) * 1000
    clock = time.perf_counter()
    generated = split_generated(output)
    generated_vectors = models.embed_sync(generated)
    summary = summarize_abstractive(
        article, generated, generated_vectors, units=units, vectors=vectors, n=n
    )
    timings["guard"] = (time.perf_counter() - clock) * 1000
    return _finish(summary, timings, began)


async def summarize(
    article: Article,
    models: ModelService,
    *,
    method: SummaryMethod | None = None,
    sentences: int | None = None,
) -> Summary:
    """Summarise ``article`` with the models running off the event loop.

    ``method`` and ``sentences`` default to the settings' ``summary_method`` and
    ``summary_sentences``. When the generative model fails or runs out of time, the
    extractive summary is returned (its ``method`` says so) rather than nothing;
    embedding failures raise :class:`summarizer.models.ModelError`.
    """
    began = time.perf_counter()
    method, n = _resolve(models, method, sentences)
    units = summary_units(article)
    clock = time.perf_counter()
    vectors = await models.run(unit_vectors, models, units)
    timings = {"embed": (time.perf_counter() - clock) * 1000}
    if method == "extractive":
        return _finish(summarize_extractive(article, vectors, n, units=units), timings, began)
    clock = time.perf_counter()
    try:
        output = await models.generate(
            INSTRUCTION.format(n=n), prompt_text(units), max_new_tokens(models, n)
        )
    except ModelError as error:
        log.warning("abstractive summary unavailable, extractive instead: %s", error)
        return _finish(summarize_extractive(article, vectors, n, units=units), timings, began)
    timings["generate"] = (time.perf_counter() - clock) * 1000
    clock = time.perf_counter()
    generated = split_generated(output)
    generated_vectors = await models.embed(generated)
    summary = summarize_abstractive(
        article, generated, generated_vectors, units=units, vectors=vectors, n=n
    )
    timings["guard"] = (time.perf_counter() - clock) * 1000
    return _finish(summary, timings, began)
