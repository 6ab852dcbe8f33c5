"""Time expressions in news text and the calendar dates they mean.

News writes days relative to the publication date ("said Monday", "yesterday",
"on Tuesday" for a coming event), so every resolution takes ``published`` as its
anchor. The rules follow the QA gold (``shared/data/qa/README.md``):

* a weekday is the latest such day on or before publication ("said Monday" in a
  Monday paper is that Monday), unless the clause is in the future tense ("will",
  "plans to", "is expected to", "scheduled"), then it is the first such day on or
  after publication (AP style names the current day by weekday too, so "will vote
  Tuesday" in a Tuesday paper is that day); "last Friday" is strictly before and
  "next Tuesday" strictly after publication;
* "yesterday"/"last night" are the day before, "today"/"tonight"/"this morning"
  the publication date, "tomorrow" the day after;
* week-level expressions ("last week", "this week", "next week") resolve to the
  Monday that starts that week, i.e. "the week of"; weekends to their Saturday;
* "March 3" takes the year that puts it nearest to publication (on or after it
  when the clause is future); full dates ("March 3, 2025", "2025-03-17") need no
  publication date;
* vague expressions (months, years, "a few days ago", "the past week") are still
  reported, with date ``None``: a made-up day would be worse than none.

``dateparser`` is only a fallback in :func:`resolve` for phrasings the patterns here
do not know; it gets weekdays equal to the base day wrong (a week off), ``"last
month"`` falsely precise and "on the 5th" wrong, so it is never used for those.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta
from typing import NamedTuple

from summarizer.reading import Article, Sentence
from summarizer.records import Span, TimeRef

__all__ = [
    "attachment_distance",
    "event_markers",
    "find_time_expressions",
    "is_future_at",
    "quote_spans",
    "reported_content",
    "resolve",
    "speech_markers",
    "speech_mask",
    "statement_time",
    "time_refs",
    "word_spans",
]

# --------------------------------------------------------------------------- patterns

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTH_NUMBERS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# Month names are matched case-sensitively: "may" and "march" are verbs.
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"
)
_MONTH_FULL = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|(?:Jan|Feb|Aug|Sept?|Oct|Nov|Dec)\.)"
)
_YEAR = r"(?:19|20)\d{2}"
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_APOS = r"['\u2019]"

# Each pattern has a kind; ``_RANK`` orders kinds by how precise a day they give, so
# that a phrase like "this weekend's broadcast of Fox News Sunday" resolves by Sunday.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")),
    (
        "numeric",
        re.compile(r"(?<![\d/])(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>" + _YEAR + r")\b(?!/)"),
    ),
    (
        "month_day",
        re.compile(
            r"(?:\b(?i:on)\s+)?(?:\b" + _WEEKDAY + r",?\s+)?"
            r"\b(?P<month>" + _MONTH + r")(?<!\bMay\.)\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b"
            r"(?:,?\s+(?P<y>" + _YEAR + r")\b)?(?![\d:]|,\d|\.\d|\s*(?:%|percent|p\.?m|a\.?m))"
        ),
    ),
    (
        "day_month",
        re.compile(
            r"(?:\b(?i:on)\s+)?(?:\b" + _WEEKDAY + r",?\s+)?(?:(?i:the)\s+)?"
            r"(?<![\d.,])\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
            r"(?P<month>" + _MONTH + r")(?:,?\s+(?P<y>" + _YEAR + r")\b)?(?!\s*\d)"
        ),
    ),
    (
        "ordinal_day",
        re.compile(
            r"\b(?i:on)\s+the\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b"
            r"(?=\s*(?:[.,;:)]|$)|\s+(?:at|and|when|in|of\s+this\s+month)\b)"
        ),
    ),
    (
        "weekday",
        re.compile(
            r"(?:\b(?P<mod>(?i:this\s+past|this\s+coming|last|next|this|past|coming))\s+"
            r"|\b(?i:on|since|by|until|early|late)\s+)?"
            r"(?:(?i:early|late)\s+)?\b(?P<wd>" + _WEEKDAY + r")\b(?!s\b)"
            r"(?:" + _APOS + r"s\b)?"
            r"(?:\s+(?P<part>(?i:morning|afternoon|evening|night))\b)?"
        ),
    ),
    (
        "dayword",
        re.compile(
            r"(?i:\b(?:the\s+day\s+before\s+yesterday|the\s+day\s+after\s+tomorrow"
            r"|(?:(?:early|late|earlier|later)\s+)?(?:yesterday|today|tonight|tomorrow)"
            r"(?:" + _APOS + r"s)?(?:\s+(?:morning|afternoon|evening|night)\b)?"
            r"|(?:(?:earlier|later)\s+)?this\s+(?:morning|afternoon|evening)|last\s+night)\b)"
        ),
    ),
    (
        "ago",
        re.compile(
            r"(?i:\b(?P<n>\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven"
            r"|twelve|a\s+few|a\s+couple\s+of|several|few)\s+(?P<unit>day|week|month|year)s?"
            r"\s+ago\b)"
        ),
    ),
    (
        "weekend",
        re.compile(
            r"(?i:(?:\b(?:over|during|on|at|for|through|throughout|by)\s+)?"
            r"\b(?P<mod>this\s+past|this\s+coming|last|next|this|past|coming|the)\s+"
            r"weekend(?:" + _APOS + r"s)?\b)"
        ),
    ),
    (
        "period",
        re.compile(
            r"(?i:\b(?:(?:early|late|earlier|later)\s+)?"
            r"(?P<mod>this\s+past|this\s+coming|last|next|this|past|coming)\s+"
            r"(?P<unit>week|month|year)\b)"
        ),
    ),
    (
        "month",
        re.compile(
            r"(?:\b(?i:in|since|by|until|through|during|before|after|from|early|late|last"
            r"|next|this|earlier|later)\s+|\bmid-)(?:(?i:this|last|next|early|late)\s+)?"
            r"\b(?P<month>" + _MONTH_FULL + r")(?:,?\s+(?P<y>" + _YEAR + r"))?"
            r"(?!\s*\d)(?!" + _APOS + r"s)(?!\s+[A-Z][a-z])(?!\w)"
            r"|\b(?P<month2>" + _MONTH_FULL + r"),?\s+(?P<y2>" + _YEAR + r")\b"
        ),
    ),
    (
        "year",
        re.compile(
            r"\b(?i:in|since|by|until|through|during|before|after)\s+(?P<y>" + _YEAR + r")\b"
            r"(?![\d,.]\d|\s*(?:%|percent))"
        ),
    ),
)
# Something each pattern must contain; a window of _REACH characters around it holds
# any whole expression (the longest, "on Wednesday, September 30th, 2016", is 34).
_ANCHOR = re.compile(
    r"\d|(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct"
    r"|Nov|Dec|(?i:yesterday|today|tonight|tomorrow|night|morning|afternoon|evening|week"
    r"|month|year|ago)"
)
_REACH = 64
_RANK = {
    "iso": 0,
    "numeric": 0,
    "month_day": 1,
    "day_month": 1,
    "ordinal_day": 2,
    "weekday": 3,
    "dayword": 4,
    "ago": 5,
    "weekend": 6,
    "period": 7,
    "month": 8,
    "year": 9,
}

# Weekdays that are part of a name, not a day ("Super Tuesday", "The Mail on Sunday").
# "Fox News Sunday" stays a day: the QA gold reads it as the Sunday of publication.
_NAMED_DAY_BEFORE = re.compile(
    r"(?:\b(?:Super|Black|Good|Cyber|Ash|Easter|Palm|Bloody|Holy|Maundy|Giving|Ruby|Man|Girl"
    r"|Shrove|Whit|Trinity|Mothering|Mail\s+on|Mail\s+On|Bloomsday|Small\s+Business)\s+)$"
)
_NAMED_DAY_AFTER = re.compile(
    r"^(?:" + _APOS + r"s)?\s+(?:Times|Telegraph|Mirror|Express|Herald|Post|People|Independent"
    r"|Star|Sport|Review|Night\s+(?:Live|Football|Lights|Baseball|Raw)|Morning\s+(?:Joe|Edition)"
    r"|School|school|Service|Mass|Magazine|Edition|Club|Bloody\s+Sunday)\b"
)

# Tense of the clause around an expression, outside quotations.
_FUTURE = re.compile(
    r"(?i:\b(?:will|won" + _APOS + r"t|shall)\b|\w" + _APOS + r"ll\b"
    r"|\b(?:is|are|was|were|be|been)\s+(?:expected|scheduled|set|slated|due|poised|going"
    r"|planning|preparing|supposed)\s+to\b"
    r"|\bplan(?:s|ned|ning)?\b|\bscheduled\b|\bslated\b|\bupcoming\b|\bset\s+to\b"
    r"|\b(?:is|are)\s+to\b|\bexpected\s+to\b|\bgoing\s+to\b|\bintends?\s+to\b|\bnext\b)"
)
_PAST = re.compile(
    r"\b(?:said|told|says|wrote|spoke|met|gave|sent|took|made|held|went|came|saw|began|had"
    r"|was|were|did|got|led|left|ran|won|lost|broke|chose|drew|fell|felt|found|flew|heard"
    r"|kept|knew|paid|rose|sat|sold|stood|thought|threw|ago|last|yesterday|earlier"
    r"|[a-z]{2,}ed)\b"
)
_NOT_PAST = frozenset(
    {"need", "indeed", "proceed", "succeed", "exceed", "feed", "seed", "speed", "shed", "hundred"}
)
# "to be released", "will be held": a participle, not a past tense.
_PASSIVE_BEFORE = re.compile(r"\b(?:be|been|being)\s+$")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)?")

# Speaking events: a time or place next to one of these belongs to the statement.
_SPEECH_MARKER = re.compile(
    r"\b(?:said|say|says|saying|told|tell|tells|telling|stated|states|explained|explains|added"
    r"|adds|announced|announces|announcing|claimed|claims|argued|argues|wrote|writes|written"
    r"|tweeted|tweets|tweeting|posted|posting|shared|noted|notes|insisted|insists|warned|warns"
    r"|confirmed|confirms|declared|declares|asked|asks|replied|responded|acknowledged|admitted"
    r"|conceded|suggested|testified|appeared|appears|appearing|spoke|speaks|speaking|remarked"
    r"|commented|mentioned|described|called|calls|urged|urges|criticized|blasted|grilled"
    r"|thanked|vied|cited|touted|praised|slammed|accused|denied|vowed|pledged|promised"
    r"|predicted|recalled|reiterated|emphasized|stressed|hammered|attacked|defended|questioned"
    r"|signaled|sent|released|issued|unveiled|endorsed|interviewed|joined|reported|disclosed"
    r"|revealed|announcement|interview|statement|briefing|rally|debate|broadcast|message|tweet"
    r"|post|letter|speech|remarks|appearance|hearing|conference|show|podcast|op-ed|address"
    r"|testimony|town\s+hall|according\s+to)\b",
    re.IGNORECASE,
)
_COMPLEMENTIZER = frozenset(
    {"that", "how", "whether", "why", "if", "because", "who", "which", "while", "although"}
)

# Reporting verbs take the statement as their complement: words a few tokens after
# one ("said his running mate's tweet ... Monday night's debate") are content.
_CLAUSE_VERB = re.compile(
    r"(?:said|says|say|told|tells|stated|states|explained|explains|added|adds|announced"
    r"|announces|claimed|claims|argued|argues|wrote|writes|insisted|insists|warned|warns"
    r"|confirmed|confirms|declared|declares|noted|notes|acknowledged|admitted|conceded"
    r"|suggested|testified|shared|mentioned|predicted|recalled|reiterated|emphasized|stressed"
    r"|replied|responded|tweeted|posted|disclosed|revealed|reported|according\s+to)",
    re.IGNORECASE,
)
_RELATIVE = frozenset({"who", "which", "whose", "whom"})
_VERB_REACH = 4  # tokens after a reporting verb that still modify the verb ("said on Monday")
_MAX_AFTER = 8  # tokens from another speech marker to a following time expression
_MAX_BEFORE = 12  # tokens from a leading time expression to the speech marker


class _Found(NamedTuple):
    start: int
    end: int
    kind: str
    text: str
    groups: dict[str, str | None]


# --------------------------------------------------------------------------- finding


def find_time_expressions(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Spans of time expressions in ``text[start:end]``, as absolute offsets, in order."""
    return [(f.start, f.end) for f in _scan(text, start, end)]


