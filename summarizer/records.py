"""The records that article analysis produces and answers, briefs and the CLI read.

Spans are ``(start, end)`` Python string offsets into ``Article.text``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Span = tuple[int, int]
QuoteKind = Literal["direct", "indirect", "mixed"]
EntityKind = Literal["person", "organization", "unknown"]
Gender = Literal["male", "female", "unknown"]


@dataclass(frozen=True)
class TimeRef:
    """A time expression as written, with the date it means when that can be known."""

    text: str
    span: Span | None
    date: date | None

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "date": self.date.isoformat() if self.date else None}


@dataclass(frozen=True)
class Entity:
    """One speaker (a person or a body) and every mention of it in the article."""

    name: str
    kind: EntityKind = "unknown"
    gender: Gender = "unknown"
    role: str | None = None
    mentions: tuple[Span, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuoteRecord:
    """One attributed statement: who said what, how, when and where."""

    speaker: str | None
    speaker_span: Span | None
    cue: str | None
    cue_span: Span | None
    content: str
    content_span: Span
    kind: QuoteKind
    when: TimeRef | None = None
    where: str | None = None
    paragraph: int = 0
    sentences: tuple[int, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "speaker_span": list(self.speaker_span) if self.speaker_span else None,
            "cue": self.cue,
            "cue_span": list(self.cue_span) if self.cue_span else None,
            "content": self.content,
            "content_span": list(self.content_span),
            "kind": self.kind,
            "when": self.when.to_json() if self.when else None,
            "where": self.where,
        }
