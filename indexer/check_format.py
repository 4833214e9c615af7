"""Fixed-width text rendering of a `planbot check` report (see `indexer.check`)."""

from __future__ import annotations

import json

from indexer.check import DocReport, one_line, to_json, totals
from indexer.check_diff import diff_runs, format_diff
from indexer.check_score import Expectation, score_reports

_FILE_WIDTH = 36

LEGEND = (
    "Cột: mục = mục có số; đoạn = đoạn văn; NV = dòng nhiệm vụ trong bảng; CT = dòng có cơ quan chủ trì; "
    "bảng = bảng trong tệp; khác = bảng (hoặc phần bảng) không phải bảng nhiệm vụ, loại của từng phần ở dòng thông tin; hạn+/hạn- = thời hạn đọc được / chưa đọc được; "
    "BC = quy định báo cáo định kỳ; lưu ý = số cảnh báo; giây = đọc + phân tích."
)


def _row(cells: list[tuple[object, int]]) -> str:
    out = []
    for i, (value, width) in enumerate(cells):
        text = "" if value is None else str(value)
        text = text if len(text) <= abs(width) else text[: abs(width) - 1] + "…"
        out.append(text.ljust(abs(width)) if i < 2 or width < 0 else text.rjust(width))
    return " ".join(out).rstrip()


def _doc_line(r: DocReport) -> str:
    if r.status != "ok":
        what = "BỊ TỪ CHỐI" if r.status == "turned_away" else "LỖI CHƯƠNG TRÌNH"
        return _row([(r.file, _FILE_WIDTH), ("✗", 4)]) + f" {what}: " + one_line(r.error, 120)
    non_task = "n/a" if r.non_task_tables is None else r.non_task_tables
    return _row(
        [
            (r.file, _FILE_WIDTH),
            (r.kind, -11),
            (r.number, -20),
            (r.date or "-", -11),
            (r.sections, 4),
            (r.clauses, 5),
            (r.tasks, 4),
            (r.tasks_with_lead, 4),
            (r.tables, 5),
            (non_task, 5),
            (r.deadlines_parsed, 5),
            (r.deadlines_unparsed, 5),
            (r.reporting_rules, 3),
            (len(r.warnings), 6),
            (f"{r.seconds:.2f}", 7),
        ]
    )


HEADER = _row(
    [
        ("tệp", _FILE_WIDTH),
        ("loại", -11),
        ("số", -20),
        ("ngày", -11),
        ("mục", 4),
        ("đoạn", 5),
        ("NV", 4),
        ("CT", 4),
        ("bảng", 5),
        ("khác", 5),
        ("hạn+", 5),
        ("hạn-", 5),
        ("BC", 3),
        ("lưu ý", 6),
        ("giây", 7),
    ]
)