def _scan(text: str, start: int = 0, end: int | None = None) -> list[_Found]:
    """All non-overlapping expressions; the longest wins where two overlap."""
    length = len(text)
    start = min(max(start, 0), length)
    end = length if end is None else min(max(end, 0), length)
    if start >= end:
        return []
    candidates: list[_Found] = []
    for (w_start, w_end), (kind, pattern) in itertools.product(
        _windows(text, start, end), _PATTERNS
    ):
        for match in pattern.finditer(text, w_start, w_end):
            if match.end() <= match.start():
                continue
            if kind == "weekday" and _is_named_day(text, match.start("wd"), match.end("wd")):
                continue
            if kind == "dayword" and _is_named_dayword(text, match.start(), match.end()):
                continue
            candidates.append(
                _Found(match.start(), match.end(), kind, match.group(0), match.groupdict())
            )
    candidates.sort(key=lambda f: (-(f.end - f.start), _RANK[f.kind], f.start))
    kept: list[_Found] = []
    for found in candidates:
        if all(found.end <= k.start or found.start >= k.end for k in kept):
            kept.append(found)
    kept.sort(key=lambda f: f.start)
    return kept


def _windows(text: str, start: int, end: int) -> list[Span]:
    """Stretches of ``text[start:end]`` around anchor words, where expressions can be.

    Every pattern contains an anchor and is shorter than ``_REACH`` on either side of
    it, so scanning these windows finds what a full scan would, several times faster.
    """
    windows: list[Span] = []
    for match in _ANCHOR.finditer(text, start, end):
        w_start, w_end = max(start, match.start() - _REACH), min(end, match.end() + _REACH)
        if windows and w_start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], w_end)
        else:
            windows.append((w_start, w_end))
    return windows


