"""Answering follow-up questions about an article: who said what, when and where.

Everything is extractive: a quote in an answer is always ``article.text[start:end]`` of
a statement the analysis found, and every evidence span is checked against the
article before it is returned. When the article holds no answer the bot says so
("I couldn't find that in the article.") rather than offering the nearest sentence.

Pipeline per question (the article was analysed once, see :mod:`summarizer.analysis`):

1. :func:`parse_question`: the type (who / what / quote / when / where / how long /
   yes-no / what else / other), the speaker it names (matched against the article's
   speakers by name, alias, surname or acronym; "he"/"she"/no name in a follow-up
   means the conversation's last speaker) and the topic words.
2. Retrieval: MiniLM cosine between the topic and each statement (its words, its
   sentence, its paragraph), restricted to the speaker; for "who" the statement most
   like the question's paraphrase; for "when" the best statement's time or, for an
   event, the sentence with a dated time expression most like the question.
3. A short answer: the verbatim quote, the speaker, when (text + ISO date), where,
   and evidence spans.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from summarizer import places
from summarizer.analysis import Analysis, analyse_sync, same_speaker
from summarizer.models import ModelError, ModelService
from summarizer.reading import Article
from summarizer.records import QuoteRecord, Span, TimeRef

log = logging.getLogger(__name__)

QuestionKind = Literal[
    "who", "what", "quote", "when", "where", "how_long", "yes_no", "what_else", "other"
]

#: Questions longer than this are cut (and the answer says so).
MAX_QUESTION_CHARS = 500
#: Below this cosine a statement is not "about" the asked topic.
TOPIC_THRESHOLD = 0.25
#: Below this cosine no statement matches a "who said …" paraphrase.
WHO_THRESHOLD = 0.32
#: Above this a "who" match needs no shared content word with the question.
WHO_CONFIDENT = 0.55
#: Below this cosine no sentence matches an event or duration question.
EVENT_THRESHOLD = 0.25
#: How far below the topic threshold a direct quote may be for "Quote X on Y".
DIRECT_SLACK = 0.05
#: A sentence must beat every statement by this much to answer "who" by its subject.
SENTENCE_MARGIN = 0.15
#: A second statement is added to an answer when it scores within this of the best.
CLOSE_MARGIN = 0.08
#: "Which senator …": bonus for a speaker the article calls a senator.
ROLE_BONUS = 0.08
#: A "who" statement this close to the best match may answer instead when only it shares
#: a content word with the question.
RUNNER_UP_MARGIN = 0.1
#: How much more like the question an event sentence must be than a dated statement.
EVENT_MARGIN = 0.05

NOT_FOUND = "I couldn't find that in the article."
NO_ARTICLE = "Send me an article first (a link or the text), then ask me about it."


# --------------------------------------------------------------------------- public records


@dataclass(frozen=True)
class Evidence:
    """A piece of the article an answer rests on: ``article.text[span[0]:span[1]] == text``."""

    text: str
    span: Span

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "span": list(self.span)}


@dataclass(frozen=True)
class Answer:
    found: bool
    answer: str
    speaker: str | None = None
    quote: str | None = None
    when: TimeRef | None = None
    where: str | None = None
    evidence: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "answer": self.answer,
            "speaker": self.speaker,
            "quote": self.quote,
            "when": {"text": self.when.text, "date": _iso(self.when)} if self.when else None,
            "where": self.where,
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass
class ConversationState:
    """What the chat layer keeps per chat/thread between questions."""

    article: Article | None = None
    analysis: Analysis | None = None
    last_speaker: str | None = None
    last_answer: Answer | None = None
    last_quote: QuoteRecord | None = None
    quoted: set[Span] = field(default_factory=set)

    @classmethod
    def for_analysis(cls, analysis: Analysis) -> ConversationState:
        return cls(article=analysis.article, analysis=analysis)

    def new_article(self, analysis: Analysis) -> None:
        """Switch to another article: the conversation about the old one ends."""
        self.article = analysis.article
        self.analysis = analysis
        self.last_speaker = None
        self.last_answer = None
        self.last_quote = None
        self.quoted = set()


@dataclass(frozen=True)
class Question:
    """What a question asks, as :func:`parse_question` understood it."""

    text: str
    kind: QuestionKind
    subject: str | None  # the speaker phrase as written ("Pence", "the IMF report", "he")
    speaker: str | None  # the article's canonical speaker it names, if any
    unknown_speaker: bool  # names someone who is not a speaker in the article
    topic: str  # what the statement is about (may be empty)
    core: str  # the question without its question words, for event/paraphrase search
    refers_back: bool = False  # "when did he say that?"
    future: bool = False  # "when will …"
    speech_verb: bool = False  # asks about a statement (say, tell, announce …)
    role: str | None = None  # "Which senator …"
    truncated: bool = False


# --------------------------------------------------------------------------- text helpers

_QUOTE_MAP = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " "})


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


HONORIFICS = _wordset(
    "mr mrs ms miss dr sen senator senators rep reps representative gov governor president "
    "former the rev reverend gen general mayor judge secretary vice prime minister sir lord "
    "lady dame prof professor commissioner chairman chairwoman chair spokesman spokeswoman "
    "sheriff officer lt col capt sgt congressman congresswoman interim"
)
PRONOUNS = _wordset("he she they him her them his hers their it")
NAME_PARTICLES = _wordset("de del della da di van von der den la le al bin ibn st")
STATEMENT_NOUNS = _wordset(
    "words word exact own quote quotes statement statements remarks remark comments comment "
    "message messages tweet tweets post posts letter report reports speech claim claims "
    "response reply answer view views position testimony interview announcement warning "
    "argument op-ed column email e-mail facebook twitter instagram"
)
SPEECH_VERBS = _wordset(
    "say says said tell tells told claim claims claimed announce announces announced "
    "describe described call called tweet tweeted write wrote comment commented mention "
    "mentioned explain explained state stated add added insist insisted argue argued warn "
    "warned remark remarked note noted confirm confirmed report reported reveal revealed "
    "ask asked talk talked speak spoke respond responded reply replied predict predicted "
    "promise promised deny denied admit admitted suggest suggested point pointed thank "
    "thanked joke joked complain complained post posted testify testified urge urged "
    "declare declared acknowledge acknowledged praise praised criticize criticized "
    "accuse accused blame blamed insist recommend recommended propose proposed make made "
    "think thought believe believed want wanted"
)
OTHER_VERBS = _wordset(
    "go went send sent grill grilled meet met do did get got give gave put show showed "
    "decide decided agree agreed back backed endorse endorsed vote voted sign signed "
    "leave left visit visited win won lose lost plan planned start started begin began "
    "stop stopped take took hold held release released arrive arrived return returned "
    "happen happened last lasted end ended appear appeared find found let launch "
    "launched open opened close closed"
)
AUXILIARIES = "did|does|do|has|have|had|was|were|is|are|will|would|can|could|should|might|may|shall"
_LATIN_STOP_FOREIGN = _wordset(
    "qué que dijo sobre cuándo quién dónde el los las una del por para con est les des "
    "une dans sur qui quand où il elle der die das und ist wer wann hat was sagte über "
    "nicht ein eine che cosa chi quando ha detto disse não quem quando disse sobre"
)
_ENGLISH_WORDS = _wordset(
    "the a an and or of to in on at for about what who when where how did does do say "
    "said tell told is was were he she they it that this his her quote exact words"
)

DURATION = re.compile(
    r"\b(?:(?:for|between|about|around|nearly|almost|over|more than|less than|roughly|some)\s+)?"
    r"(?:\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"fifteen|twenty|thirty|forty|fifty|sixty|several|a few|many|half an?)"
    r"(?:\s+(?:and|to|or)\s+(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty)|-)?\s*"
    r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b",
    re.IGNORECASE,
)


def unify(text: str) -> str:
    """Quote marks unified, whitespace collapsed, lower case: the form answers are compared in."""
    return re.sub(r"\s+", " ", text.translate(_QUOTE_MAP)).strip().lower()


def _iso(ref: TimeRef | None) -> str | None:
    return ref.date.isoformat() if ref is not None and ref.date is not None else None


def _tokens(text: str) -> list[str]:
    text = text.translate(_QUOTE_MAP)
    text = re.sub(r"'s\b", "", text)
    return [t.replace(".", "").lower() for t in re.findall(r"[\w.'-]+", text) if t.strip(".'-")]


def _name_key(text: str) -> set[str]:
    """The tokens of a name that identify it: no honorifics, no "the"."""
    return {t for t in _tokens(text) if t not in HONORIFICS and t}


def _capitalised_key(text: str) -> set[str]:
    words = re.findall(r"[\w.'’-]+", text)
    caps = [w for w in words if w[:1].isupper()]
    return {t for w in caps for t in _tokens(w) if t not in HONORIFICS}


def _acronym(name: str) -> str:
    words = [w for w in re.findall(r"[A-Za-z]+", name) if w[0].isupper()]
    return "".join(w[0] for w in words).lower() if len(words) >= 2 else ""


# --------------------------------------------------------------------------- speakers


@dataclass(frozen=True)
class _Speaker:
    name: str
    forms: tuple[str, ...]
    key: frozenset[str]  # every identifying token of every form
    full: frozenset[str]  # the tokens of the canonical name
    acronym: str
    n_quotes: int
    role: str


def _speakers(analysis: Analysis) -> list[_Speaker]:
    counts: dict[str, int] = {}
    for q in analysis.quotes:
        if q.speaker:
            counts[q.speaker] = counts.get(q.speaker, 0) + 1
    forms: dict[str, list[str]] = {}
    roles: dict[str, str] = {}
    for entity in analysis.entities:
        forms.setdefault(entity.name, [entity.name]).extend(entity.aliases)
        roles[entity.name] = entity.role or ""
    for name in counts:
        forms.setdefault(name, [name])
    out = []
    for name, names in forms.items():
        key: set[str] = set()
        for form in names:
            key |= _name_key(form)
        acronyms = {_acronym(f) for f in names} - {""}
        out.append(
            _Speaker(
                name=name,
                forms=tuple(dict.fromkeys(names)),
                key=frozenset(key),
                full=frozenset(_name_key(name)),
                acronym="|".join(sorted(acronyms)),
                n_quotes=counts.get(name, 0),
                role=(roles.get(name, "") + " " + " ".join(names)).lower(),
            )
        )
    return out


def match_speaker(phrase: str, analysis: Analysis, prefer: str | None = None) -> str | None:
    """The canonical speaker a name phrase means ("Pence", "the IMF", "Mr. Trump"), if any.

    A first name that contradicts the speaker's ("Michelle Obama" vs "Barack Obama")
    is no match. Among several matches the one named by more of the phrase wins, then
    ``prefer`` (the conversation's last speaker), then the most quoted.
    """
    caps = _capitalised_key(phrase)
    key = caps or _name_key(phrase)
    written = " ".join(phrase.lower().split())
    if not key:
        return None
    best: tuple[float, str] | None = None
    for speaker in _speakers(analysis):
        acronyms = set(speaker.acronym.split("|")) - {""}
        matched = {t for t in key if t in speaker.key or t in acronyms}
        if matched != key:
            continue
        # "the TSA" names the Transportation Security Administration as fully as its name
        # does, more than "the female TSA officer" that holds the word
        score = len(key & (speaker.full | acronyms)) + 0.5 * len(key)
        score += 1.0 if written in {f.lower() for f in speaker.forms} else 0.0  # "the IMF report"
        score += 0.3 if speaker.name == prefer else 0.0
        score += min(speaker.n_quotes, 20) / 100
        if best is None or score > best[0]:
            best = (score, speaker.name)
    return best[1] if best else None


# --------------------------------------------------------------------------- questions

#: Subjects that name no speaker: "What does the article say about …?"
_NO_SPEAKER = _wordset("that this it") | {
    f"{d} {n}"
    for d in ("the", "this", "that")
    for n in ("article", "story", "piece", "report", "text", "author", "writer", "reporter")
}
_LEAD = re.compile(r"^(?:(?:and|so|ok|okay|also|then|but|well|now|hey)[,]?\s+)+", re.IGNORECASE)
_ACCORDING = re.compile(r"^according to (?P<src>[^,]+),\s*(?P<rest>.+)$", re.IGNORECASE)


def _kind(q: str) -> QuestionKind:
    low = q.lower()
    if re.match(r"^how (?:long|many (?:hours|minutes|days|weeks|months|years))\b", low):
        return "how_long"
    if re.search(r"\b(?:what|anything|who) else\b|\banything more\b|^more$|^go on$", low):
        return "what_else"
    if re.match(r"^(?:who|whom|which)\b", low):
        return "who"
    if re.match(r"^(?:when|on what (?:day|date)|what (?:day|date|time))\b", low):
        return "when"
    if re.match(r"^where\b", low):
        return "where"
    if re.match(r"^quote\b", low) or re.search(
        r"\bexact(?:ly)?\b|\bverbatim\b|\bword for word\b|\bin (?:his|her|their) own words\b",
        low,
    ):
        return "quote"
    if re.match(rf"^(?:{AUXILIARIES})\b", low):
        return "yes_no"
    if re.match(r"^(?:what|tell me|give me|how|why|show me|summari[sz]e)\b", low):
        return "what"
    return "other"


def _split_subject(rest: str) -> tuple[str, str, str | None]:
    """Split "Mike Pence say the Flowers tweet …" into (subject, remainder, verb)."""
    words = rest.split()
    subject: list[str] = []
    for i, word in enumerate(words):
        bare = word.lower().strip(',.;:!?"“”')
        verbish = bare in SPEECH_VERBS or bare in OTHER_VERBS or bare in ("exactly", "ever")
        if verbish and subject:
            return " ".join(subject), " ".join(words[i + 1 :]), bare
        has_cap = any(w[:1].isupper() for w in subject)
        if (
            subject
            and has_cap
            and word[:1].islower()
            and bare not in NAME_PARTICLES
            and not re.search(r"['’]s$", subject[-1])
        ):
            return " ".join(subject), " ".join(words[i:]), None
        possessive = re.search(r"['’]s$", word) is not None
        if possessive and (i + 1 >= len(words) or words[i + 1].lower() in STATEMENT_NOUNS):
            subject.append(word[:-2])
            return " ".join(subject), " ".join(words[i + 1 :]), None
        subject.append(word)
        if len(subject) > 8:
            break
    return " ".join(words[:1]), " ".join(words[1:]), None


_TOPIC_LEAD = re.compile(
    r"^(?:(?:exact|own|exactly|anything|something|else|more|words?|message|statement|"
    r"remarks?|comments?|tweet|said|say|says|tell|told)\s+)*"
    r"(?:(?:about|on|regarding|concerning|of|over|that)\s+)?",
    re.IGNORECASE,
)


def _topic(text: str) -> str:
    text = text.strip().rstrip("?.! ")
    text = _TOPIC_LEAD.sub("", text)
    return text.strip()


def parse_question(question: str, analysis: Analysis, last_speaker: str | None = None) -> Question:
    """Understand a question: its type, the speaker it names and its topic words."""
    text = re.sub(r"\s+", " ", question).strip()
    truncated = len(text) > MAX_QUESTION_CHARS
    text = text[:MAX_QUESTION_CHARS]
    body = _LEAD.sub("", text).strip().rstrip("?!. ")
    source: str | None = None
    match = _ACCORDING.match(body)
    if match:
        source, body = match.group("src"), match.group("rest")
    kind = _kind(body)
    subject: str | None = None
    remainder = body
    verb: str | None = None
    role: str | None = None
    low = body.lower()
    future = bool(re.search(r"\b(?:will|is going to|are going to|plan to|plans to)\b", low))

    if kind == "who":
        m = re.match(r"^(?:who|whom)\s+(?P<rest>.*)$", body, re.IGNORECASE)
        if m:
            remainder = m.group("rest")
        else:
            m = re.match(r"^(?i:which)\s+(?P<role>[\w-]+(?:\s+[a-z][\w-]*)?)\s+(?P<rest>.*)$", body)
            m = m or re.match(r"^which\s+(?P<role>[\w-]+)\s+(?P<rest>.*)$", body, re.IGNORECASE)
            if m:
                role, remainder = m.group("role"), m.group("rest")
                words = role.split()
                if len(words) == 2 and words[1].lower() in SPEECH_VERBS | OTHER_VERBS:
                    role, remainder = words[0], f"{words[1]} {remainder}"
        remainder = re.sub(r"^(?:said|says|has said)\s+(?:that\s+)?", "", remainder, flags=re.I)
        core = remainder
        return Question(
            text=text,
            kind=kind,
            subject=None,
            speaker=None,
            unknown_speaker=False,
            topic=remainder,
            core=core,
            role=role,
            truncated=truncated,
            speech_verb=True,
        )

    quote_m = re.match(r"^quote\s+(?:what\s+)?(?P<rest>.+)$", body, re.IGNORECASE)
    give_m = re.match(
        r"^(?:give|show|tell) me\s+(?P<s>.+?)['’]s\s+(?P<rest>.+)$", body, re.IGNORECASE
    )
    aux_m = re.match(
        rf"^(?:(?:what|when|where|how|why|how long|what else)\s+)?(?:exactly\s+)?"
        rf"(?:{AUXILIARIES})\s+(?P<rest>.+)$",
        body,
        re.IGNORECASE,
    )
    poss_m = re.match(
        r"^what (?:were|are|was|is)\s+(?P<s>.+?)['’]s\s+(?P<rest>.+)$", body, re.IGNORECASE
    )
    if quote_m:
        rest = quote_m.group("rest")
        poss = re.match(r"^(?P<s>.+?)['’]s\s+(?P<rest>.+)$", rest)
        split = re.match(
            r"^(?P<s>.+?)\s+(?:(?:said|says|say|wrote|tweeted|told \w+)\s+)?"
            r"(?:on|about|regarding|concerning|when|over|in|at|during|after|announcing|"
            r"saying|explaining|describing)\s+(?P<t>.+)$",
            rest,
            re.IGNORECASE,
        )
        if (
            poss
            and len(poss.group("s").split()) <= 5
            and not re.search(r"\s(?:on|about|regarding)\s", poss.group("s"))
        ):
            subject = poss.group("s")
            after = poss.group("rest").split()
            if not any(w.lower() in STATEMENT_NOUNS for w in after[:3]):
                subject = f"{subject}'s {after[0]}" if after else subject
            remainder = poss.group("rest")
        elif split:
            subject, remainder = split.group("s"), split.group("t")
        else:
            subject, remainder = rest, ""
    elif give_m:
        subject, remainder = give_m.group("s"), give_m.group("rest")
    elif poss_m:
        subject, remainder = poss_m.group("s"), poss_m.group("rest")
    elif aux_m:
        subject, remainder, verb = _split_subject(aux_m.group("rest"))
    elif kind in ("what_else", "other"):
        m = re.search(r"\b(?:did|does|has)\s+(?P<rest>.+)$", body, re.IGNORECASE)
        if m:
            subject, remainder, verb = _split_subject(m.group("rest"))

    if subject is not None and unify(subject) in _NO_SPEAKER:
        subject = None
    if verb is None and remainder:
        first = remainder.split()[0].lower()
        if first in SPEECH_VERBS:
            verb = first
    speech = verb in SPEECH_VERBS if verb else kind in ("what", "quote", "what_else", "yes_no")
    topic = _topic(remainder)
    if topic and verb and verb not in ("say", "said", "says", "tell", "told") and kind != "quote":
        topic = f"{verb} {topic}".strip()
    refers_back = unify(topic) in ("", "that", "this", "it", "so", "them", "those")
    if kind == "what_else":
        refers_back = False

    speaker: str | None = None
    unknown = False
    if subject is not None:
        bare = subject.lower().strip()
        if bare in PRONOUNS:
            speaker = last_speaker
        else:
            relation = re.search(r"['’]s\s+(\w+)", subject)
            if relation and relation.group(1).lower() not in STATEMENT_NOUNS:
                unknown = True  # "Cheryl Mills's attorney": someone else than Cheryl Mills
            else:
                speaker = match_speaker(subject, analysis, prefer=last_speaker)
                unknown = speaker is None
    elif kind in ("what_else", "when", "where", "quote", "what") and refers_back:
        speaker = last_speaker
    if kind == "what_else" and speaker is None and not unknown:
        speaker = last_speaker
    if source is not None and subject is None:
        speaker = match_speaker(source, analysis, prefer=last_speaker)

    core = remainder if subject is None else f"{subject} {verb or ''} {remainder}"
    core = re.sub(r"\s+", " ", core).strip()
    return Question(
        text=text,
        kind=kind,
        subject=subject,
        speaker=speaker,
        unknown_speaker=unknown,
        topic=topic,
        core=core or body,
        refers_back=refers_back,
        future=future,
        speech_verb=speech,
        role=role,
        truncated=truncated,
    )


# --------------------------------------------------------------------------- input checks


def _language_problem(text: str) -> str | None:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    if latin / len(letters) < 0.6:
        return "I can only answer questions in English for now. Could you ask in English?"
    words = re.findall(r"[^\W\d_]+", text.lower())
    foreign = sum(1 for w in words if w in _LATIN_STOP_FOREIGN and w not in _ENGLISH_WORDS)
    english = sum(1 for w in words if w in _ENGLISH_WORDS)
    if len(words) >= 3 and foreign >= 2 and foreign > english:
        return "I can only answer questions in English for now. Could you ask in English?"
    return None


# --------------------------------------------------------------------------- retrieval


Vector = npt.NDArray[np.float32]


class _Search:
    """Similarity of one query vector to the article's statements and sentences."""

    def __init__(self, analysis: Analysis, vector: Vector):
        self.analysis = analysis
        self.sentence_sim = (
            analysis.sentence_vectors @ vector
            if len(analysis.sentence_vectors)
            else np.zeros(0, dtype=np.float32)
        )
        self.quote_sim = (
            analysis.quote_vectors @ vector
            if len(analysis.quote_vectors)
            else np.zeros(0, dtype=np.float32)
        )

    def quote_score(self, index: int) -> float:
        """Words, own sentence(s), then paragraph neighbours, each weighted down a little."""
        record = self.analysis.quotes[index]
        score = float(self.quote_sim[index])
        own = _quote_sentences(self.analysis.article, record)
        if own:
            score = max(score, 0.95 * max(float(self.sentence_sim[i]) for i in own))
            paragraph = self.analysis.article.sentences[own[0]].paragraph
            near = [
                float(self.sentence_sim[s.index])
                for s in self.analysis.article.sentences_in(paragraph)
                if s.index not in own and abs(s.index - own[0]) <= 1
            ]
            if near:
                score = max(score, 0.8 * max(near))
            if own[0] > 0:  # the sentence that leads into a quote paragraph
                before = self.analysis.article.sentences[own[0] - 1]
                if before.paragraph == paragraph - 1:
                    score = max(score, 0.7 * float(self.sentence_sim[before.index]))
        return score


def _quote_sentences(article: Article, record: QuoteRecord) -> tuple[int, ...]:
    if record.sentences:
        return tuple(i for i in record.sentences if 0 <= i < len(article.sentences))
    found = article.sentence_at(record.content_span[0])
    return (found.index,) if found else ()


def _overlaps(span: Span, spans: Iterable[Span]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in spans)


# --------------------------------------------------------------------------- composing


def _evidence_for(article: Article, record: QuoteRecord) -> tuple[Evidence, ...]:
    own = _quote_sentences(article, record)
    if own:
        start = min(article.sentences[own[0]].start, record.content_span[0])
        end = max(article.sentences[own[-1]].end, record.content_span[1])
    else:
        start, end = record.content_span
    return (Evidence(article.text[start:end], (start, end)),)


def _sentence_evidence(article: Article, index: int) -> Evidence:
    s = article.sentences[index]
    return Evidence(article.text[s.start : s.end], (s.start, s.end))


def _when_text(ref: TimeRef | None) -> str:
    if ref is None:
        return ""
    iso = _iso(ref)
    return f"{ref.text}, {iso}" if iso else ref.text


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _describe(record: QuoteRecord, *, with_when: bool = True) -> str:
    speaker = record.speaker or "Someone"
    content = record.content.strip()
    shown = content.rstrip(",;: ")
    if record.kind == "direct":
        text = f"{speaker} said: “{shown}”"
    else:
        text = f"{speaker} said that {shown}"
    extras = []
    if with_when and record.when is not None:
        extras.append(_when_text(record.when))
    if record.where:
        extras.append(record.where)
    if extras:
        text += " (" + ", ".join(extras) + ")"
    return text if text.endswith((".", "?", "!", "”")) else text + "."


def _verified(article: Article, answer: Answer) -> Answer:
    """The last line of defence: no quote or evidence that is not the article's own text."""
    quote = answer.quote
    if quote is not None and quote not in article.text:
        quote = None
    evidence = tuple(e for e in answer.evidence if article.text[e.span[0] : e.span[1]] == e.text)
    if quote == answer.quote and evidence == answer.evidence:
        return answer
    return Answer(
        found=answer.found and quote is not None,
        answer=answer.answer if quote is not None or answer.quote is None else NOT_FOUND,
        speaker=answer.speaker,
        quote=quote,
        when=answer.when,
        where=answer.where,
        evidence=evidence,
    )


def _from_records(
    analysis: Analysis, records: Sequence[QuoteRecord], *, prefix: str = "", when: bool = True
) -> Answer:
    first = records[0]
    parts = [_describe(r, with_when=when) for r in records]
    body = parts[0] + "".join(f" Also: {p}" for p in parts[1:])
    evidence: list[Evidence] = []
    for r in records:
        evidence.extend(_evidence_for(analysis.article, r))
    return Answer(
        found=True,
        answer=prefix + body,
        speaker=first.speaker,
        quote=first.content,
        when=first.when,
        where=first.where,
        evidence=tuple(evidence),
    )


def _not_found(analysis: Analysis, question: Question, note: str = "") -> Answer:
    """An honest "not found", with what the article does say about the person if useful."""
    text = NOT_FOUND
    evidence: list[Evidence] = []
    if question.speaker is not None:
        own = [q for q in analysis.quotes if q.speaker == question.speaker]
        if own:
            text += f" The article quotes {question.speaker} only on other things, e.g.: "
            text += _describe(own[0], with_when=False)
            evidence.extend(_evidence_for(analysis.article, own[0]))
    elif question.unknown_speaker and question.subject:
        mention = _mention_sentence(analysis.article, question.subject)
        if mention is None:
            text += f" The article does not mention {question.subject}."
        else:
            text += f" The article mentions {question.subject} but does not quote them."
            evidence.append(_sentence_evidence(analysis.article, mention))
    if note:
        text += " " + note
    return Answer(found=False, answer=text, evidence=tuple(evidence))


def _mention_sentence(article: Article, phrase: str) -> int | None:
    key = _capitalised_key(phrase) or _name_key(phrase)
    key -= {"s"}
    if not key:
        return None
    for s in article.sentences:
        words = set(_tokens(s.text))
        if key <= words:
            return s.index
    return None


# --------------------------------------------------------------------------- answering


def answer_question_sync(question: str, state: ConversationState, models: ModelService) -> Answer:
    """Answer one question about the conversation's article; updates ``state``.

    Never raises for bad input: empty, very long or non-English questions and a
    conversation without an article get an explanatory ``Answer(found=False, …)``.
    """
    if not isinstance(question, str) or not question.strip():
        return Answer(
            found=False, answer="Please ask a question about the article, e.g. “Who said …?”"
        )
    if state.analysis is None and state.article is None:
        return Answer(found=False, answer=NO_ARTICLE)
    problem = _language_problem(question[: MAX_QUESTION_CHARS * 2])
    if problem:
        return Answer(found=False, answer=problem)
    try:
        if state.analysis is None and state.article is not None:
            state.analysis = analyse_sync(state.article, models)
        assert state.analysis is not None
        analysis = state.analysis
        parsed = parse_question(question, analysis, state.last_speaker)
        answer = _verified(analysis.article, _answer(parsed, analysis, state, models))
    except ModelError as error:
        log.warning("answering failed: %s", error)
        return Answer(found=False, answer=f"Sorry, I couldn't answer that right now ({error}).")
    if parsed.truncated:
        answer = dataclasses.replace(
            answer,
            answer=f"(Your question was long; I read its first {MAX_QUESTION_CHARS} characters.) "
            + answer.answer,
        )
    if answer.found:
        state.last_answer = answer
        if answer.speaker:
            state.last_speaker = answer.speaker
    return answer


async def answer_question(question: str, state: ConversationState, models: ModelService) -> Answer:
    """:func:`answer_question_sync` in the model pool, off the event loop."""
    return await models.run(answer_question_sync, question, state, models)


def _embed(models: ModelService, text: str) -> Vector:
    return np.asarray(models.embed_sync([text])[0], dtype=np.float32)


def _remember(state: ConversationState, records: Sequence[QuoteRecord]) -> None:
    if records:
        state.last_quote = records[0]
    for r in records:
        state.quoted.add(r.content_span)


def _answer(
    q: Question, analysis: Analysis, state: ConversationState, models: ModelService
) -> Answer:
    if q.kind == "how_long":
        return _answer_how_long(q, analysis, models)
    mentioned = q.subject is not None and _mention_sentence(analysis.article, q.subject) is not None
    if q.unknown_speaker and not (q.kind == "when" and mentioned):
        return _not_found(analysis, q)
    if q.kind == "who":
        return _answer_who(q, analysis, state, models)
    if q.kind == "when":
        return _answer_when(q, analysis, state, models)
    if q.kind == "where":
        return _answer_where(q, analysis, state, models)
    if q.kind == "what_else":
        return _answer_what_else(q, analysis, state, models)
    if q.speaker is None and q.subject is None and q.kind in ("what", "other"):
        return _answer_event(q, analysis, models)
    return _answer_what(q, analysis, state, models)


def _ranked(
    analysis: Analysis, search: _Search, speaker: str | None, *, direct_bonus: float = 0.0
) -> list[tuple[float, int]]:
    scored = []
    for i, record in enumerate(analysis.quotes):
        if speaker is not None and (
            record.speaker is None or not same_speaker(record.speaker, speaker)
        ):
            continue
        score = search.quote_score(i)
        if record.kind != "indirect":
            score += direct_bonus
        scored.append((score, i))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return scored


_STOPWORDS = _wordset(
    "a an the of to in on at for about with by from that this these those what which who whom "
    "did does do done is was were are be been being has have had will would can could should "
    "it its he she they him her them his their i we you me my our your anything something "
    "else more any all some there here how why when where whether if and or but not no so "
    "just also very really exactly exact words word own quote quotes statement remarks "
    "monday tuesday wednesday thursday friday saturday sunday today yesterday tonight week "
    "weekend morning afternoon evening night last next earlier later recently back"
)
_TIME_WORDS = _wordset(
    "monday tuesday wednesday thursday friday saturday sunday today yesterday tonight "
    "morning afternoon evening night weekend"
)


def _content_words(text: str) -> set[str]:
    return {
        t
        for t in _tokens(text)
        if t not in _STOPWORDS and t not in SPEECH_VERBS and len(t) > 2 and not t.isdigit()
    }


def _generic_order(analysis: Analysis, candidates: Sequence[int], question: Question) -> list[int]:
    """A topic-less question ("What did Zelensky claim?"): the time it names, then order."""
    asked = {t for t in _tokens(question.text) if t in _TIME_WORDS}

    def key(i: int) -> tuple[int, int]:
        record = analysis.quotes[i]
        said = set(_tokens(record.when.text)) if record.when else set()
        return (0 if asked and asked & said else 1, i)

    return sorted(candidates, key=key)


def _answer_what(
    q: Question, analysis: Analysis, state: ConversationState, models: ModelService
) -> Answer:
    speaker = q.speaker
    if speaker is None:
        if q.subject is not None:  # a pronoun with nobody to refer to
            return Answer(
                found=False,
                answer="Who do you mean? Name the person, e.g. “What did Trump say about …?”",
            )
        return _answer_event(q, analysis, models)
    if q.refers_back and state.last_quote is not None and state.last_quote.speaker == speaker:
        return _from_records(analysis, [state.last_quote])
    candidates = analysis.quotes_by(speaker)
    if not candidates:
        return _not_found(analysis, q)
    prefix = "Yes. " if q.kind == "yes_no" else ""
    if not _content_words(q.topic):
        ordered = _generic_order(analysis, candidates, q)
        if q.kind == "quote":
            ordered.sort(key=lambda i: analysis.quotes[i].kind == "indirect")
        records = [analysis.quotes[i] for i in ordered[:2]]
        _remember(state, records)
        return _from_records(analysis, records, prefix=prefix)
    search = _Search(analysis, _embed(models, q.topic))
    ranked = _ranked(analysis, search, speaker)
    if ranked[0][0] < TOPIC_THRESHOLD:
        return _not_found(analysis, q)
    direct = [(sc, i) for sc, i in ranked if analysis.quotes[i].kind != "indirect"]
    if q.kind == "quote" and direct and direct[0][0] >= TOPIC_THRESHOLD - DIRECT_SLACK:
        ranked = direct  # exact words: quotation marks only, when any is near the topic
    best_score, best = ranked[0]
    chosen = [best]
    follow = _following_direct(analysis, best) if q.kind != "quote" else None
    if analysis.quotes[best].kind == "indirect" and direct:
        # a reported statement first; the speaker's own words on it too when close
        score, i = direct[0]
        scores = dict((j, sc) for sc, j in ranked)
        better = follow is None or score > scores.get(follow, 0.0)
        if better and score >= max(TOPIC_THRESHOLD, best_score - DIRECT_SLACK * 4):
            follow = i
    if follow is not None and not _overlaps(
        analysis.quotes[follow].content_span, [analysis.quotes[best].content_span]
    ):
        chosen.append(follow)
    for score, i in ranked[1:4]:  # one more statement nearly as relevant
        if score >= best_score - CLOSE_MARGIN and not _overlaps(
            analysis.quotes[i].content_span, [analysis.quotes[j].content_span for j in chosen]
        ):
            chosen.append(i)
            break
    records = [analysis.quotes[i] for i in chosen]
    _remember(state, records)
    return _from_records(analysis, records, prefix=prefix)


def _following_direct(analysis: Analysis, index: int) -> int | None:
    """The speaker's own words right after a reported statement (same or next paragraph)."""
    record = analysis.quotes[index]
    if record.kind != "indirect":
        return None
    for j in range(index + 1, len(analysis.quotes)):
        other = analysis.quotes[j]
        if other.paragraph > record.paragraph + 1:
            break
        if (
            other.speaker == record.speaker
            and other.kind != "indirect"
            and not _overlaps(other.content_span, [record.content_span])
        ):
            return j
    return None


def _answer_what_else(
    q: Question, analysis: Analysis, state: ConversationState, models: ModelService
) -> Answer:
    speaker = q.speaker or state.last_speaker
    if speaker is None:
        return Answer(found=False, answer="Who do you mean? Ask about someone first.")
    given = state.quoted
    candidates = [
        i
        for i in analysis.quotes_by(speaker)
        if not _overlaps(analysis.quotes[i].content_span, given)
    ]
    if not candidates:
        return Answer(
            found=False,
            answer=f"{NOT_FOUND} I've already given you everything the article quotes "
            f"{speaker} as saying.",
            speaker=None,
        )
    if q.topic and len(_name_key(q.topic)) >= 2:
        search = _Search(analysis, _embed(models, q.topic))
        candidates.sort(key=lambda i: -search.quote_score(i))
    else:  # nothing asked in particular: the direct quotes first, in article order
        candidates.sort(key=lambda i: (analysis.quotes[i].kind == "indirect", i))
    records = [analysis.quotes[i] for i in candidates[:2]]
    _remember(state, records)
    return _from_records(analysis, records)


_ROLE_ABBREVIATIONS = {
    "senator": ("sen",),
    "congressman": ("rep",),
    "congresswoman": ("rep",),
    "representative": ("rep",),
    "governor": ("gov",),
    "general": ("gen",),
    "doctor": ("dr",),
}


def _role_bonus(analysis: Analysis, role: str | None, speaker: str | None) -> float:
    """ "Which senator …": a small bonus for a speaker the article gives that role."""
    if not role or speaker is None:
        return 0.0
    head = role.lower().split()[-1]
    stems = {head, head.rstrip("s"), *_ROLE_ABBREVIATIONS.get(head.rstrip("s"), ())}
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(s) for s in stems) + r")\b")
    for sp in _speakers(analysis):
        if sp.name == speaker and pattern.search(sp.role):
            return ROLE_BONUS
    for entity in analysis.entities:
        if entity.name != speaker:
            continue
        for start, _ in entity.mentions:  # the words just before a mention ("Sen. Vitter")
            if pattern.search(analysis.article.text[max(0, start - 40) : start].lower()):
                return ROLE_BONUS
    return 0.0


