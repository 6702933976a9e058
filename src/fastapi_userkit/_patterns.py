"""Find the predictable pieces of a password, for the password policy.

NIST SP 800-63B asks verifiers to refuse repetitive and sequential strings,
keyboard walks and context-specific words. `decompose` removes such pieces from a
password and returns what is left, so that the policy can judge the rest: a
password is only as strong as what an attacker could not guess from patterns.

A password is checked on every registration and may be thousands of characters
long, so the work stays linear in its length: each detector stops where its piece
ends, and the longest piece found at a position is removed whole.
"""

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


class Piece(enum.Enum):
    """A kind of predictable piece; the order is the order reasons are reported in."""

    REPETITION = enum.auto()
    SEQUENCE = enum.auto()
    KEYBOARD = enum.auto()
    YEAR = enum.auto()
    CONTEXT = enum.auto()


MIN_RUN = 3
"""Shortest run of one repeated character that counts as repetition."""

MIN_SEQUENCE = 3
"""Shortest ascending or descending sequence of letters or digits (`abc`, `321`)."""

MIN_WALK = 4
"""Shortest keyboard walk, in keys. Three would catch too many ordinary words."""

MIN_CONTEXT_WORD = 3
"""Shortest context word (such as the service name) that is looked for."""

_DIGITS = frozenset("0123456789")

YEARS = range(1900, 2100)
"""Four-digit numbers read as years."""


def _layout() -> Mapping[str, tuple[int, int]]:
    # US QWERTY, each key as its unshifted and shifted character. Rows are drawn
    # slanted, as on the physical keyboard: each row starts a little to the right
    # of the one above, so a key's upper neighbours are the keys at (x, y - 1) and
    # (x + 1, y - 1), and its lower ones at (x - 1, y + 1) and (x, y + 1).
    rows = (
        (0, "`~ 1! 2@ 3# 4$ 5% 6^ 7& 8* 9( 0) -_ =+"),
        (1, "qQ wW eE rR tT yY uU iI oO pP [{ ]} \\|"),
        (1, "aA sS dD fF gG hH jJ kK lL ;: '\""),
        (1, "zZ xX cC vV bB nN mM ,< .> /?"),
    )
    positions: dict[str, tuple[int, int]] = {}
    for y, (offset, keys) in enumerate(rows):
        for x, key in enumerate(keys.split(), start=offset):
            for char in key:
                positions[char] = (x, y)
    return MappingProxyType(positions)


KEY_POSITIONS = _layout()
"""The (column, row) of each character's key on a US QWERTY keyboard."""

_NEIGHBOUR_STEPS = frozenset({(-1, 0), (1, 0), (0, -1), (1, -1), (-1, 1), (0, 1)})


