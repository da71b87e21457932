"""Tag sets: the scheme their names follow (BIO, BIOES, BMES) and the order of their ids.

The scheme tells a tagging family how to score (chunks — entities, words — for BIO, BIOES and
BMES; single tokens for any other tag set) and a CRF which transitions it may forbid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["SCHEMES", "tag_order", "tag_scheme"]

SCHEMES = ("BIO", "BIOES", "BMES", "other")
_CHUNK = re.compile(r"([BIES])(?:[-_].+)?", re.IGNORECASE)  # B-PER, I_LOC, E, S-MISC
_BMES = "BMES"


def tag_scheme(tags: Iterable[str]) -> str:
    """The scheme a tag set follows, one of :data:`SCHEMES`:

    * ``"BMES"``: only ``B``, ``M``, ``E``, ``S`` (one case), ``B`` and ``E`` among them —
      word segmentation as character tagging (``迈/b 向/e``);
    * ``"BIO"``: ``O`` and ``B``/``I``, bare or with a type (``B-PER``, ``I_LOC``) — IOB2 and
      IOB1 alike;
    * ``"BIOES"``: as BIO with ``E`` (end) or ``S`` (single) too;
    * ``"other"``: anything else (part-of-speech tags, BILOU, ...).
    """
    names = set(tags)
    if not names:
        return "other"
    letters = {t.upper() for t in names}
    one_case = all(t.isupper() for t in names) or all(t.islower() for t in names)
    if letters <= set(_BMES) and {"B", "E"} <= letters and one_case:
        return "BMES"
    prefixes = set()
    for tag in names:
        if tag in ("O", "o"):
            continue
        match = _CHUNK.fullmatch(tag)
        if match is None:
            return "other"
        prefixes.add(match.group(1).upper())
    if not prefixes:
        return "other"
    return "BIO" if prefixes <= {"B", "I"} else "BIOES"


def tag_order(tags: Iterable[str]) -> list[str]:
    """The distinct tags in id order: BMES as ``B, M, E, S`` (in the data's case); BIO and
    BIOES with ``O`` first, then sorted; any other set sorted."""
    names = sorted(set(tags))
    scheme = tag_scheme(names)
    if scheme == "BMES":
        return sorted(names, key=lambda t: _BMES.index(t.upper()))
    if scheme in ("BIO", "BIOES"):
        return sorted(names, key=lambda t: (t not in ("O", "o"), t))
    return names
