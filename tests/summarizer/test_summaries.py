"""Summary methods: extractive picks, the faithfulness guard and abstractive summaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from summarizer.models import ModelService
from summarizer.reading import Article, build_article, read_source
from summarizer.summaries import (
    Bullet,
    Summary,
    check_support,
    summarize,
    summarize_abstractive,
    summarize_extractive,
    summarize_sync,
    summary_units,
)

# Invented news: none of this is real article text.
FLOOD = (
    "Heavy rain flooded the centre of Marrowby on Tuesday, forcing 340 residents to leave "
    "their homes as the River Tansy burst its banks.\n"
    "Emergency crews used boats to reach families trapped on upper floors along Mill Street, "
    "the county fire service said.\n"
    "Mayor Helen Osei said the town had not seen water this high since 1987.\n"
    '"We are asking everyone to stay away from the river until the water goes down," '
    "Osei told reporters at the town hall.\n"
    "The Met Office issued an amber warning for more rain on Wednesday.\n"
    "Schools in the area will stay closed until Friday, the council said.\n"
    "Local shops reported losses after stock was ruined by the floodwater.\n"
    "Engineers will inspect the Tansy bridge before it reopens to traffic.\n"
)

DAILY_MAIL_STYLE = (
    "By . Jane Fictional . PUBLISHED: 10:01 EST, 5 May 2014 . | . UPDATED: 11:40 EST, "
    "5 May 2014 . "
    "A council in Northshire has voted to close three libraries to save £2million a year. "
    "Councillors approved the plan by 12 votes to 9 after a three-hour meeting on Monday night. "
    "But residents said they would take the decision to the High Court. "
    "Scroll down for video "
    "Angry: Residents protest outside the town hall on Monday The libraries will shut in June. "
    "Click here to read more about library closures. "
    "Council leader Tom Brask said the cuts were painful but necessary."
)


def vectors_for(models: ModelService, article: Article) -> np.ndarray:
    return models.embed_sync([unit.text for unit in summary_units(article)])


def extractive(models: ModelService, article: Article, n: int = 3) -> Summary:
    return summarize_extractive(article, vectors_for(models, article), n)


def assert_spans_show_text(article: Article, bullet: Bullet) -> None:
    """The span covers exactly the bullet text (only its first letter may be capitalised)."""
    assert len(bullet.spans) == 1
    start, end = bullet.spans[0]
    source = article.text[start:end]
    assert source[1:] == bullet.text[1:]
    assert source[:1].upper() == bullet.text[:1].upper()


# --------------------------------------------------------------------------- extractive


def test_extractive_gives_n_bullets_in_article_order_with_exact_spans(models: ModelService) -> None:
    article = build_article(FLOOD)
    summary = extractive(models, article)
    assert summary.method == "extractive"
    assert len(summary.bullets) == 3
    starts = [bullet.spans[0][0] for bullet in summary.bullets]
    assert starts == sorted(starts)
    for bullet in summary.bullets:
        assert not bullet.generated
        assert_spans_show_text(article, bullet)
    # The lead sentence carries the news: a reader must see it.
    assert summary.bullets[0].text.startswith("Heavy rain flooded the centre of Marrowby")


@pytest.mark.parametrize("n", [1, 2, 5])
def test_extractive_gives_the_configured_number_of_bullets(models: ModelService, n: int) -> None:
    article = build_article(FLOOD)
    assert len(extractive(models, article, n).bullets) == n


def test_extractive_never_shows_two_versions_of_the_same_sentence(models: ModelService) -> None:
    text = FLOOD.replace(
        "The Met Office issued",
        "Heavy rain flooded the centre of Marrowby on Tuesday and forced 340 residents to "
        "leave their homes when the River Tansy burst its banks.\nThe Met Office issued",
    )
    article = build_article(text)
    summary = extractive(models, article, 4)
    texts = [bullet.text for bullet in summary.bullets]
    assert len(set(texts)) == len(texts)
    vectors = models.embed_sync(texts)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, 0.0)
    assert float(similarity.max()) < 0.88
    assert sum("River Tansy burst its banks" in t for t in texts) == 1


def test_bylines_scroll_prompts_and_links_are_never_chosen(models: ModelService) -> None:
    article = build_article(DAILY_MAIL_STYLE)
    summary = extractive(models, article, 10)  # more than the article has
    shown = " ".join(bullet.text for bullet in summary.bullets)
    for junk in ("PUBLISHED", "UPDATED", "By .", "Jane Fictional", "Scroll down", "Click here"):
        assert junk not in shown
    assert summary.bullets[0].text.startswith("A council in Northshire has voted")
    # The caption glued to the next sentence is split off: the sentence can be used.
    units = {unit.text: unit.kind for unit in summary_units(article)}
    assert units["The libraries will shut in June."] == "content"
    assert units["Angry: Residents protest outside the town hall on Monday"] != "content"
    for bullet in summary.bullets:
        assert_spans_show_text(article, bullet)


def test_captions_and_questions_give_way_to_real_sentences(models: ModelService) -> None:
    text = (
        "Pictured: The new ferry at Port Elric on its first crossing\n"
        "Is this the end of the old harbour?\n"
        "A new electric ferry began service between Port Elric and Skarra Island on Sunday.\n"
        "The crossing now takes 40 minutes instead of an hour, the operator said.\n"
        "The ferry cost £18million and carries 300 passengers.\n"
        "Islanders had campaigned for a faster link for a decade.\n"
    )
    article = build_article(text)
    summary = extractive(models, article, 3)
    shown = [bullet.text for bullet in summary.bullets]
    assert not any(t.startswith("Pictured") or t.endswith("?") for t in shown)


def test_many_bullets_still_prefer_real_sentences_to_questions(models: ModelService) -> None:
    towns = ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Gorse", "Hazel", "Ivy"]
    towns += ["Juniper", "Kale", "Larch", "Maple", "Nettle", "Oak"]
    sentences = [
        f"The library in {town} will open on Sundays from {i + 1} May."
        for i, town in enumerate(towns)
    ]
    sentences.insert(2, "Will readers come?")
    article = build_article("\n".join(sentences))
    summary = extractive(models, article, 15)
    assert len(summary.bullets) == 15
    assert "Will readers come?" not in [bullet.text for bullet in summary.bullets]


def test_datelines_and_leading_but_are_trimmed_and_spans_follow(models: ModelService) -> None:
    text = (
        "WASHINGTON (CNN) -- The Senate passed a bill on Tuesday to fund rural broadband "
        "for five more years.\n"
        "But the measure still needs the approval of the House, where its fate is unclear.\n"
    )
    article = build_article(text)
    summary = extractive(models, article, 2)
    first, second = summary.bullets
    assert first.text.startswith("The Senate passed a bill")
    assert article.text[first.spans[0][0] : first.spans[0][1]] == first.text
    assert second.text.startswith("The measure still needs")
    start, end = second.spans[0]
    assert article.text[start:end] == "the" + second.text[3:]


@pytest.mark.parametrize(
    "text",
    [
        "The county of Wexmoor will cut bus fares by half from next Monday, officials said.",
        "Quarry workers in Delvin went on strike on Friday over pay.\n"
        "The union said 200 members had stopped work at the Delvin site.",
    ],
)
def test_short_articles_give_what_they_have(models: ModelService, text: str) -> None:
    article = build_article(text)
    summary = extractive(models, article, 3)
    assert len(summary.bullets) == len(article.sentences)
    for bullet in summary.bullets:
        assert_spans_show_text(article, bullet)


def test_sentences_that_the_splitter_glued_together_are_separated() -> None:
    text = (
        "A dramatic interview with a famed coach -- and the tearful reaction of one of his "
        "former players. These are the best videos of the week. Mr. Hale moved to the U.S. "
        "in 1990 and later worked in St. Louis."
    )
    article = build_article(text)
    shown = [unit.text for unit in summary_units(article)]
    assert "These are the best videos of the week." in shown
    assert any(t.startswith("Mr. Hale moved to the U.S. in 1990") for t in shown)


def test_vectors_must_match_the_units(models: ModelService) -> None:
    article = build_article(FLOOD)
    with pytest.raises(ValueError, match="vectors"):
        summarize_extractive(article, np.zeros((2, 384), dtype=np.float32), 3)


def test_summary_json_has_text_spans_and_generated_flag(models: ModelService) -> None:
    article = build_article(FLOOD)
    data = extractive(models, article, 2).to_json()
    assert data["method"] == "extractive"
    assert [set(bullet) for bullet in data["bullets"]] == [{"text", "spans", "generated"}] * 2
    start, end = data["bullets"][0]["spans"][0]
    assert data["bullets"][0]["text"] == article.text[start:end]


# --------------------------------------------------------------------------- the guard

# Each unsupported sentence is on topic (close to an article sentence in embedding
# space) but changes one fact: only the lexical checks can catch it.
PARAPHRASE = "River Tansy flooding forced 340 Marrowby residents from their homes on Tuesday."
UNSUPPORTED = {
    "unknown-name": "Heavy rain flooded Marrowby, and Governor Dalgren said 340 residents "
    "had to leave their homes.",
    "unknown-number": "Heavy rain forced 1,200 residents of Marrowby to leave their homes.",
    "unknown-quote": '"We are asking everyone to stay calm and pray for the river," Osei told '
    "reporters at the town hall.",
}
UNRELATED = "Scientists announced that a new species of beetle lives in desert caves."


def best_similarity(models: ModelService, article: Article, sentence: str) -> float:
    vectors = vectors_for(models, article)
    return float((vectors @ models.embed_sync([sentence])[0]).max())


def test_guard_keeps_a_faithful_paraphrase(models: ModelService) -> None:
    article = build_article(FLOOD)
    similarity = best_similarity(models, article, PARAPHRASE)
    assert check_support(PARAPHRASE, article, similarity=similarity) is None


@pytest.mark.parametrize("reason", sorted(UNSUPPORTED))
def test_guard_drops_made_up_facts_with_the_reason(models: ModelService, reason: str) -> None:
    article = build_article(FLOOD)
    sentence = UNSUPPORTED[reason]
    similarity = best_similarity(models, article, sentence)
    dropped = check_support(sentence, article, similarity=similarity)
    assert dropped is not None
    assert dropped.reason == reason
    assert dropped.text == sentence
    assert dropped.detail


def test_guard_names_the_invented_name_number_and_quote() -> None:
    article = build_article(FLOOD)
    name = check_support(UNSUPPORTED["unknown-name"], article)
    number = check_support(UNSUPPORTED["unknown-number"], article)
    quote = check_support(UNSUPPORTED["unknown-quote"], article)
    assert name is not None and "Dalgren" in name.detail
    assert number is not None and "1,200" in number.detail
    assert quote is not None and "pray for the river" in quote.detail


def test_guard_drops_a_sentence_about_something_else(models: ModelService) -> None:
    article = build_article(FLOOD)
    similarity = best_similarity(models, article, UNRELATED)
    dropped = check_support(UNRELATED, article, similarity=similarity)
    assert dropped is not None
    assert dropped.reason in ("unrelated", "unknown-words")
    words_only = check_support("The river flooded the town.", article, similarity=0.2)
    assert words_only is not None and words_only.reason == "unrelated"


def test_abstractive_keeps_supported_sentences_and_fills_with_extractive(
    models: ModelService,
) -> None:
    article = build_article(FLOOD)
    units = summary_units(article)
    vectors = models.embed_sync([unit.text for unit in units])
    generated = [PARAPHRASE, *UNSUPPORTED.values(), UNRELATED]
    summary = summarize_abstractive(
        article,
        generated,
        models.embed_sync(generated),
        units=units,
        vectors=vectors,
        n=3,
    )
    assert summary.method == "abstractive"
    assert summary.generated == tuple(generated)
    assert [bullet.text for bullet in summary.kept] == [PARAPHRASE]
    assert len(summary.bullets) == 3
    dropped = {d.text: d.reason for d in summary.dropped}
    assert set(dropped) == set(generated) - {PARAPHRASE}
    for reason, sentence in UNSUPPORTED.items():
        assert dropped[sentence] == reason
    # The generated bullet points at its evidence; the others show article text exactly.
    evidence = article.text[summary.kept[0].spans[0][0] : summary.kept[0].spans[0][1]]
    assert "Marrowby" in evidence
    for bullet in summary.bullets:
        if not bullet.generated:
            assert_spans_show_text(article, bullet)
    json_bullets = summary.to_json()["bullets"]
    assert sum(bullet["generated"] for bullet in json_bullets) == 1


def test_abstractive_with_everything_dropped_is_the_extractive_summary(
    models: ModelService,
) -> None:
    article = build_article(FLOOD)
    units = summary_units(article)
    vectors = models.embed_sync([unit.text for unit in units])
    generated = list(UNSUPPORTED.values())
    summary = summarize_abstractive(
        article, generated, models.embed_sync(generated), units=units, vectors=vectors, n=3
    )
    assert summary.kept == ()
    assert len(summary.dropped) == 3
    assert summary.bullets == summarize_extractive(article, vectors, 3).bullets


def test_abstractive_drops_a_sentence_cut_off_by_the_token_limit(models: ModelService) -> None:
    article = build_article(FLOOD)
    units = summary_units(article)
    vectors = models.embed_sync([unit.text for unit in units])
    generated = [PARAPHRASE, "Emergency crews used boats to reach families on"]
    summary = summarize_abstractive(
        article, generated, models.embed_sync(generated), units=units, vectors=vectors, n=3
    )
    assert [(d.text, d.reason) for d in summary.dropped] == [(generated[1], "fragment")]


# --------------------------------------------------------------------------- entry points


async def test_summarize_uses_the_configured_method_and_count(models: ModelService) -> None:
    article = build_article(FLOOD)
    summary = await summarize(article, models)
    assert summary.method == models.settings.summary_method == "extractive"
    assert len(summary.bullets) == models.settings.summary_sentences
    assert summary.timings_ms["total"] >= summary.timings_ms["embed"]
    assert summary.bullets == summarize_sync(article, models).bullets


async def test_summarize_rejects_an_unknown_method(models: ModelService) -> None:
    article = build_article(FLOOD)
    with pytest.raises(ValueError, match="unknown summary method"):
        await summarize(article, models, method="poetic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        summarize_sync(article, models, sentences=0)


@pytest.mark.shared
async def test_seed_article_extractive_summary(
    models: ModelService, seed_article_path: Path
) -> None:
    article = await read_source(str(seed_article_path))
    summary = await summarize(article, models, method="extractive", sentences=3)
    assert len(summary.bullets) == 3
    starts = [bullet.spans[0][0] for bullet in summary.bullets]
    assert starts == sorted(starts)
    for bullet in summary.bullets:
        assert_spans_show_text(article, bullet)
    shown = " ".join(bullet.text for bullet in summary.bullets)
    assert "Putin" in shown or "Trump" in shown


@pytest.mark.slow
async def test_abstractive_with_the_bundled_model(models: ModelService) -> None:
    article = build_article(FLOOD)
    summary = await summarize(article, models, method="abstractive", sentences=3)
    assert summary.method == "abstractive"
    assert summary.generated, "the model wrote nothing"
    assert 1 <= len(summary.bullets) <= 3
    assert summary.timings_ms["generate"] > 0
    vectors = vectors_for(models, article)
    for bullet in summary.kept:
        assert bullet.text in summary.generated
        similarity = float((vectors @ models.embed_sync([bullet.text])[0]).max())
        assert check_support(bullet.text, article, similarity=similarity) is None
    for bullet in summary.bullets:
        if not bullet.generated:
            assert_spans_show_text(article, bullet)
    accounted = {b.text for b in summary.kept} | {d.text for d in summary.dropped}
    assert accounted == set(summary.generated)


async def test_abstractive_falls_back_to_extractive_when_the_model_is_unavailable(
    tmp_path: Path,
) -> None:
    from config import load_settings
    from summarizer.models import ModelService
    from summarizer.summaries import summarize

    broken = ModelService(
        load_settings(cache_dir=tmp_path, summarizer_model=str(tmp_path / "no-model-here"))
    )
    try:
        article = build_article(
            "The council approved the bridge on Tuesday after a long debate about its cost. "
            "The mayor said building could start next spring if the money arrives in time. "
            "Critics warned that steel prices could push the bill far above the estimate. "
            "A vote on the final design is planned for the autumn, officials said."
        )
        summary = await summarize(article, broken, method="abstractive", sentences=2)
    finally:
        broken.close()
    assert summary.method == "extractive"
    assert len(summary.bullets) == 2
    assert not any(bullet.generated for bullet in summary.bullets)
