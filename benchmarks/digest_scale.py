# ruff: noqa: E501 -- the story templates below are data, one sentence a line
"""Daily briefs at scale: N subscribers over F feeds, stories served by the local fake site.

Measures, for SQLite and PostgreSQL side by side: ingest wall time and model
calls (must equal the distinct stories stored), dedup precision/recall against the
generator's ground truth, the delivery pass (compose and fan out every brief into
an in-memory sender, rate limits off), peak memory and database size.

The generated news: stories from 14 desks (council, courts, weather, trade, …),
each with its own people, places, organisations, numbers and quotes; 10 % of the
items are another outlet's rewrite of an earlier story (new URL, headline and
wording, same facts and quotes) and 10 % cross-post an earlier story's own link
with tracking parameters. Every item's true story is known.

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/digest_scale.py \
        --subscribers 10000 --feeds 200 --items 2000 --db sqlite    # or postgresql, both
    PYTHONPATH=. .venv/bin/python benchmarks/digest_scale.py --subscribers 1000 --items 200

PostgreSQL: a throwaway database on NEWSBRIEF_TEST_POSTGRES (default postgres@127.0.0.1/test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert, select, text

from bot.delivery import BriefScheduler, MemorySender
from bot.feeds import FeedPoller, feed_client
from bot.storage.config import DeliverySettings
from bot.storage.db import Database, migrate
from bot.storage.models import Feed, StorySource, Subscriber, Subscription
from bot.stories import StoryService
from config import load_settings
from summarizer.models import ModelService
from tests.fakes.feeds import FakeFeeds, serve_fake_feeds

FIRST = [
    "Elena",
    "Martin",
    "Amara",
    "Kenji",
    "Sofia",
    "Tomasz",
    "Priya",
    "Lucas",
    "Ingrid",
    "Omar",
    "Chloe",
    "Mateo",
    "Aisha",
    "Pieter",
    "Grace",
    "Dmitri",
    "Leila",
    "Samuel",
    "Yuki",
    "Fatima",
    "Jonas",
    "Marta",
    "Kwame",
    "Isabel",
    "Rahul",
    "Hannah",
    "Diego",
    "Nadia",
    "Viktor",
    "Zanele",
    "Felix",
    "Mei",
    "Patrick",
    "Ana",
    "Tariq",
    "Freya",
    "Hugo",
    "Laila",
    "Bruno",
    "Sinead",
]
LAST = [
    "Vasquez",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Silva",
    "Novak",
    "Haddad",
    "Kowalski",
    "Byrne",
    "Mensah",
    "Petrov",
    "Nakamura",
    "Alvarez",
    "Fischer",
    "Osei",
    "Romano",
    "Jensen",
    "Kaur",
    "Dubois",
    "Mwangi",
    "Costa",
    "Larsen",
    "Yilmaz",
    "Horvat",
    "Quinn",
    "Abebe",
    "Sato",
    "Rossi",
    "Nilsen",
    "Achterberg",
    "Brennan",
    "Castillo",
    "Ivanova",
    "Okonkwo",
    "Walsh",
    "Bergstrom",
    "Farouk",
    "Delgado",
    "Hughes",
]
PLACES = [
    "Riverton",
    "Lakeside",
    "Port Alder",
    "Northbridge",
    "Kingsford",
    "Elmstead",
    "Harrowgate",
    "Bayview",
    "Millbrook",
    "Stonehaven",
    "Westmere",
    "Ashford Vale",
    "Greyport",
    "Oakridge",
    "Fairhaven",
    "Redcliff",
    "Silverton",
    "Brightwater",
    "Eastwick",
    "Marlow Heights",
    "Carrick",
    "Thornbury",
    "Dunmore",
    "Glenside",
    "Hollowell",
    "Kestrel Bay",
    "Lowmoor",
    "Newhaven",
    "Pinecrest",
    "Queensferry",
    "Rosedale",
    "Sandport",
    "Tidewater",
    "Upton Cross",
    "Valemount",
    "Whitcliffe",
    "Yarrowby",
    "Ambleside",
    "Birchfield",
    "Coldwater",
]
BRANDS = [
    "Aldercrest",
    "Norvane",
    "Pelham",
    "Brightline",
    "Quarry-Hill",
    "Solent",
    "Marrow",
    "Kite",
    "Halberd",
    "Corvina",
    "Ostrava",
    "Juniper",
    "Tallis",
    "Meridian",
    "Blackwood",
    "Ferrum",
    "Lumen",
    "Northwind",
    "Copperleaf",
    "Arbor",
    "Vantor",
    "Stellan",
    "Greywater",
    "Orchid",
    "Bastion",
    "Cobalt",
    "Redfern",
    "Saltire",
    "Ember",
    "Highgate",
]
TRADES = [
    "Foods",
    "Energy",
    "Motors",
    "Telecom",
    "Bank",
    "Shipping",
    "Pharma",
    "Software",
    "Steel",
    "Airlines",
    "Insurance",
    "Retail",
]
ANGLES = [
    "a row over rising rents",
    "a corruption inquiry at city hall",
    "the closure of the old steelworks",
    "a dispute over fishing rights",
    "record tourist numbers",
    "a shortage of teachers",
    "protests by farmers over water prices",
    "a budget shortfall of several million",
    "complaints about air pollution near schools",
    "the collapse of a local bank",
    "a surge in online fraud",
    "a heated debate about immigration",
    "an ageing population and empty villages",
    "delays to a new hospital wing",
    "a strike by bin collectors",
    "a wave of burglaries in the suburbs",
    "rising energy bills for pensioners",
    "the arrival of a new car factory",
    "a scandal over missing pension funds",
    "fears for the future of the local newspaper",
    "a housing boom driven by commuters",
    "a drought that dried up reservoirs",
    "a legal fight over a closed mine",
    "the mayor's resignation last spring",
    "long queues at passport offices",
    "a feud between two rival ports",
    "a decline in church attendance",
    "the discovery of asbestos in schools",
    "a campaign to save a historic cinema",
    "traffic chaos caused by roadworks",
    "a spike in youth unemployment",
    "an outbreak of bird flu on poultry farms",
    "a controversial plan to sell public land",
    "a boom in electric scooters",
    "concerns about rising sea levels",
    "a shortage of affordable childcare",
    "anger over cuts to rural bus routes",
    "a cyber attack on the tax office",
    "the loss of a major airline route",
    "tension over a proposed wind farm",
    "a successful bid to host the regional games",
    "a slump in grain prices",
    "a row about noise from nightclubs",
    "mounting debts at the football club",
    "the return of wolves to nearby forests",
    "a glut of empty office buildings",
    "worries about the safety of an old dam",
    "a royal visit planned for the summer",
    "a lawsuit from a group of nurses",
    "allegations of ballot tampering",
    "a collapse in cod stocks",
    "the reopening of a long-closed railway station",
    "a long-running quarrel over a statue",
    "calls to rename the main square",
    "a rise in measles cases among children",
    "an investigation into a fatal bus crash",
    "an influx of students from abroad",
    "a dispute with a neighbouring town over water",
    "a sharp fall in house prices",
    "a hunger strike by asylum seekers",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Each desk: who speaks, what they speak about, and event templates written two ways —
# (headline, lead) as the original outlet wrote it and as a rewriting outlet did.
# Slots: {p} place, {o} organisation, {t} thing, {n} {m} numbers, {d} day, {s} speaker.
DESKS: dict[str, dict[str, Any]] = {
    "council": {
        "roles": ["Mayor", "Councillor", "city planner"],
        "orgs": ["the city council", "the planning board", "the county assembly"],
        "things": [
            "cycle lane network",
            "waste incinerator",
            "flood barrier",
            "school expansion",
            "parking charge",
            "street lighting upgrade",
            "market hall",
            "cable car",
            "homeless shelter",
            "water treatment plant",
            "stadium lease",
            "tourist tax",
            "harbour bridge",
            "tram extension",
            "riverside park",
            "bus depot",
            "public library",
            "ring road",
            "social housing block",
            "sports hall",
        ],
        "events": [
            (
                "{p} council approves ${n} million {t}",
                "{o} of {p} voted {m} to 3 on {d} to approve a ${n} million {t}, ending years of debate.",
                "{p} gives green light to {t} after {m}-3 vote",
                "After years of argument, {p} will build its ${n} million {t}: {o} backed the plan on {d}.",
            ),
            (
                "{p} scraps {t} plan as costs climb to ${n} million",
                "{o} in {p} abandoned the {t} on {d} after estimates rose to ${n} million.",
                "Rising bill kills {p}'s {t}",
                "The {t} planned for {p} is off. Officials dropped it on {d} when the price reached ${n} million.",
            ),
        ],
        "quotes": [
            "This {t} is a turning point for every family in {p}",
            "We cannot ask taxpayers to carry ${n} million for a {t} nobody asked for",
            "The people of {p} have waited long enough",
        ],
        "details": [
            "Construction could begin within {m} months.",
            "Residents packed the chamber for a session that ran past midnight.",
            "The regional authority has pledged ${m} million towards the cost.",
            "Opponents say the money should go to schools instead.",
        ],
    },
    "court": {
        "roles": ["Judge", "prosecutor", "defence lawyer"],
        "orgs": ["the supreme court", "a district court", "the appeals court"],
        "things": [
            "rent cap",
            "fishing quota",
            "gambling law",
            "protest ban",
            "wind farm permit",
            "asylum rule",
            "police database",
            "hunting ban",
            "school curriculum law",
            "tax on sugar",
            "data-sharing law",
            "mining licence",
            "strike ban",
            "zoning rule",
            "tobacco levy",
            "surveillance programme",
            "pension reform",
        ],
        "events": [
            (
                "Court strikes down {p}'s {t}",
                "{o} ruled on {d} that the {t} introduced in {p} breaches the constitution, in a {m}-2 decision.",
                "Judges void {t} in {p} in {m}-2 ruling",
                "The {t} is unconstitutional, {o} found on {d}, siding with challengers from {p}.",
            ),
            (
                "{p} firm fined ${n} million over {t}",
                "{o} ordered a {p} company on {d} to pay ${n} million for violating the {t}.",
                "${n}m penalty for {p} company in {t} case",
                "A company based in {p} must pay ${n} million, {o} said on {d}, over breaches of the {t}.",
            ),
        ],
        "quotes": [
            "No one in {p} is above the {t}",
            "We will appeal this ruling to the highest court",
            "The decision protects the rights of {n} thousand workers",
        ],
        "details": [
            "The case took {m} years to reach a verdict.",
            "Lawyers for the government said they would study the judgment.",
            "Campaigners gathered outside the courthouse to hear the decision.",
            "Similar challenges are pending in {m} other regions.",
        ],
    },
    "weather": {
        "roles": ["fire chief", "meteorologist", "emergency coordinator"],
        "orgs": ["the weather service", "civil defence", "the coast guard"],
        "things": [
            "a tornado",
            "freezing rain",
            "a drought",
            "a tropical storm",
            "river flooding",
            "dense fog",
            "a dust storm",
            "record rainfall",
            "an avalanche",
            "flash floods",
            "a wildfire",
            "a heatwave",
            "a snowstorm",
            "gale-force winds",
            "a landslide",
            "hailstorms",
        ],
        "events": [
            (
                "{n} evacuated as {t} hit {p}",
                "About {n} people left their homes in {p} on {d} as {t} swept through the area, {o} said.",
                "{t} forces {n} from homes around {p}",
                "Residents of {p} were told to leave on {d}; {o} put the number evacuated at {n}.",
            ),
            (
                "Roads closed and schools shut as {t} grip {p}",
                "{o} closed {m} schools in {p} on {d} and warned that {t} would last into the weekend.",
                "{p} braces for more {t}",
                "Schools across {p} stayed shut on {d} as {o} warned of {t} through the weekend.",
            ),
        ],
        "quotes": [
            "Please stay away from the river until we say it is safe",
            "We have not seen anything like this in {m} years",
            "Crews are working around the clock in {p}",
        ],
        "details": [
            "Power was cut to {n} homes.",
            "Two shelters opened at local sports halls.",
            "Farmers reported heavy losses of livestock.",
            "Insurers expect claims to run into the millions.",
        ],
    },
    "trade": {
        "roles": ["Trade Minister", "economist", "industry spokesperson"],
        "orgs": ["the trade ministry", "the customs agency", "the steelmakers' association"],
        "things": [
            "beef",
            "rice",
            "textiles",
            "fertiliser",
            "copper",
            "coffee",
            "medical gloves",
            "lithium",
            "paper",
            "cement",
            "olive oil",
            "steel",
            "aluminium",
            "solar panels",
            "soybeans",
            "electric cars",
            "timber",
            "semiconductors",
            "wine",
        ],
        "events": [
            (
                "New {n}% tariff on imported {t}",
                "{o} announced on {d} a {n}% tariff on imported {t}, taking effect in {m} weeks.",
                "Imported {t} to face {n}% duty",
                "A {n} percent duty on foreign {t} was unveiled on {d} by {o}; it starts in {m} weeks.",
            ),
            (
                "{t} exports from {p} fall {n}%",
                "Shipments of {t} from {p} dropped {n}% last quarter, {o} said on {d}.",
                "{p} {t} shipments slump",
                "{o} reported on {d} that {p} sent {n} percent less {t} abroad than a year earlier.",
            ),
        ],
        "quotes": [
            "This protects {n} thousand jobs in our {t} industry",
            "Consumers will end up paying more for {t}",
            "We expect our partners to respond within weeks",
        ],
        "details": [
            "Neighbouring countries warned of retaliation.",
            "Shares in {t} producers rose {m}% on the news.",
            "The measure will be reviewed after one year.",
            "Importers said they had stockpiled {t} in anticipation.",
        ],
    },
    "election": {
        "roles": ["Senator", "campaign manager", "election commissioner"],
        "orgs": ["the election commission", "the opposition party", "the governing coalition"],
        "things": [
            "council election",
            "presidential primary",
            "school board vote",
            "union ballot",
            "senate race",
            "independence vote",
            "mayoral race",
            "referendum",
            "regional election",
            "party primary",
            "by-election",
            "leadership contest",
        ],
        "events": [
            (
                "{s} wins {p} {t} with {n}% of the vote",
                "{s} won the {t} in {p} on {d} with {n}% of the vote, {o} said, on a turnout of {m}%.",
                "{p} {t}: {s} claims victory",
                "With {n} percent support, {s} took the {t} in {p}; turnout was {m} percent, according to {o}.",
            ),
            (
                "Recount ordered in {p} {t}",
                "{o} ordered a recount in the {p} {t} on {d} after the margin narrowed to {n} votes.",
                "{p} {t} too close to call, recount begins",
                "Just {n} votes separate the candidates in {p}, so {o} said on {d} it would count again.",
            ),
        ],
        "quotes": [
            "The voters of {p} have chosen change",
            "Every ballot will be counted",
            "We ran a clean campaign and we will accept the result",
        ],
        "details": [
            "Polling stations stayed open an extra hour.",
            "The result will be certified within {m} days.",
            "Observers reported no serious irregularities.",
            "Postal votes made up a record share of the ballots.",
        ],
    },
    "health": {
        "roles": ["hospital director", "Health Minister", "nurses' union leader"],
        "orgs": ["the health ministry", "the nurses' union", "the university hospital"],
        "things": [
            "tuberculosis",
            "a bird flu outbreak",
            "knee replacements",
            "cataract surgery",
            "a dengue vaccine",
            "childhood asthma",
            "a heart drug",
            "antibiotic resistance",
            "hearing aids",
            "maternity care",
            "measles",
            "a new cancer drug",
            "hip surgery",
            "emergency care",
            "a malaria vaccine",
            "mental health services",
            "dialysis",
        ],
        "events": [
            (
                "Waiting times for {t} in {p} reach {n} weeks",
                "Patients in {p} now wait {n} weeks on average for {t}, {o} reported on {d}.",
                "{p} patients face {n}-week wait for {t}",
                "{o} said on {d} that the wait for {t} in {p} had grown to {n} weeks.",
            ),
            (
                "Trial of {t} shows {n}% fewer deaths",
                "A trial involving {m} hundred patients found {n}% fewer deaths with {t}, {o} said on {d}.",
                "{t} cuts deaths by {n}%, study finds",
                "Researchers at {o} reported on {d} that {t} lowered mortality by {n} percent in a trial of {m} hundred people.",
            ),
        ],
        "quotes": [
            "Our staff in {p} are exhausted",
            "These results give real hope to families",
            "We need {n} more nurses just to keep the wards open",
        ],
        "details": [
            "The findings will be published next month.",
            "Staff shortages were blamed for the delays.",
            "The ministry promised extra funding of ${m} million.",
            "Independent experts urged caution about the results.",
        ],
    },
    "sport": {
        "roles": ["coach", "captain", "club chairman"],
        "orgs": ["{p} United", "{p} Rovers", "the {p} Athletic club"],
        "things": [
            "basketball final",
            "rugby derby",
            "cycling stage",
            "tennis open",
            "ice hockey playoff",
            "marathon",
            "cricket test",
            "swimming championship",
            "handball cup",
            "cup final",
            "league title",
            "derby",
            "relegation battle",
            "semi-final",
        ],
        "events": [
            (
                "{o} win {t} {m}-1 in extra time",
                "{o} beat their rivals {m}-1 after extra time in the {t} on {d}, before {n} thousand fans.",
                "Extra-time drama as {o} clinch {t}",
                "It took extra time, but {o} won the {t} {m}-1 on {d} in front of a crowd of {n} thousand.",
            ),
            (
                "{o} sack {t} coach after {n} straight defeats",
                "{o} dismissed their coach on {d} following {n} consecutive league defeats.",
                "Coach out at {o} after losing run",
                "After {n} defeats in a row, {o} parted company with their coach on {d}.",
            ),
        ],
        "quotes": [
            "This is the best night of my life",
            "We let the fans of {p} down",
            "The players gave everything for {m} minutes",
        ],
        "details": [
            "The winning goal came in the {m}th minute.",
            "Fans celebrated late into the night.",
            "The club is {m} points from safety.",
            "Ticket sales hit a record.",
        ],
    },
    "science": {
        "roles": ["Professor", "lead researcher", "astronomer"],
        "orgs": ["the {p} observatory", "a university team", "the space agency"],
        "things": [
            "a meteorite",
            "a Roman shipwreck",
            "a giant squid",
            "a lost city",
            "a new antibiotic",
            "an ice core",
            "a bee species",
            "a supernova",
            "fossil footprints",
            "a volcanic island",
            "a comet",
            "an exoplanet",
            "a new species of frog",
            "a dinosaur skeleton",
            "ancient DNA",
            "a deep-sea vent",
            "a gravitational wave signal",
        ],
        "events": [
            (
                "Scientists in {p} discover {t}",
                "Researchers at {o} announced on {d} that they had found {t}, {n} light years or metres from expectations.",
                "{t} found by {p} team",
                "A discovery of {t} was reported on {d} by {o}, which spent {m} years on the search.",
            ),
            (
                "{t} dated to {n} million years ago",
                "{o} said on {d} that {t} found near {p} is about {n} million years old.",
                "Find near {p} is {n} million years old",
                "Tests by {o} put the age of {t} unearthed near {p} at {n} million years, the team said on {d}.",
            ),
        ],
        "quotes": [
            "We nearly missed it",
            "This changes what we thought we knew",
            "It took {m} years of patient work",
        ],
        "details": [
            "The results appear in a leading journal.",
            "Other teams will try to confirm the finding.",
            "Funding came from a ${m} million grant.",
            "Students helped sift the data.",
        ],
    },
    "transport": {
        "roles": ["union leader", "rail operator spokesperson", "airport chief"],
        "orgs": ["the rail operator", "the airport", "the transport workers' union"],
        "things": [
            "tram services",
            "the cable car",
            "port operations",
            "taxi licences",
            "the airport shuttle",
            "motorway tolls",
            "cross-border coaches",
            "cargo flights",
            "night trains",
            "the ferry service",
            "bus routes",
            "flights",
            "the metro line",
        ],
        "events": [
            (
                "Strike halts {t} in {p} for {m} days",
                "{o} walked out on {d}, stopping {t} in {p} for {m} days in a dispute over pay.",
                "{p}: {m}-day strike stops {t}",
                "Travellers in {p} face {m} days without {t} after {o} began a strike on {d}.",
            ),
            (
                "{p} to cut {n} {t}",
                "{o} said on {d} it would cut {n} {t} serving {p} from next month to save money.",
                "Cuts to {t} in {p} announced",
                "From next month {p} loses {n} {t}, {o} confirmed on {d}, citing costs.",
            ),
        ],
        "quotes": [
            "Our members have had no pay rise in {m} years",
            "We apologise to passengers in {p}",
            "These cuts will isolate rural towns",
        ],
        "details": [
            "Talks are due to resume next week.",
            "Replacement buses will run on some routes.",
            "About {n} thousand passengers are affected each day.",
            "The company reported a loss last year.",
        ],
    },
    "business": {
        "roles": ["chief executive", "finance director", "analyst"],
        "orgs": ["{c}"],
        "things": [
            "a share buyback",
            "a dividend cut",
            "a recall of cars",
            "a bond sale",
            "a store closure programme",
            "a merger",
            "an IPO",
            "profit",
            "revenue",
            "job cuts",
            "a takeover",
            "a new factory",
        ],
        "events": [
            (
                "{o} profit up {n}% on strong demand",
                "{o} reported on {d} that annual profit rose {n}% to ${m} hundred million.",
                "Strong year lifts {o} profit {n}%",
                "Profit at {o} climbed {n} percent to ${m} hundred million, the company said on {d}.",
            ),
            (
                "{o} to cut {n} jobs in {p}",
                "{o} said on {d} it will cut {n} jobs at its {p} site as sales slow.",
                "{n} jobs to go at {o}'s {p} plant",
                "Workers at the {p} plant of {o} learned on {d} that {n} positions will be eliminated.",
            ),
            (
                "{o} agrees ${n} million takeover",
                "{o} agreed on {d} to buy a smaller rival for ${n} million, subject to approval.",
                "${n}m deal: {o} buys rival",
                "In a ${n} million deal announced on {d}, {o} is acquiring a competitor.",
            ),
        ],
        "quotes": [
            "It has been a record year for {o}",
            "These decisions are never easy",
            "We expect growth to continue",
        ],
        "details": [
            "Shares rose {m}% in early trading.",
            "Unions called the decision a betrayal.",
            "The deal must be approved by regulators.",
            "The company employs {n} hundred people worldwide.",
        ],
    },
    "culture": {
        "roles": ["curator", "festival director", "author"],
        "orgs": ["the {p} museum", "the national gallery", "the {p} film festival"],
        "things": [
            "a violin",
            "a Viking sword",
            "a royal portrait",
            "a film premiere",
            "a poetry prize",
            "a theatre",
            "a rock concert",
            "a photography archive",
            "a tapestry",
            "a dinosaur egg collection",
            "a lost painting",
            "a medieval manuscript",
            "a jazz festival",
            "a sculpture",
            "a novel",
            "an opera house",
        ],
        "events": [
            (
                "{t} returns to {p} after {n} years",
                "{t} was returned to {o} on {d}, {n} years after it vanished.",
                "Missing for {n} years, {t} is back in {p}",
                "{o} welcomed back {t} on {d}; it had been missing for {n} years.",
            ),
            (
                "{t} sold for ${n} million at auction",
                "{t} fetched ${n} million at an auction in {p} on {d}, far above estimates.",
                "Record ${n}m for {t}",
                "Bidders in {p} pushed the price of {t} to ${n} million on {d}.",
            ),
        ],
        "quotes": [
            "I cried when I saw it again",
            "It belongs to the people of {p}",
            "Nobody expected the price to go so high",
        ],
        "details": [
            "It will go on display next month.",
            "Police recovered it in a private collection.",
            "The buyer asked not to be named.",
            "Visitor numbers rose {m}% this year.",
        ],
    },
    "crime": {
        "roles": ["police chief", "detective", "prosecutor"],
        "orgs": ["police in {p}", "the fraud squad", "customs officers"],
        "things": [
            "ivory",
            "cigarettes",
            "stolen art",
            "cash",
            "weapons",
            "timber",
            "designer handbags",
            "cryptocurrency",
            "rhino horn",
            "cocaine",
            "counterfeit banknotes",
            "stolen cars",
            "rare birds",
            "fake medicines",
            "gold bars",
        ],
        "events": [
            (
                "{n} arrested over {t} smuggling ring",
                "{o} arrested {n} people on {d} in raids on a network smuggling {t}.",
                "Raids break up {t} ring, {n} held",
                "A network trafficking {t} was dismantled on {d} when {o} detained {n} suspects.",
            ),
            (
                "{t} worth ${n} million seized at {p} port",
                "{o} seized {t} worth ${n} million at the port of {p} on {d}.",
                "${n}m haul of {t} found in {p}",
                "A shipment of {t} valued at ${n} million was intercepted in {p} on {d}, {o} said.",
            ),
        ],
        "quotes": [
            "This is a serious blow to organised crime",
            "The investigation took {m} months",
            "More arrests are likely",
        ],
        "details": [
            "The suspects will appear in court next week.",
            "Officers searched {m} properties.",
            "The goods were hidden in a container of fruit.",
            "Interpol assisted the operation.",
        ],
    },
    "tech": {
        "roles": ["security researcher", "chief technology officer", "regulator"],
        "orgs": [
            "{c}",
            "the data protection authority",
            "the cyber security agency",
        ],
        "things": [
            "a phishing campaign",
            "a battery fire recall",
            "a 5G network",
            "an AI chatbot",
            "a facial recognition system",
            "a cloud service",
            "a smart meter fault",
            "a software update bug",
            "a data breach",
            "an outage",
            "a ransomware attack",
            "a privacy fine",
            "a new chip",
            "a satellite launch",
        ],
        "events": [
            (
                "{t} hits {n} thousand customers",
                "{o} confirmed on {d} that {t} affected about {n} thousand customers.",
                "{n}k customers caught up in {t}",
                "About {n} thousand people were hit by {t}, {o} admitted on {d}.",
            ),
            (
                "{o} hit with ${n} million penalty",
                "{o} was fined ${n} million on {d} over {t} that went unreported for {m} months.",
                "${n}m fine for {o}",
                "Regulators penalised {o} ${n} million on {d}; {t} had gone unreported for {m} months.",
            ),
        ],
        "quotes": [
            "We take the security of our customers extremely seriously",
            "This should never have happened",
            "Change your passwords now",
        ],
        "details": [
            "Services were restored after {m} hours.",
            "The company has hired outside experts.",
            "Customers will be offered free credit monitoring.",
            "Lawmakers called for an inquiry.",
        ],
    },
    "environment": {
        "roles": ["conservation officer", "Environment Minister", "climate scientist"],
        "orgs": ["the environment agency", "a conservation charity", "the forestry service"],
        "things": [
            "solar park",
            "seagrass meadow",
            "beaver colony",
            "bear population",
            "peat bog",
            "salmon run",
            "tree planting scheme",
            "oil spill clean-up",
            "bottle deposit scheme",
            "national park",
            "wind farm",
            "coral reef",
            "wetland reserve",
            "plastic ban",
            "river clean-up",
            "wolf population",
        ],
        "events": [
            (
                "{p} approves {n}-turbine {t}",
                "{o} approved a {n}-turbine {t} off {p} on {d}, enough to power {m} hundred thousand homes.",
                "Green light for {t} off {p}",
                "Off the coast of {p}, {n} turbines will be built; {o} approved the {t} on {d}.",
            ),
            (
                "{t} near {p} grows {n}%",
                "{o} said on {d} that the {t} near {p} had grown by {n}% in {m} years.",
                "{p} {t} recovers",
                "A {n} percent increase over {m} years in the {t} near {p} was reported on {d} by {o}.",
            ),
        ],
        "quotes": [
            "Nature can recover if we give it a chance",
            "This is a huge step for clean energy",
            "The fishermen of {p} were not consulted",
        ],
        "details": [
            "Work will start next year.",
            "Volunteers counted the population by hand.",
            "Critics worry about the impact on birds.",
            "The project cost ${m} million.",
        ],
    },
}


@dataclass(frozen=True)
class TrueStory:
    """One story as its facts; ``render`` writes it as the original or a rewriting outlet."""

    key: int
    desk: str
    event: int
    slots: dict[str, str]
    speaker: str
    quotes: tuple[str, ...]
    details: tuple[str, ...]
    angle: tuple[str, str]  # what else it is about: real stories differ in more than names

    def render(self, rewrite: bool) -> tuple[str, list[str]]:
        event = DESKS[self.desk]["events"][self.event]
        headline, lead = (event[2], event[3]) if rewrite else (event[0], event[1])
        fill = lambda text: _capital(text.format(**self.slots))  # noqa: E731
        quote, second = (fill(q) for q in self.quotes)
        details = [fill(d) for d in self.details]
        if rewrite:  # another outlet: own headline and lead, details reordered, quote re-cut
            body = [
                f"{fill(lead)} It comes amid {self.angle[1]} and {self.angle[0]}.",
                f"{details[1]} {details[0]}",
                f'{self.speaker} said: "{quote}."',
                f'"{second}," {self.speaker} added.',
                details[2],
            ]
        else:
            body = [
                f"Amid {self.angle[0]} and {self.angle[1]}, {fill(lead)[:1].lower()}{fill(lead)[1:]}",
                f'"{quote}," said {self.speaker}.',
                f"{details[0]} {details[1]}",
                f'"{second}," {self.speaker.split()[-1]} said, speaking to reporters on {self.slots["d"]}.',
                details[2],
            ]
        return fill(headline), body


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def make_story(key: int, rng: random.Random) -> TrueStory:
    desk = rng.choice(sorted(DESKS))
    spec = DESKS[desk]
    place = rng.choice(PLACES)
    speaker = f"{rng.choice(spec['roles']).title()} {rng.choice(FIRST)} {rng.choice(LAST)}"
    slots = {
        "p": place,
        "d": rng.choice(DAYS),
        "n": str(rng.choice([rng.randint(2, 99), rng.randint(100, 990), rng.randint(1000, 9000)])),
        "m": str(rng.randint(2, 30)),
        "t": rng.choice(spec["things"]),
        "s": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
    }
    company = f"{rng.choice(BRANDS)} {rng.choice(TRADES)}"
    slots["o"] = rng.choice(spec["orgs"]).format(p=place, c=company)
    return TrueStory(
        key=key,
        desk=desk,
        event=rng.randrange(len(spec["events"])),
        slots=slots,
        speaker=speaker,
        quotes=tuple(rng.sample(spec["quotes"], 2)),
        details=tuple(rng.sample(spec["details"], 3)),
        angle=(rng.choice(ANGLES), rng.choice(ANGLES)),
    )


def build_site(
    site: FakeFeeds,
    feeds: int,
    items: int,
    rng: random.Random,
    *,
    rewrites: float,
    crossposts: float,
) -> dict[str, int]:
    """Publish ``items`` items; the ground truth: each item's guid -> its true story.

    Most items are distinct stories; ``rewrites`` of them are another outlet's own
    version of an earlier story (new URL, headline and wording, same facts and quotes);
    ``crossposts`` carry an earlier story's own link with tracking parameters.
    """
    for f in range(feeds):
        site.feed(f"/feed{f}.xml", f"Feed {f}")
    n_rewrites, n_cross = int(items * rewrites), int(items * crossposts)
    originals = items - n_rewrites - n_cross
    truth: dict[str, int] = {}
    stories = [make_story(i, rng) for i in range(originals)]
    links = []
    for story in stories:
        title, paragraphs = story.render(rewrite=False)
        item = site.publish(
            f"/feed{story.key % feeds}.xml", title, paragraphs, article_path=f"/news/{story.key}"
        )
        truth[item.guid] = story.key
        links.append(item)
    for j, story in enumerate(rng.sample(stories, n_rewrites)):
        title, paragraphs = story.render(rewrite=True)
        feed = (story.key + 1 + rng.randrange(feeds - 1)) % feeds
        item = site.publish(f"/feed{feed}.xml", title, paragraphs, article_path=f"/wire/{j}")
        truth[item.guid] = story.key
    for j in range(n_cross):
        story = rng.choice(stories)
        original = links[story.key]
        feed = (story.key + 1 + rng.randrange(feeds - 1)) % feeds
        item = site.publish(
            f"/feed{feed}.xml",
            original.title,
            [original.summary],
            link=original.link + f"?utm_source=f{j}",
        )
        truth[item.guid] = story.key
    return truth


def dedup_quality(truth: dict[str, int], assigned: dict[str, int]) -> dict[str, float]:
    """Pairwise precision/recall of "same story" over items, against the ground truth."""
    items = [g for g in truth if g in assigned]
    by_true: dict[int, list[str]] = {}
    by_story: dict[int, list[str]] = {}
    for guid in items:
        by_true.setdefault(truth[guid], []).append(guid)
        by_story.setdefault(assigned[guid], []).append(guid)
    pairs = lambda sizes: sum(n * (n - 1) // 2 for n in sizes)  # noqa: E731
    true_pairs = pairs(len(g) for g in by_true.values())
    found_pairs = pairs(len(g) for g in by_story.values())
    both = sum(pairs(Counter(truth[g] for g in members).values()) for members in by_story.values())
    wrong_merges = sum(len({truth[g] for g in members}) - 1 for members in by_story.values())
    return {
        "items_stored": len(items),
        "true_stories": len(by_true),
        "precision": both / found_pairs if found_pairs else 1.0,
        "recall": both / true_pairs if true_pairs else 1.0,
        "wrong_merges": wrong_merges,
    }


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("bench.db*"))


async def pg_database() -> tuple[str, Any]:
    admin_url = os.environ.get(
        "NEWSBRIEF_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
    )
    admin = await asyncpg.connect(admin_url)
    name = f"nb_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    netloc = admin_url.split("://", 1)[1].rsplit("/", 1)[0]

    async def drop() -> None:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    return f"postgresql+asyncpg://{netloc}/{name}", drop


async def run(
    kind: str, args: argparse.Namespace, site: FakeFeeds, truth: dict[str, int]
) -> dict[str, Any]:
    rng = random.Random(7)
    folder = Path(tempfile.mkdtemp())
    drop = None
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    else:
        url, drop = await pg_database()
    settings = load_settings(data_dir=folder)
    config = replace(
        DeliverySettings(),
        database_url=url,
        feed_min_interval_s=60,
        feed_items_per_poll=1000,
        article_fetch_concurrency=8,
        fanout_concurrency=64,
        telegram_rate_per_s=0,
        dedup_threshold=args.dedup_threshold or settings.dedup_threshold,
    )
    clock_now = [datetime(2025, 6, 1, 5, 0, tzinfo=UTC)]
    now = lambda: clock_now[0]  # noqa: E731
    await migrate(url)
    db = Database.connect(url)
    models = ModelService(settings)
    try:
        async with db.transaction() as session:
            await session.execute(
                insert(Feed),
                [
                    {
                        "url": site.url(f"/feed{f}.xml"),
                        "next_poll_at": now(),
                        "failures": 0,
                        "failure_reported": False,
                        "created_at": now(),
                    }
                    for f in range(args.feeds)
                ],
            )
            await session.execute(
                insert(Subscriber),
                [
                    {
                        "platform": "test",
                        "chat_id": f"u{i}",
                        "thread_id": "",
                        "local_time": "07:30",
                        "timezone": "UTC",
                        "stories": 5,
                        "topics": [],
                        "paused": False,
                        "active": True,
                        "next_run_at": datetime(2025, 6, 1, 7, 30, tzinfo=UTC),
                        "created_at": now(),
                    }
                    for i in range(args.subscribers)
                ],
            )
            await session.execute(
                insert(Subscription),
                [
                    {"subscriber_id": i + 1, "feed_id": f + 1, "keywords": [], "created_at": now()}
                    for i in range(args.subscribers)
                    for f in rng.sample(range(args.feeds), 5)
                ],
            )
        async with feed_client(config, "bench", allow_hosts=["127.0.0.1"]) as http:
            await models.run(models.embed_sync, ["warm up"])  # load MiniLM outside the timing
            stories = StoryService(db, models, http, settings, config, now)
            poller = FeedPoller(db, http, config, now)
            sender = MemorySender()
            scheduler = BriefScheduler(
                db, config, {"test": sender}, now, stories=stories, poller=poller, owner="bench"
            )
            started = time.perf_counter()
            while True:
                polled = await poller.poll_due(limit=args.feeds)
                if not polled.polled:
                    break
                await stories.ingest(polled)
            ingest_s = time.perf_counter() - started
            clock_now[0] = datetime(2025, 6, 1, 7, 30, tzinfo=UTC)
            started = time.perf_counter()
            report = await scheduler.deliver_due()
            deliver_s = time.perf_counter() - started
        async with db.sessions() as session:
            stored = int(await session.scalar(text("select count(*) from stories")) or 0)
            rows = await session.execute(select(StorySource.guid, StorySource.story_id))
            quality = dedup_quality(truth, {guid: int(story) for guid, story in rows})
            if kind == "sqlite":
                size = await asyncio.to_thread(_folder_size, folder)
            else:
                size = int(
                    await session.scalar(text("select pg_database_size(current_database())")) or 0
                )
        assert report.sent == args.subscribers, report
        return {
            "db": kind,
            "ingest_s": ingest_s,
            "items": stories.stats.items,
            "stored": stored,
            "analysed": stories.stats.analysed,
            "embedded": stories.stats.embedded,
            "merged": stories.stats.merged,
            "deliver_s": deliver_s,
            "compose_s": report.compose_s,
            "sent": report.sent,
            "size_mb": size / 1e6,
            "per_story_s": ingest_s / max(1, stories.stats.analysed),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            **quality,
        }
    finally:
        models.close()
        await db.close()
        if drop:
            await drop()
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--rewrites", type=float, default=0.1, help="share of rewritten stories")
    parser.add_argument("--crossposts", type=float, default=0.1, help="share of cross-posted links")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--dedup-threshold", type=float, default=None, help="default: settings")
    args = parser.parse_args()
    results = []
    async with serve_fake_feeds() as site:
        truth = build_site(
            site,
            args.feeds,
            args.items,
            random.Random(1),
            rewrites=args.rewrites,
            crossposts=args.crossposts,
        )
        for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
            results.append(await run(kind, args, site, truth))
            print(results[-1], flush=True)

    print(
        f"subscribers={args.subscribers} feeds={args.feeds} items={args.items} "
        f"true stories={len(set(truth.values()))} (rewrites {args.rewrites:.0%}, "
        f"cross-posts {args.crossposts:.0%})"
    )
    print(
        "| db | items | stories stored | make_brief calls | embeddings | dedup precision "
        "| dedup recall | stories merged into another | ingest s | s/story "
        "| deliver s (compose s) | briefs | db MB | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['db']} | {r['items']} | {r['stored']} | {r['analysed']} | {r['embedded']} "
            f"| {r['precision']:.3f} | {r['recall']:.3f} | {r['wrong_merges']} | {r['ingest_s']:.1f} "
            f"| {r['per_story_s']:.2f} | {r['deliver_s']:.1f} ({r['compose_s']:.1f}) "
            f"| {r['sent']} | {r['size_mb']:.1f} | {r['peak_mb']:.0f} |"
        )
    print("peak RSS: whole process after that run (MiniLM loaded; ru_maxrss only grows)")


if __name__ == "__main__":
    asyncio.run(main())
