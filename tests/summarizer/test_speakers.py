"""Speakers: name mentions grouped into people and bodies, canonical names, roles, pronouns."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.quotes import extract_quotes
from summarizer.reading import build_article
from summarizer.records import Entity
from summarizer.speakers import SpeakerIndex, find_entities


def entity(entities: list[Entity], name: str) -> Entity:
    found = [e for e in entities if e.name == name]
    assert found, f"no entity {name!r}: {[e.name for e in entities]}"
    return found[0]


@pytest.mark.shared
def test_seed_article_entities(seed_article_path: Path) -> None:
    article = build_article(seed_article_path.read_text(encoding="utf-8"))
    entities = find_entities(article)
    trump = entity(entities, "Trump")
    assert trump.kind == "person" and trump.gender == "male"
    assert {"President Trump", "Mr. Trump"} <= set(trump.aliases)
    putin = entity(entities, "Vladimir V. Putin")
    assert {"Mr. Putin", "President Vladimir V. Putin"} <= set(putin.aliases)
    witkoff = entity(entities, "Steve Witkoff")
    assert witkoff.role == "U.S. special envoy for the Middle East"
    kremlin = entity(entities, "the Kremlin")
    assert kremlin.kind == "organization"
    for e in entities:
        for start, end in e.mentions:
            assert 0 <= start < end <= len(article.text)


def test_people_sharing_a_surname_stay_apart_and_titles_pick_one() -> None:
    text = (
        "Hillary Clinton campaigned in Ohio while Bill Clinton spoke in Iowa.\n"
        "Mrs. Clinton said the economy came first. Mr. Clinton praised the crowd.\n"
    )
    article = build_article(text)
    entities = find_entities(article)
    hillary = entity(entities, "Hillary Clinton")
    bill = entity(entities, "Bill Clinton")
    assert hillary.gender == "female" and bill.gender == "male"
    mrs = text.index("Mrs. Clinton")
    mr = text.index("Mr. Clinton")
    assert any(start == mrs for start, _ in hillary.mentions)
    assert any(start == mr for start, _ in bill.mentions)


def test_a_man_known_only_by_surname_is_not_his_wife_named_in_full_later() -> None:
    """The only full name with the surname is the wife's: "President Adeyemi" and "Mr.
    Adeyemi" are still the president (a dev QA article gave Mr. Obama's words to Michelle
    Obama), and his wife is not quoted."""
    text = (
        "Adeyemi rallies voters\n\n"
        "President Adeyemi told supporters on Saturday he would consider it a personal insult "
        "if they stayed home.\n\n"
        "“Our progress is on the ballot,” Mr. Adeyemi said at the dinner.\n\n"
        "The campaign plans to employ Mr. Adeyemi and his wife, Grace Adeyemi, in the final "
        "weeks.\n"
    )
    article = build_article(text)
    records = extract_quotes(article)
    assert {r.speaker for r in records} == {"Adeyemi"}
    entities = find_entities(article)
    president = entity(entities, "Adeyemi")
    assert president.gender == "male"
    assert entity(entities, "Grace Adeyemi").gender == "female"
    assert any(start == text.index("President Adeyemi") for start, _ in president.mentions)


def test_he_after_a_missed_sentence_break_is_the_subject_of_the_run_on_clause() -> None:
    """Copy that runs captions into the text has no full stop before "But Dan Ellery, head of
    …, disagreed"; he is still the subject there, not the fighter quoted before."""
    text = (
        "Fight contract row\n\n"
        "Fighter Marco Reyes said the contract was late. 'I just want to fight,' Reyes said. "
        "Promoter Rob Arden says the terms changed Ortiz Promotions chief Dan Ellery said "
        "that Arden 'is not willing to live with the agreement' But Dan Ellery, head of "
        "Ortiz Promotions, disagreed with Arden. He said: 'Nothing underhanded is going on "
        "here at all.'"
    )
    records = extract_quotes(build_article(text))
    underhanded = [r for r in records if r.content.startswith("Nothing underhanded")]
    assert [r.speaker for r in underhanded] == ["Dan Ellery"]


