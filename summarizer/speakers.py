"""Who is who in an article: name mentions grouped into people and bodies.

No coreference model: capitalised name sequences are found with patterns, split into
a title ("President", "Mr.", "Sen.") and a name, and grouped by surname (people) or by
name/acronym (bodies). Gender comes only from what the text tells: a title (Mr./Mrs./Ms.),
a he/she that follows a lone candidate, or a short list of common first names.
Pronouns and descriptions ("he", "the president") are resolved by :class:`SpeakerIndex`
to the nearest compatible preceding entity, preferring sentence subjects and speakers.

:func:`find_entities` is the public entry point; :mod:`summarizer.quotes` uses the
index directly to turn the subject of a reporting verb into a canonical speaker.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from summarizer.reading import Article
from summarizer.records import Entity, EntityKind, Gender, Span


def _wordset(words: str) -> frozenset[str]:
    """A word list written as text (easier to read and edit than a list literal)."""
    return frozenset(words.split())


# --------------------------------------------------------------------------- word lists

#: Titles that come before a person's name. Stripped from the name, kept as evidence.
_MALE_TITLES = frozenset({"Mr.", "Mr", "Sir", "Lord", "King", "Prince", "Father", "Brother"})
_FEMALE_TITLES = frozenset(
    {"Mrs.", "Mrs", "Ms.", "Ms", "Miss", "Lady", "Queen", "Princess", "Dame", "Sister"}
)
_NEUTRAL_TITLES = frozenset(
    {
        "President",
        "Vice",
        "Former",
        "former",
        "Sen.",
        "Senator",
        "Rep.",
        "Representative",
        "Gov.",
        "Governor",
        "Lt.",
        "Mayor",
        "Secretary",
        "Gen.",
        "General",
        "Judge",
        "Justice",
        "Dr.",
        "Dr",
        "Rev.",
        "Reverend",
        "Prime",
        "Minister",
        "Chancellor",
        "Speaker",
        "Leader",
        "Chairman",
        "Chairwoman",
        "Chair",
        "Commissioner",
        "Director",
        "Ambassador",
        "Sheriff",
        "Officer",
        "Chief",
        "Attorney",
        "Professor",
        "Prof.",
        "Pope",
        "Col.",
        "Colonel",
        "Capt.",
        "Captain",
        "Sgt.",
        "Sergeant",
        "Adm.",
        "Admiral",
        "Det.",
        "Detective",
        "Councilman",
        "Councilwoman",
        "Councillor",
        "Councilor",
        "Alderman",
        "Alderwoman",
        "Executive",
        "Treasurer",
        "Delegate",
        "Congressman",
        "Congresswoman",
        "Assemblyman",
        "Assemblywoman",
        "Candidate",
        "Nominee",
        "Premier",
        "Emir",
        "Sheikh",
        "Deputy",
        "Interim",
        "Acting",
        "Counsel",
        "Envoy",
        "Spokesman",
        "Spokeswoman",
        "Agent",
        "Trooper",
        "Coach",
        "Supt.",
        "Superintendent",
        "Principal",
        "Dean",
        "Bishop",
        "Cardinal",
    }
)
_TITLES = _MALE_TITLES | _FEMALE_TITLES | _NEUTRAL_TITLES
#: Of the titles, those that can be a surname too ("Howard Dean", "Charlie King").
_TITLE_SURNAMES = frozenset({"Dean", "King", "Justice", "Chief", "General", "Bishop", "State"})

#: Capitalised words that start sentences but are not names.
_NON_NAME_WORDS = _wordset(
    """
    the a an and but or nor so yet for on in at by to of from with as if when while
    after before since until because although though however meanwhile still also then
    thus this that these those there here it its he she they we i you his her their our
    my your who what when where why how which whose whom according during despite under
    over about into onto upon per via than like unlike among between through without
    within across both each every either neither many much more most some any all no not
    none one two three asked said says told added yes well now today yesterday tomorrow
    tonight last next earlier later instead indeed perhaps maybe even just only once
    again already rather such another other others first second third new former mr mrs
    ms dr read watch click see video photo related update editor note advertisement
    """
)
#: Names that begin with "New", a word that otherwise opens no name ("New polls show …").
_NEW_PLACES = frozenset(
    {"York", "Yorker", "Hampshire", "Jersey", "Mexico", "Orleans", "Zealand", "Delhi", "Haven"}
)
_WEEKDAYS_MONTHS = _wordset(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march
    april may june july august september october november december jan feb mar apr jun
    jul aug sep sept oct nov dec christmas easter thanksgiving
    """
)
#: Words that make a name sequence a body (organisation, outlet, institution).
_ORG_WORDS = _wordset(
    """
    committee department party campaign administration house senate congress court times
    post news journal press network university college institute foundation association
    council commission agency bureau service police office ministry kremlin pentagon
    fund bank group inc corp corporation company co organization organisation center
    centre board union federation coalition pac club church airlines tribune reuters
    associated channel magazine caucus assembly parliament government army navy forces
    command authority watch project fox cnn nbc abc cbs msnbc politico breitbart
    reporter herald gazette globe examiner guardian telegraph mail daily weekly
    chronicle review times-picayune bloomberg npr bbc ap afp school hospital clinic
    council lab laboratory society league alliance movement network trust partners
    capital inc. llc media records studio studios republicans democrats gop dnc rnc fbi
    cia nsa irs epa tsa imf un nato who fda cdc doj dhs sec fec isis taliban hamas
    hezbollah cabinet legislature secretariat embassy consulate council mission team
    staff
    """
)
#: Places: never people, sometimes speakers ("Moscow said").
_PLACE_WORDS = _wordset(
    """
    america american u.s. us usa united states kingdom britain england scotland wales
    ireland france germany italy spain russia ukraine china japan india pakistan iran
    iraq syria israel palestine gaza egypt turkey mexico canada brazil cuba venezuela
    korea afghanistan saudi arabia yemen libya europe asia africa washington moscow kyiv
    kiev beijing london paris berlin tehran baghdad jerusalem york california texas
    florida ohio virginia carolina pennsylvania michigan wisconsin iowa nevada arizona
    colorado georgia alabama mississippi louisiana tennessee kentucky indiana illinois
    minnesota missouri kansas nebraska dakota montana idaho utah oregon alaska hawaii
    maine vermont massachusetts connecticut jersey delaware maryland oklahoma arkansas
    wyoming hampshire island chicago boston philadelphia atlanta miami detroit cleveland
    dallas houston seattle denver phoenix tulsa flint charlotte manhattan brooklyn bronx
    queens harlem hollywood silicon valley county city state street avenue square park
    river lake mountain beach bay east west north south middle district region kursk
    crimea donbas air force one ground zero wall street capitol hill
    """
)
_MALE_NAMES = _wordset(
    """
    aaron adam al alan albert alex alexander andrew andy anthony antonio arnold barack
    ben benjamin bernie bill billy bob bobby brad brian bruce bryan carl carlos charles
    charlie chris christopher chuck colin craig dan daniel dave david dean dennis dick
    don donald doug douglas ed eddie edward eric frank fred gary george gerald greg
    gregory harry henry howard ian jack jacob jake james jamie jared jason jeb jeff
    jeffrey jeremy jerry jesse jim jimmy joe joel john johnny jon jonathan jorge jose
    joseph josh joshua juan justin keith ken kenneth kevin kurt larry lee leon louis
    luis marco mark martin matt matthew michael mike mitch mitt nancy_ nathan neil nick
    nicholas newt norm oliver orrin pat patrick paul pete peter phil philip ralph randy
    ray raymond reince richard rick rob robert roger ron ronald roy rudy russell ryan
    sam samuel scott sean sergei sergey seth stephen steve steven stuart ted terry
    thomas tim timothy todd tom tony travis trey victor vince vincent vladimir volodymyr
    walter wayne will william xi yuri zach emmanuel francois olaf boris benjamin recep
    narendra justin kim ali mohammed muhammad ahmed omar hassan abdullah
    """
)
_FEMALE_NAMES = _wordset(
    """
    abigail alice alicia amanda amy andrea angela angelina ann anna anne barbara betsy
    betty beth brenda carly carol caroline catherine cathy chelsea cheryl christina
    christine claire cynthia dana deborah debbie diana diane dianne donna dorothy elaine
    elizabeth ellen emily emma erin eva gina gloria grace hannah heather heidi helen
    hillary hope huma ivanka jane janet jean jennifer jessica jill joan joanna joy
    judith judy julia julie karen kate katherine kathleen kathy kelly kellyanne kim
    kimberly kirsten kristen laura lauren linda lisa liz lois loretta lori louise lucy
    lynn margaret maria marie marilyn martha mary megan megyn melania melissa michelle
    monica nancy natalie nicole nikki olivia pam pamela patricia patty paula rachel
    rebecca rosa rose ruth sally samantha sandra sara sarah sharon shirley stephanie
    susan suzanne tammy teresa theresa tiffany tina tulsi valerie victoria virginia
    wendy whitney angela theresa ursula giorgia marine kamala condoleezza madeleine
    sonia sheila gwen maxine nita
    """
)
#: Nouns that head a description of a person's job ("the chairwoman of the committee").
_ROLE_NOUNS = _wordset(
    """
    president secretary spokesman spokeswoman spokesperson envoy adviser advisor aide
    director chairman chairwoman chair chief officer senator governor mayor candidate
    nominee leader minister ambassador commissioner representative congressman
    congresswoman economist professor analyst strategist manager chancellor judge
    justice attorney lawyer counsel executive founder ceo member head official editor
    writer reporter columnist correspondent host anchor pollster consultant lobbyist
    activist organizer coordinator general colonel sheriff chaplain pastor bishop rabbi
    imam deputy treasurer speaker whip partner fellow scholar researcher expert doctor
    surgeon physician nurse teacher student coach owner investor businessman
    businesswoman veteran operative surrogate supporter critic opponent ally staffer
    negotiator
    """
)

