"""Text folded to a canonical form before it is compared with a blocklist, so that simple obfuscation
(other Unicode forms of the same letters, look-alike letters from other scripts, invisible characters,
accents, letters spelled out with separators, digits for letters) does not get a word past it.

``variants(text)`` returns the forms to search: the folded text, the same with spaced-out letters
joined (``a.c.m.e`` -> ``acme``), and both with common digit/symbol substitutions undone (``4cm3`` ->
``acme``). Folding: NFKC (full-width and mathematical letters, ligatures) -> casefold (``ß`` -> ``ss``)
-> format characters removed (zero-width space/joiner, soft hyphen, bidi marks) -> accents removed
(NFKD, combining marks dropped) -> look-alike Cyrillic/Greek letters mapped to Latin.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "variants"]

# Cyrillic and Greek letters that render like Latin ones (lower-case: applied after casefold).
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i",
        "ј": "j", "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s",
        "т": "t", "ц": "u", "ѵ": "v", "ԝ": "w", "х": "x", "у": "y", "ү": "y", "з": "3",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
        "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ϲ": "c", "ϳ": "j",
        "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h",
    }
)  # fmt: skip
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)
# Three or more single letters/digits separated by 1-3 separators: a spelled-out word.
_SPACED = re.compile(r"(?<![^\W_])(?:[^\W_][\W_]{1,3}){2,}[^\W_](?![^\W_])")
_SEPARATORS = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """``text`` in the canonical form described in the module docstring."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", text).translate(_CONFUSABLES)


def _join_spaced(text: str) -> str:
    return _SPACED.sub(lambda m: _SEPARATORS.sub("", m.group(0)), text)


def variants(text: str) -> tuple[str, ...]:
    """The forms of ``text`` a blocked word or pattern is searched in (duplicates dropped)."""
    folded = fold(text)
    joined = _join_spaced(folded)
    out = [folded, joined, folded.translate(_LEET), _join_spaced(folded.translate(_LEET))]
    return tuple(dict.fromkeys(out))