def test_a_bare_surname_is_the_person_the_story_introduced_first() -> None:
    """ "Dalton said" after his daughter Mae Dalton spoke is still the singer the story is
    about (a dev QA article gave B.B. King's own message to his daughter)."""
    text = (
        "Singer leaves hospital\n\n"
        'Blues singer Ray Dalton was treated for dehydration this week. He is "much '
        'better," his daughter, Mae Dalton, told the Riverton Times.\n\n'
        '"I\'m feeling much better and am leaving the hospital today," Dalton said in a '
        "message on Tuesday.\n"
    )
    records = extract_quotes(build_article(text))
    leaving = [r.speaker for r in records if "leaving the hospital" in r.content]
    assert leaving == ["Ray Dalton"]
    assert [r.speaker for r in records if "much better," in r.content] == ["Mae Dalton"]


def test_a_subject_after_an_opening_phrase_is_who_he_means_next() -> None:
    """ "At the rally in Warrington, Ed Mills told …" makes Mills the subject; the TV host
    named as a subject before him is not the "he" of the speech that follows."""
    text = (
        "Labour rally\n\n"
        "TV host Joe Essex, who posed for selfies, was attending the event ahead of a "
        "special. At the rally in Warrington, Ed Mills told supporters a Labour government "
        "would build again. In a speech, he said: 'We won't let large developers hoard "
        "land.'\n"
    )
    records = extract_quotes(build_article(text))
    assert [r.speaker for r in records if "hoard land" in r.content] == ["Ed Mills"]


def test_a_descriptor_before_a_full_name_is_not_part_of_it() -> None:
    """ "Republican Donald Trump" and "Comedian Sarah Silverman" are Donald Trump and Sarah
    Silverman (one person with the later "Donald Trump", not a second Trump); "Billie Jean
    King" keeps her first name."""
    text = (
        "Convention notes\n\n"
        "Republican Donald Trump said the convention would be unforgettable. Comedian Sarah "
        "Silverman said the crowd was rude. Billie Jean King said the match was fair.\n\n"
        "Donald Trump later told reporters the hall was full.\n"
    )
    entities = find_entities(build_article(text))
    names = {e.name for e in entities if e.kind == "person"}
    assert {"Donald Trump", "Sarah Silverman", "Billie Jean King"} <= names
    assert not any(n.startswith(("Republican", "Comedian")) for n in names)
    trump = entity(entities, "Donald Trump")
    assert len(trump.mentions) == 2


def test_canonical_name_is_the_fullest_personal_name_anywhere_in_the_article() -> None:
    text = (
        "Senator Okafor opened the debate on Tuesday.\n"
        "Later, Grace Okafor told reporters the bill would pass. Ms. Okafor smiled.\n"
    )
    entities = find_entities(build_article(text))
    okafor = entity(entities, "Grace Okafor")
    assert okafor.gender == "female"
    assert {"Senator Okafor", "Ms. Okafor"} <= set(okafor.aliases)
    assert okafor.role == "Senator"


def test_roles_from_appositives_and_job_titles_before_the_name() -> None:
    text = (
        "Lina Haddad, the chief economist of the Tarven Bank, spoke on Monday.\n"
        "White House press secretary Josh Earnest answered questions afterwards.\n"
    )
    entities = find_entities(build_article(text))
    assert entity(entities, "Lina Haddad").role == "chief economist of the Tarven Bank"
    assert entity(entities, "Josh Earnest").role == "White House press secretary"


def test_bodies_and_their_acronyms_are_one_entity() -> None:
    text = (
        "The International Monetary Fund cut its forecast on Monday.\n"
        "The IMF said growth would slow. Officials at the IMF declined to comment further.\n"
    )
    entities = find_entities(build_article(text))
    imf = entity(entities, "International Monetary Fund")
    assert imf.kind == "organization"
    assert "IMF" in imf.aliases
    assert len(imf.mentions) == 3