def _answer_who(
    q: Question, analysis: Analysis, state: ConversationState, models: ModelService
) -> Answer:
    if not q.core.strip():
        return Answer(found=False, answer="Who said what? Tell me what the statement was about.")
    search = _Search(analysis, _embed(models, q.core))
    ranked = [
        (score + _role_bonus(analysis, q.role, analysis.quotes[i].speaker), i)
        for score, i in _ranked(analysis, search, None)
        if analysis.quotes[i].speaker
    ]
    ranked.sort(key=lambda item: (-item[0], item[1]))
    with_role = [
        (score, i)
        for score, i in ranked
        if _role_bonus(analysis, q.role, analysis.quotes[i].speaker) > 0
    ]
    if with_role and with_role[0][0] >= WHO_THRESHOLD:
        # "Which zoo visitor thought …": the asker named who it was; zoo officials with a
        # closer sentence are not an answer
        ranked = with_role
    best_quote = ranked[0][0] if ranked else 0.0
    first = q.core.split()[0].lower() if q.core.split() else ""
    action = first not in SPEECH_VERBS or first in _NOT_SPEECH
    if action and len(search.sentence_sim):
        # "Which guard posted …": a sentence far more like the question than any statement
        # answers with the person it names (no quote: the words are the reporter's)
        sentence = int(np.argmax(search.sentence_sim))
        score = float(search.sentence_sim[sentence])
        if score >= max(WHO_THRESHOLD, best_quote + SENTENCE_MARGIN):
            actor = _named_actor(analysis, sentence)
            if actor is not None:
                evidence = _sentence_evidence(analysis.article, sentence)
                return Answer(
                    found=True,
                    answer=f"{actor}, according to the article: “{evidence.text}”",
                    speaker=actor,
                    evidence=(evidence,),
                )
    if not ranked or best_quote < WHO_THRESHOLD:
        return _not_found(analysis, q)
    if best_quote < WHO_CONFIDENT:
        # A middling match that shares no content word with the question is a different
        # statement on a related theme: naming its speaker would put words in their mouth.
        # A close runner-up that does share one is the statement meant.
        ranked = [
            (score, i)
            for score, i in ranked
            if score >= best_quote - RUNNER_UP_MARGIN
            and _shares_a_word(q.core, _statement_text(analysis, analysis.quotes[i]))
        ]
        if not ranked:
            return _not_found(analysis, q)
    index = ranked[0][1]
    record = analysis.quotes[index]
    _remember(state, [record])
    named = _named_speaker(analysis, index)
    if named is not None and record.speaker is not None and named != record.speaker:
        shown = dataclasses.replace(record, speaker=f"{named} ({record.speaker})")
        answer = _from_records(analysis, [shown])
        return dataclasses.replace(answer, speaker=named)
    return _from_records(analysis, [record])


