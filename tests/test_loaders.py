"""Loaders: every container gives the one Document model; bad input gives one clear error."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from docx import Document as WordDocument
from docx.oxml import parse_xml

from indexer.loaders import read_plan_bytes, read_plan_file
from indexer.loaders.doc import converter
from indexer.loaders.ocr import available as ocr_problem
from indexer.loaders.text import decode_text
from knowledge.document import OCR, Paragraph, Table
from knowledge.errors import PlanbotError
from knowledge.parsing.parser import parse_document
from tests.conftest import cp1258_bytes
from tests.pdfs import blank_pdf, text_pdf

DATA = Path(__file__).parent / "data"
FORMATS = DATA / "formats"
STEM = "310-KH-UBND_31786b08"
needs_ocr = pytest.mark.skipif(ocr_problem() is not None, reason=f"OCR not installed: {ocr_problem()}")
needs_soffice = pytest.mark.skipif(converter() is None, reason="LibreOffice (soffice) not installed")


def task_rows(path: Path) -> list[tuple[str, str, str, str]]:
    plan = parse_document(read_plan_file(path))
    return [(t.row, t.lead_text, t.support_text, t.deadline.text if t.deadline else "") for t in plan.tasks]


@pytest.fixture(scope="module")
def txt_rows():
    rows = task_rows(DATA / "corpus" / f"{STEM}.txt")
    assert len(rows) == 6
    return rows


@pytest.mark.parametrize("stem", [STEM, "2597-QD-TT_ec00bd6f"])
@pytest.mark.parametrize("suffix", [".docx", ".pdf"])
def test_word_and_pdf_give_the_same_task_rows_as_the_text(stem, suffix):
    want = task_rows(DATA / "corpus" / f"{stem}.txt")
    assert len(want) >= 6
    assert task_rows(FORMATS / f"{stem}{suffix}") == want


@needs_ocr
@pytest.mark.slow
def test_scan_gives_at_least_90_percent_of_the_cells(txt_rows):
    document = read_plan_file(FORMATS / f"{STEM}.scan.pdf")
    assert document.source == OCR and "OCR" in document.warnings[0]
    rows = [(t.row, t.lead_text, t.support_text, t.deadline.text if t.deadline else "")
            for t in parse_document(document).tasks]
    same = sum(a == b for want, got in zip(txt_rows, rows, strict=False) for a, b in zip(want, got, strict=True))
    assert same >= 0.9 * 4 * len(txt_rows), rows


def test_pdf_table_split_by_a_page_break_is_one_table_with_the_row_repaired():
    document = read_plan_file(FORMATS / f"{STEM}.pdf")
    (table,) = document.tables
    grid = table.grid()
    assert [row[0] for row in grid] == ["TT", "1", "2", "3", "4", "5", "6"]
    assert grid[3][1].endswith("trong phạm vi quản lý theo quy định của pháp luật")
    assert table.page == 8


def test_pdf_lines_are_rejoined_into_paragraphs_with_pages():
    document = read_plan_file(FORMATS / f"{STEM}.pdf")
    texts = [p.text for p in document.paragraphs]
    assert "I. MỤC ĐÍCH, YÊU CẦU" in texts
    assert any(t.startswith("- Cụ thể hóa nhiệm vụ") and t.endswith("định hướng đến năm 2030.") for t in texts)
    assert all(not t.isdigit() for t in texts)  # running page numbers dropped
    assert document.paragraphs[-1].page == 9 or document.tables[-1].page == 8


def test_letterhead_layout_tables_become_paragraphs():
    document = read_plan_file(FORMATS / "real_giao-CAT-KH-996-997.docx")
    assert document.tables == []
    texts = [p.text for p in document.paragraphs]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts
    assert any(t.startswith("Số:") and "/UBND-NC" in t for t in texts)
    assert any("giao Công an tỉnh" in t for t in texts)


def _numbered_docx() -> bytes:
    doc = WordDocument()
    numbering = doc.part.numbering_part.element
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {w} w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="%1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%2."/></w:lvl>'
        '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%2.%3."/></w:lvl>'
        '<w:lvl w:ilvl="3"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%4)"/></w:lvl>'
        '<w:lvl w:ilvl="4"><w:numFmt w:val="bullet"/><w:lvlText w:val="\uf0b7"/></w:lvl>'
        "</w:abstractNum>"
    ))
    numbering.append(parse_xml(f'<w:num {w} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    numbering.append(parse_xml(
        f'<w:num {w} w:numId="91"><w:abstractNumId w:val="90"/>'
        '<w:lvlOverride w:ilvl="1"><w:startOverride w:val="5"/></w:lvlOverride></w:num>'
    ))

    def item(text: str, level: int, num: int = 90) -> None:
        p = doc.add_paragraph(text)
        p._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {w}><w:ilvl w:val="{level}"/><w:numId w:val="{num}"/></w:numPr>'
        ))

    doc.add_paragraph("KẾ HOẠCH")
    item("MỤC ĐÍCH", 0)
    item("Mục đích", 1)
    item("Yêu cầu", 1)
    item("Chi tiết", 2)
    item("Chi tiết hai", 2)
    item("Sở Y tế:", 3)
    item("rà soát", 4)
    item("Sở Nội vụ:", 3)
    item("NHIỆM VỤ", 0)
    item("Sau khi sang mục mới", 1)
    item("Danh sách khác bắt đầu từ 5", 1, num=91)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_word_list_numbering_becomes_the_paragraph_label():
    document = read_plan_bytes("numbered.docx", _numbered_docx())
    labels = [(p.label, p.text) for p in document.paragraphs]
    assert labels == [
        ("", "KẾ HOẠCH"),
        ("I.", "MỤC ĐÍCH"),
        ("1.", "Mục đích"),
        ("2.", "Yêu cầu"),
        ("2.1.", "Chi tiết"),
        ("2.2.", "Chi tiết hai"),
        ("a)", "Sở Y tế:"),
        ("-", "rà soát"),
        ("b)", "Sở Nội vụ:"),
        ("II.", "NHIỆM VỤ"),
        ("1.", "Sau khi sang mục mới"),
        ("5.", "Danh sách khác bắt đầu từ 5"),
    ]
    assert document.paragraphs[1].full_text == "I. MỤC ĐÍCH"
    assert document.paragraphs[2].level == 1


def test_word_merged_cells_keep_their_spans_and_nested_tables_their_text():
    doc = WordDocument()
    doc.add_paragraph("Phụ lục")
    table = doc.add_table(rows=5, cols=5)
    table.style = "Table Grid"
    for c, header in enumerate(["TT", "Nội dung", "Chủ trì", "Phối hợp", "Thời gian"]):
        table.cell(0, c).text = header
    table.cell(1, 0).merge(table.cell(1, 4)).text = "A. NHÓM NHIỆM VỤ"
    for r in (2, 3, 4):
        table.cell(r, 0).text = str(r - 1)
        table.cell(r, 1).text = f"Nhiệm vụ {r - 1}"
        table.cell(r, 3).text = "Sở Nội vụ"
        table.cell(r, 4).text = "Năm 2026"
    table.cell(2, 2).merge(table.cell(4, 2)).text = "Sở Y tế"
    inner = table.cell(4, 3).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "Công an tỉnh"
    inner.cell(0, 1).text = "Sở Tư pháp"
    out = io.BytesIO()
    doc.save(out)
    document = read_plan_bytes("merged.docx", out.getvalue())
    (loaded,) = document.tables
    assert loaded.rows[1][0].col_span == 5 and loaded.rows[1][0].text == "A. NHÓM NHIỆM VỤ"
    lead = loaded.rows[2][2]
    assert (lead.text, lead.row_span) == ("Sở Y tế", 3)
    assert loaded.rows[3][2].merged_from_above and loaded.rows[4][2].merged_from_above
    assert loaded.grid(fill_merged=True)[4][2] == "Sở Y tế"
    assert "Công an tỉnh | Sở Tư pháp" in loaded.rows[4][3].text
    assert any("lồng" in w for w in document.warnings)


@needs_soffice
def test_doc_is_converted_through_libreoffice():
    document = read_plan_file(FORMATS / "real_trien-khai-cong-dien-131.doc")
    assert len(document.paragraphs) > 10
    assert any("LibreOffice" in w for w in document.warnings)
    assert any("thủ tục hành chính" in p.text for p in document.paragraphs)


def test_doc_without_a_converter_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on it
    with pytest.raises(PlanbotError, match="libreoffice-writer-nogui"):
        read_plan_file(FORMATS / "real_trien-khai-cong-dien-131.doc")


@needs_ocr
def test_pdf_whose_ocr_finds_nothing_is_refused_in_one_line():
    with pytest.raises(PlanbotError, match="OCR không đọc được") as info:
        read_plan_bytes("blank.pdf", blank_pdf())
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("utf16-odd.txt", "Kế hoạch".encode("utf-16") + b"\x41", "UTF-16"),
        ("utf16-surrogate.txt", b"\xff\xfe" + "Kế hoạch".encode("utf-16-le") + b"\x00\xd8\x41\x00", "UTF-16"),
        ("latin1.txt", "Thông báo: mã hàng và ý kiến của khách hàng ở Hà Nội về giá".encode("latin-1", "ignore"), "UTF-8"),
        ("broken.docx", b"PK\x03\x04" + os.urandom(200), ".docx"),
        ("broken.pdf", b"%PDF-1.7\n" + os.urandom(300), "PDF"),
        ("fake.doc", b"not an OLE file at all", ".doc"),
    ],
)
def test_bad_bytes_give_one_clear_error(name, data, message):
    with pytest.raises(PlanbotError, match=message) as info:
        read_plan_bytes(name, data)
    assert "\n" not in str(info.value)


def test_vietnamese_in_windows_1258_is_still_accepted():
    data = cp1258_bytes("Sở Y tế chủ trì, phối hợp với Sở Nội vụ triển khai kế hoạch")
    text, warnings = decode_text("old.txt", data)
    assert text == "Sở Y tế chủ trì, phối hợp với Sở Nội vụ triển khai kế hoạch"
    assert "Windows-1258" in warnings[0]


def test_special_files_are_refused_without_reading(tmp_path):
    fifo = tmp_path / "plan.txt"
    os.mkfifo(fifo)
    with pytest.raises(PlanbotError, match="không phải tệp thông thường"):
        read_plan_file(fifo)  # would block forever if opened
    with pytest.raises(PlanbotError, match="không phải tệp thông thường"):
        read_plan_file(Path("/dev/zero"))
    with pytest.raises(PlanbotError, match="không phải tệp thông thường"):
        read_plan_file(tmp_path)


def test_every_paragraph_and_table_is_of_the_model():
    document = read_plan_file(FORMATS / f"{STEM}.docx")
    assert all(isinstance(b, (Paragraph, Table)) for b in document.blocks)
    assert document.tables and document.paragraphs


@needs_ocr
@pytest.mark.slow
def test_real_scan_is_read_by_ocr_page_by_page():
    pages: list[tuple[int, int]] = []
    document = read_plan_bytes(
        "real_996-KH-TCTLNTW-C04.scan.pdf",
        (FORMATS / "real_996-KH-TCTLNTW-C04.scan.pdf").read_bytes(),
        progress=lambda done, total: pages.append((done, total)),
    )
    assert pages == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert document.source == OCR and "giây/trang" in document.warnings[0]
    texts = [p.text for p in document.paragraphs]
    assert "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts
    assert any(t.startswith("1. Giao Phòng 5, Cục Cảnh sát điều tra tội phạm về ma túy") for t in texts)
    assert all(p.page for p in document.paragraphs)


def test_tools_are_found_where_setup_installed_them():
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("setup.sh installs system tools only as root with apt-get")
    assert ocr_problem() is None and converter() is not None


def test_word_text_in_tracked_insertions_smart_tags_and_text_boxes_is_read():
    doc = WordDocument()
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    p = doc.add_paragraph("Sở Y tế ")
    p._p.append(parse_xml(f'<w:ins {w} w:id="1" w:author="a"><w:r><w:t>chủ trì</w:t></w:r></w:ins>'))
    p._p.append(parse_xml(f'<w:del {w} w:id="2" w:author="a"><w:r><w:delText>, bỏ</w:delText></w:r></w:del>'))
    p._p.append(parse_xml(f'<w:smartTag {w} w:uri="u" w:element="e"><w:r><w:t> triển khai</w:t></w:r></w:smartTag>'))
    p._p.append(parse_xml(
        f'<w:r {w}><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:textbox>'
        "<w:txbxContent><w:p><w:r><w:t>Số: 12/KH-UBND</w:t></w:r></w:p></w:txbxContent>"
        "</v:textbox></v:shape></w:pict></w:r>"
    ))
    out = io.BytesIO()
    doc.save(out)
    texts = [p.text for p in read_plan_bytes("tracked.docx", out.getvalue()).paragraphs]
    assert texts == ["Số: 12/KH-UBND", "Sở Y tế chủ trì triển khai"]


@needs_ocr
def test_scan_carrying_an_e_signature_text_stamp_is_still_read_by_ocr():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    page = writer.add_page(PdfReader(FORMATS / "real_996-KH-TCTLNTW-C04.scan.pdf").pages[2])
    stamp = text_pdf(
        [
            "Ky boi: Van phong Uy ban nhan dan tinh", "Email: vanphong@example.gov.vn",
            "Co quan: Tinh Lam Dong", "Thoi gian ky: 05.03.2026 09:12:41 +07:00",
        ],
        size=9, x=40, y=60, leading=11,
    )
    page.merge_page(PdfReader(io.BytesIO(stamp)).pages[0])
    out = io.BytesIO()
    writer.write(out)
    document = read_plan_bytes("stamped.pdf", out.getvalue())
    assert "OCR) 1/1" in document.warnings[0]
    assert any("Giao Phòng 5" in p.text for p in document.paragraphs)


def test_scan_without_tesseract_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on it
    with pytest.raises(PlanbotError, match="tesseract-ocr tesseract-ocr-vie") as info:
        read_plan_bytes("scan.pdf", blank_pdf())
    assert "\n" not in str(info.value)