def _is_named_day(text: str, start: int, end: int) -> bool:
    """A weekday that is part of a name ("Super Tuesday", "Sunday Times")."""
    before = text[max(0, start - 30) : start]
    after = text[end : end + 40]
    return bool(_NAMED_DAY_BEFORE.search(before) or _NAMED_DAY_AFTER.match(after))


def _is_named_dayword(text: str, start: int, end: int) -> bool:
    """A capitalised "Today"/"Tonight" inside a name ("USA Today", "The Tonight Show")."""
    if not text[start].isupper():
        return False
    before = text[:start].rstrip()
    if before and (before[-1].isalnum() or before[-1] in "\u2019'"):
        return True  # mid-sentence capital: part of a name
    return bool(re.match(r"\s+(?:Show|USA|Starring)\b", text[end : end + 12]))


# --------------------------------------------------------------------------- resolving


def resolve(
    expression: str,
    published: date | None,
    *,
    context: str = "",
    future: bool | None = None,
) -> date | None:
    """The date ``expression`` means for an article published on ``published``.

    ``expression`` may be a longer phrase ("In a Facebook message posted Friday"); its
    most precise time expression is used. ``context`` is the sentence around it and
    decides the tense when ``future`` is None. Never raises.
    """
    found = _scan(expression)
    if not found:
        whole = _Found(0, len(expression), "other", expression, {})
        is_future = _future_for(expression, whole, context) if future is None else future
        return _dateparser_fallback(expression, published, is_future)
    for item in sorted(found, key=lambda f: (_RANK[f.kind], f.start)):
        is_future = _future_for(expression, item, context) if future is None else future
        resolved = _resolve_found(item, published, is_future)
        if resolved is not None:
            return resolved
    return None