def _statement_text(analysis: Analysis, record: QuoteRecord) -> str:
    """The statement with its sentence(s), where the question's words may stand."""
    sentences = [analysis.article.sentences[i].text for i in record.sentences]
    return " ".join([record.content, *sentences])


def _shares_a_word(question: str, statement: str) -> bool:
    """Do question and statement share a content word (compared by a 5-letter stem)?"""
    stems = {w[:5] for w in _content_words(statement)}
    return any(w[:5] in stems for w in _content_words(question))


#: Verbs in SPEECH_VERBS that name an act as often as a statement ("Which guard posted …").
_NOT_SPEECH = _wordset("post posted make made think thought believe believed want wanted")


def _named_actor(analysis: Analysis, index: int) -> str | None:
    """The first person or body named (not by pronoun) in a sentence, outside quoted words."""
    sentence = analysis.article.sentences[index]
    quoted = [q.content_span for q in analysis.quotes]
    best: tuple[int, str] | None = None
    for entity in analysis.entities:
        if entity.kind not in ("person", "organization"):
            continue
        for start, end in entity.mentions:
            if not sentence.start <= start < sentence.end or _overlaps((start, end), quoted):
                continue
            written = analysis.article.text[start:end]
            if written.lower() in PRONOUNS or not written[:1].isupper():
                continue
            if best is None or start < best[0]:
                best = (start, entity.name)
    return best[1] if best else None


