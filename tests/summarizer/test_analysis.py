"""Analysing an article once: quotes with their speaker, when and where, and embeddings."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from summarizer import dates
from summarizer.analysis import Analysis, analyse, analyse_sync, assemble
from summarizer.answers import unify
from summarizer.models import ModelService
from summarizer.reading import Article, build_article
from summarizer.records import Entity, QuoteRecord

SEED_PUBLISHED = date(2025, 3, 17)


def _unify(text: str) -> str:
    return unify(text).strip(",.")


@pytest.fixture(scope="module")
def seed_gold(shared_data: Path) -> dict[str, Any]:
    with (shared_data / "seed" / "trump-putin-call.gold.json").open(encoding="utf-8") as f:
        gold: dict[str, Any] = json.load(f)
    return gold


@pytest.fixture(scope="module")
def seed_article(seed_article_path: Path) -> Article:
    return build_article(seed_article_path.read_text("utf-8"), published=SEED_PUBLISHED)


@pytest.fixture(scope="module")
def seed_analysis(seed_article: Article, models: ModelService) -> Analysis:
    return analyse_sync(seed_article, models)


SEED_ENTITIES = (
    Entity("Donald Trump", "person", "male", aliases=("Trump", "Mr. Trump", "President Trump")),
    Entity("Vladimir Putin", "person", "male", aliases=("Putin", "Mr. Putin")),
    Entity("Steve Witkoff", "person", "male", aliases=("Witkoff",)),
    Entity("Volodymyr Zelensky", "person", "male", aliases=("Zelensky",)),
    Entity("the Kremlin", "organization", aliases=("Kremlin",)),
)


def gold_records(article: Article, gold: dict[str, Any]) -> list[QuoteRecord]:
    """The seed's gold quotes as hand-made records (no when/where: analysis attaches them)."""
    records = []
    for item in gold["quotes"]:
        start = article.text.index(item["content"])
        end = start + len(item["content"])
        sentences = tuple(s.index for s in article.sentences if s.start < end and start < s.end)
        records.append(
            QuoteRecord(
                speaker=item["speaker"],
                speaker_span=None,
                cue=None,
                cue_span=None,
                content=item["content"],
                content_span=(start, end),
                kind=item["kind"],
                paragraph=article.sentences[sentences[0]].paragraph,
                sentences=sentences,
            )
        )
    return records


def _speaker_ok(got: str | None, want: str) -> bool:
    if got is None:
        return False
    g, w = _unify(got), _unify(want)
    return g == w or g.split()[-1] == w.split()[-1]


def test_when_inheritance_on_gold_records(
    seed_article: Article, seed_gold: dict[str, Any], models: ModelService
) -> None:
    """The statement-time rules alone (hand-made records): every gold `when`, null where null."""
    from summarizer import analysis as module

    result = assemble(
        seed_article,
        entities=SEED_ENTITIES,
        records=gold_records(seed_article, seed_gold),
        time_refs=dates.time_refs(seed_article),
        models=models,
        statement_time=module._statement_time,
    )
    by_content = {q.content: q for q in result.quotes}
    for item in seed_gold["quotes"]:
        record = by_content[item["content"]]
        got = record.when.date.isoformat() if record.when and record.when.date else None
        assert got == item["when"], (item["content"], record.when)


def test_every_seed_gold_quote_found_with_speaker_when_where(
    seed_analysis: Analysis, seed_gold: dict[str, Any]
) -> None:
    for item in seed_gold["quotes"]:
        want = _unify(item["content"])
        matches = [
            q
            for q in seed_analysis.quotes
            if _unify(q.content) == want or (want in _unify(q.content) and len(want) > 30)
        ]
        assert matches, f"gold quote not extracted: {item['content']}"
        record = matches[0]
        assert _speaker_ok(record.speaker, item["speaker"]), (item["content"], record.speaker)
        got = record.when.date.isoformat() if record.when and record.when.date else None
        assert got == item["when"], (item["content"], record.when)
        if item.get("where"):
            assert record.where is not None and item["where"] in record.where, (
                item["content"],
                record.where,
            )


