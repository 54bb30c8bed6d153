"""Noticing, in the customer's own words, that they want a person.

``wants_human(text)`` returns "customer_request" (they asked for a person), "frustration"
(they are fed up with the assistant) or None. Patterns run on normalised text; a fuzzy
pass over a few canonical phrases catches typos ("tlak to a humna"). Words like "agent"
or "person" alone in a longer sentence do not count: "the agent delivered my parcel late"
is a question about a parcel, not a request.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz

CUSTOMER_REQUEST = "customer_request"
FRUSTRATION = "frustration"

_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b"), "cannot"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'s\b"), ""),
)
# Chat spellings, so patterns and the knowledge base need only the standard form.
_SPELLINGS = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "im": "i am",
    "youre": "you are",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "hasnt": "has not",
    "havent": "have not",
    "isnt": "is not",
    "arent": "are not",
    "werent": "were not",
    "couldnt": "could not",
    "wasnt": "was not",
    "cant": "cannot",
    "wont": "will not",
    "whats": "what",
    "wheres": "where",
}


def normalize(text: str) -> str:
    """Lower-case words and numbers separated by single spaces; contractions spelled out."""
    # Accents go ("café" -> "cafe") but other scripts stay, so a question in another
    # language is a question not understood rather than an empty message.
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("`", "'"))
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    for pattern, replacement in _CONTRACTIONS:
        folded = pattern.sub(replacement, folded)
    words = re.sub(r"[\W_]+", " ", folded).split()
    return " ".join(_SPELLINGS.get(word, word) for word in words)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PERSON = (
    r"(?:a |an |the |your |one of your )?(?:real |actual |live |human )?"
    r"(?:human|humans|person|people|someone|somebody|anyone|anybody|agent|agents|representative|rep"
    r"|operator|staff|employee|advisor|adviser|manager|supervisor|team member"
    r"|customer (?:service|support|care)(?: team| agent)?|support team|service team)\b"
)
_REQUESTS = [
    # "can I talk to someone", "connect me with an agent", "put me through to a person"
    re.compile(
        r"\b(?:talk|speak|chat|connect|transfer|escalate|contact|(?:put|pass|switch) me)\b(?: \w+){0,4}? "
        rf"(?:to|with|through) {_PERSON}"
    ),
    # "I want a real person", "live agent", "a human being"
    re.compile(r"\b(?:real|actual|live) (?:person|human|agent|people|operator)\b|\bhuman being\b"),
    # "I want a human", "get me an agent", "need a representative"
    re.compile(
        r"\b(?:want|need|get|give|prefer|request)\b(?: me)? (?:a |an |to a |to an )?"
        r"(?:human|person|agent|representative|operator|rep)\b"
    ),
    re.compile(r"\b(?:representative|operator)s?\b"),
    # "is there a human I can talk to"
    re.compile(r"\b(?:is there|are there|do you have) (?:a |an |any )?(?:real )?(?:human|person|people)\b"),
    # "call me", "can someone phone me back"
    re.compile(r"\b(?:call|phone|ring) me\b|\bcall ?back\b"),
]
# A negation a few words before cancels a request: "I do not want to talk to a person".
_NEGATIONS = frozenset({"not", "no", "never"})

_TARGET = r"(?:this|that|it|you|bot|chatbot|assistant|robot|machine|chat|answer|answers|reply|replies)"
_BAD = r"(?:useless|pointless|unhelpful|worthless|hopeless|stupid|dumb|rubbish|garbage|ridiculous|a joke)"
_FRUSTRATIONS = [
    # "this is useless", "you are so unhelpful", "useless bot", "what a stupid answer"
    re.compile(rf"\b{_TARGET}\b(?: \w+){{0,2}}? {_BAD}\b|\b{_BAD} {_TARGET}\b"),
    # "not helpful", "you are not helping", "that was no help at all"
    re.compile(
        r"\bnot (?:very |at all )?helpful\b|\b(?:you|this|that|it)(?: are| is| was)? not help(?:ing|ful)?\b"
        r"|\b(?:is|was|are) no help\b|\bno help at all\b"
    ),
    re.compile(r"\bwast(?:e|ing) (?:of )?(?:my )?time\b"),
    re.compile(r"\b(?:you|it|bot) (?:do not|does not|cannot|never) (?:understand|get it|listen)\b"),
    re.compile(r"\b(?:that|this) is not what i (?:asked|meant|want)\b|\bare you (?:even )?listening\b"),
]

# A message made only of these words and at least one person word ("agent please!",
# "HUMAN", "a real person now") asks for a person; the same word inside a sentence does not.
_PERSON_WORDS = frozenset(
    {"human", "person", "agent", "representative", "rep", "operator", "someone", "somebody", "people"}
)
_FILLER = _words(
    "a an the please now asap i want need get me give let talk speak to with can could just "
    "ok okay hi hello hey yes real live actual one some customer service support thanks "
    "thank you would like so very really totally"
)
_FRUSTRATED_WORDS = frozenset({"useless", "pointless", "unhelpful", "worthless", "stupid", "dumb", "rubbish"})
_CUSTOMER_SERVICE = re.compile(r"\bcustomer (?:service|support|care)\b")

# Canonical phrases for the fuzzy pass, with the least partial_ratio that counts. The
# frustration phrases need a closer match: "boots are useless" is about boots.
_FUZZY = [
    *(
        (phrase, CUSTOMER_REQUEST, 85.0)
        for phrase in (
            "talk to a person",
            "talk to a human",
            "speak to a person",
            "speak to a human",
            "talk to someone",
            "speak to someone",
            "talk to an agent",
            "speak to an agent",
            "real person",
            "representative",
        )
    ),
    *((phrase, FRUSTRATION, 92.0) for phrase in ("this is useless", "you are useless", "waste of time")),
]


def wants_human(text: str) -> str | None:
    """Return "customer_request", "frustration" or None for one customer message."""
    words = normalize(text)
    if not words:
        return None
    if _only(words, _PERSON_WORDS) or _asks_for_person(words):
        return CUSTOMER_REQUEST
    if _only(words, _FRUSTRATED_WORDS) or any(p.search(words) for p in _FRUSTRATIONS):
        return FRUSTRATION
    return _fuzzy(words)


def _only(words: str, keywords: frozenset[str]) -> bool:
    """True when the message is one of ``keywords`` padded with filler ("agent please!")."""
    tokens = set(_CUSTOMER_SERVICE.sub("agent", words).split())
    return bool(tokens & keywords) and tokens <= _FILLER | keywords


def _asks_for_person(words: str) -> bool:
    return any(
        not _negated(words, match.start()) for pattern in _REQUESTS for match in pattern.finditer(words)
    )


def _negated(words: str, start: int) -> bool:
    before = words[:start].split()
    if before and start and words[start - 1] != " ":
        before.pop()  # a fuzzy window may start inside a word
    return not _NEGATIONS.isdisjoint(before[-4:])


def _fuzzy(words: str) -> str | None:
    for phrase, reason, cutoff in _FUZZY:
        # A message much shorter than the phrase cannot contain it; partial_ratio aligns the
        # phrase with its best window in the message, which we also check for a negation.
        if len(words) < len(phrase) - 2:
            continue
        found = fuzz.partial_ratio_alignment(phrase, words, score_cutoff=cutoff)
        if found is not None and (reason == FRUSTRATION or not _negated(words, found.dest_start)):
            return reason
    return None