_PERSON_ROLES = _wordset(
    "senator congressman congresswoman lawmaker commissioner nominee candidate director "
    "spokesman spokeswoman spokesperson secretary governor mayor president minister chairman "
    "chairwoman chief executive ceo official officer economist adviser advisor aide lawyer "
    "attorney leader founder manager professor doctor judge"
)
_BODY_ROLES = _wordset(
    "agency department committee campaign company firm organization organisation bureau "
    "office ministry government administration fund police service"
)


def _named_speaker(analysis: Analysis, index: int) -> str | None:
    """The named speaker a description stands for ("the senator", "Connecticut's tax commissioner").

    Only for a description headed by a role noun: the nearest named speaker of a person
    (or a body, for "the agency") within two paragraphs, earlier ones first on ties.
    """
    record = analysis.quotes[index]
    speaker = record.speaker
    if speaker is None:
        return None
    kinds = {e.name: e.kind for e in analysis.entities}
    if speaker in kinds:
        return speaker
    if not re.search(r"(?i)(?:^|\s)(?:the|a|an|this|that|its|his|her|their)\s|[’']s\s", speaker):
        return None  # "Denver police", "police": a body in its own right, not a description
    head = _tokens(speaker)[-1:] if _tokens(speaker) else []
    if not head:
        return None
    if head[0] in _PERSON_ROLES:
        wanted = "person"
    elif head[0] in _BODY_ROLES:
        wanted = "organization"
    else:
        return None
    best: tuple[int, int, str] | None = None
    for j, other in enumerate(analysis.quotes):
        name = other.speaker
        if name is None or kinds.get(name) != wanted:
            continue
        distance = abs(other.paragraph - record.paragraph)
        if distance > 2:
            continue
        key = (abs(j - index), 0 if j < index else 1, name)
        if best is None or key < best:
            best = key
    return best[2] if best else None