#: Job nouns that, capitalised before a name, are a title ("Energy Minister Ana Ruiz").
_ROLE_TITLES = _ROLE_NOUNS - _wordset(
    """
    member head host fellow partner owner critic ally supporter opponent veteran student
    writer general justice speaker whip chair doctor
    """
)
#: Heads that can stand for any body: "The TSA called it deplorable. … the agency said".
_GENERIC_BODY_HEADS = frozenset({"agency", "organization", "organisation", "group", "company"})
#: Heads of a definite short form that stands for a named body ("the association").
_SHORT_FORM_HEADS = _wordset(
    """
    association union council committee commission department agency bureau ministry
    party foundation institute university college federation coalition alliance league
    society company corporation bank fund board authority court organization
    organisation group club church hospital school center centre caucus assembly
    parliament administration government trust cooperative guild chamber
    """
)
_SHORT_FORM = re.compile(
    r"\b[Tt]he\s+(" + "|".join(sorted(_SHORT_FORM_HEADS, key=len, reverse=True)) + r")\b"
)

_PRONOUN_GENDER: dict[str, Gender] = {
    "he": "male",
    "him": "male",
    "his": "male",
    "himself": "male",
    "she": "female",
    "her": "female",
    "hers": "female",
    "herself": "female",
}

# --------------------------------------------------------------------------- patterns

