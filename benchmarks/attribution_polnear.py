"""Attribution benchmark on PolNeAR: content P/R/F1, speaker accuracy and speed.

Run from the repository root (``benchmarks`` is not a package, pysbd owns that name)::

    .venv/bin/python benchmarks/attribution_polnear.py --split dev
    .venv/bin/python benchmarks/attribution_polnear.py --split dev test \\
        --out benchmarks/results/attribution_polnear.md

Gold: for each article the first annotator's ``.ann`` file (sorted by name). One gold
attribution is an ``E`` line; its content is the union of its (possibly discontinuous)
Content spans.

Predictions: records of :func:`summarizer.quotes.extract_quotes` that share a ``cue_span``
are one attribution (a split quote, a follow-on quote paragraph); its content is the union
of their content spans. An attribution whose content lies inside another one's (nested
speech: "Clinton had told police that …, he added") is not scored, as PolNeAR annotates
only the outer one (13 of 19,832 train gold contents lie inside another); the row "nested
kept" scores every record.

Matching: a prediction matches a gold attribution when the characters they share are at
least half of the longer of the two (``overlap >= 0.5 * max(len(pred), len(gold))``),
one-to-one, best overlap first.

Speech subset: gold attributions whose cue holds a speech verb (``SPEECH_CUES``: say, tell,
claim, add, according to, state, explain, ask, announce, write, tweet, argue, insist, note,
report, …) or is only punctuation introducing a quote (``:``). Speech recall counts speech
gold; speech precision leaves out the predictions that matched a non-speech gold
attribution (they are right, just not speech).

Speaker accuracy (matched pairs whose gold has a Source): correct when the predicted
``speaker_span`` overlaps the gold Source span, or the predicted speaker entity has a
mention overlapping it, or the gold source's head word (its last word, for a name) is a
word of the predicted canonical speaker.

Peer baseline: "quote marks + nearest said" — every quoted stretch of 3+ words, speaker the
words next to the nearest said/says in the same paragraph. textacy's
``direct_quotations`` would be the published peer, but it needs a spaCy pipeline that
cannot be installed offline here.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# One BLAS thread: on a shared 2-core machine more threads only spin against each other.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from summarizer.attribution_tagger import DEFAULT_HEAD, AttributionTagger  # noqa: E402
from summarizer.quotes import extract_quotes  # noqa: E402
from summarizer.reading import Article, build_article  # noqa: E402
from summarizer.records import QuoteRecord  # noqa: E402
from summarizer.speakers import SpeakerIndex  # noqa: E402


def _wordset(words: str) -> frozenset[str]:
    """A word list written as text (easier to read and edit than a list literal)."""
    return frozenset(words.split())


DATA = Path(os.environ.get("NEWSBRIEF_SHARED_DATA", ROOT.parent / "shared" / "data")) / "polnear"

SPEECH_CUES = _wordset(
    """
    say says said saying tell tells told telling claim claims claimed claiming add adds
    added adding according state states stated stating explain explains explained
    explaining ask asks asked asking announce announces announced announcing write
    writes wrote writing written tweet tweets tweeted tweeting argue argues argued
    arguing insist insists insisted insisting note notes noted noting report reports
    reported reporting confirm confirms confirmed warn warns warned deny denies denied
    reply replied replies respond responds responded declare declares declared
    acknowledge acknowledged acknowledges admit admits admitted stress stressed
    emphasize emphasized recall recalled recalls predict predicted promise promised vow
    vowed pledge pledged contend contended assert asserted remark remarked mention
    mentioned reveal revealed complain complained conclude concluded continue continued
    testify testified allege alleged quip quipped joke joked echo echoed post posted
    blog blogged retort retorted exclaim exclaimed shout shouted
    """
)

Span = tuple[int, int]


@dataclass
class Gold:
    content: list[Span]
    sources: list[Span]
    cue: str
    speech: bool


@dataclass
class Predicted:
    content: list[Span]
    speaker: str | None
    speaker_span: Span | None
    mentions: list[Span] = field(default_factory=list)


@dataclass
class Doc:
    stem: str
    text: str
    published: date | None
    gold: list[Gold]


# --------------------------------------------------------------------------- loading


def _spans(field_text: str) -> list[Span]:
    spans = []
    for part in field_text.split(";"):
        start, end = part.split()
        spans.append((int(start), int(end)))
    return spans


def is_speech_cue(cue: str) -> bool:
    words = re.findall(r"[a-z]+", cue.lower())
    if not words:
        return cue.strip() != ""
    return any(w in SPEECH_CUES for w in words)


def load_gold(path: Path, text: str) -> list[Gold]:
    spans: dict[str, tuple[str, list[Span]]] = {}
    links: list[dict[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if line.startswith("T") and len(parts) >= 2:
            kind, rest = parts[1].split(" ", 1)
            spans[parts[0]] = (kind, _spans(rest))
        elif line.startswith("E") and len(parts) >= 2:
            links.append(dict(item.split(":", 1) for item in parts[1].split()))
    gold = []
    for link in links:
        if "Content" not in link or link["Content"] not in spans:
            continue
        cue_spans = spans[link["Cue"]][1] if link.get("Cue") in spans else []
        cue = " ".join(text[s:e] for s, e in cue_spans)
        sources = spans[link["Source"]][1] if link.get("Source") in spans else []
        gold.append(Gold(spans[link["Content"]][1], sources, cue, is_speech_cue(cue)))
    return gold


def load_split(split: str, limit: int | None = None, data: Path = DATA) -> list[Doc]:
    published: dict[str, date] = {}
    with (data / "metadata.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row.get("publication_date"):
                with contextlib.suppress(ValueError):
                    published[row["filename"]] = date.fromisoformat(row["publication_date"])
    docs = []
    for text_path in sorted((data / split / "text").glob("*.txt")):
        stem = text_path.stem
        annotations = sorted((data / split / "attributions").glob(f"{stem}_*.ann"))
        if not annotations:
            continue
        text = text_path.read_text(encoding="utf-8")
        docs.append(Doc(stem, text, published.get(stem), load_gold(annotations[0], text)))
        if limit and len(docs) >= limit:
            break
    return docs


# --------------------------------------------------------------------------- predictions


def group_records(records: Iterable[QuoteRecord]) -> list[Predicted]:
    """Records sharing a cue span are one attribution."""
    grouped: dict[object, Predicted] = {}
    for i, record in enumerate(records):
        key: object = record.cue_span if record.cue_span is not None else ("solo", i)
        if key in grouped:
            grouped[key].content.append(record.content_span)
        else:
            grouped[key] = Predicted([record.content_span], record.speaker, record.speaker_span)
    return list(grouped.values())


def predict_rules(
    article: Article, tagger: AttributionTagger | None = None, nested: bool = False
) -> list[Predicted]:
    """Our attributions for ``article``; ``nested``: keep those inside another's content."""
    index = SpeakerIndex(article)
    predicted = group_records(extract_quotes(article, index=index, tagger=tagger))
    entities = {e.name: list(e.mentions) for e in index.entities()}
    for p in predicted:
        p.mentions = entities.get(p.speaker or "", [])
    return predicted if nested else outermost(predicted)


