"""Cut a table grid into segments, each with one header (column roles) and its body rows.

A header may be found anywhere in a line (a crawler put the appendix header at the end of a line
of page furniture), span two lines, repeat after page breaks, or lose its number cell (its rows
still start with their numbers: the header is put back in line). Body rows are realigned where
a conversion shifted them (a leading empty cell before the row number), split where it glued two
rows together, and set aside as junk where they overflow the header with page furniture. Where
rows stop fitting their header (a second appendix whose header was lost), or where there is no
header at all, column roles come from what the cells hold: row numbers, long task text, agency
names, deadlines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.tabular.table_layout import (
    DEADLINE,
    LEAD,
    NUMBER,
    OTHER,
    PLAIN,
    SCHEDULE,
    SUPPORT,
    TASK,
    TASKS,
    Grid,
    column_role,
    find_header,
    is_fragment,
    is_label,
    looks_agency,
    looks_deadline,
    merge_header_lines,
    table_kind,
)

_NUMBERING = re.compile(
    r"^(\d{1,3}(\.\d{1,3})*\.?|\(?\d{1,3}\)|[IVX]{1,5}(\.\d{1,3})*\.?|[A-Z]\.?|[a-zđ]\))$"
)


@dataclass
class Segment:
    header: list[str]
    roles: list[str]
    kind: str
    body: list[tuple[int, list[str]]] = field(default_factory=list)  # (grid row, aligned cells)
    junk: list[str] = field(default_factory=list)  # page furniture met among the rows
    dropped: dict[int, set[int]] = field(
        default_factory=dict
    )  # grid row → columns a conversion dropped


def segments(grid: Grid, inherited: tuple[list[str], list[str]] | None = None) -> list[Segment]:
    """`inherited`: (header, roles) of the table this one continues, for rows before any header."""
    rows = grid.rows
    out: list[Segment] = []
    loose: list[int] = []  # rows met before any header
    current: Segment | None = None
    i = 0
    while i < len(rows):
        found = find_header(rows[i])
        if found is None:
            (current.body.append((i, rows[i])) if current is not None else loose.append(i))
            i += 1
            continue
        header = list(found[1])
        j = i + 1
        while j < len(rows) and is_fragment(rows[j]) and not _labelled(rows[j]):
            header = merge_header_lines(header, rows[j])
            j += 1
        header = _restore_number_column(header, rows[j : j + 6])
        roles = _roles(header)
        if current is not None and roles == current.roles:
            i = j  # the header repeated after a page break
            continue
        if loose:
            out.extend(_loose(grid, loose, inherited if not out else None))
            loose = []
        current = Segment(header, roles, table_kind(header))
        out.append(current)
        i = j
    if loose:
        out.extend(_loose(grid, loose, inherited if not out else None))
    final: list[Segment] = []
    for seg in out:
        final.extend(_settle(grid, seg))
    for seg in final:
        if seg.kind == TASKS and _agenda(seg):
            seg.kind = SCHEDULE
    return final


_CLOCK = re.compile(r"\b\d{1,2}\s*(h|giờ|:)\s*\d{0,2}\b|^(sáng|chiều|tối|trưa)\b", re.I)


def _agenda(seg: Segment) -> bool:
    """A meeting programme ("07h45 - 08h00 | Tiếp đón đại biểu | Bộ Công an"): hours of one
    day, not deadlines; its rows are a schedule, not duties."""
    if DEADLINE not in seg.roles:
        return False
    col = seg.roles.index(DEADLINE)
    cells = [c[col] for _, c in seg.body if col < len(c) and c[col]]
    return bool(cells) and 2 * sum(bool(_CLOCK.search(c)) for c in cells) > len(cells)


def _loose(
    grid: Grid, loose: list[int], inherited: tuple[list[str], list[str]] | None
) -> list[Segment]:
    """Rows before any header: the next page of the table before (same width), else roles
    inferred from their cells."""
    if inherited is not None:
        header, roles = inherited
        width = max(len(_strip(grid.rows[i])) for i in loose)
        if (
            len(header) - 1 <= width <= len(header) + 1 and TASK in roles
        ):  # (not a 2-column signature table)
            return [
                Segment(
                    list(header),
                    list(roles),
                    table_kind(header),
                    body=[(i, grid.rows[i]) for i in loose],
                )
            ]
    return _infer(grid, loose)


def _labelled(cells: list[str]) -> bool:
    return (
        bool(cells)
        and bool(_NUMBERING.match(cells[0]))
        and any(len(c.split()) > 3 for c in cells[1:])
    )


def _roles(header: list[str]) -> list[str]:
    roles = [column_role(h) for h in header]
    if NUMBER not in roles and header and not header[0]:
        roles[0] = NUMBER
    return roles


def _restore_number_column(header: list[str], following: list[list[str]]) -> list[str]:
    """A header that lost its number cell while its rows still start with a number."""
    if (
        any(column_role(h) == NUMBER for h in header)
        or not header
        or column_role(header[0]) == NUMBER
    ):
        return header
    data = [r for r in following if any(r) and find_header(r) is None]
    numbered = [r for r in data if r and _NUMBERING.match(r[0])]
    if data and len(numbered) * 2 >= len(data) and header[0] and column_role(header[0]) != NUMBER:
        return ["STT", *header]
    return header


def _strip(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _align(cells: list[str], num: int, width: int) -> list[str]:
    """Shift a row whose number stands one or more cells right of the number column."""
    cells = _strip(cells)
    if num < len(cells) and not cells[num]:
        k = num + 1
        while k < len(cells) and not cells[k] and k <= num + 2:
            k += 1
        if k < len(cells) and _NUMBERING.match(cells[k]) and len(cells) - (k - num) <= width:
            return cells[:num] + cells[k:]
    return cells


def _fit(cell: str, role: str) -> float:
    """How well a cell's content suits a column role."""
    words = len(cell.split())
    if not cell:
        return 0.0
    if role == NUMBER:
        return 3.0 if _NUMBERING.match(cell) else -3.0
    if role == TASK:
        return 1.0 + min(words, 30) / 10 if words >= 4 else 0.5
    if role in (LEAD, SUPPORT):
        bias = 0.1 if role == SUPPORT else 0.0  # a lead cell spanning rows is the common merge
        return (2.0 if looks_agency(cell) and words <= 15 else (0.0 if words <= 8 else -1.0)) + bias
    if role == DEADLINE:
        return 2.0 if looks_deadline(cell) else (0.3 if words <= 6 else -1.0)
    return 0.3 if not looks_agency(cell) and not looks_deadline(cell) else 0.0


