"""A small learned tagger that finds attributed content the rules in :mod:`quotes` miss.

Frozen MiniLM token features (the bundled sentence-embedding model's last hidden state,
one forward pass over the article in windows of up to 256 wordpieces) plus a few cheap
lexical features (quote marks, reporting verbs, paragraph/sentence starts, and where the
rules already found content, cue and speaker) go through a small head: a projection and
two dilated residual 1-D convolutions, predicting three BIO tags per wordpiece (Content,
Source, Cue). The head is trained on PolNeAR train (``benchmarks/train_attribution_tagger.py``)
and ships as numpy arrays (``summarizer/data/attribution_head.npz``); inference is numpy.

:meth:`AttributionTagger.augment` merges with the rule records: every rule record is
kept, and a tagged content span that no rule record touches is added, its speaker taken
from the tagged Source nearest to the tagged Cue (resolved through the
:class:`~summarizer.speakers.SpeakerIndex`), or the previous record's speaker.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from summarizer.reading import Article
from summarizer.records import QuoteKind, QuoteRecord, Span
from summarizer.speakers import SpeakerIndex

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

DEFAULT_HEAD = Path(__file__).resolve().parent / "data" / "attribution_head.npz"

#: Wordpieces per model window (without [CLS]/[SEP]).
WINDOW = 254
#: Tag heads: Content, Source, Cue; each O/B/I.
HEADS = ("content", "source", "cue")

_QUOTE_CHARS = '“”"«»„'
_WORD = re.compile(r"[A-Za-z][A-Za-z’'\-]*")
_PRONOUNS = frozenset(["he", "she", "they", "it", "we", "i", "you"])


@dataclass(frozen=True)
class TokenFeatures:
    """Wordpieces of one article: character offsets ``(n, 2)`` and hidden states ``(n, d)``."""

    offsets: IntArray
    hidden: FloatArray


# --------------------------------------------------------------------------- features


def _encoder(source: Any) -> Any:
    """An object with ``.tokenizer`` and ``.model``: the embedder of a ModelService, or itself."""
    embedder = getattr(source, "embedder", None)
    return embedder() if callable(embedder) else source


def _truncated(model: Any, layers: int) -> Any:
    """A view of a BERT-like ``model`` running only its first ``layers`` layers.

    The parameters are shared (no copy); the original model is untouched.
    """
    import copy

    import torch

    encoder = getattr(model, "encoder", None)
    blocks = getattr(encoder, "layer", None)
    if encoder is None or blocks is None or layers >= len(blocks):
        return model
    view = copy.copy(model)
    view._modules = dict(model._modules)
    short = copy.copy(encoder)
    short._modules = dict(encoder._modules)
    short._modules["layer"] = torch.nn.ModuleList(list(blocks)[:layers])
    view._modules["encoder"] = short
    return view


def token_features(
    source: Any, article: Article, layers: int | None = None, batch_size: int = 16
) -> TokenFeatures:
    """MiniLM hidden-state features for every wordpiece of ``article``.

    ``source`` is a :class:`~summarizer.models.ModelService` or an
    :class:`~summarizer.models.EmbeddingModel` (anything with ``tokenizer`` and ``model``).
    ``layers``: run only the first N transformer layers (None: all). Paragraphs are
    packed into windows of up to :data:`WINDOW` wordpieces; one forward pass.
    """
    offsets, hidden = token_features_multi(source, article, [-1], layers, batch_size)
    return TokenFeatures(offsets, hidden[0])


def token_features_multi(
    source: Any,
    article: Article,
    keep: Sequence[int],
    layers: int | None = None,
    batch_size: int = 16,
) -> tuple[IntArray, list[FloatArray]]:
    """Offsets and the hidden states after each layer in ``keep`` (-1: the last run)."""
    import torch

    encoder = _encoder(source)
    tokenizer, model = encoder.tokenizer, encoder.model
    if layers is not None:
        model = _truncated(model, layers)
    text = article.text
    paragraphs = [(p.start, p.end) for p in article.paragraphs if p.end > p.start]
    if not paragraphs:
        paragraphs = [(0, len(text))] if text.strip() else []
    dimension = int(model.config.hidden_size)
    empty = (
        np.zeros((0, 2), np.int64),
        [np.zeros((0, dimension), np.float32) for _ in keep],
    )
    if not paragraphs:
        return empty
    encoded = tokenizer(
        [text[s:e] for s, e in paragraphs],
        add_special_tokens=False,
        return_offsets_mapping=True,
        verbose=False,
    )
    pieces: list[tuple[list[int], list[tuple[int, int]]]] = []
    for (start, _), ids, offs in zip(
        paragraphs, encoded["input_ids"], encoded["offset_mapping"], strict=True
    ):
        for begin in range(0, len(ids), WINDOW):
            pieces.append(
                (
                    list(ids[begin : begin + WINDOW]),
                    [(start + a, start + b) for a, b in offs[begin : begin + WINDOW]],
                )
            )
    windows: list[tuple[list[int], list[tuple[int, int]]]] = []
    for ids, offs in pieces:
        if not ids:
            continue
        if windows and len(windows[-1][0]) + len(ids) <= WINDOW:
            windows[-1][0].extend(ids)
            windows[-1][1].extend(offs)
        else:
            windows.append((list(ids), list(offs)))
    if not windows:
        return empty
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    pad_id = tokenizer.pad_token_id or 0
    rows: list[list[FloatArray]] = [[] for _ in keep]
    with torch.inference_mode():
        for begin in range(0, len(windows), batch_size):
            batch = windows[begin : begin + batch_size]
            longest = max(len(ids) for ids, _ in batch) + 2
            input_ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), longest), dtype=torch.long)
            for row, (ids, _) in enumerate(batch):
                input_ids[row, : len(ids) + 2] = torch.tensor([cls_id, *ids, sep_id])
                mask[row, : len(ids) + 2] = 1
            out = model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True)
            for k, layer in enumerate(keep):
                states = out.hidden_states[layer]
                for row, (ids, _) in enumerate(batch):
                    rows[k].append(states[row, 1 : 1 + len(ids)].float().numpy())
    offsets = np.array([o for _, offs in windows for o in offs], dtype=np.int64).reshape(-1, 2)
    return offsets, [np.concatenate(r, axis=0).astype(np.float32) for r in rows]


def _char_flags(length: int, spans: Sequence[Span]) -> npt.NDArray[np.int64]:
    """Cumulative count of flagged characters: ``c[e] - c[s] > 0`` iff [s, e) touches a span."""
    flags = np.zeros(length + 1, dtype=np.int64)
    for s, e in spans:
        s, e = max(0, s), min(length, e)
        if e > s:
            flags[s] += 1
            flags[e] -= 1
    marked = (np.cumsum(flags[:-1]) > 0).astype(np.int64)
    return np.concatenate([[0], np.cumsum(marked)])


def _touches(cum: npt.NDArray[np.int64], offsets: IntArray) -> FloatArray:
    return ((cum[offsets[:, 1]] - cum[offsets[:, 0]]) > 0).astype(np.float32)


def _starts(positions: Sequence[int], offsets: IntArray) -> FloatArray:
    """1 for the first wordpiece at or after each position."""
    out = np.zeros(len(offsets), dtype=np.float32)
    if not len(offsets):
        return out
    ends = offsets[:, 1]
    for position in positions:
        i = int(np.searchsorted(ends, position, side="right"))
        if i < len(out):
            out[i] = 1.0
    return out


def _verb_forms() -> tuple[frozenset[str], frozenset[str]]:
    from summarizer.quotes import BELIEF_VERBS, SPEECH_VERBS

    speech = frozenset(f for forms in SPEECH_VERBS.values() for f in forms if " " not in f)
    belief = frozenset(f for forms in BELIEF_VERBS.values() for f in forms)
    return speech, belief


LEXICAL = 15


def lexical_features(
    article: Article, offsets: IntArray, records: Sequence[QuoteRecord]
) -> FloatArray:
    """Cheap per-wordpiece features: quote marks, verbs, structure, and the rules' output."""
    from summarizer.quotes import find_quote_spans

    text = article.text
    n = len(text)
    speech, belief = _verb_forms()
    words: dict[str, list[Span]] = {"speech": [], "belief": [], "according": [], "that": []}
    for match in _WORD.finditer(text):
        word = match.group().lower()
        if word in speech:
            words["speech"].append(match.span())
        elif word in belief:
            words["belief"].append(match.span())
        elif word == "according":
            words["according"].append(match.span())
        elif word == "that":
            words["that"].append(match.span())
    quote_marks = [(i, i + 1) for i, c in enumerate(text) if c in _QUOTE_CHARS]
    inside = [q.outer for q in find_quote_spans(article)]
    colons = [(i, i + 1) for i, c in enumerate(text) if c == ":"]
    first_paragraph = (
        [(article.paragraphs[0].start, article.paragraphs[0].end)] if (article.paragraphs) else []
    )
    columns = [
        _touches(_char_flags(n, quote_marks), offsets),
        _touches(_char_flags(n, inside), offsets),
        _touches(_char_flags(n, words["speech"]), offsets),
        _touches(_char_flags(n, words["belief"]), offsets),
        _touches(_char_flags(n, words["according"]), offsets),
        _touches(_char_flags(n, words["that"]), offsets),
        _starts([p.start for p in article.paragraphs], offsets),
        _starts([s.start for s in article.sentences], offsets),
        _touches(_char_flags(n, first_paragraph), offsets),
        _starts([r.content_span[0] for r in records], offsets),
        _touches(_char_flags(n, [r.content_span for r in records]), offsets),
        _touches(_char_flags(n, [r.cue_span for r in records if r.cue_span]), offsets),
        _touches(_char_flags(n, [r.speaker_span for r in records if r.speaker_span]), offsets),
        (offsets[:, 0] / max(1, n)).astype(np.float32),
        _touches(_char_flags(n, colons), offsets),
    ]
    if not len(offsets):
        return np.zeros((0, LEXICAL), dtype=np.float32)
    return np.stack(columns, axis=1).astype(np.float32)