def _is_dateline(article: Article, ref: TimeRef) -> bool:
    """ "FLINT, Mich., Oct. 4 (UPI) — …": the date of the report, not of an event."""
    if ref.span is None:
        return False
    sentence = article.sentence_at(ref.span[0])
    if sentence is None or ref.span[0] - sentence.start > 60:
        return False
    head = sentence.text[: ref.span[1] - sentence.start + 12]
    return bool(re.match(r"^[A-Z][A-Z .'’-]+,", head)) and bool(
        re.search(r"[—–]|\s-\s|\(\w+\)", sentence.text[: ref.span[1] - sentence.start + 12])
    )


def _dated_refs_in(analysis: Analysis, index: int) -> list[TimeRef]:
    s = analysis.article.sentences[index]
    return [
        r
        for r in analysis.time_refs
        if r.span is not None
        and s.start <= r.span[0] < s.end
        and r.date is not None
        and not _is_dateline(analysis.article, r)
    ]


def _mentions_speaker(analysis: Analysis, index: int, speaker: str | None) -> bool:
    if speaker is None:
        return False
    s = analysis.article.sentences[index]
    for entity in analysis.entities:
        if entity.name == speaker and any(s.start <= a < s.end for a, _ in entity.mentions):
            return True
    return any(
        q.speaker == speaker and index in _quote_sentences(analysis.article, q)
        for q in analysis.quotes
    )