def _future_for(expression: str, item: _Found, context: str) -> bool:
    """Tense of ``item`` (found inside ``expression``) judged in ``context`` if it is there."""
    piece = expression[item.start : item.end]
    if context:
        at = context.find(expression)
        if at >= 0:
            return is_future_at(context, at + item.start, at + item.end)
        at = context.find(piece)
        if at >= 0:
            return is_future_at(context, at, at + len(piece))
    return is_future_at(expression, item.start, item.end)


def _resolve_found(found: _Found, published: date | None, future: bool) -> date | None:
    try:
        return _resolve_kind(found, published, future)
    except (ValueError, OverflowError):  # Feb 30, dates out of range
        return None


def _resolve_kind(found: _Found, published: date | None, future: bool) -> date | None:
    groups = found.groups
    kind = found.kind
    if kind in ("iso", "numeric"):
        return date(int(groups["y"] or 0), int(groups["m"] or 0), int(groups["d"] or 0))
    if kind in ("month_day", "day_month"):
        month = _month_number(groups["month"] or "")
        day = int(groups["d"] or 0)
        if groups.get("y"):
            return date(int(groups["y"] or 0), month, day)
        if published is None:
            return None
        options = [_safe_date(published.year + k, month, day) for k in (-1, 0, 1)]
        return _pick(published, [o for o in options if o is not None], future)
    if published is None:
        return None
    if kind == "ordinal_day":
        day = int(groups["d"] or 0)
        options = []
        for k in (-1, 0, 1):
            year, month = divmod(published.year * 12 + published.month - 1 + k, 12)
            options.append(_safe_date(year, month + 1, day))
        return _pick(published, [o for o in options if o is not None], future)
    if kind == "weekday":
        return _resolve_weekday(groups, published, future)
    if kind == "dayword":
        return published + timedelta(days=_dayword_offset(found))
    if kind == "ago":
        amount = _NUMBER_WORDS.get((groups["n"] or "").lower())
        if amount is None and (groups["n"] or "").isdigit():
            amount = int(groups["n"] or 0)
        unit = (groups["unit"] or "").lower()
        if amount is None or unit not in ("day", "week"):
            return None
        return published - timedelta(days=amount * (7 if unit == "week" else 1))
    if kind == "weekend":
        return _resolve_weekend(_norm(groups["mod"]), published, future)
    if kind == "period":
        if (groups["unit"] or "").lower() != "week":
            return None
        mod = _norm(groups["mod"])
        monday = published - timedelta(days=published.weekday())
        shift = {"last": -7, "this": 0, "next": 7, "this coming": 7, "coming": 7}.get(mod)
        return None if shift is None else monday + timedelta(days=shift)
    return None  # month and year level: too vague for a day