def test_pronoun_resolution_prefers_the_subject_and_respects_gender() -> None:
    text = (
        "Steve Ashby, who advised Maria Lopez for years, appeared on television.\n"
        "He said the plan was sound. She was not available for comment.\n"
    )
    article = build_article(text)
    index = SpeakerIndex(article)
    he = text.index("He said")
    she = text.index("She was")
    him, her = index.resolve_pronoun("he", he), index.resolve_pronoun("she", she)
    assert him is not None and index.name(him) == "Steve Ashby"
    assert her is not None and index.name(her) == "Maria Lopez"


def test_headlines_and_sentence_openers_are_not_people() -> None:
    text = (
        "Kremlin Responds as Talks Gain Momentum\n"
        "However, the talks went on. Plans were drawn up by Ana Ruiz.\n"
    )
    names = {e.name for e in find_entities(build_article(text))}
    assert "Ana Ruiz" in names
    assert not names & {"However", "Plans", "Kremlin Responds", "Talks Gain Momentum"}


def test_new_opens_a_place_or_paper_name_but_no_other_name() -> None:
    text = (
        "New polls show the race tightening, a report by the New York Post said. "
        "New Hampshire voters will decide.\n"
    )
    names = {e.name for e in find_entities(build_article(text))}
    assert {"New York Post", "New Hampshire"} <= names
    assert not names & {"York Post", "Hampshire", "New polls"}


def test_titles_and_roles_stay_out_of_the_canonical_personal_name() -> None:
    text = (
        "Councillor Tomas Breen voted against the ferry plan on Monday.\n"
        "Deputy Mayor Ruth Adeyemi and Energy Minister Carla Nuñez met the harbour board.\n"
        "Chief Executive Oren Vale of the port company said the talks had stalled.\n"
        "Mr. Breen said the plan was rushed. Ms. Adeyemi disagreed.\n"
    )
    entities = find_entities(build_article(text))
    breen = entity(entities, "Tomas Breen")
    assert breen.role == "Councillor"
    assert {"Councillor Tomas Breen", "Mr. Breen"} <= set(breen.aliases)
    adeyemi = entity(entities, "Ruth Adeyemi")
    assert adeyemi.role == "Deputy Mayor"
    assert entity(entities, "Carla Nuñez").role == "Energy Minister"
    assert entity(entities, "Oren Vale").role == "Chief Executive"
    names = {e.name for e in entities}
    assert not any(n.split()[0] in {"Councillor", "Deputy", "Energy", "Chief"} for n in names)


def test_definite_short_form_resolves_to_the_named_body() -> None:
    text = (
        "The Northmoor Beekeepers' Association said on Friday that hive losses had doubled.\n"
        "According to the association, about 300 colonies died over the winter.\n"
        "The Vell Valley Farmers' Union backed the request. The association also asked for"
        " a ban on one pesticide.\n"
    )
    article = build_article(text)
    index = SpeakerIndex(article)
    entities = index.entities()
    bees = entity(entities, "Northmoor Beekeepers' Association")
    assert bees.kind == "organization"
    assert "the association" in bees.aliases
    short = text.index("the association")
    later = text.index("The association")
    assert (short, short + len("the association")) in bees.mentions
    assert (later, later + len("The association")) in bees.mentions
    assert index.resolve_description("association", short) == index.find_by_name(
        "Northmoor Beekeepers' Association"
    )
    # The union is a different body: "the association" never resolves to it.
    union = entity(entities, "Vell Valley Farmers' Union")
    assert not any(start == later for start, _ in union.mentions)


def test_quotes_from_a_short_form_and_a_titled_speaker_use_the_canonical_names() -> None:
    text = (
        "The Kestrel Cyclists' Association said on Tuesday that the new lane was too narrow.\n"
        "According to the association, 40 riders were hurt on the bridge last year.\n"
        "“We will widen it before summer,” said Mayor Ines Duarte.\n"
    )
    records = extract_quotes(build_article(text))
    speakers = [(r.speaker, r.content) for r in records]
    assert ("Kestrel Cyclists' Association", "40 riders were hurt on the bridge last year") in (
        speakers
    )
    assert ("Ines Duarte", "We will widen it before summer,") in speakers
