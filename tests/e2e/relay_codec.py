"""A reader of relayed co-browse frames as widget/src/cobrowse/relaycodec.js writes them, so
that tests searching what a browser sent see every frame's text (no canary hides behind a
copy of an earlier frame).

    ^<sender>.<n>[.<base>...]:<body>    body: JSON with " and ' swapped, "~" + 3 characters
                                        a copy (distance back, length - 5), "~~" a "~"
"""

from __future__ import annotations

import re

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
INDEX = {c: i for i, c in enumerate(ALPHABET)}
MIN_MATCH = 5
HEADER = re.compile(r"^\^([a-z0-9]{4})\.(\d{1,9})((?:\.\d{1,9}){0,3}):")
SWAP = str.maketrans({'"': "'", "'": '"'})


class RelayDecoder:
    """Frames of any number of senders, in the order they were sent."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}  # "sender.n" -> swapped text

    def decode(self, wire: str) -> str | None:
        """The frame's JSON text (plain frames as they are), or None if a base is missing."""
        if not wire.startswith("^"):
            return wire
        head = HEADER.match(wire)
        if head is None:
            return None
        sender, n, bases = head.groups()
        dictionary = ""
        for base in bases.split(".")[1:]:
            if f"{sender}.{base}" not in self.texts:
                return None
            dictionary += self.texts[f"{sender}.{base}"]
        body = wire[head.end() :]
        out = list(dictionary)
        i = 0
        while i < len(body):
            if body[i] != "~":
                out.append(body[i])
                i += 1
            elif body[i + 1] == "~":
                out.append("~")
                i += 2
            else:
                distance = INDEX[body[i + 1]] << 6 | INDEX[body[i + 2]]
                start = len(out) - distance
                for k in range(INDEX[body[i + 3]] + MIN_MATCH):
                    out.append(out[start + k])
                i += 4
        swapped = "".join(out[len(dictionary) :])
        self.texts[f"{sender}.{n}"] = swapped
        return swapped.translate(SWAP)
