"""Made-up words and pronunciations for the pairs tests."""

import random


def spell(word: str) -> str:
    """A made-up pronunciation: every letter an upper-case symbol."""
    return " ".join(ch.upper() + "1" for ch in word)


def words(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct made-up words of 2 to 6 letters a-h."""
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < n:
        found["".join(rng.choices("abcdefgh", k=rng.randint(2, 6)))] = None
    return list(found)