def outermost(predicted: list[Predicted]) -> list[Predicted]:
    """Leave out attributions whose content lies inside another one's content.

    PolNeAR annotates the outer attribution of nested speech only ("Clinton had told
    police that she didn't want the escort, he added" is one attribution, cue "added"):
    13 of the 19,832 train gold contents lie inside another's. NewsBrief keeps the inner
    record (a user may ask what Clinton told the police); scoring it here would count a
    right reading as a false positive. Of two identical contents the first is kept.
    """

    def inside(inner: Predicted, outer: Predicted) -> bool:
        return all(any(s <= a and b <= e for s, e in outer.content) for a, b in inner.content)

    return [
        p
        for i, p in enumerate(predicted)
        if not any(
            j != i and inside(p, q) and (j < i or not inside(q, p)) for j, q in enumerate(predicted)
        )
    ]


def load_tagger(path: Path = DEFAULT_HEAD) -> AttributionTagger | None:
    """The shipped head with the bundled MiniLM as its token-feature source, or None."""
    if not path.is_file():
        return None
    from config.settings import BUNDLED_EMBEDDING_MODEL
    from summarizer.models import EmbeddingModel, locate_model

    return AttributionTagger.load(path, EmbeddingModel(locate_model(BUNDLED_EMBEDDING_MODEL)))


_BASELINE_QUOTE = re.compile(r"[“\"]([^“”\"\n]+)[”\"]")
_BASELINE_SAID = re.compile(r"\b(said|says)\b")