#: Abbreviated titles and the word a description uses: "Gov. Chris Christie" is "the governor".
_TITLE_WORDS = {
    "gov": "governor",
    "sen": "senator",
    "rep": "representative",
    "gen": "general",
    "lt": "lieutenant",
    "col": "colonel",
    "capt": "captain",
    "sgt": "sergeant",
    "adm": "admiral",
    "det": "detective",
    "prof": "professor",
    "supt": "superintendent",
    "rev": "reverend",
    "dr": "doctor",
}
#: One word of a name: "Trump", "O’Neill", "McConnell", "J.", "G.K.", "U.S.", "DNC", "Mr.".
_NAME_WORD = r"(?:[A-Z]\.(?:[A-Z]\.)*|(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Rev|Capt|Sgt|Adm|Det|Prof|Supt|St|Jr|Sr)\.|[A-Z][\w’'\-]*\w(?:(?<=s)[’'](?=[ \t]+[A-Z]))?|[A-Z])"  # noqa: E501
#: Lower-case particles inside a name ("Bill de Blasio", "Ludwig van Beethoven").
_PARTICLE = r"(?:de|del|della|van|von|der|den|da|di|du|la|le|bin|ibn|al|el|dos|das)"
_NAME_SEQUENCE = re.compile(
    rf"(?<![\w’'.]){_NAME_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_NAME_WORD})*"
)
_POSSESSIVE = re.compile(r"[’']s?$")
_SUFFIXES = frozenset({"Jr.", "Jr", "Sr.", "Sr", "II", "III", "IV"})
_WORD = re.compile(r"[\w’'.\-]+")
_PERSONAL_PRONOUNS = re.compile(r"\b(he|she|him|her|his|himself|herself)\b", re.IGNORECASE)
_APPOSITIVE_ROLE = re.compile(
    r"\A,\s+(?:who\s+(?:is|was|has\s+been)\s+(?:(?:currently|now|also|still)\s+)?)?"
    r"(?P<role>(?:the|a|an)\s+(?:[^,;.()“”\"]|\.(?=\S)|(?<=\b[A-Z])\.)*?)"
    r"(?=\s*(?:,|;|(?<!\b[A-Z])\.(?:\s|$)|\band\s+(?:has|is|was|had)\b|$))"
)
#: Words that make "X, the mayor also said that …" a clause rather than an appositive role.
_NOT_A_ROLE = re.compile(
    r"\b(?:said|says|say|told|tells|added|adds|also|is|was|were|are|has|have|had|will|would|"
    r"that)\b"
)
_PRE_ROLE = re.compile(
    r"(?P<role>(?:[A-Z][\w’'.\-]*\s+){0,4}(?:[a-z][\w’'\-]*\s+){0,3}(?:[a-z]+))\s+$"
)


# --------------------------------------------------------------------------- data


@dataclass
class Mention:
    """One written name: its span, the title before it and the bare name."""

    start: int
    end: int
    text: str
    name: str
    titles: tuple[str, ...]
    sentence: int
    subject: bool
    entity: int = -1


@dataclass
class _Group:
    """An entity while it is being built."""

    key: str
    kind: EntityKind
    names: list[str] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    gender: Gender = "unknown"
    role: str | None = None
    the: bool = False

    def first_names(self) -> set[str]:
        return {n.split()[0] for n in self.names if len(n.split()) > 1}


# --------------------------------------------------------------------------- helpers


def _is_headline(text: str) -> bool:
    """A title-case line (headline, section header): its capitals are not names."""
    words = re.findall(r"[A-Za-z][\w’'\-]*", text)
    if len(words) < 3 or text.rstrip().endswith((".", "”", '"', "?")):
        return False
    small = {"a", "an", "the", "of", "on", "in", "as", "and", "to", "for", "at", "by", "with"}
    content = [w for w in words if w.lower() not in small]
    capitals = sum(w[0].isupper() for w in content)
    return bool(content) and capitals / len(content) >= 0.75