def test_event_time_is_not_a_statement_time(seed_analysis: Analysis) -> None:
    """ "Plans are in motion … on Tuesday" dates the call, no statement gets 2025-03-18."""
    for record in seed_analysis.quotes:
        assert record.when is None or record.when.date != date(2025, 3, 18), record


def test_vectors_and_spans(seed_analysis: Analysis) -> None:
    article = seed_analysis.article
    assert seed_analysis.sentence_vectors.shape[0] == len(article.sentences)
    assert seed_analysis.quote_vectors.shape[0] == len(seed_analysis.quotes)
    norms = np.linalg.norm(seed_analysis.sentence_vectors, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-3)
    for record in seed_analysis.quotes:
        start, end = record.content_span
        assert article.text[start:end] == record.content
    spans = [q.content_span for q in seed_analysis.quotes]
    assert spans == sorted(spans)


async def test_analyse_runs_in_the_model_pool(seed_article: Article, models: ModelService) -> None:
    result = await analyse(seed_article, models)
    assert result.quotes and result.entities and result.time_refs


def test_article_without_quotes(models: ModelService) -> None:
    article = build_article(
        "The river rose by two metres overnight. Roads in the valley were closed on Monday "
        "and the school stayed shut.",
        published=SEED_PUBLISHED,
    )
    result = analyse_sync(article, models)
    assert result.quotes == ()
    assert result.quote_vectors.shape[0] == 0
    assert result.sentence_vectors.shape[0] == len(article.sentences)


# --------------------------------------------------------------------------- the when rules

_RULES_TEXT = (
    "Senator Jane Roe spoke to reporters on Monday. “We will fix the roads,” Roe said.\n"
    "Roe added that the budget was ready.\n"
    "The mayor, Tom Poe, said on Tuesday that he disagreed.\n"
    "Roe later said the plan would start next week.\n"
    "On Friday, Roe had said that taxes would fall."
)


def _record(article: Article, speaker: str, content: str, kind: str) -> QuoteRecord:
    start = article.text.index(content)
    end = start + len(content)
    sentences = tuple(s.index for s in article.sentences if s.start < end and start < s.end)
    return QuoteRecord(
        speaker=speaker,
        speaker_span=None,
        cue=None,
        cue_span=None,
        content=content,
        content_span=(start, end),
        kind=kind,  # type: ignore[arg-type]
        paragraph=article.sentences[sentences[0]].paragraph,
        sentences=sentences,
    )


def test_when_rules_on_a_small_article(models: ModelService) -> None:
    from summarizer import analysis as module

    article = build_article(_RULES_TEXT, published=date(2025, 3, 19))  # a Wednesday
    roe_mentions = tuple(
        (m, m + 3) for m in range(len(article.text)) if article.text.startswith("Roe", m)
    )
    entities = (
        Entity("Jane Roe", "person", "female", mentions=roe_mentions, aliases=("Roe",)),
        Entity("Tom Poe", "person", "male"),
    )
    records = [
        _record(article, "Jane Roe", "We will fix the roads,", "direct"),
        _record(article, "Jane Roe", "the budget was ready", "indirect"),
        _record(article, "Tom Poe", "he disagreed", "indirect"),
        _record(article, "Jane Roe", "the plan would start next week", "indirect"),
        _record(article, "Jane Roe", "taxes would fall", "indirect"),
    ]
    result = assemble(
        article,
        entities=entities,
        records=records,
        time_refs=dates.time_refs(article),
        models=models,
        statement_time=module._statement_time,
    )
    when = {q.content: (q.when.date if q.when else None) for q in result.quotes}
    monday, tuesday, friday = date(2025, 3, 17), date(2025, 3, 18), date(2025, 3, 14)
    assert when["We will fix the roads,"] == monday  # the speaking event in its paragraph
    assert when["the budget was ready"] == monday  # carried forward to the next paragraph
    assert when["he disagreed"] == tuesday  # its own sentence
    assert when["taxes would fall"] == friday
    # another speaker's dated statement came between, and Roe has two dates: unknown,
    # and never "next week", which is inside the reported words
    assert when["the plan would start next week"] is None