# --------------------------------------------------------------------------- the head


def _gelu(x: FloatArray) -> FloatArray:
    """tanh-approximated GELU, in place on one float32 buffer: ``x**3`` and the temporaries
    of the one-line formula made the head 60 times slower (90 of its 95 ms an article)."""
    inner: FloatArray = (x * x).astype(np.float32, copy=False)
    inner *= x
    inner *= np.float32(0.044715)
    inner += x
    inner *= np.float32(0.7978845608)
    np.tanh(inner, out=inner)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(0.5)
    return inner


def _conv(h: FloatArray, weight: FloatArray, bias: FloatArray, dilation: int) -> FloatArray:
    """'same' 1-D convolution over time; ``weight`` is (out, in, kernel) as in torch."""
    kernel = weight.shape[2]
    pad = dilation * (kernel // 2)
    length = h.shape[0]
    padded = np.pad(h, ((pad, pad), (0, 0)))
    columns = np.concatenate(
        [padded[j * dilation : j * dilation + length] for j in range(kernel)], axis=1
    )
    flat = weight.transpose(2, 1, 0).reshape(kernel * weight.shape[1], weight.shape[0])
    out: FloatArray = (columns @ flat + bias).astype(np.float32)
    return out


def _softmax(x: FloatArray) -> FloatArray:
    e: FloatArray = np.exp(x - x.max(axis=-1, keepdims=True)).astype(np.float32)
    out: FloatArray = (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
    return out


@dataclass
class Decoding:
    """How tag probabilities become spans and how spans merge with the rules (tuned on dev)."""

    threshold: float = 0.5
    min_score: float = 0.6
    min_tokens: int = 4
    join_rule_cues: bool = False
    #: Replace an indirect or mixed rule record's content by a tagged span scoring at least this
    #: that overlaps it but would not half-match it (0: never).
    adjust_score: float = 0.0
    #: Drop an indirect or mixed rule record whose wordpieces' mean content probability is
    #: below this (0: never). A quotation in marks always stays.
    drop_below: float = 0.0

    def to_array(self) -> FloatArray:
        return np.array(
            [
                self.threshold,
                self.min_score,
                self.min_tokens,
                float(self.join_rule_cues),
                self.adjust_score,
                self.drop_below,
            ],
            dtype=np.float32,
        )

    @classmethod
    def from_array(cls, values: FloatArray) -> Decoding:
        v = [float(x) for x in values] + [0.0] * (6 - len(values))
        return cls(v[0], v[1], int(v[2]), bool(v[3]), v[4], v[5])


class AttributionTagger:
    """The learned head; see the module docstring."""

    def __init__(
        self, arrays: dict[str, FloatArray], source: Any = None, decoding: Decoding | None = None
    ) -> None:
        self.arrays = arrays
        self.source = source
        self.dilations = [int(d) for d in arrays["dilations"]]
        settings = arrays.get("decoding")
        self.decoding = decoding or (
            Decoding.from_array(settings) if settings is not None else Decoding()
        )

    @classmethod
    def load(cls, path: Path | str = DEFAULT_HEAD, source: Any = None) -> AttributionTagger:
        """Read the head from an ``.npz`` (no pickle). ``source``: a ModelService or embedder
        used by :meth:`augment` to compute token features."""
        with np.load(Path(path), allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k], dtype=np.float32) for k in data.files}
        return cls(arrays, source)

    @classmethod
    def load_optional(
        cls, path: Path | str = DEFAULT_HEAD, source: Any = None
    ) -> AttributionTagger | None:
        """The tagger, or None (rules only) when the head file is missing or unreadable."""
        try:
            return cls.load(path, source)
        except (OSError, ValueError, KeyError) as error:
            log.warning("attribution tagger unavailable, rules only: %s", error)
            return None

    # ------------------------------------------------------------------- inference

    def probabilities(self, features: FloatArray) -> FloatArray:
        """Tag probabilities ``(n, 3, 3)``: head (content/source/cue) × (O, B, I)."""
        a = self.arrays
        if not len(features):
            return np.zeros((0, 3, 3), dtype=np.float32)
        x = ((features - a["mean"]) / a["std"]).astype(np.float32)
        h = _gelu(x @ a["w_in"].T + a["b_in"])
        for k in range(len(self.dilations)):
            h = h + _gelu(_conv(h, a[f"w_conv{k}"], a[f"b_conv{k}"], self.dilations[k]))
        logits = h @ a["w_out"].T + a["b_out"]
        return _softmax(logits.reshape(len(features), 3, 3))

    def tag(
        self, article: Article, token_feats: TokenFeatures, records: Sequence[QuoteRecord] = ()
    ) -> FloatArray:
        lexical = lexical_features(article, token_feats.offsets, records)
        if "use_rules" in self.arrays and not self.arrays["use_rules"][0]:
            lexical[:, 9:13] = 0.0
        return self.probabilities(np.concatenate([token_feats.hidden, lexical], axis=1))

    def spans(
        self,
        article: Article,
        token_feats: TokenFeatures,
        records: Sequence[QuoteRecord] = (),
        head: int = 0,
        probs: FloatArray | None = None,
    ) -> list[tuple[int, int]]:
        """Character spans of tagged content (``head=0``; 1: source, 2: cue), inside the text."""
        return [s for s, _ in self.scored_spans(article, token_feats, records, head, probs)]

    def scored_spans(
        self,
        article: Article,
        token_feats: TokenFeatures,
        records: Sequence[QuoteRecord] = (),
        head: int = 0,
        probs: FloatArray | None = None,
    ) -> list[tuple[Span, float]]:
        if probs is None:
            probs = self.tag(article, token_feats, records)
        decoding = self.decoding
        is_content = head == 0
        threshold = decoding.threshold
        min_tokens = decoding.min_tokens if is_content else 1
        min_score = decoding.min_score if is_content else threshold
        p = probs[:, head, :]
        inside = (p[:, 1] + p[:, 2]) >= threshold
        offsets = token_feats.offsets
        text = article.text
        result: list[tuple[Span, float]] = []
        start: int | None = None
        for i in range(len(p) + 1):
            begin_new = i < len(p) and inside[i] and p[i, 1] > p[i, 2]
            if start is not None and (i == len(p) or not inside[i] or begin_new):
                tokens = i - start
                score = float((p[start:i, 1] + p[start:i, 2]).mean())
                if tokens >= min_tokens and score >= min_score:
                    span = _snap(text, int(offsets[start, 0]), int(offsets[i - 1, 1]))
                    if span is not None:
                        result.append((span, score))
                start = None
            if i < len(p) and inside[i] and start is None:
                start = i
        return result

    # ------------------------------------------------------------------- merging

    def features(self, article: Article) -> TokenFeatures:
        if self.source is None:
            raise ValueError("AttributionTagger has no model source for token features")
        layers = int(self.arrays["layers"][0]) if "layers" in self.arrays else None
        return token_features(self.source, article, layers)

    def augment(
        self,
        article: Article,
        records: list[QuoteRecord],
        index: SpeakerIndex,
        token_feats: TokenFeatures | None = None,
        probs: FloatArray | None = None,
    ) -> list[QuoteRecord]:
        """The rule records plus tagged content spans that no rule record touches.

        The head's small matrix products run on one BLAS thread: with the default
        thread pool they were several times slower beside torch's own threads.
        """
        with threadpool_limits(limits=1, user_api="blas"):
            return self._augment(article, records, index, token_feats, probs)

    def _augment(
        self,
        article: Article,
        records: list[QuoteRecord],
        index: SpeakerIndex,
        token_feats: TokenFeatures | None = None,
        probs: FloatArray | None = None,
    ) -> list[QuoteRecord]:
        """The rule records plus tagged content spans that no rule record touches.

        ``probs``: tag probabilities already computed by :meth:`tag` for these records.
        """
        if token_feats is None:
            if self.source is None:
                return records
            try:
                token_feats = self.features(article)
            except (RuntimeError, ValueError, OSError) as error:  # ModelError is a RuntimeError
                log.warning("attribution tagger skipped, rules only: %s", error)
                return records
        if probs is None:
            probs = self.tag(article, token_feats, records)
        contents = self.scored_spans(article, token_feats, records, 0, probs)
        sources = self.spans(article, token_feats, records, 1, probs)
        cues = self.spans(article, token_feats, records, 2, probs)
        records = self._revise(article.text, records, contents, token_feats.offsets, probs)
        taken = [r.content_span for r in records]
        added: list[QuoteRecord] = []
        rule_cues = {r.cue_span for r in records if r.cue_span}
        for span, _score in contents:
            if any(s < span[1] and span[0] < e for s, e in taken):
                continue
            record = self._record(article, index, span, sources, cues, records + added)
            if record.cue_span in rule_cues and not self.decoding.join_rule_cues:
                record = _replace_cue(record)
            added.append(record)
            taken.append(span)
        merged = records + added
        merged.sort(key=lambda r: r.content_span)
        return merged

    def _revise(
        self,
        text: str,
        records: list[QuoteRecord],
        contents: list[tuple[Span, float]],
        offsets: IntArray,
        probs: FloatArray,
    ) -> list[QuoteRecord]:
        """Drop rule records the tagger rejects; move indirect/mixed content it bounds otherwise."""
        decoding = self.decoding
        if not decoding.adjust_score and not decoding.drop_below:
            return list(records)
        revised: list[QuoteRecord] = []
        inside = probs[:, 0, 1] + probs[:, 0, 2] if len(probs) else np.zeros(0, np.float32)
        for record in records:
            start, end = record.content_span
            quoted = record.kind == "direct" or record.content[:1] in "'‘“\""
            if decoding.drop_below and len(offsets) and not quoted:
                first = int(np.searchsorted(offsets[:, 1], start, side="right"))
                last = int(np.searchsorted(offsets[:, 0], end, side="left"))
                if last > first and float(inside[first:last].mean()) < decoding.drop_below:
                    continue
            if decoding.adjust_score and not quoted:
                overlapping = [
                    (span, score)
                    for span, score in contents
                    if span[0] < end and start < span[1] and score >= decoding.adjust_score
                ]
                if len(overlapping) == 1:
                    span = overlapping[0][0]
                    shared = min(end, span[1]) - max(start, span[0])
                    if shared < 0.5 * max(end - start, span[1] - span[0]):
                        record = replace(record, content_span=span, content=text[span[0] : span[1]])
            revised.append(record)
        return revised

    def _record(
        self,
        article: Article,
        index: SpeakerIndex,
        span: Span,
        sources: list[Span],
        cues: list[Span],
        earlier: list[QuoteRecord],
    ) -> QuoteRecord:
        text = article.text
        sentence_ids = tuple(
            s.index for s in article.sentences if s.start < span[1] and span[0] < s.end
        )
        region = _region(article, span)
        near_cues = [c for c in cues if region[0] <= c[0] < region[1] and not _inside(c, span)]
        cue = min(near_cues, key=lambda c: _distance(c, span)) if near_cues else None
        near_sources = [
            s for s in sources if region[0] <= s[0] < region[1] and not _inside(s, span)
        ]
        anchor = cue or span
        source = (
            min(near_sources, key=lambda s: _source_rank(article, index, s, anchor))
            if near_sources
            else None
        )
        speaker: str | None = None
        if source is not None:
            speaker = _speaker_name(index, text, source)
        else:
            before = [r for r in earlier if r.content_span[0] < span[0] and r.speaker]
            if before:
                last = max(before, key=lambda r: r.content_span[0])
                speaker = last.speaker
        paragraph = next((p.index for p in article.paragraphs if p.start <= span[0] < p.end), 0)
        return QuoteRecord(
            speaker=speaker,
            speaker_span=source,
            cue=text[cue[0] : cue[1]] if cue else None,
            cue_span=cue,
            content=text[span[0] : span[1]],
            content_span=span,
            kind=_kind(article, span),
            paragraph=paragraph,
            sentences=sentence_ids,
        )