_FIRST_NAMES = _MALE_NAMES | _FEMALE_NAMES
#: Words that describe the person a sentence then names: "Comedian Sarah Silverman".
_DESCRIPTORS = _wordset(
    """
    republican democrat democratic conservative liberal progressive independent libertarian
    billionaire millionaire businessman businesswoman entrepreneur mogul tycoon investor
    comedian actor actress singer rapper musician songwriter filmmaker director producer
    author writer novelist poet journalist columnist reporter anchor host co-host
    moderator co-moderator commentator pundit pollster strategist analyst economist
    activist campaigner organizer organiser lawyer attorney promoter manager coach fighter
    boxer player quarterback pitcher golfer footballer athlete star legend veteran
    pastor evangelist preacher rabbi imam bishop cardinal priest designer model chef
    vermonter texan californian floridian candidate nominee hopeful challenger
    incumbent witness visitor resident neighbor neighbour survivor victim
    """
)


def _split_title(words: list[str]) -> tuple[list[str], list[str]]:
    """Split "Vermont Sen. Bernie Sanders" into (["Vermont", "Sen."], ["Bernie", "Sanders"])."""
    last_title = -1
    for i, word in enumerate(words[:-1]):
        title = word in _TITLES or (word[:1].isupper() and word.lower() in _ROLE_TITLES)
        if title and not (word in _TITLE_SURNAMES and i == len(words) - 1):
            last_title = i
    titles, names = (
        (words[: last_title + 1], words[last_title + 1 :]) if last_title >= 0 else ([], words)
    )
    if (
        len(names) >= 3
        and (names[0].lower() in _DESCRIPTORS or names[0].endswith(("-based", "-born")))
        and names[1].lower() in _FIRST_NAMES
    ):
        # "Comedian Sarah Silverman", "Republican Donald Trump", "Journalist Jorge Ramos":
        # a capitalised word before a first name describes the person
        return [*titles, names[0]], names[1:]
    return titles, names


def _surname(name: str) -> str:
    words = [w for w in name.split() if w not in _SUFFIXES]
    if not words:
        return name.lower()
    if len(words) >= 2 and re.fullmatch(_PARTICLE, words[-2]):
        return " ".join(words[-2:]).lower()
    return words[-1].lower()


def _classify(name: str, titles: list[str]) -> EntityKind:
    words = name.split()
    lowered = [w.lower().strip(".") for w in words]
    if titles and any(t in _MALE_TITLES | _FEMALE_TITLES for t in titles):
        return "person"
    if any(w in _ORG_WORDS for w in lowered) or any(w.lower() in _ORG_WORDS for w in words):
        return "organization"
    if len(words) == 1 and re.fullmatch(r"(?:[A-Z]\.?){2,6}", words[0]):
        return "organization"
    if titles:
        return "person"
    if all(w.lower().strip(".") in _PLACE_WORDS for w in words):
        return "unknown"
    first = lowered[0]
    if first in _MALE_NAMES or first in _FEMALE_NAMES:
        return "person"
    if len(words) >= 2 and any(re.fullmatch(r"[A-Z]\.", w) for w in words[1:-1]):
        return "person"
    if 2 <= len(words) <= 4 and not any(w in _PLACE_WORDS for w in lowered):
        return "person"
    return "unknown"


def _name_gender(name: str, titles: list[str]) -> Gender:
    if any(t in _MALE_TITLES for t in titles):
        return "male"
    if any(t in _FEMALE_TITLES for t in titles):
        return "female"
    first = name.split()[0].lower() if len(name.split()) > 1 else ""
    if first in _MALE_NAMES and first not in _FEMALE_NAMES:
        return "male"
    if first in _FEMALE_NAMES and first not in _MALE_NAMES:
        return "female"
    return "unknown"


def _acronym(name: str) -> str:
    return "".join(w[0] for w in name.split() if w[0].isupper() and w.lower() not in {"of", "the"})


# --------------------------------------------------------------------------- mentions


def _sentence_starts(article: Article) -> list[int]:
    return [s.start for s in article.sentences]


def find_mentions(article: Article) -> list[Mention]:
    """Every capitalised name sequence outside headlines, with titles split off."""
    text = article.text
    mentions: list[Mention] = []
    for sentence in article.sentences:
        if _is_headline(sentence.text):
            continue
        skip_to = 0
        for match in _NAME_SEQUENCE.finditer(text, sentence.start, sentence.end):
            if match.start() < skip_to:
                continue
            end = match.end()
            # "the University of Michigan", "Department of Justice": a body's name goes on
            # past "of" (a person's does not: "Hillary Clinton of New York").
            head = text[match.start() : end].split()[-1].lower()
            joined = _NAME_SEQUENCE.match(text, end + 4) if head in _ORG_WORDS else None
            if joined and text.startswith(" of ", end) and joined.end() <= sentence.end:
                end = skip_to = joined.end()
            start = match.start()
            while start < end:
                mention = _make_mention(text, start, end, sentence.index, sentence.start)
                if mention is not None and not _capitalised_opener(text, mention, sentence.start):
                    mentions.append(mention)
                # "The Blaze's Matt Walsh", "CNN's Jake Tapper": a name after the possessive
                # that ended the first one is a mention of its own.
                rest = re.match(r"[’']s?[ \t]+", text[mention.end : end]) if mention else None
                if mention is None or rest is None:
                    break
                start = mention.end + rest.end()
    return mentions