def format_documents(reports: list[DocReport], details: bool = False) -> str:
    lines = [LEGEND, "", HEADER, "-" * len(HEADER)]
    lines += [_doc_line(r) for r in reports]
    lines += ["", "Thông tin văn bản (cơ quan ban hành — tiêu đề):"]
    for r in reports:
        if r.status == "ok":
            kinds = ", ".join(f"{k} {n}" for k, n in r.table_kinds.items())
            where = [x for x in (r.source, f"{r.pages} trang" if r.pages else "", f"bảng: {kinds}" if kinds else "") if x]
            source = f" [{'; '.join(where)}]" if where else ""
            lines.append(f"  {one_line(r.file, _FILE_WIDTH):<{_FILE_WIDTH}} {one_line(r.issuer, 34) or '(không rõ)'} — {one_line(r.title, 110) or '(không có tiêu đề)'}{source}")
            if r.meta_doubts:
                lines.append(f"  {'':<{_FILE_WIDTH}}   ⚠ {'; '.join(r.meta_doubts)}")
    limit = None if details else 4
    ok = [r for r in reports if r.status == "ok"]
    seen: dict[str, list[str]] = {}
    for r in ok:
        for warning in dict.fromkeys(r.warnings):
            seen.setdefault(warning, []).append(r.file)
    common = {w: files for w, files in seen.items() if len(files) >= 3}
    if common:
        lines += ["", "Lưu ý chung (cùng một câu ở nhiều tệp):"]
        for warning, files in sorted(common.items(), key=lambda item: -len(item[1])):
            lines.append(f"  {len(files)} tệp: {one_line(warning, 120)}")
            if details:
                lines.append(f"    {', '.join(files)}")
    noted = [r for r in ok if any(w not in common for w in r.warnings) or r.unparsed]
    if noted:
        lines += ["", "Lưu ý khác và thời hạn chưa đọc được" + ("" if details else " (tối đa 4 mỗi tệp; -v: tất cả)") + ":"]
    for r in noted:
        own = [w for w in r.warnings if w not in common]
        lines.append(f"  {r.file}:")
        for warning in own[:limit]:
            lines.append(f"    lưu ý: {one_line(warning, 150)}")
        if limit is not None and len(own) > limit:
            lines.append(f"    … và {len(own) - limit} lưu ý khác")
        for text in r.unparsed[:limit]:
            lines.append(f"    thời hạn chưa đọc được: {one_line(text, 130)}")
        if limit is not None and len(r.unparsed) > limit:
            lines.append(f"    … và {len(r.unparsed) - limit} thời hạn chưa đọc được khác")
    slow = [r for r in reports if r.pages and r.source == "ocr"]
    if slow:
        lines += ["", "Nhận dạng chữ (OCR):"]
        lines += [f"  {r.file}: {r.pages} trang, {r.load_seconds / r.pages:.1f} giây/trang" for r in slow]
    return "\n".join(lines)


