"""'Who said …' questions on an invented article (no shared data needed)."""

from __future__ import annotations

import pytest

from summarizer.analysis import Analysis, analyse_sync
from summarizer.answers import ConversationState, answer_question_sync
from summarizer.models import ModelService
from summarizer.reading import build_article

ZOO = (
    "Girl safe after slipping into lion enclosure\n\n"
    "A girl slipped into the lion enclosure at the Riverton zoo on Sunday. The lions were "
    "probably just curious and scared, and they stayed back from the girl, according to "
    "zoo officials.\n\n"
    "Zoo visitor Ana Ruiz believes the animals kept away because they were frightened by "
    "the crowd. 'I think they were just curious about what was going on,' she said. "
    "'Everyone was screaming and they probably got scared.'\n\n"
    "The zoo's director, Paul Hart, said the enclosure would stay closed until Friday.\n"
)


@pytest.fixture(scope="module")
def zoo(models: ModelService) -> Analysis:
    return analyse_sync(build_article(ZOO), models)


def test_which_role_question_names_the_speaker_with_that_role(
    zoo: Analysis, models: ModelService
) -> None:
    """The officials' sentence is closer in wording, but the asker said "zoo visitor"."""
    state = ConversationState.for_analysis(zoo)
    answer = answer_question_sync(
        "Which zoo visitor thought the lions were just curious and probably got scared?",
        state,
        models,
    )
    assert answer.found and answer.speaker == "Ana Ruiz", answer
    assert answer.quote is not None and answer.quote in ZOO


def test_who_question_without_a_role_still_finds_the_officials(
    zoo: Analysis, models: ModelService
) -> None:
    state = ConversationState.for_analysis(zoo)
    answer = answer_question_sync("Who said the lions never went near the girl?", state, models)
    assert answer.found and answer.speaker is not None
    assert "officials" in answer.speaker, answer


AIRPORT = (
    "Airport screeners fired\n\n"
    "Two airport screeners have been fired after a scheme to pat down passengers without "
    "cause, Riverton police said.\n\n"
    "The Transportation Security Administration said in a statement that all complaints are "
    "investigated. Both officers were fired last week, agency special agent Carla Stone told "
    "police.\n"
)


def test_a_body_named_by_place_is_its_own_speaker(models: ModelService) -> None:
    """ "Riverton police" is not a description of the agency quoted next to it."""
    state = ConversationState.for_analysis(analyse_sync(build_article(AIRPORT), models))
    answer = answer_question_sync(
        "Who said the screeners were fired after a pat-down scheme?", state, models
    )
    assert answer.found and answer.speaker == "Riverton police", answer
    assert "Transportation Security Administration" not in answer.answer.split(" said")[0]


def test_a_statement_told_to_the_police_by_a_titled_name(models: ModelService) -> None:
    analysis = analyse_sync(build_article(AIRPORT), models)
    told = [r for r in analysis.quotes if r.cue == "told"]
    assert [(r.speaker, r.content) for r in told] == [
        ("Carla Stone", "Both officers were fired last week")
    ]


SCREENING = (
    "Screeners fired\n\n"
    "Investigators interviewed the female TSA officer, who said she had done this at least "
    "ten times, police said.\n\n"
    'The TSA called the incident deplorable. "These acts are intolerable," the agency said '
    'in a written statement. "All allegations of misconduct are investigated by the agency, '
    'and employees are held accountable."\n\n'
    "The Transportation Security Administration said no other passengers had come forward.\n"
)


def test_the_agency_is_the_body_named_before_and_the_tsa_is_not_an_officer(
    models: ModelService,
) -> None:
    analysis = analyse_sync(build_article(SCREENING), models)
    agency = [r.speaker for r in analysis.quotes if r.content.startswith("These acts")]
    assert agency == ["Transportation Security Administration"]
    state = ConversationState.for_analysis(analysis)
    answer = answer_question_sync(
        "What did the TSA say about how misconduct allegations are handled?", state, models
    )
    assert answer.found and answer.speaker == "Transportation Security Administration", answer
    assert "allegations of misconduct" in answer.answer