def _resolve_weekday(groups: dict[str, str | None], published: date, future: bool) -> date:
    weekday = _WEEKDAY_NAMES.index(groups["wd"] or "Monday")
    mod = _norm(groups["mod"])
    back = (published.weekday() - weekday) % 7
    ahead = (weekday - published.weekday()) % 7
    if mod in ("last", "past", "this past"):
        return published - timedelta(days=back or 7)
    if mod in ("next", "coming", "this coming"):
        return published + timedelta(days=ahead or 7)
    if future:
        return published + timedelta(days=ahead)
    return published - timedelta(days=back)


def _resolve_weekend(mod: str, published: date, future: bool) -> date:
    """The Saturday of the weekend meant."""
    in_weekend = published.weekday() >= 5
    current = published - timedelta(days=published.weekday() - 5) if in_weekend else None
    latest = published - timedelta(days=(published.weekday() - 5) % 7)
    coming = published + timedelta(days=(5 - published.weekday()) % 7)
    if mod == "last":
        return latest - timedelta(days=7) if in_weekend else latest
    if mod == "next":
        return (current + timedelta(days=7)) if current else coming
    if mod in ("coming", "this coming"):
        return current or coming
    if mod in ("past", "this past"):
        return latest
    if future:
        return current or coming
    return latest


def _dayword_offset(found: _Found) -> int:
    words = found.text.lower()
    if "before yesterday" in words:
        return -2
    if "after tomorrow" in words:
        return 2
    if "yesterday" in words or "last night" in words:
        return -1
    return 1 if "tomorrow" in words else 0


