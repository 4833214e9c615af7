"""Blocks the parser reads: container numbering trusted, website noise dropped, flattened pages
split at numbering boundaries."""

from __future__ import annotations

from pathlib import Path

from knowledge.document import DOCX, Document, Paragraph, Table, from_text
from knowledge.parsing.structure import Block, blocks, is_noise, numbering, split_run_in

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"


def read(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def test_container_label_is_the_numbering():
    block = Block("para", text="Sở Y tế chủ trì tổ chức kiểm tra", label="3.")
    assert numbering(block) == ("arabic", "3", "Sở Y tế chủ trì tổ chức kiểm tra")
    # The text itself starting with a number is not re-read when the container gave a label.
    assert numbering(Block("para", text="1. và 2. năm trước", label="a)"))[:2] == ("letter", "a")
    assert numbering(Block("para", text="Điều 5. Trách nhiệm thi hành"))[:2] == ("article", "Điều 5")
    assert numbering(Block("para", text="Chương II\nCHÍNH SÁCH HỖ TRỢ"))[:2] == ("chapter", "Chương II")
    assert numbering(Block("para", text="Chương trình hành động của tỉnh được ban hành")) is None
    assert numbering(Block("para", text="PHẦN II. PHÂN CÔNG NHIỆM VỤ"))[:2] == ("part", "Phần II")


def test_labelled_paragraphs_keep_their_label_apart():
    doc = Document([Paragraph("MỤC TIÊU", label="I."), Paragraph("Tăng cường kiểm tra", label="1.")], source=DOCX)
    found = blocks(doc)
    assert [(b.label, b.text) for b in found] == [("I.", "MỤC TIÊU"), ("1.", "Tăng cường kiểm tra")]


def test_word_tables_are_trusted_even_with_two_columns():
    doc = Document([Table.from_grid([["Đơn vị", "Thời gian"], ["Sở Y tế", "Tháng 3/2026"]])], source=DOCX)
    (table,) = blocks(doc)
    assert table.kind == "table" and table.rows == [["Đơn vị", "Thời gian"], ["Sở Y tế", "Tháng 3/2026"]]


def test_website_noise_is_recognised_by_general_signals():
    assert is_noise("Bản dịch này thuộc quyền sở hữu của THƯ VIỆN PHÁP LUẬT. Mọi hành vi sao chép … has the copyright")
    assert is_noise("Loại văn bản: | Quyết định | Nơi ban hành: | Tỉnh Cà Mau")
    assert is_noise("Bản quyền thuộc về Cổng thông tin. Đăng nhập để tải văn bản gốc.")
    assert is_noise("Xem thêm tại www.example.vn")
    assert is_noise("Trang 3", repeats=6)
    assert not is_noise("Thời gian thực hiện: Từ tháng 11/2025 đến khi kết thúc Tổng kiểm kê.", repeats=5)
    # Content that merely mentions such words is kept.
    assert not is_noise("b) Hồ sơ trình phê duyệt gồm các văn bản quy định tại khoản 2 Điều này;")
    assert not is_noise("a) Quy chế này quy định việc sử dụng Hệ thống tại địa chỉ https://ykien.cantho.gov.vn (sau đây gọi tắt là Hệ thống), dùng chung cho các cơ quan hành chính")
    assert not is_noise("2. Người sử dụng Hệ thống có trách nhiệm bảo vệ an toàn tài khoản và mật khẩu được cung cấp.")


def test_flattened_page_is_split_at_numbering_boundaries():
    """980-KH-UBND: the crawler put the whole plan on one line, numbered items run in."""
    line = next(x for x in read("980-KH-UBND_c5d930a5.txt").split("\n") if x.startswith("Số: 980"))
    cell = max(line.split("\t"), key=len)
    pieces = split_run_in(cell)
    starts = [p[:22] for p in pieces]
    for head in ("I. MỤC ĐÍCH, YÊU CẦU", "II. NỘI DUNG", "III. NGUỒN KINH PHÍ", "IV. TỔ CHỨC THỰC HIỆN"):
        assert any(s.startswith(head[:20]) for s in starts), head
    assert any(p.startswith("2. Bộ CHQS tỉnh có trách nhiệm tham mưu") for p in pieces)
    # "khoản 2 Điều 1 Luật" and dates are not boundaries.
    text = "Đối tượng quy định tại khoản 2 Điều 1 Luật Cán bộ, công chức ngày 24 tháng 6 năm 2025. " * 30
    assert len(split_run_in(text)) == 1


def test_flattened_rows_become_paragraphs_and_the_trailing_header_starts_the_table():
    found = blocks(from_text(read("980-KH-UBND_c5d930a5.txt")))
    paras = [b.text for b in found if b.kind == "para"]
    assert not any("THƯ VIỆN PHÁP LUẬT" in p or "Đăng xuất" in p for p in paras)
    assert "Nơi nhận: - Chủ tịch UBND tỉnh;" in " ".join(paras)
    table = next(b for b in found if b.kind == "table")
    assert table.rows[0][:3] == ["TT", "Nội dung thực hiện", "Cơ quan chủ trì"]


def test_flattened_heading_is_parted_from_its_text_but_names_are_not():
    filler = "Các cơ quan thực hiện nghiêm túc các nội dung của kế hoạch này. " * 20
    text = (
        f"{filler}như sau: I. MỤC ĐÍCH, YÊU CẦU 1. Mục đích Xác định phạm vi, trách nhiệm của các sở. "
        "2. Nhiệm vụ của Ủy ban nhân dân tỉnh chỉ đạo thực hiện. 3. Sở Tài chính và Ủy ban nhân dân các xã bố trí kinh phí."
    )
    pieces = split_run_in(text)
    assert "1. Mục đích\nXác định phạm vi, trách nhiệm của các sở." in pieces
    assert "2. Nhiệm vụ của Ủy ban nhân dân tỉnh chỉ đạo thực hiện." in pieces
    assert "3. Sở Tài chính và Ủy ban nhân dân các xã bố trí kinh phí." in pieces