def _fill_dropped(cells: list[str], roles: list[str]) -> tuple[list[str], set[int]]:
    """A row with fewer cells than its header: the conversion dropped the cells a rowspan above
    covered. Place each cell in the column its content suits best, keeping their order."""
    n, w = len(cells), len(roles)
    neg = float("-inf")
    best = [[neg] * (w + 1) for _ in range(n + 1)]
    back = [[0] * (w + 1) for _ in range(n + 1)]
    best[0] = [0.0] * (w + 1)
    for i in range(1, n + 1):
        for j in range(i, w + 1):
            take = best[i - 1][j - 1] + _fit(cells[i - 1], roles[j - 1])
            skip = best[i][j - 1]
            best[i][j], back[i][j] = (take, 1) if take >= skip else (skip, 0)
    positional = sum(_fit(c, r) for c, r in zip(cells, roles, strict=False))
    if best[n][w] - positional < 1.5:
        return cells, set()  # as written (a converter may just have dropped trailing empty cells)
    out = [""] * w
    i, j = n, w
    while i > 0:
        if back[i][j]:
            out[j - 1] = cells[i - 1]
            i -= 1
        j -= 1
    dropped = {c for c in range(w) if not out[c] and roles[c] in (LEAD, SUPPORT, DEADLINE)}
    return out, dropped


def _split_glued(cells: list[str], width: int) -> list[list[str]]:
    """Two rows the conversion glued into one line (a second number and text past the end)."""
    if len(cells) <= width:
        return [cells]
    for k in range(3, len(cells) - 1):
        if re.fullmatch(r"\d{1,3}", cells[k]) and len(cells[k + 1].split()) >= 4:
            head = cells[:k]
            while head and not re.search(r"\w", head[-1]):
                head = head[:-1]
            return [head, *_split_glued(cells[k:], width)]
    return [cells]