def _pick(published: date, options: list[date], future: bool) -> date | None:
    """The candidate nearest to publication; the first on or after it when future.

    News mostly looks back, so a later date counts as twice as far: "March 3" in a
    September article is the March before, "Nov. 8" the coming one.
    """
    if not options:
        return None
    if future:
        later = [o for o in options if o >= published]
        if later:
            return min(later)

    def distance(option: date) -> int:
        days = (option - published).days
        return 2 * days if days > 0 else -days

    return min(options, key=lambda o: (distance(o), o > published))


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_number(name: str) -> int:
    return _MONTH_NUMBERS[name.strip(".")[:3].lower()]


def _norm(value: str | None) -> str:
    return " ".join((value or "").lower().split())


def _dateparser_fallback(expression: str, published: date | None, future: bool) -> date | None:
    """Ask dateparser about phrasings the patterns do not cover ("8 Sept. 2016" variants).

    Only for short expressions with a digit or a month name: dateparser reads "now" or a
    bare "6" as today, which is not a statement date. Month- and year-level phrases ("in 3
    months") get no made-up day, and a date over a year from publication needs its year
    written ("in 500 years" is not 2525-03-12).
    """
    text = expression.strip()
    if published is None or not text or len(text) > 60:
        return None
    if not re.search(r"\d|" + _MONTH, text):
        return None
    import dateparser

    settings = {
        "RELATIVE_BASE": datetime(published.year, published.month, published.day),
        "PREFER_DATES_FROM": "future" if future else "past",
        "REQUIRE_PARTS": ["day", "month"],
    }
    if _VAGUE_UNITS.search(text):
        return None  # "in 3 months", "in 500 years": a made-up day would be worse than none
    try:
        parsed = dateparser.parse(text, languages=["en"], settings=settings)
    except Exception:  # a third-party parser on arbitrary text: any failure means "no date"
        return None
    if parsed is None:
        return None
    found: date = parsed.date()
    # More than a year from publication only when that year is written in the phrase.
    if abs((found - published).days) > 366 and str(found.year) not in re.findall(r"\d+", text):
        return None
    return found


_VAGUE_UNITS = re.compile(r"(?i)\b(?:months?|years?|decades?|centur(?:y|ies)|millenni(?:um|a))\b")


# --------------------------------------------------------------------------- tense


def quote_spans(text: str) -> list[Span]:
    """Spans of quoted material (marks included); an unclosed quote runs to the end.

    Curly double quotes pair by direction, straight ones by alternation. Single quotes
    are left alone: they are mostly apostrophes.
    """
    spans: list[Span] = []
    opened: int | None = None
    closer = ""
    for index, char in enumerate(text):
        if opened is None:
            if char == "“":
                opened, closer = index, "”"
            elif char == '"':
                opened, closer = index, '"'
        elif char == closer:
            spans.append((opened, index + 1))
            opened = None
    if opened is not None:
        spans.append((opened, len(text)))
    return spans


_TITLE_WORD = re.compile(r"[A-Z0-9][\w.\u2019'&-]*|of|the|and|on|in|a|to|for|with")


def _is_title(quoted: str) -> bool:
    """A short quoted title ("Fox News Sunday", "Meet the Press") rather than speech."""
    words = quoted.strip('"\u201c\u201d ,.').split()
    return 0 < len(words) <= 5 and all(_TITLE_WORD.fullmatch(w.strip(",.")) for w in words)


def speech_mask(text: str) -> str:
    """``text`` with quoted speech blanked out (offsets unchanged); short titles stay."""
    return _mask(text, [(s, e) for s, e in quote_spans(text) if not _is_title(text[s:e])])


def _mask(text: str, spans: list[Span]) -> str:
    """``text`` with ``spans`` blanked out, offsets unchanged."""
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def word_spans(text: str) -> list[Span]:
    """Word spans, the unit for distances between a marker and a phrase."""
    return [(m.start(), m.end()) for m in _WORD.finditer(text)]