def _answer_when(
    q: Question, analysis: Analysis, state: ConversationState, models: ModelService
) -> Answer:
    article = analysis.article
    if q.refers_back and (q.subject is not None or state.last_quote is not None):
        record = state.last_quote
        if record is None or (q.speaker is not None and record.speaker != q.speaker):
            return Answer(found=False, answer="When did who say what? Ask about a statement first.")
        return _when_answer(analysis, record)
    statement: tuple[float, int] | None = None
    if q.speaker is not None and not q.future:
        candidates = analysis.quotes_by(q.speaker)
        if candidates and not _content_words(q.topic):
            dated = [i for i in candidates if analysis.quotes[i].when is not None] or candidates
            statement = (1.0, _generic_order(analysis, dated, q)[0])
        elif candidates:
            search = _Search(analysis, _embed(models, q.topic or q.core))
            for score, i in _ranked(analysis, search, q.speaker):
                score += 0.05 if analysis.quotes[i].when is not None else 0.0
                if statement is None or score > statement[0]:
                    statement = (score, i)
    stated: QuoteRecord | None = None
    if statement is not None and statement[0] >= TOPIC_THRESHOLD - 0.05:
        stated = analysis.quotes[statement[1]]
        if stated.when is None:
            nearby = _nearby_time(analysis, stated)
            stated = dataclasses.replace(stated, when=nearby) if nearby else stated
    # an event ("When will Trump and Putin talk?"): the dated sentence most like the question
    event = _Search(analysis, _embed(models, q.core))
    best_event: tuple[float, int] | None = None
    for s in article.sentences:
        if not _dated_refs_in(analysis, s.index):
            continue
        score = float(event.sentence_sim[s.index])
        if _mentions_speaker(analysis, s.index, q.speaker):
            score += 0.05
        if best_event is None or score > best_event[0]:
            best_event = (score, s.index)
    margin = EVENT_MARGIN if q.speech_verb else -EVENT_MARGIN
    use_event = best_event is not None and best_event[0] >= EVENT_THRESHOLD
    if use_event and stated is not None and stated.when is not None and statement is not None:
        use_event = best_event is not None and best_event[0] > statement[0] + margin
    if use_event and best_event is not None:
        index = best_event[1]
        ref = _dated_refs_in(analysis, index)[0]
        evidence = _sentence_evidence(article, index)
        return Answer(
            found=True,
            answer=f"{_cap(_when_text(ref))}: “{evidence.text}”",
            speaker=None,
            quote=None,
            when=ref,
            evidence=(evidence,),
        )
    if stated is not None:
        _remember(state, [stated])
        return _when_answer(analysis, stated)
    return _not_found(analysis, q)


