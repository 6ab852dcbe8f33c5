"""Where a statement was made: speaking settings only, verbatim, never content locatives."""

# News text uses typographic apostrophes and quotes; the tests must too.

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summarizer.places import statement_place
from summarizer.reading import build_article


def _place(text: str, snippet: str) -> str | None:
    article = build_article(text, published=date(2016, 9, 28))
    sentence = article.sentence_at(article.text.index(snippet))
    assert sentence is not None
    found = statement_place(article, sentence.index)
    if found is None:
        return None
    phrase, (start, end) = found
    assert article.text[start:end] == phrase  # verbatim, with its span
    return phrase


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Trump told reporters aboard Air Force One that talks went well.", "aboard Air Force One"),
        ("Dean appeared on MSNBC on Tuesday and said he regretted it.", "on MSNBC"),
        ("Witkoff appeared on CNN on Sunday to discuss the talks.", "on CNN"),
        ("Cruz thanked Trump on Twitter for backing his bill.", "on Twitter"),
        ("He said in an interview with The Washington Post that he would run.",
         "in an interview with The Washington Post"),
        ("She said in an interview on Monday that the plan had failed.", "in an interview"),
        ("Trump said at a rally in Flint, Mich. that jobs were coming back.",
         "at a rally in Flint, Mich."),
        ("Josh Earnest said at a briefing Monday that the law worked.", "at a briefing"),
        ("He spoke during a panel discussion about the economy.", "during a panel discussion"),
        ("At a news conference, the mayor said the blast was intentional.",
         "At a news conference"),
        ("In a statement Friday, Trump said he was honored by the endorsement.",
         "In a statement"),
        ("In a Facebook message posted Friday, Cruz said he would vote for Trump.",
         "In a Facebook message"),
        ("On this weekend’s broadcast of “Fox News Sunday,” Pence said the invitation "
         "was a joke.", "On this weekend’s broadcast of “Fox News Sunday,”"),
        ("Clinton said on CNN’s “State of the Union” that she was ready.",
         "on CNN’s “State of the Union”"),
        ("On The Steve Harvey Morning Show on Tuesday, Clinton criticized the officer.",
         "On The Steve Harvey Morning Show"),
        ("Mr. Obama said at the Congressional Black Caucus Foundation gala dinner in "
         "Washington that progress was on the ballot.",
         "at the Congressional Black Caucus Foundation gala dinner in Washington"),
        ("Dean poked at Trump during the Monday night debate, tweeting about it.",
         "during the Monday night debate"),
        ("McConnell said on the Senate floor that the bill would pass.", "on the Senate floor"),
    ],
)  # fmt: skip
def test_settings(text: str, expected: str) -> None:
    assert _place(text, text[:20]) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Locatives about the content, not where anyone spoke.
        "He said soldiers in Russia’s Kursk region had surrendered to the army.",
        "Officials said the fighting in Ukraine had intensified overnight.",
        "The president met Putin in Helsinki last year.",
        # Settings inside quotations or inside the reported content.
        "“I said it on CNN and I will say it again,” the senator told us.",
        "He said that Trump had mocked her at a rally in Ohio last month.",
        "She shared that the mayor was booed on Twitter and at the convention.",
        # Idioms that look like events.
        "In the event of a shutdown, he said, agencies would close.",
        "The meeting took place aboard the ship.",
        "Prices on Twitter stock fell sharply yesterday.",
    ],
)
def test_no_invented_or_content_places(text: str) -> None:
    assert _place(text, text[:15]) is None


def test_searches_the_introducing_sentence_of_the_paragraph() -> None:
    text = (
        "Mr. Smith has led the city for a decade and rarely gives interviews.\n"
        "While speaking to reporters aboard Air Force One on Sunday, Mr. Trump explained "
        "his plan. “We are hoping to stop the war,” he said. “It looks strong to me.”\n"
        "In Moscow, officials declined to comment."
    )
    assert _place(text, "We are hoping") == "aboard Air Force One"
    assert _place(text, "It looks strong") == "aboard Air Force One"
    assert _place(text, "officials declined") is None  # another paragraph
    assert _place(text, "Mr. Smith has led") is None  # no later sentence is searched


def test_seed_places(seed_article_path: Path) -> None:
    text = seed_article_path.read_text(encoding="utf-8")
    expected = {
        "We are hoping to see": "aboard Air Force One",
        "Mr. Trump explained": "aboard Air Force One",
        "his meeting with Mr. Putin": "on CNN",
        "the gap between both governments": None,  # next paragraph: not carried over
        "Ukrainian soldiers located": None,  # "in Russia’s Kursk region" is content
        "purposely trying to delay": None,
        "preparations had started": None,
    }
    for snippet, place in expected.items():
        assert _place(text, snippet) == place, snippet


_WORDS = st.sampled_from(
    [
        "said", "on", "CNN", "in", "an", "interview", "with", "The", "Post", "at", "a",
        "rally", "aboard", "Air", "Force", "One", "“", "”", '"', "that", ",", ".", "\n",
        "statement", "Twitter", "’s", "Mich.", "he", "told", "reporters", "during",
    ]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(words=st.lists(_WORDS, min_size=1, max_size=60))
def test_never_raises_and_spans_are_verbatim(words: list[str]) -> None:
    article = build_article("The officials spoke at length today. " + " ".join(words))
    for sentence in article.sentences:
        found = statement_place(article, sentence.index)
        if found is not None:
            phrase, (start, end) = found
            assert 0 <= start < end <= len(article.text)
            assert article.text[start:end] == phrase