def _tokens_between(tokens: list[Span], left: int, right: int) -> int:
    return sum(1 for s, e in tokens if s >= left and e <= right)


def is_future_at(text: str, start: int, end: int) -> bool:
    """Whether the expression at ``text[start:end]`` is in a future-tense clause.

    The nearest tense marker outside quotations decides ("said Monday" is past even
    if the sentence goes on "he will…"); with no marker the reading is past, which is
    the rule for news. "would" is no marker: reported speech uses it for the past.
    """
    start = min(max(start, 0), len(text))
    end = min(max(end, start), len(text))
    quotes = quote_spans(text)
    inside = [q for q in quotes if q[0] <= start < q[1]]
    if inside:  # judge a quoted expression by the quotation alone
        q_start, q_end = inside[0]
        masked = " " * q_start + text[q_start:q_end] + " " * (len(text) - q_end)
    else:
        masked = _mask(text, quotes)
    tokens = word_spans(masked)
    future_spans = [
        (m.start(), m.end())
        for m in _FUTURE.finditer(masked)
        if m.end() <= start or m.start() >= end
    ]
    past_spans = [
        (m.start(), m.end())
        for m in _PAST.finditer(masked)
        if (m.end() <= start or m.start() >= end)
        and m.group(0) not in _NOT_PAST
        and not _PASSIVE_BEFORE.search(masked, max(0, m.start() - 8), m.start())
        and all(m.end() <= f0 or m.start() >= f1 for f0, f1 in future_spans)
    ]

    def distance(span: Span) -> int:
        if span[1] <= start:
            return _tokens_between(tokens, span[1], start)
        return _tokens_between(tokens, end, span[0])

    nearest_future = min((distance(s) for s in future_spans), default=None)
    if nearest_future is None:
        return False
    nearest_past = min((distance(s) for s in past_spans), default=None)
    return nearest_past is None or nearest_future < nearest_past


# --------------------------------------------------------------------------- articles


def time_refs(article: Article) -> list[TimeRef]:
    """Every time expression in the article with its date (None when it cannot be known)."""
    refs: list[TimeRef] = []
    for found in _scan(article.text):
        refs.append(_time_ref(article, found))
    return refs


def _time_ref(article: Article, found: _Found) -> TimeRef:
    sentence = article.sentence_at(found.start)
    if sentence is not None and found.end <= sentence.end:
        future = is_future_at(
            sentence.text, found.start - sentence.start, found.end - sentence.start
        )
    else:
        window_start = max(0, found.start - 200)
        future = is_future_at(
            article.text[window_start : found.end + 200],
            found.start - window_start,
            found.end - window_start,
        )
    return TimeRef(
        text=found.text,
        span=(found.start, found.end),
        date=_resolve_found(found, article.published, future),
    )


def speech_markers(text: str) -> list[Span]:
    """Spans of words that name a speaking event ("said", "told", "in an interview")."""
    return [(m.start(), m.end()) for m in _SPEECH_MARKER.finditer(text)]


def statement_time(
    article: Article,
    sentence_index: int,
    *,
    cue_span: Span | None = None,
    search_paragraph: bool = True,
) -> TimeRef | None:
    """The time of the statement made in sentence ``sentence_index``.

    A time expression counts only when it attaches to the speaking event: next to the
    speech verb or event ("said Monday", "in a statement Friday", "On Monday, officials
    confirmed"), outside quotations and outside the reported content ("shared that his
    meeting last week…" is not when he shared it). Failing one in the sentence, the
    nearest sentence of the same paragraph with an attached time gives it (earlier
    sentences first: they usually introduce the remarks). ``cue_span`` (absolute) is the
    speech verb when the caller knows it. Raises IndexError for a bad index.
    """
    sentence = article.sentences[sentence_index]
    found = _attached_time(article, sentence, cue_span)
    if found is None and search_paragraph:
        siblings = article.sentences_in(sentence.paragraph)
        before = [s for s in siblings if s.index < sentence.index][::-1]
        after = [s for s in siblings if s.index > sentence.index]
        for other in before + after:
            found = _attached_time(article, other, None)
            if found is not None:
                break
    return None if found is None else _time_ref(article, found)