def format_totals(reports: list[DocReport]) -> str:
    t = totals(reports)
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(t["kinds"].items())) or "-"
    rate = "-" if t["deadline_parse_rate"] is None else f"{t['deadline_parse_rate']}%"
    non_task = "n/a" if t["non_task_tables"] is None else t["non_task_tables"]
    return "\n".join(
        [
            "Tổng cộng:",
            f"  văn bản {t['documents']}: đọc được {t['read']}, bị từ chối {t['turned_away']}"
            + (f", lỗi chương trình {t['crashed']}" if t["crashed"] else "")
            + f"; loại: {kinds}",
            f"  thiếu số hiệu {t['without_number']}, thiếu ngày {t['without_date']}, thiếu tiêu đề {t['without_title']}; "
            f"siêu dữ liệu đáng ngờ (⚠) {t['with_meta_doubts']}",
            f"  mục {t['sections']}, đoạn {t['clauses']}, dòng nhiệm vụ {t['tasks']} (có chủ trì {t['tasks_with_lead']}), "
            f"bảng {t['tables']} (không phải bảng nhiệm vụ: {non_task})",
            f"  thời hạn đọc được {t['deadlines_parsed']}, chưa đọc được {t['deadlines_unparsed']} ({rate} đọc được), "
            f"quy định báo cáo {t['reporting_rules']}, văn bản có lưu ý {t['with_warnings']}",
            f"  thời gian {t['seconds']:.1f} giây",
        ]
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _score_row(name: str, s: dict, width: int = _FILE_WIDTH) -> str:
    invented = "-" if s.get("invented") is None else s["invented"]
    return _row(
        [
            (name, width),
            (s["expected"], 8),
            (s["found"], 9),
            (s["lead"], 8),
            (s["support"], 9),
            (s["deadline"], 8),
            (s["unmatched_tasks"], 8),
            (invented, 8),
        ]
    )


_WHAT = {"lead": "chủ trì", "support": "phối hợp", "deadline": "thời hạn"}


def format_scores(scores: dict, details: bool = False) -> str:
    header = _row(
        [("tệp", _FILE_WIDTH), ("kỳ vọng", 8), ("tìm thấy", 9), ("chủ trì", 8), ("phối hợp", 9), ("thời hạn", 8), ("NV thừa", 8), ("bịa", 8)]
    )
    lines = [
        "Đối chiếu với dòng mẫu (--expect): kỳ vọng = dòng mẫu; tìm thấy = có nhiệm vụ mở đầu/chứa đoạn mẫu; "
        "chủ trì/phối hợp/thời hạn = đúng; NV thừa = nhiệm vụ không khớp dòng mẫu nào; "
        "bịa = nhiệm vụ từ bảng không phải bảng nhiệm vụ (tệp có ghi chú not_task_table).",
        "",
        header,
        "-" * len(header),
    ]
    for s in scores["documents"]:
        line = _score_row(s["file"], s)
        lines.append(line + ("  (bị từ chối)" if s["status"] != "ok" else ""))
    lines.append("-" * len(header))
    for name, s in scores["by_container"].items():
        lines.append(_score_row(f"tổng .{name} ({s['documents']} tệp)", s))
    t = scores["totals"]
    lines.append(_score_row(f"TỔNG ({t['documents']} tệp)", t))
    lines += [
        "",
        f"Tỉ lệ trên {t['expected']} dòng mẫu: tìm thấy {_pct(t['found_pct'])}, chủ trì đúng {_pct(t['lead_pct'])}, "
        f"phối hợp đúng {_pct(t['support_pct'])}, thời hạn đúng {_pct(t['deadline_pct'])}, "
        f"cả ba đúng {_pct(t['all_cells_pct'])}; "
        f"nhiệm vụ bịa từ bảng không phải bảng nhiệm vụ: {t['invented']}.",
    ]
    for name, s in scores["by_container"].items():
        lines.append(
            f"  .{name}: tìm thấy {_pct(s['found_pct'])}, chủ trì {_pct(s['lead_pct'])}, "
            f"phối hợp {_pct(s['support_pct'])}, thời hạn {_pct(s['deadline_pct'])}, bịa {s['invented']}"
        )
    if scores["not_checked"]:
        lines.append("Tệp mẫu không có trong các tệp đã kiểm tra: " + ", ".join(scores["not_checked"]))
    if details:
        lines += ["", "Chi tiết sai khác:"]
        for s in scores["documents"]:
            for miss in s["misses"]:
                where = f"  {s['file']} TT {miss['tt']} «{one_line(miss['task'], 50)}»"
                if miss["what"] == "not_found":
                    lines.append(f"{where}: không tìm thấy")
                else:
                    lines.append(
                        f"{where}: {_WHAT[miss['what']]} cần «{one_line(miss['expected'], 70)}», có «{one_line(miss['got'], 70)}»"
                    )
    return "\n".join(lines)


def format_containers(groups: list[dict]) -> str:
    lines = [
        "Cùng văn bản, khác định dạng (so với dòng nhiệm vụ của tệp mẫu; đủ ô = chủ trì, phối hợp, thời hạn đều như tệp mẫu):"
    ]
    for g in groups:
        lines.append(f"  {g['doc']}: {g['reference']} có {g['rows']} dòng nhiệm vụ")
        for f in g["files"]:
            if f["status"] != "ok":
                lines.append(f"    {f['file']}: bị từ chối")
                continue
            lines.append(
                f"    {f['file']}: {f['tasks']} dòng; cùng dòng {f['found']}/{f['expected']}, "
                f"đủ ô {f['all_cells']}/{f['expected']} (chủ trì {f['lead']}, phối hợp {f['support']}, thời hạn {f['deadline']})"
            )
    return "\n".join(lines)


def format_report(
    reports: list[DocReport], scores: dict | None, details: bool = False, containers: list[dict] | None = None
) -> str:
    parts = [format_documents(reports, details), format_totals(reports)]
    if containers:
        parts.append(format_containers(containers))
    if scores is not None:
        parts.append(format_scores(scores, details))
    return "\n\n".join(parts)


def render(
    reports: list[DocReport],
    expectations: dict[str, Expectation] | None,
    previous: dict | None = None,
    previous_name: str = "",
    as_json: bool = False,
    details: bool = False,
) -> str:
    """The whole report: JSON (`--json`) or text, with scores and the diff when asked for."""
    scores = score_reports(reports, expectations) if expectations is not None else None
    data = to_json(reports, scores)
    diff = diff_runs(previous, data) if previous is not None else None
    if as_json:
        if diff is not None:
            data["diff"] = diff
        return json.dumps(data, ensure_ascii=False, indent=2)
    text = format_report(reports, scores, details, data["containers"])
    return text + ("\n\n" + format_diff(diff, previous_name) if diff is not None else "")
