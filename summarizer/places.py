"""Where a statement was made: the speaking setting as the article words it.

Only settings of speech count: media appearances ("on CNN", "on “Fox News Sunday”"),
interviews, statements and posts, events ("at a rally in Flint", "at a briefing") and
vehicles ("aboard Air Force One"). Ordinary locatives about the content ("in Ukraine")
are never returned, and nothing is invented: the phrase is a verbatim slice of the text.
"""

from __future__ import annotations

import re

from summarizer.dates import (
    attachment_distance,
    event_markers,
    reported_content,
    speech_mask,
    word_spans,
)
from summarizer.reading import Article, Sentence
from summarizer.records import Span

__all__ = ["statement_place"]

_CAP = r"[A-Z][\w\u2019'.&-]*"
_TITLE = _CAP + r"(?:\s+(?:(?:of|the|and|in|on|for)\s+)?" + _CAP + r"){0,5}"
_QUOTED = r"(?:\u201c[^\u201d\n]{1,60}\u201d|\"[^\"\n]{1,60}\")"
_OUTLET = (
    r"(?:CNN(?:\s+International)?|MSNBC|CNBC|Fox\s+Business(?:\s+Network)?|Fox\s+News(?:\s+Channel)?"
    r"|Fox|NBC(?:\s+News)?|ABC(?:\s+News)?|CBS(?:\s+News)?|PBS|NPR|BBC(?:\s+Radio\s+\w+)?"
    r"|C-SPAN|Bloomberg(?:\s+(?:TV|Television|Radio))?|Sky\s+News|Al\s+Jazeera|Newsmax|CNN"
    r"|Twitter|Facebook(?:\s+Live)?|Instagram|YouTube|TikTok|Truth\s+Social|Telegram|Threads"
    r"|Reddit|Snapchat|LinkedIn|Periscope|SiriusXM|Sirius\s+XM|(?:national\s+)?television"
    r"|(?:the\s+)?radio|TV|(?:his|her|their|its)\s+(?:podcast|show|radio\s+show|blog|website"
    r"|Twitter\s+(?:account|feed)|Facebook\s+page|Instagram\s+account|Truth\s+Social\s+account))"
)
_SHOW_HEAD = (
    r"(?:Show|Program|Hour|Podcast|Radio|Report|Factor|Tonight|Today|This\s+Morning"
    r"|Morning\s+Joe|Face\s+the\s+Nation|Meet\s+the\s+Press|State\s+of\s+the\s+Union|This\s+Week"
    r"|Hardball|Squawk\s+Box|Capital\s+Download|Download|Live)"
)
_EVENT_NOUN = (
    r"(?:rally|news\s+conference|press\s+conference|conference|press\s+briefing|briefing"
    r"|town\s+hall(?:\s+meeting)?|fundraiser|hearing|debate|speech|summit|forum|luncheon"
    r"|breakfast|gala(?:\s+dinner)?|dinner|ceremony|roundtable|panel(?:\s+discussion)?"
    r"|discussion|convention|campaign\s+stop|campaign\s+event|event|press\s+availability"
    r"|session|appearance|address|commencement(?:\s+address)?|interview|stakeout|gaggle)"
)
# Words allowed between the article and the event noun: names, times, plain modifiers.
_EVENT_FILLER = (
    r"(?:" + _CAP + r"|campaign|press|news|daily|weekly|night|morning|evening|afternoon"
    r"|televised|presidential|vice-presidential|first|second|third|final|recent|joint|private"
    r"|public|closed-door|congressional|annual|virtual|packed|charity|fundraising|election"
    r"|primary|crowded|raucous|impromptu|brief|lengthy|[\w-]+\u2019s|[\w-]+'s)"
)
_STATE = (
    r"(?:(?:[A-Z]\.){2}|(?:Ala|Ariz|Ark|Calif|Colo|Conn|Del|Fla|Ga|Ill|Ind|Kan|Ky|La|Mass|Md"
    r"|Mich|Minn|Miss|Mo|Mont|Neb|Nev|Okla|Ore|Pa|Tenn|Tex|Va|Vt|Wash|Wis|Wyo)\."
    r"|Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia"
    r"|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland"
    r"|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada"
    r"|New\s+Hampshire|New\s+Jersey|New\s+Mexico|New\s+York|North\s+Carolina"
    r"|North\s+Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode\s+Island|South\s+Carolina"
    r"|South\s+Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West\s+Virginia"
    r"|Wisconsin|Wyoming)"
)
_WRITTEN = (
    r"(?:statement|tweet|post|posting|message|video|letter|op-ed|speech|address|memo|release"
    r"|email|e-mail|editorial|column|essay|filing|testimony|note|remarks|blog\s+post)"
)
_WRITTEN_MOD = (
    r"(?:written|joint|brief|short|prepared|separate|lengthy|emailed|e-mailed|terse|new|official"
    r"|signed|open|radio|video|televised|recorded|Facebook|Twitter|Instagram|YouTube|Medium"
    r"|campaign|press|news|blog|subsequent|later|follow-up|earlier|late-night|weekly|first)"
)

