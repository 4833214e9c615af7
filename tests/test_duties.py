"""Who does what in a sentence: general rules over agency mentions."""

from __future__ import annotations

import pytest

from knowledge.agencies import AgencyRegistry
from knowledge.duties import classify
from knowledge.model import AgencyRef

registry = AgencyRegistry()


def roles(text: str, owners: list[str] | None = None) -> list[tuple[str, str]]:
    refs = [AgencyRef(o, o) for o in owners or []]
    return [(a.agency.name, a.role) for a in classify(text, registry, refs)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Giao Phòng KHTC chủ trì, phối hợp với các Phòng/đơn vị liên quan tham mưu", [("Phòng Kế hoạch - Tài chính", "lead")]),
        ("Trong quý II năm 2021, Phòng TCCB tham mưu cho Giám đốc Sở", [("Phòng Tổ chức cán bộ", "lead")]),
        (
            "Sở Giáo dục và Đào tạo chủ trì, phối hợp với Sở Nội vụ, Sở Tài chính triển khai; báo cáo UBND tỉnh.",
            [("Sở Giáo dục và Đào tạo", "lead"), ("Sở Nội vụ", "support"), ("Sở Tài chính", "support"), ("Ủy ban nhân dân tỉnh", "recipient")],
        ),
        # Unknown to the registry, but plainly the subject of a duty verb.
        ("Hội Người cao tuổi tỉnh chủ trì vận động hội viên khám sức khỏe.", [("Hội Người cao tuổi tỉnh", "lead")]),
        ("- Trường Cao đẳng Y tế Nghệ An tham mưu đào tạo nhân lực.", [("Trường Cao đẳng Y tế Nghệ An", "lead")]),
        # Ordinary sentences that start like names are not agencies.
        ("Phòng chống dịch bệnh sớm, kịp thời, không để dịch lớn xảy ra.", []),
        ("Ban hành quy định mới trong năm 2025.", []),
        ("Tham mưu cho UBND tỉnh chỉ đạo các địa phương.", []),
    ],
)
def test_roles_in_sentences(text, expected):
    assert roles(text) == expected


def test_owner_of_a_heading_leads_or_cooperates():
    assert roles("Chủ trì, phối hợp với Sở Y tế thẩm định hồ sơ.", ["Sở Nội vụ"]) == [
        ("Sở Nội vụ", "lead"),
        ("Sở Y tế", "support"),
    ]
    assert roles("Phối hợp với Sở Y tế hướng dẫn tuyên truyền.", ["Sở Thông tin và Truyền thông"])[0] == (
        "Sở Thông tin và Truyền thông",
        "support",
    )


def test_a_sentence_with_its_own_subject_overrides_the_heading():
    text = "Căn cứ nhiệm vụ được giao, UBND tỉnh yêu cầu các Sở, ban, ngành; UBND các huyện, thị xã, thành phố định kỳ hằng quý báo cáo về Sở Y tế."
    found = roles(text, ["Ủy ban nhân dân các huyện, thị xã, thành phố"])
    assert ("Các sở, ngành", "lead") in found
    assert ("Ủy ban nhân dân các huyện, thị xã, thành phố", "lead") in found
    assert ("Ủy ban nhân dân tỉnh", "lead") not in found
    assert ("Sở Y tế", "recipient") in found
