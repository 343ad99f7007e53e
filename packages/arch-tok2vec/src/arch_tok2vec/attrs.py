"""Token attribute ids and the lexical attributes derived from a token's text.

The ids are spaCy's (``spacy.attrs``), so a column list written for spaCy's
``Doc.to_array`` means the same here.
"""

from typing import Dict, List, Sequence, Union

from .norms import BASE_NORMS

ID = 64
ORTH = 65
LOWER = 66
NORM = 67
SHAPE = 68
PREFIX = 69
SUFFIX = 70
LENGTH = 71

ATTR_IDS: Dict[str, int] = {
    "ID": ID,
    "ORTH": ORTH,
    "LOWER": LOWER,
    "NORM": NORM,
    "SHAPE": SHAPE,
    "PREFIX": PREFIX,
    "SUFFIX": SUFFIX,
    "LENGTH": LENGTH,
}
ATTR_NAMES: Dict[int, str] = {value: key for key, value in ATTR_IDS.items()}

# The attributes whose value is the hash of a string derived from the text.
STRING_ATTRS = (ORTH, LOWER, NORM, PREFIX, SUFFIX, SHAPE)

AttrLike = Union[int, str]


def intify_attr(attr: AttrLike) -> int:
    """Turn an attribute name ("NORM", "norm") or id (67) into its id.

    Raises ValueError naming the attribute when it is not one this package
    can compute.
    """
    if isinstance(attr, str):
        key = attr.upper()
        if key in ATTR_IDS:
            return ATTR_IDS[key]
    elif isinstance(attr, int) and not isinstance(attr, bool) and attr in ATTR_NAMES:
        return attr
    supported = ", ".join(ATTR_IDS)
    raise ValueError(f"Unknown token attribute {attr!r}: supported are {supported}")


def intify_attrs(attrs: Sequence[AttrLike]) -> List[int]:
    """Apply ``intify_attr`` to every entry of a list."""
    return [intify_attr(attr) for attr in attrs]


def word_shape(text: str) -> str:
    """spaCy's word shape: letters become X/x, digits d, runs cut to four.

    "Hello" -> "Xxxxx", "1,000.50" -> "d,ddd.dd", anything of 100 or more
    characters -> "LONG".
    """
    if len(text) >= 100:
        return "LONG"
    shape: List[str] = []
    last = ""
    run = 0
    for char in text:
        if char.isalpha():
            mapped = "X" if char.isupper() else "x"
        elif char.isdigit():
            mapped = "d"
        else:
            mapped = char
        if mapped == last:
            run += 1
        else:
            run = 0
            last = mapped
        if run < 4:
            shape.append(mapped)
    return "".join(shape)


def lexical_strings(text: str) -> List[str]:
    """The strings behind ORTH, LOWER, NORM, PREFIX, SUFFIX and SHAPE, in that order."""
    lower = text.lower()
    return [text, lower, BASE_NORMS.get(text, lower), text[:1], text[-3:], word_shape(text)]