def _attached_time(article: Article, sentence: Sentence, cue_span: Span | None) -> _Found | None:
    """The time expression in ``sentence`` nearest to its speaking event, if attached."""
    base = sentence.start
    masked = speech_mask(sentence.text)
    candidates = [
        f
        for f in _scan(article.text, sentence.start, sentence.end)
        if not masked[f.start - base : f.end - base].isspace()
    ]
    if not candidates:
        return None
    extra = []
    if cue_span is not None and base <= cue_span[0] < sentence.end:
        extra.append((cue_span[0] - base, min(cue_span[1], sentence.end) - base))
    tokens = word_spans(masked)
    markers = event_markers(masked, tokens) + extra
    best: tuple[tuple[bool, int, int], _Found] | None = None
    for found in candidates:
        span = (found.start - base, found.end - base)
        for marker in markers:
            if marker[0] < span[1] and span[0] < marker[1]:
                continue
            score = attachment_distance(masked, tokens, marker, span)
            if score is None:
                continue
            # Near attachments are all good; among them the more precise day wins.
            key = (_RANK[found.kind] >= _RANK["month"], score // 4, _RANK[found.kind])
            if best is None or key < best[0]:
                best = (key, found)
    return None if best is None else best[1]


def event_markers(masked: str, tokens: list[Span] | None = None) -> list[Span]:
    """Speech markers in quote-masked text that name the speaking event, not the content.

    A marker inside what was reported ("said his tweet…", "said that the debate…") is
    part of the content and is dropped.
    """
    tokens = word_spans(masked) if tokens is None else tokens
    regions = reported_content(masked, tokens)
    return [
        marker
        for marker in speech_markers(masked)
        if not any(r_start <= marker[0] < r_end for r_start, r_end in regions)
    ]


def reported_content(masked: str, tokens: list[Span] | None = None) -> list[Span]:
    """Spans of quote-masked text that report what was said (the reporting verb's complement).

    The complement starts at the verb's "that" or a few tokens after the verb, whatever
    comes first ("said on Monday in a statement" keeps its setting), and runs to the
    next semicolon or dash.
    """
    tokens = word_spans(masked) if tokens is None else tokens
    regions: list[Span] = []
    for m_start, m_end in speech_markers(masked):
        if not _CLAUSE_VERB.fullmatch(masked[m_start:m_end]):
            continue
        following = [t for t in tokens if t[0] >= m_end]
        cut = _VERB_REACH
        for index, (t_start, t_end) in enumerate(following[: _VERB_REACH + 1]):
            if masked[t_start:t_end].lower() == "that":
                cut = index
                break
        if cut >= len(following):
            continue
        start = following[cut][0]
        stop = re.compile(r"[;\u2014]").search(masked, start)
        regions.append((start, stop.start() if stop else len(masked)))
    return regions


def attachment_distance(masked: str, tokens: list[Span], marker: Span, time: Span) -> int | None:
    """Tokens between a speech marker and a phrase (a time or a place), None if unattached."""
    marker_text = masked[marker[0] : marker[1]]
    if marker[1] <= time[0]:
        left, right = marker[1], time[0]
        limit = _VERB_REACH if _CLAUSE_VERB.fullmatch(marker_text) else _MAX_AFTER
    else:
        left, right, limit = time[1], marker[0], _MAX_BEFORE
        segment = re.split(r"[,;(]", masked[: time[0]])[-1]
        if {w.lower() for w in _WORD.findall(segment)} & _RELATIVE:
            return None  # "Christie, who ... in February, blasted": not the speaking time
    between = masked[left:right]
    if re.search(r"[;:\u2014\u2013]", between):
        return None
    words = {masked[s:e].lower() for s, e in tokens if s >= left and e <= right}
    if marker[1] <= time[0] and words & _COMPLEMENTIZER:
        return None
    is_according = marker_text.lower().startswith("according")
    if is_according and marker[1] <= time[0] and "," in between:
        return None
    count = _tokens_between(tokens, left, right)
    return count if count <= limit else None