def _adjacent(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    """Whether two keys touch, including diagonally (the same key does not count)."""
    if a is None or b is None:
        return False
    return (b[0] - a[0], b[1] - a[1]) in _NEIGHBOUR_STEPS


def _run(text: str, start: int) -> int:
    """Length of the run of `text[start]` repeated, from *start*."""
    end = start + 1
    while end < len(text) and text[end] == text[start]:
        end += 1
    return end - start


def _step(a: str, b: str) -> int:
    """+1 or -1 when *b* follows or precedes *a* among letters or digits, else 0.

    ASCII digits wrap around, in keyboard order: `7890` and `0987` are sequences.
    """
    if a in _DIGITS and b in _DIGITS:
        difference = (int(b) - int(a)) % 10
        return 1 if difference == 1 else -1 if difference == 9 else 0
    difference = ord(b) - ord(a)
    return difference if abs(difference) == 1 and a.isalpha() and b.isalpha() else 0


def _sequence(text: str, start: int, direction: int) -> int:
    """Length of the sequence going in *direction* (+1 or -1) from *start*."""
    end = start + 2
    while end < len(text) and _step(text[end - 1], text[end]) == direction:
        end += 1
    return end - start


def _walk(text: str, start: int) -> int:
    """Length of the keyboard walk from *start*: each key next to the one before.

    A step straight back to the key before the previous one ends the walk: words
    such as `were` or `juju` go back and forth over two or three keys, whereas a
    walk moves across the keyboard.
    """
    before, key = None, KEY_POSITIONS.get(text[start])
    end = start + 1
    while end < len(text):
        following = KEY_POSITIONS.get(text[end])
        if not _adjacent(key, following) or following == before:
            break
        before, key = key, following
        end += 1
    return end - start


def _year(text: str, start: int) -> int:
    """4 when a year (1900 to 2099) starts at *start*, else 0."""
    digits = text[start : start + 4]
    if len(digits) == 4 and digits.isascii() and digits.isdigit() and int(digits) in YEARS:
        return 4
    return 0


def _context(text: str, start: int, words: tuple[str, ...]) -> int:
    """Length of the longest of *words* (longest first) found at *start*, else 0."""
    return next((len(word) for word in words if text.startswith(word, start)), 0)


def _longest_piece(text: str, start: int, words: tuple[str, ...]) -> tuple[int, Piece | None]:
    """The longest predictable piece at *start*, as its length and kind.

    Each detector runs only when the first characters allow its piece, which
    skips most positions of an ordinary password cheaply. On a tie the earlier
    candidate wins: `1234` is a sequence rather than a keyboard walk.
    """
    first = text[start]
    second = text[start + 1] if start + 1 < len(text) else ""
    candidates: list[tuple[int, int, Piece]] = []
    if text.startswith(words, start):
        candidates.append((_context(text, start, words), MIN_CONTEXT_WORD, Piece.CONTEXT))
    if first in "12":
        candidates.append((_year(text, start), 4, Piece.YEAR))
    if second:
        if direction := _step(first, second):
            candidates.append((_sequence(text, start, direction), MIN_SEQUENCE, Piece.SEQUENCE))
        if first == second:
            candidates.append((_run(text, start), MIN_RUN, Piece.REPETITION))
        if _adjacent(KEY_POSITIONS.get(first), KEY_POSITIONS.get(second)):
            candidates.append((_walk(text, start), MIN_WALK, Piece.KEYBOARD))
    best, kind = 0, None
    for length, minimum, piece in candidates:
        if length >= minimum and length > best:
            best, kind = length, piece
    return best, kind


def repeated_unit(text: str) -> str | None:
    """The shortest unit that *text* is two or more copies of (`abcabc` -> `abc`).

    `(text + text).find(text, 1)` is the smallest period of *text* that divides its
    length, and CPython's `str.find` takes linear time on long strings.
    """
    period = (text + text).find(text, 1)
    return text[:period] if 0 < period < len(text) else None


@dataclass(frozen=True)
class Decomposition:
    """A password without its predictable pieces.

    Attributes:
        rest: The characters left once the pieces are removed, in order.
        pieces: The kinds of piece found, in `Piece` order.
    """

    rest: str
    pieces: tuple[Piece, ...]


def decompose(text: str, context_words: Iterable[str] = ()) -> Decomposition:
    """Remove the predictable pieces of *text*, scanning left to right.

    At each position the longest piece starting there is removed; a character that
    starts no piece is kept. A text that is a repetition of a shorter unit is judged
    by its unit, and counts as repetitive.

    Args:
        text: The password, already NFKC-normalised and case-folded.
        context_words: Words specific to the service, in the same form; those
            shorter than `MIN_CONTEXT_WORD` are ignored.
    """
    words = tuple(sorted({w for w in context_words if len(w) >= MIN_CONTEXT_WORD}, key=len))[::-1]
    found: set[Piece] = set()
    if (unit := repeated_unit(text)) is not None:
        text = unit
        found.add(Piece.REPETITION)
    kept: list[str] = []
    position = 0
    while position < len(text):
        length, kind = _longest_piece(text, position, words)
        if kind is None:
            kept.append(text[position])
            position += 1
        else:
            found.add(kind)
            position += length
    return Decomposition("".join(kept), tuple(p for p in Piece if p in found))
