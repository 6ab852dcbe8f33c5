"""Hypothesis strategies for hostile text: markup, entities, RTL, emoji, zalgo, quote marks."""

from __future__ import annotations

from hypothesis import strategies as st

from bot.core import Block, Bullets, Button, Context, Heading, Quote, Reply, Text

#: Pieces that break naive escaping, splitting and offset arithmetic.
NASTY_TOKENS = (
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;b&gt;",
    "&#x41;",
    "<b>",
    "</i>",
    "<blockquote>",
    "<script>alert(1)</script>",
    "<a href='javascript:x'>",
    "<@U123>",
    "<!channel>",
    "*bold*",
    "_it_",
    "`code`",
    "|",
    "http://example.com/a?b=1&c=<2>",
    "https://x.io",
    "👩‍👩‍👧",
    "🇺🇦",
    "😀",
    "مرحبا بالعالم",
    "שלום",
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "\u200b",  # zero-width space
    "\ufeff",
    "Z̵̡̢̛̗̘̙̜̝̞̟̠̊̋̌̍̎̏̐̑̒̓̔̽̾̿a̴̡̛̗̘̙̜̝l̸g̷o̶",
    "“",
    "”",
    '"',
    "'",
    "‘",
    "’",
    "«",
    "»",
    "—",
    "…",
    ".",
    "?!",
    "\n",
    "\n\n",
    "\t",
    "  ",
    "Mr.",
    "U.S.",
    "said",
    "Anna Berg",
    "on Monday",
    "2025-03-12",
)

#: Any Unicode text a chat user could send (no lone surrogates: they are not valid UTF-8).
UNICODE = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60)

#: Short hostile strings: nasty tokens mixed with arbitrary Unicode.
PIECE = st.one_of(st.sampled_from(NASTY_TOKENS), UNICODE)
SHORT = st.lists(PIECE, max_size=12).map(" ".join)


@st.composite
def long_text(draw: st.DrawFn) -> str:
    """Text from a few bytes to tens of kilobytes: short pieces, sometimes repeated a lot."""
    base = draw(SHORT)
    times = draw(st.sampled_from((1, 1, 1, 1, 8, 60, 150)))
    return base * times


TEXT = st.one_of(SHORT, long_text())

BLOCK: st.SearchStrategy[Block] = st.one_of(
    st.builds(Heading, TEXT),
    st.builds(Text, TEXT, bold=st.booleans()),
    st.builds(Bullets, st.lists(st.one_of(SHORT, SHORT, TEXT), max_size=12).map(tuple)),
    st.builds(
        Quote,
        TEXT,
        speaker=st.none() | TEXT,
        when=st.none() | SHORT,
        where=st.none() | SHORT,
        direct=st.booleans(),
    ),
    st.builds(Context, TEXT),
)

BUTTON = st.builds(Button, SHORT, st.text(max_size=200))

REPLY = st.builds(
    Reply,
    st.lists(BLOCK, max_size=10).map(tuple),
    buttons=st.lists(BUTTON, max_size=8).map(tuple),
)