def predict_baseline(article: Article) -> list[Predicted]:
    """Quote marks + nearest "said": the usual first attempt."""
    text = article.text
    predicted = []
    for match in _BASELINE_QUOTE.finditer(text):
        if len(match.group(1).split()) < 3:
            continue
        paragraph = next((p for p in article.paragraphs if p.start <= match.start() < p.end), None)
        if paragraph is None:
            continue
        saids = [
            m
            for m in _BASELINE_SAID.finditer(text, paragraph.start, paragraph.end)
            if not (match.start() <= m.start() < match.end())
        ]
        if not saids:
            continue
        said = min(
            saids, key=lambda m: min(abs(m.start() - match.end()), abs(m.end() - match.start()))
        )
        after = re.match(r"\s+((?:[A-Z][\w.’'\-]*\s?){1,4})", text[said.end() : said.end() + 60])
        before = re.search(
            r"((?:[A-Z][\w.’'\-]*\s){1,4}|\b(?:he|she|they)\s)$",
            text[max(0, said.start() - 60) : said.start()],
        )
        if before:
            start = said.start() - len(before.group(1))
            span: Span | None = (start, start + len(before.group(1).rstrip()))
        elif after:
            start = said.end() + after.start(1)
            span = (start, start + len(after.group(1).rstrip()))
        else:
            span = None
        speaker = text[span[0] : span[1]] if span else None
        predicted.append(Predicted([match.span(1)], speaker, span))
    return predicted


# --------------------------------------------------------------------------- scoring


def _length(spans: list[Span]) -> int:
    return sum(e - s for s, e in _merge(spans))


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def _overlap(a: list[Span], b: list[Span]) -> int:
    total = 0
    for s1, e1 in _merge(a):
        for s2, e2 in _merge(b):
            total += max(0, min(e1, e2) - max(s1, s2))
    return total


def match(predicted: list[Predicted], gold: list[Gold]) -> list[tuple[int, int]]:
    pred_spans = [_merge(p.content) for p in predicted]
    gold_spans = [_merge(g.content) for g in gold]
    pred_len = [sum(e - s for s, e in spans) for spans in pred_spans]
    gold_len = [sum(e - s for s, e in spans) for spans in gold_spans]
    pairs = []
    for i, p_spans in enumerate(pred_spans):
        for j, g_spans in enumerate(gold_spans):
            if not p_spans or not g_spans:
                continue
            if p_spans[-1][1] <= g_spans[0][0] or g_spans[-1][1] <= p_spans[0][0]:
                continue
            shared = _overlap(p_spans, g_spans)
            longer = max(pred_len[i], gold_len[j])
            if shared and shared >= 0.5 * longer:
                pairs.append((shared / longer, i, j))
    pairs.sort(reverse=True)
    used_p: set[int] = set()
    used_g: set[int] = set()
    result = []
    for _, i, j in pairs:
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
            result.append((i, j))
    return result


def speaker_correct(p: Predicted, g: Gold, text: str) -> bool:
    spans = [p.speaker_span] if p.speaker_span else []
    if any(_overlap([s], g.sources) for s in spans + p.mentions):
        return True
    source = " ".join(text[s:e] for s, e in g.sources)
    words = re.findall(r"[\w’']+", source)
    capital = [w for w in words if w[0].isupper()]
    head = (capital or words or [""])[-1].lower()
    head = re.sub(r"[’']s$", "", head)
    predicted_words = {w.lower() for w in re.findall(r"[\w’']+", p.speaker or "")}
    return bool(head) and head in predicted_words


@dataclass
class Tally:
    predicted: int = 0
    gold: int = 0
    matched_gold: int = 0
    matched_pred: int = 0
    ignored_pred: int = 0
    speaker_total: int = 0
    speaker_right: int = 0

    def prf(self) -> tuple[float, float, float]:
        denominator = self.predicted - self.ignored_pred
        precision = self.matched_pred / denominator if denominator else 0.0
        recall = self.matched_gold / self.gold if self.gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    def speaker_accuracy(self) -> float:
        return self.speaker_right / self.speaker_total if self.speaker_total else 0.0


@dataclass
class Result:
    name: str
    all: Tally
    speech: Tally
    times_ms: list[float]
    words: int