_REPORTING_NEXT = re.compile(
    r"\s+(?:[a-z]+ly\s+)?(?:said|says|told|tells|added|wrote|asked|announced|argued|claimed|noted)\b"
)


def _capitalised_opener(text: str, mention: Mention, sentence_start: int) -> bool:
    """A lone capitalised word opening a sentence ("Plans were drawn up") is no name unless
    the article capitalises it elsewhere too, it is a known first name, or it speaks."""
    if mention.titles or " " in mention.name or mention.start != _skip_space(text, sentence_start):
        return False
    word = mention.name
    if word.isupper() or word.lower() in _MALE_NAMES or word.lower() in _FEMALE_NAMES:
        return False
    if _REPORTING_NEXT.match(text, mention.end):
        return False
    elsewhere = [m.start() for m in re.finditer(rf"\b{re.escape(word)}\b", text)]
    return len(elsewhere) < 2


def _skip_space(text: str, offset: int) -> int:
    while offset < len(text) and text[offset] in " \t\n“\"‘'(":
        offset += 1
    return offset


def _make_mention(
    text: str, start: int, end: int, sentence: int, sentence_start: int
) -> Mention | None:
    words = [
        (m.start() + start, m.end() + start, m.group()) for m in _WORD.finditer(text[start:end])
    ]
    # "Russia’s Kursk region": a possessive inside the sequence ends the name there, unless
    # a plural noun's possessive opens a body's name ("the Harbour Fishermen's Association").
    for i, (_, _, word) in enumerate(words[:-1]):
        if re.search(r"[’']s$|s[’']$", word):
            plural = re.search(r"(?:men|ren|ple)[’']s$|s[’']$", word) is not None
            if plural and any(w[2].lower().strip(".") in _ORG_WORDS for w in words[i + 1 :]):
                continue
            words = words[: i + 1]
            break
    if any(re.search(r"[’'](?:re|ll|ve|d|m)$|n[’']t$", w[2]) for w in words):
        return None
    # Drop capitalised function words and dates at the front ("But", "On Monday").
    while words and (
        words[0][2].lower() in _NON_NAME_WORDS or words[0][2].lower().strip(".") in _WEEKDAYS_MONTHS
    ):
        if words[0][2] in _TITLES:
            break
        if words[0][2] == "New" and len(words) > 1 and words[1][2] in _NEW_PLACES:
            break  # "the New York Post", "New Hampshire Sen. Kelly Ayotte"
        words.pop(0)
    while words and words[-1][2].lower().strip(".") in _WEEKDAYS_MONTHS:
        words.pop()
    if not words:
        return None
    last_start, _, last = words[-1]
    stripped = _POSSESSIVE.sub("", last) if re.search(r"[’']s?$", last) else last
    if stripped != last:
        words[-1] = (last_start, last_start + len(stripped), stripped)
    words = [w for w in words if w[2]]
    if not words:
        return None
    titles, names = _split_title([w[2] for w in words])
    if not names:
        return None
    name = " ".join(names)
    if name.lower().strip(".") in _NON_NAME_WORDS or len(name) < 2:
        return None
    m_start, m_end = words[0][0], words[-1][1]
    before = text[sentence_start:m_start]
    subject = (
        (
            re.fullmatch(r"\s*(?:[A-Z][\w’']*\s+){0,4}?(?:[^\s]*,\s*)?", before) is not None
            and len(before) < 40
        )
        or _OPENING_PHRASE.fullmatch(before) is not None
        or _CLAUSE_OPENING.search(before) is not None
    )
    return Mention(m_start, m_end, text[m_start:m_end], name, tuple(titles), sentence, subject)


#: An opening phrase before the subject: "At the rally in Warrington, Ed Miliband told".
_OPENING_PHRASE = re.compile(
    r"\s*(?:(?:But|And|So|Yet|Still|Then)\s+)?(?:In|At|On|During|After|Before|Speaking|Earlier|"
    r"Later|Last|This|Asked|Unlike|Like|Since|Following|Outside|Inside|From)\b[^,;:.!?“”\"]{1,60},\s*"
)
#: A sentence start the splitter missed: after a closing quote mark with no full stop, as
#: in text that ran captions and paragraphs together ("… the agreement' But Leonard
#: Ellerbe, CEO of …, disagreed").
_CLAUSE_OPENING = re.compile(r"[a-z.!?,]['’”\"]\s+(?:(?:But|And|Yet|So|However|Still),?\s+)?$")


# --------------------------------------------------------------------------- grouping


def _group_mentions(text: str, mentions: list[Mention]) -> list[_Group]:
    """Group mentions: people by surname (first names kept apart), bodies by name/acronym."""
    groups: list[_Group] = []
    by_key: dict[str, list[int]] = {}
    # Full names first, then "Mr. X"/"Mrs. X" (their title tells which X), then the rest.
    full_first = sorted(
        mentions,
        key=lambda m: (
            -len(m.name.split()),
            not any(t in _MALE_TITLES | _FEMALE_TITLES for t in m.titles),
            m.start,
        ),
    )
    for mention in full_first:
        kind = _classify(mention.name, list(mention.titles))
        index = _find_group(groups, by_key, mention, kind)
        if index < 0:
            key = _surname(mention.name) if kind == "person" else mention.name.lower()
            groups.append(_Group(key=key, kind=kind))
            index = len(groups) - 1
            by_key.setdefault(key, []).append(index)
        group = groups[index]
        if kind == "person" and group.kind != "person":
            group.kind = "person"
        group.mentions.append(mention)
        if mention.name not in group.names:
            group.names.append(mention.name)
        mention.entity = index
        gender = _name_gender(mention.name, list(mention.titles))
        if gender != "unknown" and group.gender == "unknown":
            group.gender = gender
        if text[max(0, mention.start - 4) : mention.start].lower().endswith("the "):
            group.the = True
    return groups