def _nearby_time(analysis: Analysis, record: QuoteRecord) -> TimeRef | None:
    """A dated time expression in the statement's paragraph, outside any quoted words."""
    own = _quote_sentences(analysis.article, record)
    if not own:
        return None
    paragraph = analysis.article.sentences[own[0]].paragraph
    order = sorted(
        (s.index for s in analysis.article.sentences_in(paragraph)),
        key=lambda i: (i not in own, abs(i - own[0]), i > own[0]),
    )
    spans = [q.content_span for q in analysis.quotes]
    for index in order:
        for ref in _dated_refs_in(analysis, index):
            if ref.span is not None and not _overlaps(ref.span, spans):
                return ref
    return None


def _when_answer(analysis: Analysis, record: QuoteRecord) -> Answer:
    if record.when is None:
        nearby = _nearby_time(analysis, record)
        if nearby is not None:
            record = dataclasses.replace(record, when=nearby)
    if record.when is None:
        base = _from_records(analysis, [record])
        return Answer(
            found=False,
            answer="The article doesn't say when. " + base.answer,
            evidence=base.evidence,
        )
    base = _from_records(analysis, [record], when=False)
    return Answer(
        found=True,
        answer=f"{_cap(_when_text(record.when))}. " + base.answer,
        speaker=record.speaker,
        quote=record.content,
        when=record.when,
        where=record.where,
        evidence=base.evidence,
    )