def evaluate(
    docs: list[Doc], predict: Callable[[Article], list[Predicted]], name: str, show_errors: int = 0
) -> Result:
    all_tally, speech_tally = Tally(), Tally()
    times: list[float] = []
    words = 0
    shown = 0
    for doc in docs:
        article = build_article(doc.text, published=doc.published, article_id=doc.stem)
        started = time.perf_counter()
        predicted = predict(article)
        times.append((time.perf_counter() - started) * 1000)
        words += len(doc.text.split())
        pairs = match(predicted, doc.gold)
        matched_g = {j for _, j in pairs}
        matched_p = {i for i, _ in pairs}
        for tally, selected in ((all_tally, None), (speech_tally, True)):
            gold_ids = [j for j, g in enumerate(doc.gold) if selected is None or g.speech]
            tally.gold += len(gold_ids)
            tally.matched_gold += sum(1 for j in gold_ids if j in matched_g)
            tally.predicted += len(predicted)
            for i, j in pairs:
                in_subset = j in gold_ids
                if in_subset:
                    tally.matched_pred += 1
                    if doc.gold[j].sources:
                        tally.speaker_total += 1
                        tally.speaker_right += speaker_correct(predicted[i], doc.gold[j], doc.text)
                else:
                    tally.ignored_pred += 1
        if show_errors and shown < show_errors:
            shown += _show_errors(doc, predicted, pairs, matched_g, matched_p)
    return Result(name, all_tally, speech_tally, times, words)


def _show_errors(
    doc: Doc,
    predicted: list[Predicted],
    pairs: list[tuple[int, int]],
    matched_g: set[int],
    matched_p: set[int],
) -> int:
    """Print the speech misses (with their sentence), false positives and speaker errors.

    A miss is tagged ``none`` when no prediction overlaps it, else ``boundary`` (a
    prediction overlaps but not by half of the longer span); a false positive is tagged
    ``partial`` when it overlaps some gold attribution, else ``spurious``.
    """
    text = doc.text
    shown = 0

    def show(spans: list[Span], limit: int = 220) -> str:
        return " | ".join(text[s:e] for s, e in spans)[:limit].replace("\n", " ")

    def context(spans: list[Span]) -> str:
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
        left = max(text.rfind("\n", 0, start), start - 160) + 1
        right = text.find("\n", end)
        right = min(right if right >= 0 else len(text), end + 80)
        return text[left:right].replace("\n", " ")

    print(f"=== {doc.stem}")
    for j, g in enumerate(doc.gold):
        if j not in matched_g and g.speech:
            overlapping = [p for p in predicted if _overlap(p.content, g.content)]
            tag = "boundary" if overlapping else "none"
            print(f"  MISS/{tag} [{show(g.sources)}] <{g.cue}> {show(g.content)!r}")
            print(f"       in: {context(g.content)!r}")
            for p in overlapping[:1]:
                print(f"       pred: {show(p.content)!r}")
            shown += 1
    for i, p in enumerate(predicted):
        if i not in matched_p:
            partial = any(_overlap(p.content, g.content) for g in doc.gold)
            tag = "partial" if partial else "spurious"
            print(f"  FP/{tag} [{p.speaker}] {show(p.content)!r}")
            print(f"       in: {context(p.content)!r}")
            shown += 1
    for i, j in pairs:
        g = doc.gold[j]
        if g.sources and not speaker_correct(predicted[i], g, text):
            content = show(g.content)[:80]
            print(f"  SPKR pred [{predicted[i].speaker}] gold [{show(g.sources)}] {content!r}")
            shown += 1
    return shown


# --------------------------------------------------------------------------- report


def _row(result: Result, subset: str) -> str:
    tally = result.speech if subset == "speech" else result.all
    p, r, f = tally.prf()
    return (
        f"| {result.name} | {subset} | {tally.gold} | {p:.3f} | {r:.3f} | **{f:.3f}** | "
        f"{tally.speaker_accuracy():.3f} ({tally.speaker_right}/{tally.speaker_total}) |"
    )