def _settle(grid: Grid, seg: Segment) -> list[Segment]:
    """Realign, split and sort the rows of a segment; rows that stop fitting start a new one."""
    if not seg.header:
        return [seg]
    width = len(seg.header)
    num = seg.roles.index(NUMBER) if NUMBER in seg.roles else 0
    body: list[tuple[int, list[str]]] = []
    for index, cells in seg.body:
        if (
            seg.kind == TASKS
            and num == 0
            and 3 <= len(cells) < width
            and cells[-1]
            and _NUMBERING.match(cells[0])
        ):
            cells, dropped = _fill_dropped(cells, seg.roles)
            if dropped:
                seg.dropped[index] = dropped
        for part in _split_glued(_align(cells, num, width), width):
            body.append((index, part))
    width = _widen(seg, body, width)
    seg.body = []
    fitted = False
    for pos, (index, cells) in enumerate(body):
        if _labelled(cells) and len(cells) <= width:
            fitted = True
        if len(cells) > width and _labelled(cells) and fitted and _misfits_ahead(body[pos:], width):
            rest = _infer(grid, [], body[pos:])
            return [seg, *[s for r in rest for s in _settle(grid, r)]]
        if len(cells) > width and _labelled(cells):
            # One row carrying page furniture past its last column: keep the row, set the rest aside.
            seg.junk.append(" ".join(c for c in cells[width:] if c))
            cells = cells[:width]
        elif len(cells) > width and any(cells[width:]):
            seg.junk.append(" ".join(c for c in cells if c))
            continue
        if len(cells) == 1 and len(cells[0].split()) > 40:
            seg.junk.append(cells[0])
            continue
        seg.body.append((index, cells + [""] * (width - len(cells))))
    return [seg]


def _widen(seg: Segment, body: list[tuple[int, list[str]]], width: int) -> int:
    """A header narrower than all its rows lost cells: the sub-columns of its last cell sit on
    the next line ("Điểm tiếp nhận" over "Trung tâm tỉnh | Trung tâm xã"), or were dropped."""
    labelled = [cells for _, cells in body if _labelled(cells)][:6]
    if not labelled or min(len(c) for c in labelled) <= width:
        return width
    wide = min(len(c) for c in labelled)
    first = next((pos for pos, (_, cells) in enumerate(body) if any(cells)), None)
    if first is not None and not _labelled(body[first][1]):
        sub = [c for c in body[first][1] if c]
        if sub and all(len(c.split()) <= 12 for c in sub) and width - 1 + len(sub) == wide:
            last = seg.header[width - 1]
            seg.header[width - 1 :] = [f"{last}: {c}" if last else c for c in sub]
            seg.roles[width - 1 :] = [column_role(seg.header[width - 1])] * len(sub)
            del body[first]
            return wide
    seg.header.extend([""] * (wide - width))
    seg.roles.extend([OTHER] * (wide - width))
    return wide


def _misfits_ahead(body: list[tuple[int, list[str]]], width: int) -> bool:
    labelled = [cells for _, cells in body if cells and _NUMBERING.match(cells[0])][:5]
    return len(labelled) >= 2 and sum(len(c) > width for c in labelled) >= min(3, len(labelled))


def _infer(
    grid: Grid, loose: list[int], body: list[tuple[int, list[str]]] | None = None
) -> list[Segment]:
    """Column roles of rows without a header, from what their cells hold."""
    if body is None:
        body = [(i, _strip(grid.rows[i])) for i in loose]
    data = [cells for _, cells in body if cells and is_label(cells[0]) and len(cells) >= 3]
    width = max((len(c) for c in data), default=0)
    header = [""] * width
    seg = Segment(header, [OTHER] * width, PLAIN, body=[(i, c) for i, c in body])
    if len(data) < 2 or width < 3:
        seg.header, seg.roles = [], []
        return [seg]
    roles = [OTHER] * width
    roles[0] = NUMBER

    def share(col: int, test) -> float:  # noqa: ANN001 - a cell predicate
        cells = [r[col] for r in data if col < len(r) and r[col]]
        return sum(1 for c in cells if test(c)) / len(cells) if len(cells) * 2 >= len(data) else 0.0

    def words(col: int) -> float:
        cells = [r[col] for r in data if col < len(r) and r[col]]
        return sum(len(c.split()) for c in cells) / max(1, len(cells))

    task = max(range(1, width), key=words)
    roles[task] = TASK
    agencies = [c for c in range(1, width) if c != task and share(c, looks_agency) >= 0.6]
    for c, role in zip(agencies, (LEAD, SUPPORT), strict=False):
        roles[c] = role
    dated = [c for c in range(1, width) if roles[c] == OTHER and share(c, looks_deadline) >= 0.5]
    if dated:
        roles[dated[0]] = DEADLINE
    seg.roles = roles
    if LEAD in roles and (SUPPORT in roles or DEADLINE in roles):
        seg.kind = TASKS
        names = {
            NUMBER: "TT",
            TASK: "Nội dung",
            LEAD: "Chủ trì",
            SUPPORT: "Phối hợp",
            DEADLINE: "Thời gian",
        }
        seg.header = [names.get(r, "") for r in roles]
    seg.body = [(i, c) for i, c in body if any(c)]
    return [seg]