def _answer_where(
    q: Question, analysis: Analysis, state: ConversationState, models: ModelService
) -> Answer:
    speaker = q.speaker or (state.last_speaker if q.subject is None else None)
    if speaker is None:
        return _answer_event(q, analysis, models)
    search = _Search(analysis, _embed(models, q.topic or q.core))
    ranked = _ranked(analysis, search, speaker)
    placed = [(s + 0.1, i) for s, i in ranked if analysis.quotes[i].where]
    pool = sorted(placed + ranked, key=lambda item: -item[0])
    for score, i in pool:
        record = analysis.quotes[i]
        if record.where and score >= TOPIC_THRESHOLD - 0.1:
            _remember(state, [record])
            base = _from_records(analysis, [record])
            return Answer(
                found=True,
                answer=f"{record.where[:1].upper()}{record.where[1:]}. {base.answer}",
                speaker=record.speaker,
                quote=record.content,
                when=record.when,
                where=record.where,
                evidence=base.evidence,
            )
    # the speaker's speaking-event sentences that name a place
    placed_sentences = []
    for s in analysis.article.sentences:
        if _mentions_speaker(analysis, s.index, speaker):
            found = places.statement_place(analysis.article, s.index)
            if found is not None:
                placed_sentences.append((float(search.sentence_sim[s.index]), s.index, found))
    if placed_sentences:
        score, index, (where, _span) = max(placed_sentences)
        if score >= TOPIC_THRESHOLD - 0.1:
            evidence = _sentence_evidence(analysis.article, index)
            return Answer(
                found=True,
                answer=f"{_cap(where)}: “{evidence.text}”",
                speaker=speaker,
                where=where,
                evidence=(evidence,),
            )
    return _not_found(analysis, q, note="The article doesn't say where.")


def _answer_how_long(q: Question, analysis: Analysis, models: ModelService) -> Answer:
    article = analysis.article
    search = _Search(analysis, _embed(models, q.core))
    best: tuple[float, int, str] | None = None
    for s in article.sentences:
        match = DURATION.search(s.text)
        if not match:
            continue
        score = float(search.sentence_sim[s.index])
        if best is None or score > best[0]:
            best = (score, s.index, match.group(0))
    if best is None or best[0] < EVENT_THRESHOLD:
        return _not_found(analysis, q)
    evidence = _sentence_evidence(article, best[1])
    return Answer(
        found=True,
        answer=f"{best[2][:1].upper()}{best[2][1:]}: “{evidence.text}”",
        evidence=(evidence,),
    )


def _answer_event(q: Question, analysis: Analysis, models: ModelService) -> Answer:
    """No speaker: the sentence most like the question."""
    article = analysis.article
    if not article.sentences:
        return _not_found(analysis, q)
    search = _Search(analysis, _embed(models, q.core))
    index = int(np.argmax(search.sentence_sim))
    if float(search.sentence_sim[index]) < EVENT_THRESHOLD + 0.1:
        return _not_found(analysis, q)
    evidence = _sentence_evidence(article, index)
    return Answer(found=True, answer=f"The article says: “{evidence.text}”", evidence=(evidence,))