def _replace_cue(record: QuoteRecord) -> QuoteRecord:
    return QuoteRecord(
        speaker=record.speaker,
        speaker_span=record.speaker_span,
        cue=record.cue,
        cue_span=None,
        content=record.content,
        content_span=record.content_span,
        kind=record.kind,
        paragraph=record.paragraph,
        sentences=record.sentences,
    )


def _snap(text: str, start: int, end: int) -> Span | None:
    """Widen to whole words, strip spaces and a final period; None when nothing is left."""
    start, end = max(0, start), min(len(text), end)
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and end > 0 and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] == "."):
        end -= 1
    return (start, end) if end > start else None


def _inside(inner: Span, outer: Span) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


def _distance(a: Span, b: Span) -> int:
    return max(0, a[0] - b[1], b[0] - a[1])


def _region(article: Article, span: Span) -> Span:
    """The sentences around ``span``: one before it to one after it."""
    sentences = article.sentences
    ids = [i for i, s in enumerate(sentences) if s.start < span[1] and span[0] < s.end]
    if not ids:
        return span
    first, last = max(0, ids[0] - 1), min(len(sentences) - 1, ids[-1] + 1)
    return (sentences[first].start, sentences[last].end)


def _source_rank(
    article: Article, index: SpeakerIndex, source: Span, anchor: Span
) -> tuple[bool, bool, int]:
    """Order tagged sources for a cue: its own sentence, then a known speaker, then nearest.

    In "Mayor Elena Vasquez, who has championed the project since her first campaign,
    called the vote …" the head tags both noun phrases as sources; the nearer one is the
    object of the aside, the speaker is the name the index knows.
    """
    return (
        _sentence_of(article, source[0]) != _sentence_of(article, anchor[0]),
        _known_speaker(index, article.text, source) is None,
        _distance(source, anchor),
    )


def _sentence_of(article: Article, offset: int) -> int:
    return next((s.index for s in article.sentences if s.start <= offset < s.end), -1)


def _known_speaker(index: SpeakerIndex, text: str, source: Span) -> str | None:
    """The indexed person or body at ``source`` (a resolved pronoun too), else None."""
    mention = index.mention_in(source[0], source[1])
    if mention is not None and mention.entity >= 0:
        return index.name(mention.entity)
    written = text[source[0] : source[1]].strip()
    if written.lower() in _PRONOUNS:
        entity = index.resolve_pronoun(written, source[0])
        if entity is not None:
            return index.name(entity)
    return None


def _speaker_name(index: SpeakerIndex, text: str, source: Span) -> str:
    return _known_speaker(index, text, source) or text[source[0] : source[1]].strip()


def _kind(article: Article, span: Span) -> QuoteKind:
    text = article.text[span[0] : span[1]]
    inner = article.text[max(0, span[0] - 1) : span[1] + 1]
    if inner[:1] in _QUOTE_CHARS and inner[-1:] in _QUOTE_CHARS + ",":
        return "direct"
    if any(c in _QUOTE_CHARS for c in text):
        return "mixed"
    return "indirect"
