"""Analyse an article once: speakers, quotes with when/where, time expressions, embeddings.

The chat layer keeps one :class:`Analysis` per article and answers every follow-up
question from it, so nothing here runs per question.

When a statement was made ("when") follows what a reader infers from the text:

1. the time written in the statement's own sentence, outside the quoted words
   ("On Monday, officials from the Kremlin confirmed that …");
2. else the time of the same speaker's speaking event in the same paragraph
   ("While speaking to reporters aboard Air Force One on Sunday evening, Mr. Trump
   explained …" dates every Trump quote in that paragraph), or any time attached to a
   speech word in that paragraph unless its sentence holds another speaker's
   statement, or the time of a sentence naming the speaker in the paragraph before
   ("On The Steve Harvey Morning Show on Tuesday, Clinton criticized …" then her quote);
3. else the time carried forward from the speaker's previous statement, as long as
   the paragraphs between hold no other speaker's dated statement;
4. else, when every dated statement of that speaker in the article has one and the
   same date, that date (a speaker's undated remarks belong to their one speaking
   event).

"Where" (``aboard Air Force One``, ``on CNN``) comes from the statement's own sentence
or the speaker's speaking-event sentence in the same paragraph (rules 1 and 2 only).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from summarizer import dates, places, quotes, speakers
from summarizer.attribution_tagger import AttributionTagger
from summarizer.models import ModelService
from summarizer.reading import Article
from summarizer.records import Entity, QuoteRecord, Span, TimeRef

Vectors = npt.NDArray[np.float32]
#: ``(article, sentence_index, cue_span, search_paragraph) -> TimeRef | None``
StatementTime = Callable[[Article, int, Span | None, bool], TimeRef | None]
StatementPlace = Callable[[Article, int], tuple[str, Span] | None]


@dataclass(frozen=True)
class Analysis:
    """Everything question answering needs about one article, computed once."""

    article: Article
    entities: tuple[Entity, ...]
    quotes: tuple[QuoteRecord, ...]
    time_refs: tuple[TimeRef, ...]
    sentence_vectors: Vectors  # one row per article.sentences
    quote_vectors: Vectors  # one row per quotes[i].content

    def quotes_by(self, speaker: str) -> list[int]:
        """Indices of the quotes attributed to ``speaker``.

        A speaker written with a title in front ("Mayweather Promotions CEO Leonard
        Ellerbe") is the same as the plain full name ("Leonard Ellerbe"); a bare surname
        is not merged (two Clintons).
        """
        return [
            i
            for i, q in enumerate(self.quotes)
            if q.speaker is not None and same_speaker(q.speaker, speaker)
        ]


def _name_tokens(name: str) -> list[str]:
    return re.findall(r"[\w’'.-]+", name.lower().replace("’", "'"))


def same_speaker(a: str, b: str) -> bool:
    """Equal names, or a two-word-or-longer name that ends the other ("CEO Leonard Ellerbe")."""
    if a == b:
        return True
    ta, tb = _name_tokens(a), _name_tokens(b)
    short, long = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    return len(short) >= 2 and long[-len(short) :] == short


def analyse_sync(article: Article, models: ModelService) -> Analysis:
    """Extract speakers, quotes (with when/where) and time expressions; embed them."""
    index = speakers.SpeakerIndex(article)
    records = quotes.extract_quotes(article, index=index, tagger=_tagger(models))
    entities = index.entities()  # includes the pronouns resolved as speakers
    refs = dates.time_refs(article)
    return assemble(
        article,
        entities=entities,
        records=records,
        time_refs=refs,
        models=models,
        statement_time=_statement_time,
        statement_place=places.statement_place,
    )


def _statement_time(
    article: Article, index: int, cue_span: Span | None, search_paragraph: bool
) -> TimeRef | None:
    return dates.statement_time(
        article, index, cue_span=cue_span, search_paragraph=search_paragraph
    )


def _tagger(models: ModelService) -> AttributionTagger | None:
    """The learned attribution tagger (trained on PolNeAR train), unless switched off."""
    if not models.settings.attribution_tagger:
        return None
    return models.component(
        "attribution-tagger", lambda: AttributionTagger.load_optional(source=models)
    )


async def analyse(article: Article, models: ModelService) -> Analysis:
    """:func:`analyse_sync` in the model pool, off the event loop."""
    return await models.run(analyse_sync, article, models)


def assemble(
    article: Article,
    *,
    entities: Sequence[Entity],
    records: Sequence[QuoteRecord],
    time_refs: Sequence[TimeRef],
    models: ModelService,
    statement_time: StatementTime | None = None,
    statement_place: StatementPlace | None = None,
) -> Analysis:
    """Build an :class:`Analysis` from extracted parts (tests pass hand-made records)."""
    ordered = sorted(records, key=lambda q: q.content_span)
    if statement_time is not None:
        ordered = attach_when(article, ordered, entities, statement_time)
    if statement_place is not None:
        ordered = attach_where(article, ordered, entities, statement_place)
    texts = [s.text for s in article.sentences] + [q.content for q in ordered]
    vectors = models.embed_sync(texts) if texts else np.zeros((0, 384), dtype=np.float32)
    n = len(article.sentences)
    return Analysis(
        article=article,
        entities=tuple(entities),
        quotes=tuple(ordered),
        time_refs=tuple(time_refs),
        sentence_vectors=np.asarray(vectors[:n], dtype=np.float32),
        quote_vectors=np.asarray(vectors[n:], dtype=np.float32),
    )


# --------------------------------------------------------------------------- when / where


def _sentences_of(article: Article, record: QuoteRecord) -> tuple[int, ...]:
    if record.sentences:
        return record.sentences
    found = article.sentence_at(record.content_span[0])
    return (found.index,) if found else ()


def _outside(span: Span | None, record: QuoteRecord) -> bool:
    """True when a time/place span is not inside the quoted words themselves."""
    if span is None:
        return True
    start, end = record.content_span
    return not (start <= span[0] and span[1] <= end)


def _mentions(
    article: Article, sentence: int, speaker: str | None, entities: Sequence[Entity]
) -> bool:
    """Does sentence ``sentence`` name ``speaker`` (by a recorded mention)?"""
    if speaker is None:
        return False
    s = article.sentences[sentence]
    for entity in entities:
        if entity.name == speaker and any(s.start <= a < s.end for a, _ in entity.mentions):
            return True
    return False


def _own_time(
    article: Article, record: QuoteRecord, statement_time: StatementTime
) -> TimeRef | None:
    for index in _sentences_of(article, record):
        cue = record.cue_span
        if cue is not None and not (
            article.sentences[index].start <= cue[0] < article.sentences[index].end
        ):
            cue = None
        ref = statement_time(article, index, cue, False)
        if ref is not None and _outside(ref.span, record):
            return ref
    return None


def _event_sentences(
    article: Article,
    record: QuoteRecord,
    records: Sequence[QuoteRecord],
    entities: Sequence[Entity],
) -> list[int]:
    """Other sentences of the statement's paragraph that are the same speaker's speaking event.

    Nearest preceding sentences first, then following ones.
    """
    own = _sentences_of(article, record)
    if not own or record.speaker is None:
        return []
    paragraph = article.sentences[own[0]].paragraph
    same_speaker = {
        i for q in records if q.speaker == record.speaker for i in _sentences_of(article, q)
    }
    candidates = [
        s.index
        for s in article.sentences_in(paragraph)
        if s.index not in own
        and (s.index in same_speaker or _mentions(article, s.index, record.speaker, entities))
    ]
    before = sorted((i for i in candidates if i < own[0]), reverse=True)
    after = sorted(i for i in candidates if i > own[-1])
    return before + after


def _previous_paragraph_events(
    article: Article, record: QuoteRecord, entities: Sequence[Entity]
) -> list[int]:
    """Sentences of the paragraph before that name the speaker, last first."""
    own = _sentences_of(article, record)
    if not own or record.speaker is None:
        return []
    paragraph = article.sentences[own[0]].paragraph
    if paragraph == 0:
        return []
    return [
        s.index
        for s in reversed(article.sentences_in(paragraph - 1))
        if _mentions(article, s.index, record.speaker, entities)
    ]


def attach_when(
    article: Article,
    records: Sequence[QuoteRecord],
    entities: Sequence[Entity],
    statement_time: StatementTime,
) -> list[QuoteRecord]:
    """Give each statement its time by the rules in the module docstring."""
    whens: list[TimeRef | None] = []
    for record in records:  # rule 1 and 2
        when = record.when or _own_time(article, record, statement_time)
        if when is None:
            for index in _event_sentences(article, record, records, entities):
                ref = statement_time(article, index, None, False)
                if ref is not None and all(_outside(ref.span, q) for q in records):
                    when = ref
                    break
        if when is None and record.speaker is not None:
            # the paragraph's speaking event, unless it is another speaker's
            own = _sentences_of(article, record)
            ref = statement_time(article, own[0], None, True) if own else None
            inside = ref is not None and not all(_outside(ref.span, q) for q in records)
            if ref is not None and ref.span is not None and not inside:
                holder = article.sentence_at(ref.span[0])
                others = {
                    q.speaker
                    for q in records
                    if holder is not None and holder.index in _sentences_of(article, q)
                }
                if not others - {record.speaker}:
                    when = ref
        if when is None:
            # the speaking event told in the paragraph before ("On The Steve Harvey Morning
            # Show on Tuesday, Clinton criticized …" then her quote)
            for index in _previous_paragraph_events(article, record, entities):
                ref = statement_time(article, index, None, True)
                if ref is not None and all(_outside(ref.span, q) for q in records):
                    when = ref
                    break
        whens.append(when)
    # rule 3: carry a speaker's time forward until another speaker's dated statement
    last: dict[str, TimeRef] = {}
    last_dated_speaker: str | None = None
    for i, record in enumerate(records):
        if record.speaker is None:
            continue
        if whens[i] is not None:
            last[record.speaker] = whens[i]  # type: ignore[assignment]
            last_dated_speaker = record.speaker
            continue
        if record.speaker in last and last_dated_speaker == record.speaker:
            whens[i] = last[record.speaker]
    # rule 4: one dated speaking event per speaker dates the rest
    by_speaker: dict[str, set[object]] = {}
    first_ref: dict[str, TimeRef] = {}
    for record, when in zip(records, whens, strict=True):
        if record.speaker is not None and when is not None and when.date is not None:
            by_speaker.setdefault(record.speaker, set()).add(when.date)
            first_ref.setdefault(record.speaker, when)
    for i, record in enumerate(records):
        speaker = record.speaker
        if whens[i] is None and speaker is not None and len(by_speaker.get(speaker, ())) == 1:
            whens[i] = first_ref[speaker]
    return [
        dataclasses.replace(r, when=w) if w is not r.when else r
        for r, w in zip(records, whens, strict=True)
    ]


def attach_where(
    article: Article,
    records: Sequence[QuoteRecord],
    entities: Sequence[Entity],
    statement_place: StatementPlace,
) -> list[QuoteRecord]:
    """Give each statement its place: own sentence, else the speaking-event sentence."""
    out: list[QuoteRecord] = []
    for record in records:
        if record.where is not None:
            out.append(record)
            continue
        where: str | None = None
        for index in _sentences_of(article, record):
            found = statement_place(article, index)
            if found is not None and _outside(found[1], record):
                where = found[0]
                break
        if where is None:
            for index in _event_sentences(article, record, records, entities):
                found = statement_place(article, index)
                if found is not None and all(_outside(found[1], q) for q in records):
                    where = found[0]
                    break
        out.append(dataclasses.replace(record, where=where) if where else record)
    return out