def _find_group(
    groups: list[_Group], by_key: dict[str, list[int]], mention: Mention, kind: EntityKind
) -> int:
    name = mention.name
    words = name.split()
    if kind != "person" and kind != "unknown":
        lowered = name.lower()
        for i, group in enumerate(groups):
            if group.kind == "person":
                continue
            for other in group.names:
                if other.lower() == lowered or _acronym(other) == name or _acronym(name) == other:
                    return i
                other_words = other.lower().split()
                if (
                    len(words) < len(other_words)
                    and lowered.split()[-1] == other_words[-1]
                    and set(lowered.split()) <= set(other_words)
                ):
                    return i
        return -1
    key = _surname(name)
    candidates = [i for i in by_key.get(key, []) if groups[i].kind in ("person", "unknown")]
    if not candidates:
        if len(words) == 1:
            # "Putin" after "Vladimir V. Putin"; an org whose name is a single word stays apart.
            for i, group in enumerate(groups):
                if group.kind == "organization" and name in group.names:
                    return i
        return -1
    if len(words) == 1:
        gender = _name_gender(name, list(mention.titles))
        compatible = [
            i
            for i in candidates
            if gender in ("unknown", groups[i].gender) or groups[i].gender == "unknown"
        ]
        if not compatible:
            return -1  # "Mr. Obama" is not Michelle Obama: a person of their own
        pool = compatible
        before = [i for i in pool if any(m.start < mention.start for m in groups[i].mentions)]
        if before:
            # "King said" after "B.B. King … his daughter, Claudette King, told": a bare
            # surname is the person the story introduced first (the headline aside)
            return min(before, key=lambda i: _introduced(groups[i]))
        return min(pool, key=lambda i: min(m.start for m in groups[i].mentions))
    first = words[0].lower()
    for i in candidates:
        firsts = {f.lower() for f in groups[i].first_names()}
        if (
            not firsts
            or first in firsts
            or any(f.startswith(first) or first.startswith(f) for f in firsts)
        ):
            return i
    return -1


def _introduced(group: _Group) -> tuple[bool, int]:
    """When the story body first names the group (groups named only in the headline last)."""
    body = [m.start for m in group.mentions if m.sentence > 0]
    return (not body, min(body) if body else min(m.start for m in group.mentions))


def _canonical(group: _Group) -> str:
    """The fullest personal name; bodies keep "the" when the text writes it ("the Kremlin")."""
    if group.kind == "person":
        with_first = [n for n in group.names if len(n.split()) > 1]
        pool = with_first or group.names
        return max(pool, key=lambda n: (len(n.split()), len(n)))
    longest = max(group.names, key=lambda n: (len(n.split()), len(n)))
    if longest.lower().startswith("the "):
        return longest
    if group.the and len(longest.split()) == 1 and longest.lower() in _ORG_WORDS:
        return f"the {longest}"
    return longest


# --------------------------------------------------------------------------- index