# (pattern, needs_marker): settings that are themselves a speaking event stand alone;
# "on CNN" or "aboard Air Force One" must sit next to a speech verb or event.
_PLACES: tuple[tuple[re.Pattern[str], bool], ...] = (
    (
        re.compile(
            r"\b[Oo]n\s+(?:(?:this|last|[A-Z]\w+)\s+(?:weekend|week|night|morning|evening)?"
            r"[\u2019']s\s+(?:broadcast|edition|episode)\s+of\s+|"
            + _CAP
            + r"[\u2019']s\s+)?"
            + _QUOTED
        ),
        False,
    ),
    (
        re.compile(
            r"\b[Oo]n\s+" + _OUTLET + r"(?:[\u2019']s\s+(?:" + _QUOTED + r"|" + _TITLE + r"))?"
            r"(?![\w-])"
        ),
        True,
    ),
    (
        re.compile(r"\b[Oo]n\s+(?:[Tt]he\s+)?(?:" + _CAP + r"\s+){0,5}" + _SHOW_HEAD + r"\b"),
        True,
    ),
    (re.compile(r"\baboard\s+(?:the\s+)?" + _CAP + r"(?:\s+" + _CAP + r"){0,3}"), True),
    (re.compile(r"\b(?:on|from)\s+the\s+(?:Senate|House)\s+floor\b"), True),
    (
        re.compile(
            r"\b(?:[Ii]n|[Dd]uring)\s+(?:an?|his|her|their|the)\s+(?:" + _WRITTEN_MOD + r"\s+){0,2}"
            r"(?:(?:interview|conversation|phone\s+call|call)(?:\s+with\s+(?:reporters|journalists"
            r"|him|her|them|"
            + _TITLE
            + r"))?(?:\s+on\s+"
            + _OUTLET
            + r"(?![\w-]))?|"
            + _WRITTEN
            + r")"
            r"(?![\w-])"
        ),
        False,
    ),
    (
        re.compile(
            r"\b(?:[Aa]t|[Dd]uring|[Ii]n)\s+(?:a|an|the|his|her|their|its)\s+"
            r"(?:" + _EVENT_FILLER + r"\s+){0,5}?" + _EVENT_NOUN + r"\b"
            r"(?![\w-])(?!\s+(?:of|that)\b)"
            r"(?:\s+(?:in|at)\s+(?:the\s+)?" + _CAP + r"(?:\s+" + _CAP + r"){0,4}"
            r"(?:,\s+(?:" + _STATE + r"))?)?"
        ),
        True,
    ),
)
_MAX_SENTENCES_BACK = 3
# A final point that belongs to the word ("N.C.", "Mich.", "Mr.") rather than the sentence.
_ABBREVIATION = re.compile(
    r"(?:[A-Z]\.)+|(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Jr|Sr|St|Inc|Co|Corp|Ltd|Ala|Ariz|Ark|Calif"
    r"|Colo|Conn|Del|Fla|Ga|Ill|Ind|Kan|Ky|La|Mass|Md|Mich|Minn|Miss|Mo|Mont|Neb|Nev|Okla|Ore"
    r"|Pa|Tenn|Tex|Va|Vt|Wash|Wis|Wyo)\."
)


def statement_place(article: Article, sentence_index: int) -> tuple[str, Span] | None:
    """The setting of the statement in sentence ``sentence_index`` and its span, if given.

    The statement's own sentence is searched first, then the earlier sentences of the
    paragraph, nearest first: the one that introduces the remarks usually names the
    setting ("While speaking to reporters aboard Air Force One…" before the quotes).
    Raises IndexError for a bad index.
    """
    sentence = article.sentences[sentence_index]
    found = _place_in(article, sentence)
    if found is not None:
        return found
    earlier = [s for s in article.sentences_in(sentence.paragraph) if s.index < sentence.index]
    for other in earlier[::-1][:_MAX_SENTENCES_BACK]:
        found = _place_in(article, other)
        if found is not None:
            return found
    return None


def _place_in(article: Article, sentence: Sentence) -> tuple[str, Span] | None:
    """The first speaking setting in ``sentence`` outside quotes and reported content."""
    masked = speech_mask(sentence.text)
    tokens = word_spans(masked)
    content = reported_content(masked, tokens)
    markers = event_markers(masked, tokens)
    found: list[Span] = []
    for pattern, needs_marker in _PLACES:
        for match in pattern.finditer(masked):
            span = (match.start(), _trim_end(masked, match.start(), match.end()))
            if any(c_start <= span[0] < c_end for c_start, c_end in content):
                continue
            if needs_marker and not _attached(masked, tokens, markers, span):
                continue
            if any(span[0] < e and s < span[1] for s, e in found):
                continue
            found.append(span)
    if not found:
        return None
    start, end = min(found)
    base = sentence.start
    return article.text[base + start : base + end], (base + start, base + end)


def _attached(masked: str, tokens: list[Span], markers: list[Span], span: Span) -> bool:
    return any(
        attachment_distance(masked, tokens, marker, span) is not None
        for marker in markers
        if marker[1] <= span[0] or marker[0] >= span[1]
    )


def _trim_end(text: str, start: int, end: int) -> int:
    """Drop what a pattern may have taken past the setting: punctuation, a possessive."""
    while end > start and text[end - 1] in ",;:" and text[end - 2 : end] != ",\u201d":
        end -= 1
    if end > start and text[end - 1] == ".":
        last_word = text[start:end].split()[-1]
        if not _ABBREVIATION.fullmatch(last_word):
            end -= 1
    if re.search(r"[\u2019']s$", text[start:end]):  # a possessive: the name is cut off
        cut = text.rfind(" with ", start, end)
        if cut > start:
            end = cut
    return end
