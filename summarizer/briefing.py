"""A brief: the summary of an article plus who said what, ready to render anywhere."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from config.settings import SummaryMethod
from summarizer.analysis import Analysis, analyse
from summarizer.models import ModelService
from summarizer.reading import Article
from summarizer.records import QuoteRecord
from summarizer.summaries import Summary, summarize


@dataclass(frozen=True)
class SpeakerLine:
    """One of the article's main speakers with their key statement."""

    speaker: str
    quote: QuoteRecord
    statements: int

    def to_json(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "statements": self.statements,
            "quote": self.quote.content,
            "kind": self.quote.kind,
            "span": list(self.quote.content_span),
            "when": self.quote.when.to_json() if self.quote.when else None,
            "where": self.quote.where,
        }


@dataclass(frozen=True)
class Brief:
    article: Article
    summary: Summary
    who_said_what: tuple[SpeakerLine, ...]
    analysis: Analysis
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        article = self.article
        return {
            "title": article.title,
            "published": article.published.isoformat() if article.published else None,
            "url": article.url,
            "method": self.summary.method,
            "summary": [bullet.to_json() for bullet in self.summary.bullets],
            "dropped": [
                {"text": dropped.text, "reason": dropped.reason} for dropped in self.summary.dropped
            ],
            "who_said_what": [line.to_json() for line in self.who_said_what],
            "timings_ms": {key: round(value, 1) for key, value in self.timings_ms.items()},
        }


def who_said_what(analysis: Analysis, limit: int = 4) -> tuple[SpeakerLine, ...]:
    """The main speakers (most statements first) and each one's most central statement.

    Direct quotes are preferred over reported speech because they are the speaker's
    own words; among them the one closest to the article's overall meaning wins.
    """
    by_speaker: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(analysis.quotes):
        if record.speaker:
            by_speaker[record.speaker].append(index)
    if not by_speaker:
        return ()
    vectors = analysis.sentence_vectors
    centroid = vectors.mean(axis=0) if len(vectors) else None
    ranked = sorted(by_speaker.items(), key=lambda item: (-len(item[1]), item[1][0]))
    lines: list[SpeakerLine] = []
    for speaker, indices in ranked[:limit]:
        best = max(indices, key=lambda i: _key_quote_score(analysis, i, centroid))
        lines.append(SpeakerLine(speaker, analysis.quotes[best], len(indices)))
    return tuple(lines)


def _key_quote_score(analysis: Analysis, index: int, centroid: np.ndarray | None) -> float:
    record = analysis.quotes[index]
    words = len(record.content.split())
    score = 1.0 if record.kind == "direct" else 0.5 if record.kind == "mixed" else 0.0
    if words < 5:
        score -= 1.0
    if centroid is not None and len(analysis.quote_vectors) > index:
        score += float(analysis.quote_vectors[index] @ centroid)
    return score


async def make_brief(
    article: Article, models: ModelService, *, method: SummaryMethod, sentences: int
) -> Brief:
    """Summarise and analyse an article; the analysis is kept for follow-up questions."""
    started = time.perf_counter()
    analysis = await analyse(article, models)
    analysed = time.perf_counter()
    summary = await summarize(article, models, method=method, sentences=sentences)
    done = time.perf_counter()
    timings = {
        "analyse": (analysed - started) * 1000,
        "summarize": (done - analysed) * 1000,
    }
    return Brief(article, summary, who_said_what(analysis), analysis, timings)


def render_brief_text(brief: Brief) -> str:
    """Plain text for terminals: title, date, bullets, who said what."""
    article = brief.article
    lines: list[str] = []
    if article.title:
        lines.append(article.title)
    meta = [f"published {article.published.isoformat()}" if article.published else "date unknown"]
    meta.append(f"{brief.summary.method} summary")
    lines.append(" · ".join(meta))
    lines.append("")
    for bullet in brief.summary.bullets:
        lines.append(f"• {bullet.text}")
    if brief.who_said_what:
        lines.append("")
        lines.append("Who said what")
        for line in brief.who_said_what:
            lines.append(f"• {format_attribution(line.quote)}")
    return "\n".join(lines)


def format_attribution(record: QuoteRecord) -> str:
    """“…quote…” — Speaker, when, where (as much as the article tells)."""
    content = record.content.strip().rstrip(",")
    said = f"“{content}”" if record.kind == "direct" else content
    details = [record.speaker or "unknown speaker"]
    if record.when is not None:
        details.append(
            f"{record.when.text} ({record.when.date.isoformat()})"
            if record.when.date
            else record.when.text
        )
    if record.where:
        details.append(record.where)
    return f"{said} — {', '.join(details)}"