class SpeakerIndex:
    """Entities of one article with lookups from spans, pronouns and descriptions."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self.text = article.text
        self.mentions = find_mentions(article)
        self.mentions.sort(key=lambda m: m.start)
        self._groups = _group_mentions(self.text, self.mentions)
        self._starts = [m.start for m in self.mentions]
        self._sentence_starts = _sentence_starts(article)
        self._pronoun_links: list[tuple[Span, int]] = []
        #: (offset, entity) of speakers already attributed, in text order; quotes add to it.
        self.speaker_log: list[tuple[int, int]] = []
        self._infer_gender_from_pronouns()
        self._find_roles()
        #: "the association" after "the Harbour Fishermen's Association": (span, entity).
        self._short_links: list[tuple[Span, int]] = self._link_short_forms()

    # ---- building

    def _infer_gender_from_pronouns(self) -> None:
        """A he/she in the sentence after a lone person tells that person's gender."""
        for match in _PERSONAL_PRONOUNS.finditer(self.text):
            gender = _PRONOUN_GENDER[match.group(1).lower()]
            window_start = self._sentence_start_before(match.start(), back=1)
            people = {
                m.entity
                for m in self.mentions
                if window_start <= m.start < match.start()
                and self._groups[m.entity].kind == "person"
            }
            if len(people) == 1:
                group = self._groups[people.pop()]
                if group.gender == "unknown":
                    group.gender = gender

    def _find_roles(self) -> None:
        text = self.text
        for mention in self.mentions:
            group = self._groups[mention.entity]
            if group.kind != "person" or group.role:
                continue
            after = text[mention.end : mention.end + 160]
            match = _APPOSITIVE_ROLE.match(after)
            if match and _NOT_A_ROLE.search(match.group("role")):
                # "At a press conference in Chelsea, the mayor also said that …": a clause
                match = None
            if match and any(
                w.lower().strip(",") in _ROLE_NOUNS for w in match.group("role").split()
            ):
                role = re.sub(r"^(?:the|a|an)\s+", "", match.group("role").strip())
                group.role = role
                continue
            sentence_start = self.article.sentences[mention.sentence].start
            before = text[max(sentence_start, mention.start - 80) : mention.start]
            pre = _PRE_ROLE.search(before)
            if pre and pre.group("role").split()[-1].lower() in _ROLE_NOUNS:
                role = pre.group("role").strip()
                role = re.sub(r"^.*\b(?:the|a|an|and|but|said|says|with|by|to)\s+", "", role)
                if role and role.split()[-1].lower() in _ROLE_NOUNS:
                    group.role = role
            elif mention.titles and not set(mention.titles) <= _MALE_TITLES | _FEMALE_TITLES:
                group.role = " ".join(mention.titles)

    def _link_short_forms(self) -> list[tuple[Span, int]]:
        """A definite short form ("the association", "the party") whose head noun ends the
        name of a body named earlier stands for the nearest such body."""
        links: list[tuple[Span, int]] = []
        if not any(g.kind == "organization" for g in self._groups):
            return links
        for match in _SHORT_FORM.finditer(self.text):
            entity = self._body_with_head(match.group(1), match.start())
            if entity is not None and self.mention_starting_at(match.start()) is None:
                links.append(((match.start(), match.end()), entity))
        return links

    def _body_with_head(self, head: str, offset: int) -> int | None:
        """ "the association" is the last body named "… Association"; a generic head ("the
        agency", "the group") with no such body is the last body named at all."""
        best: int | None = None
        latest: int | None = None
        for mention in self.mentions[: bisect_left(self._starts, offset)]:
            group = self._groups[mention.entity]
            if group.kind != "organization":
                continue
            latest = mention.entity
            if mention.name.split()[-1].lower() == head.lower():
                best = mention.entity
        if best is None and head.lower() in _GENERIC_BODY_HEADS:
            return latest
        return best

    def _sentence_start_before(self, offset: int, back: int) -> int:
        i = max(0, bisect_left(self._sentence_starts, offset + 1) - 1)
        i = max(0, i - back)
        return self._sentence_starts[i] if self._sentence_starts else 0

    # ---- queries

    def kind(self, entity: int) -> EntityKind:
        return self._groups[entity].kind

    def gender(self, entity: int) -> Gender:
        return self._groups[entity].gender

    def name(self, entity: int) -> str:
        return _canonical(self._groups[entity])

    def mention_in(self, start: int, end: int) -> Mention | None:
        """The last name mention inside [start, end) (the head of "officials from the Kremlin")."""
        found: Mention | None = None
        i = bisect_left(self._starts, start)
        while i < len(self.mentions) and self.mentions[i].start < end:
            if self.mentions[i].end <= end:
                found = self.mentions[i]
            i += 1
        return found

    def mentions_in(self, start: int, end: int) -> list[Mention]:
        """Name mentions inside [start, end), in text order."""
        found = []
        i = bisect_left(self._starts, start)
        while i < len(self.mentions) and self.mentions[i].start < end:
            if self.mentions[i].end <= end:
                found.append(self.mentions[i])
            i += 1
        return found

    def mention_ending_at(self, end: int, start_limit: int) -> Mention | None:
        for mention in reversed(self.mentions[: bisect_left(self._starts, end)]):
            if mention.start < start_limit:
                return None
            if mention.end == end or self.text[mention.end : end] in ("’s", "'s", "’", "'"):
                return mention
        return None

    def mention_starting_at(self, start: int) -> Mention | None:
        i = bisect_left(self._starts, start)
        if i < len(self.mentions) and self.mentions[i].start == start:
            return self.mentions[i]
        return None

    def person_by_surname(self, surname: str) -> int | None:
        """The person whose full name ends in ``surname`` ("PENCE" in a transcript)."""
        key = surname.lower()
        for i, group in enumerate(self._groups):
            if group.kind == "person" and group.key == key and any(" " in n for n in group.names):
                return i
        return None

    def find_by_name(self, written: str) -> int | None:
        """The entity a bare written name belongs to (headline text has no mentions)."""
        words = [w for w in written.split() if w not in _TITLES]
        if not words:
            return None
        name = " ".join(words)
        key = _surname(name)
        for i, group in enumerate(self._groups):
            if group.kind == "person" and group.key == key:
                return i
            if group.kind != "person" and any(n.lower() == name.lower() for n in group.names):
                return i
        return None

    def note_speaker(self, offset: int, entity: int) -> None:
        self.speaker_log.append((offset, entity))

    def link_pronoun(self, span: Span, entity: int) -> None:
        self._pronoun_links.append((span, entity))

    def resolve_pronoun(
        self, pronoun: str, offset: int, exclude: list[Span] | None = None
    ) -> int | None:
        """The entity a subject pronoun at ``offset`` refers to, or None.

        he/she: the nearest preceding person of compatible gender, preferring one that was
        a sentence subject or a speaker within the last three sentences; they/it: the
        nearest organisation (or the last speaker that is one).
        """
        word = pronoun.lower()
        exclude = exclude or []
        if word in ("he", "she", "him", "her", "his"):
            want: Gender = "male" if word in ("he", "him", "his") else "female"
            return self._nearest(offset, exclude, lambda e: self._person_fits(e, want))
        if word in ("they", "it", "them", "their", "its"):  # bodies; plural people stay open
            return self._nearest(offset, exclude, lambda e: self._groups[e].kind == "organization")
        return None

    def _person_fits(self, entity: int, want: Gender) -> bool:
        group = self._groups[entity]
        return group.kind == "person" and group.gender in (want, "unknown")

    def _nearest(self, offset: int, exclude: list[Span], fits: object) -> int | None:
        assert callable(fits)
        window = self._sentence_start_before(offset, back=3)
        candidates: list[tuple[int, int, bool]] = []  # (offset, entity, salient)
        for mention in self.mentions[: bisect_left(self._starts, offset)]:
            if any(s <= mention.start < e for s, e in exclude):
                continue
            candidates.append((mention.start, mention.entity, mention.subject))
        candidates.extend((o, e, True) for o, e in self.speaker_log if o < offset)
        candidates.extend((s, e, True) for (s, _), e in self._pronoun_links if s < offset)
        candidates.sort()
        salient = [c for c in candidates if c[2] and c[0] >= window and fits(c[1])]
        if salient:
            return salient[-1][1]
        nearby = [c for c in candidates if c[0] >= window and fits(c[1])]
        if nearby:
            # No subject to go by: the protagonist (most mentioned in the article) wins, a
            # person whose gender the text gave first ("he" is Donald Trump, not "Chelsea").
            return max(
                nearby,
                key=lambda c: (
                    self._groups[c[1]].gender != "unknown",
                    self._salience(c[1]),
                    -self._first(c[1]),
                ),
            )[1]
        anything = [c for c in candidates if fits(c[1])]
        if anything:
            return anything[-1][1]
        return None

    def _salience(self, entity: int) -> int:
        spoken = sum(1 for _, e in self.speaker_log if e == entity)
        return len(self._groups[entity].mentions) + 2 * spoken

    def _first(self, entity: int) -> int:
        return min(m.start for m in self._groups[entity].mentions)

    def resolve_description(self, head: str, offset: int) -> int | None:
        """ "the president", "the senator": the nearest person whose title or role has that word."""
        head = head.lower()
        if head in _SHORT_FORM_HEADS:
            for (start, _), entity in self._short_links:
                if start == offset:
                    return entity
            body = self._body_with_head(head, offset)
            if body is not None:
                return body
        best: int | None = None
        for mention in self.mentions[: bisect_left(self._starts, offset)]:
            group = self._groups[mention.entity]
            words = {t.lower().strip(".") for t in mention.titles}
            words |= {_TITLE_WORDS[w] for w in words if w in _TITLE_WORDS}
            if group.role:
                words |= {w.lower() for w in group.role.split()}
            if head in words:
                best = mention.entity
        return best

    def entities(self) -> list[Entity]:
        """The finished entities, most mentioned first."""
        extra: dict[int, list[Span]] = {}
        short: dict[int, set[str]] = {}
        for span, linked in self._pronoun_links:
            extra.setdefault(linked, []).append(span)
        for span, linked in self._short_links:
            extra.setdefault(linked, []).append(span)
            short.setdefault(linked, set()).add(self.text[span[0] : span[1]].lower())
        result: list[tuple[int, int, Entity]] = []
        for i, group in enumerate(self._groups):
            spans = sorted({(m.start, m.end) for m in group.mentions} | set(extra.get(i, [])))
            canonical = _canonical(group)
            written = {m.text for m in group.mentions} | set(group.names) | short.get(i, set())
            aliases = tuple(sorted(a for a in written if a != canonical))
            entity = Entity(
                name=canonical,
                kind=group.kind,
                gender=group.gender if group.kind == "person" else "unknown",
                role=group.role,
                mentions=tuple(spans),
                aliases=aliases,
            )
            result.append((-len(group.mentions), min(s for s, _ in spans), entity))
        result.sort(key=lambda r: (r[0], r[1]))
        return [r[2] for r in result]


def find_entities(article: Article) -> list[Entity]:
    """People and bodies named in the article, with every mention and canonical names.

    Pronouns are linked to entities only when :func:`summarizer.quotes.extract_quotes`
    resolves them as speakers; here each entity carries its name mentions, the fullest
    personal name as ``name``, gender where the text tells it and a role where an
    appositive or a job title gives one.
    """
    index = SpeakerIndex(article)
    _link_subject_pronouns(index)
    return index.entities()


def _link_subject_pronouns(index: SpeakerIndex) -> None:
    """Resolve sentence-initial he/she so each person's mentions include them."""
    for sentence in index.article.sentences:
        match = re.match(r"\s*(?:[A-Z][\w’']*,?\s+){0,3}?\b(He|She)\b", sentence.text)
        if not match:
            continue
        start = sentence.start + match.start(1)
        entity = index.resolve_pronoun(match.group(1), start)
        if entity is not None:
            index.link_pronoun((start, start + len(match.group(1))), entity)