def report(split: str, docs: list[Doc], results: list[Result]) -> str:
    lines = [
        f"### {split} ({len(docs)} articles)",
        "",
        "| system | attributions | gold | content P | content R | content F1 | speaker acc |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        lines.append(_row(result, "speech"))
        lines.append(_row(result, "all"))
    lines.append(
        "| textacy `direct_quotations` | — | — | — | — | — "
        "| not run: needs a spaCy pipeline, none installable offline |"
    )
    lines.append("")
    for result in results:
        p50 = statistics.median(result.times_ms)
        per_800 = sum(result.times_ms) / result.words * 800 if result.words else 0.0
        p95 = sorted(result.times_ms)[int(0.95 * (len(result.times_ms) - 1))]
        lines.append(
            f"- {result.name}: extraction p50 {p50:.1f} ms/article, p95 {p95:.1f} ms, "
            f"{per_800:.1f} ms per 800 words (mean words/article {result.words / len(docs):.0f})"
        )
    lines.append("")
    return "\n".join(lines)


NOTES = """
## Reading these numbers

- Tuned on train and dev only; test was run once with the final rules.
- Timings are wall-clock on a 2-core machine shared with other jobs, so they are noisy;
  they include building the speaker index (``SpeakerIndex``), not reading the article.
- "all" includes beliefs and intentions (think, want, hope, backs, "is expected"…), which
  the rules mostly do not look for, so its recall is low by design.
- The published PolNeAR tagger (content F1 72.9) is scored on exact spans; the figures
  here use the half-overlap match above, so they are not directly comparable.
- Known misses: headline and caption fragments, agentless questions ("Asked whether …"),
  subjects with relative clauses ("people who have battled … say"), poll phrasing ("all
  but two said"), quote runs that PolNeAR splits into separate attributions where we
  inherit one cue, and content boundaries that PolNeAR draws differently (trailing
  adjuncts such as "when …"/"because …", lead-ins before a partial quote).
- "rules + tagger": :func:`extract_quotes` with the learned
  :class:`~summarizer.attribution_tagger.AttributionTagger` (``summarizer/data/
  attribution_head.npz``, trained by ``benchmarks/train_attribution_tagger.py`` on the
  840 PolNeAR train articles, decoding settings chosen on dev, test run once). It keeps
  the rule records, drops those the tagger scores below its threshold, and adds tagged
  content spans no rule touches. Its timings include the MiniLM forward pass (first 3
  layers, one BLAS/torch thread). Its train rows are in-sample.
- Error analysis: ``--errors N`` prints misses (tagged ``none``/``boundary``), false
  positives (``partial``/``spurious``) and speaker errors with their sentence; use it on
  train or dev only.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", nargs="+", default=["dev"], choices=["train", "dev", "test"])
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    parser.add_argument(
        "--errors",
        type=int,
        default=0,
        help="print about N errors (misses, false positives, speakers) with context; "
        "for error analysis on train/dev only",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the markdown tables here")
    parser.add_argument(
        "--tagger",
        type=Path,
        default=DEFAULT_HEAD,
        help="the learned head (.npz) for the rules+tagger rows; skipped when missing",
    )
    parser.add_argument(
        "--tagger-limit",
        type=int,
        default=None,
        help="run rules+tagger on only the first N articles of train (it embeds each one)",
    )
    args = parser.parse_args(argv)
    tagger = load_tagger(args.tagger)
    if tagger is not None:
        import torch

        torch.set_num_threads(1)
    if tagger is None:
        print(f"no tagger head at {args.tagger}: rules-only rows", file=sys.stderr)
    sections = []
    for split in args.split:
        docs = load_split(split, args.limit)
        rules = evaluate(docs, predict_rules, "NewsBrief rules (quotes.py)", args.errors)
        results = [
            rules,
            evaluate(docs, lambda a: predict_rules(a, nested=True), "NewsBrief rules, nested kept"),
        ]
        if tagger is not None:
            tagged_docs = docs
            name = "NewsBrief rules + tagger"
            if split == "train" and args.tagger_limit:
                tagged_docs = docs[: args.tagger_limit]
                name += f" (first {args.tagger_limit} train articles; in-sample)"
                results.append(
                    evaluate(tagged_docs, predict_rules, "NewsBrief rules (same articles)")
                )
            elif split == "train":
                name += " (in-sample: trained on train)"
            results.append(
                evaluate(tagged_docs, lambda a: predict_rules(a, tagger), name, args.errors)
            )
        baseline = evaluate(docs, predict_baseline, "baseline: quote marks + nearest said")
        section = report(split, docs, [*results, baseline])
        print(section)
        sections.append(section)
    if args.out:
        command = "    .venv/bin/python benchmarks/attribution_polnear.py " + " ".join(
            a if " " not in a else repr(a) for a in (argv if argv is not None else sys.argv[1:])
        )
        method = "\n\n".join((__doc__ or "").split("\n\n")[3:]).strip()
        header = (
            "# Attribution on PolNeAR\n\nCommand (from the repository root):\n\n"
            f"{command}\n\n{method}\n\n"
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(header + "\n".join(sections) + NOTES, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
