"""Word list numbering (numbering.xml) → the label Word shows in front of a paragraph.

The "1." or "a)" of a Word list is not in the paragraph's text: Word computes it from the
paragraph's numbering properties (numId, level), the list definition (number format, level
text such as "%1.%2.", start value) and the counters of the paragraphs before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from docx.oxml.ns import qn

_BULLETS = "-–•+*"


@dataclass
class _Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = "%1."
    restart: int | None = None  # w:lvlRestart: reset after a use of a level < this (1-based)
    legal: bool = False  # w:isLgl: every number of the label in decimal


@dataclass
class _Counters:
    values: dict[int, int] = field(default_factory=dict)  # level → current number
    started: set[str] = field(default_factory=set)  # numIds whose start overrides were applied


def _val(element, tag: str) -> str | None:
    child = element.find(qn(tag)) if element is not None else None
    return child.get(qn("w:val")) if child is not None else None


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _levels(container) -> dict[int, _Level]:
    levels: dict[int, _Level] = {}
    for lvl in container.findall(qn("w:lvl")):
        ilvl = _int(lvl.get(qn("w:ilvl")), 0) or 0
        levels[ilvl] = _Level(
            start=_int(_val(lvl, "w:start"), 1) or 0,
            fmt=_val(lvl, "w:numFmt") or "decimal",
            text=_val(lvl, "w:lvlText") if lvl.find(qn("w:lvlText")) is not None else "",
            restart=_int(_val(lvl, "w:lvlRestart")),
            legal=lvl.find(qn("w:isLgl")) is not None,
        )
    return levels


def _roman(n: int) -> str:
    out = ""
    for value, letters in (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ):
        while n >= value:
            out += letters
            n -= value
    return out


def _letters(n: int) -> str:
    # Word repeats the letter: a … z, aa … zz, aaa …
    n = max(n, 1)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n).lower()
    if fmt == "upperRoman":
        return _roman(n)
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)  # decimal and every format we do not spell out (ordinal, cardinalText, …)


class Numbering:
    """Label of each numbered paragraph, computed in document order (call `label` in order)."""

    def __init__(self, document) -> None:
        self._abstract: dict[str, dict[int, _Level]] = {}
        self._nums: dict[str, tuple[str, dict[int, _Level], dict[int, int]]] = {}
        self._counters: dict[str, _Counters] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        for abstract in root.findall(qn("w:abstractNum")):
            self._abstract[abstract.get(qn("w:abstractNumId"))] = _levels(abstract)
        for num in root.findall(qn("w:num")):
            abstract_id = _val(num, "w:abstractNumId") or ""
            overrides: dict[int, _Level] = {}
            starts: dict[int, int] = {}
            for override in num.findall(qn("w:lvlOverride")):
                ilvl = _int(override.get(qn("w:ilvl")), 0) or 0
                start = _int(_val(override, "w:startOverride"))
                if start is not None:
                    starts[ilvl] = start
                overrides.update(_levels(override))
            self._nums[num.get(qn("w:numId"))] = (abstract_id, overrides, starts)

    def _level(self, num_id: str, ilvl: int) -> _Level | None:
        abstract_id, overrides, _ = self._nums[num_id]
        return overrides.get(ilvl) or self._abstract.get(abstract_id, {}).get(ilvl)

    def label(self, num_id: str | None, ilvl: int) -> str:
        """The label Word shows for the next paragraph of list `num_id` at level `ilvl`."""
        if not num_id or num_id == "0" or num_id not in self._nums:
            return ""
        level = self._level(num_id, ilvl)
        if level is None:
            return ""
        abstract_id, _, starts = self._nums[num_id]
        # Counters are kept per list definition: lists sharing one continue each other's
        # numbering, unless a list restarts a level (startOverride) when it is first used.
        counters = self._counters.setdefault(abstract_id, _Counters())
        if num_id not in counters.started:
            counters.started.add(num_id)
            for restart_level, start in starts.items():
                counters.values[restart_level] = start - 1
        if ilvl in counters.values:
            counters.values[ilvl] += 1
        else:
            counters.values[ilvl] = level.start
        for deeper in [k for k in counters.values if k > ilvl]:
            deeper_level = self._level(num_id, deeper)
            restart = deeper_level.restart if deeper_level else None
            if restart is None or (restart != 0 and ilvl < restart):
                del counters.values[deeper]
        if level.fmt == "none":
            return ""
        if level.fmt == "bullet":
            mark = level.text.strip()[:1]
            return mark if mark and mark in _BULLETS else "-"
        text = level.text
        for k in range(8, -1, -1):
            placeholder = f"%{k + 1}"
            if placeholder not in text:
                continue
            k_level = self._level(num_id, k) or _Level()
            value = counters.values.get(k, k_level.start)
            fmt = "decimal" if level.legal and k_level.fmt != "none" else k_level.fmt
            text = text.replace(placeholder, format_number(value, fmt))
        return text.strip()
