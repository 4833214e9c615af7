"""What kind of document carries the plan, and where its parts are.

A Kế hoạch is the plan itself. A Quyết định "ban hành Kế hoạch" is a wrapper: its articles
(Điều 1–3), the recipients ("Nơi nhận") and the signature, then the attached document (KẾ HOẠCH,
QUY CHẾ, PHỤ LỤC, …), which is the content. Regions: "main" (up to the first signature),
"signature" (recipients and signer: never content), "attached" (what follows a signature).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.parsing.structure import APPENDIX_RE, SIGNATURE_RE, SIGNER_RE, Block, numbering
from knowledge.text import fold

KIND_WORDS = {
    "ke hoach": "ke_hoach",
    "quyet dinh": "quyet_dinh",
    "nghi quyet": "nghi_quyet",
    "nghi dinh": "nghi_dinh",
    "thong tu": "thong_tu",
    "chi thi": "chi_thi",
    "cong dien": "cong_dien",
    "thong bao": "thong_bao",
    "cong van": "cong_van",
    "bao cao": "bao_cao",
    "chuong trinh hanh dong": "ke_hoach",
}
KIND_CODES = {"kh": "ke_hoach", "qd": "quyet_dinh", "nq": "nghi_quyet", "nd": "nghi_dinh", "tt": "thong_tu",
              "ct": "chi_thi", "cd": "cong_dien", "tb": "thong_bao", "ctr": "ke_hoach", "vbhn": "khac",
              "bc": "bao_cao"}
KIND_NAMES = {"ke_hoach": "Kế hoạch", "quyet_dinh": "Quyết định", "nghi_quyet": "Nghị quyết", "nghi_dinh": "Nghị định",
              "thong_tu": "Thông tư", "chi_thi": "Chỉ thị", "cong_dien": "Công điện", "thong_bao": "Thông báo",
              "cong_van": "Công văn", "bao_cao": "Báo cáo", "khac": ""}
_TYPE_LINE = re.compile(
    r"^(KẾ HOẠCH|QUYẾT ĐỊNH|NGHỊ QUYẾT|NGHỊ ĐỊNH|THÔNG TƯ|CHỈ THỊ|CÔNG ĐIỆN|THÔNG BÁO|CÔNG VĂN|BÁO CÁO|CHƯƠNG TRÌNH HÀNH ĐỘNG)\b"
)
ATTACHED_TITLE = re.compile(
    r"^(KẾ HOẠCH|QUY CHẾ|QUY ĐỊNH|CHƯƠNG TRÌNH|ĐỀ ÁN|PHƯƠNG ÁN|HƯỚNG DẪN|DANH MỤC|PHỤ LỤC|THỦ TỤC|NỘI DUNG|BIỂU|MẪU|"
    r"BẢNG|ĐIỀU LỆ|TIÊU CHÍ|CHỈ TIÊU)\b"
)
_CAPTION = re.compile(r"^\(?\s*(?:ban hành\s+)?kèm theo\b", re.I)
_SIGNER_TITLES = re.compile(r"CHỦ TỊCH|GIÁM ĐỐC|BỘ TRƯỞNG|THỦ TƯỚNG|TRƯỞNG BAN|BÍ THƯ|CHÁNH VĂN PHÒNG|KÝ THAY|THỨ TRƯỞNG")


@dataclass
class Layout:
    kind: str = "khac"
    regions: list[str] = field(default_factory=list)  # per block: "main" | "signature" | "attached"
    attached_starts: list[int] = field(default_factory=list)  # block index where an attached document begins


def type_line_kind(text: str) -> str | None:
    """The kind named by a document's type line, in capitals ("QUYẾT ĐỊNH"; OCR's "KÉ HOẠCH" too)."""
    text = text.strip()
    m = _TYPE_LINE.match(text)
    if m:
        return KIND_WORDS[fold(m.group(1))]
    words = text.split()
    for size in (2, 4):
        head = " ".join(words[:size])
        if head.isupper() and fold(head) in KIND_WORDS:
            return KIND_WORDS[fold(head)]
    return None


def document_kind(blocks: list[Block], number: str) -> str:
    """From the type line of the header ("QUYẾT ĐỊNH", "KẾ HOẠCH …"), else the number's type code
    ("…/QĐ-UBND"), else "Kính gửi" (a letter), else "khac"."""
    for block in blocks[:14]:
        if block.kind != "para":
            continue
        blank = re.match(r"^Số\s*:?[\s._…]*/\s*([A-ZĐ]{1,4})\s*-", block.text)  # "Số:    /QĐ-UBND", number left blank
        if blank and fold(blank.group(1)) in KIND_CODES:
            return KIND_CODES[fold(blank.group(1))]
        if re.match(r"^(Căn cứ|Thực hiện|Điều 1)\b", block.text):
            break
        for line in block.text.split("\n")[:2]:
            kind = type_line_kind(re.sub(r"^[^\wÀ-ỹ]+", "", line))
            if kind:
                return kind
    if number:
        parts = [fold(p) for p in re.split(r"[/-]", number)[1:]]
        for part in parts:
            if part in KIND_CODES:
                return KIND_CODES[part]
        if parts:
            return "cong_van"
    if any(b.kind == "para" and re.match(r"^(Kính gửi\b|V/v\b)", b.text) for b in blocks[:20]):
        return "cong_van"  # a letter: its subject line or its addressees
    return "khac"


def is_signature_start(block: Block) -> bool:
    return block.kind == "para" and bool(SIGNATURE_RE.match(block.text) or SIGNER_RE.match(block.text))


def is_attached_start(block: Block) -> bool:
    """A block after a signature that begins another document or an appendix."""
    if block.kind == "table":
        return True
    text = block.text.strip()
    first = text.split("\n")[0]
    if _CAPTION.match(first) or APPENDIX_RE.match(first) or ATTACHED_TITLE.match(first):
        return True
    found = numbering(block)
    if found and found[0] in ("part", "chapter", "article", "roman"):
        return True
    words = first.split()
    letters = [c for c in first if c.isalpha()]
    upper = sum(1 for c in letters if c.isupper())
    if re.match(r"^[-–+•]", first) or first.endswith((";", ",")):
        return False
    return len(words) >= 5 and upper >= 0.8 * max(len(letters), 1) and not _SIGNER_TITLES.search(first) and not SIGNER_RE.match(first)


def layout(blocks: list[Block], number: str) -> Layout:
    result = Layout(kind=document_kind(blocks, number))
    region = "main"
    for i, block in enumerate(blocks):
        if region != "signature" and is_signature_start(block):
            region = "signature"
        elif region == "signature" and is_attached_start(block):
            region = "attached"
            result.attached_starts.append(i)
        elif region == "attached" and block.kind == "para" and (
            APPENDIX_RE.match(block.text) and len(block.text.split("\n")[0]) < 80 and i - 1 not in result.attached_starts
        ):
            result.attached_starts.append(i)
        result.regions.append(region)
    return result
