"""Agency registry: aliases, abbreviations, typos, missing diacritics, collective names."""

from __future__ import annotations

import pytest

from knowledge.orgs.agencies import AgencyRegistry, is_note, split_agencies
from knowledge.orgs.agency_list import HEAD_WORDS, STATIC_ENTRIES

registry = AgencyRegistry()


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("so noi vu chiu trach nhiem gi", "Sở Nội vụ"),
        ("SNV phải làm gì", "Sở Nội vụ"),
        ("Sở Tài chín tỉnh Thanh Hóa phải làm gì", "Sở Tài chính"),
        ("Sở KH&ĐT có nhiệm vụ gì", "Sở Kế hoạch và Đầu tư"),
        ("so ke hoach va dau tu phai lam gi", "Sở Kế hoạch và Đầu tư"),
        ("KHĐT", "Sở Kế hoạch và Đầu tư"),
        ("Sở TT&TT", "Sở Thông tin và Truyền thông"),
        ("BHXH huyện Sơn Hà", "Bảo hiểm xã hội huyện"),
        ("BHXH tỉnh", "Bảo hiểm xã hội tỉnh"),
        ("ubnd cac xa thi tran bao cao", "Ủy ban nhân dân cấp xã"),
        ("UBND các huyện, thị xã, thành phố", "Ủy ban nhân dân các huyện, thị xã, thành phố"),
        ("Phòng TCCB", "Phòng Tổ chức cán bộ"),
        ("KHTC", "Phòng Kế hoạch - Tài chính"),
        ("TTYT", "Trung tâm Y tế"),
    ],
)
def test_match_query(query, name):
    assert registry.match_query(query)[0].name == name


def test_exact_beats_close_names_and_typos_offer_choices():
    assert [m.name for m in registry.match_query("Sở Nội vụ")] == ["Sở Nội vụ"]
    assert registry.match_query("Sở Ngoại vụ")[0].name == "Sở Ngoại vụ"
    # A typo between two names returns both, best first, for the user to choose.
    names = [m.name for m in registry.match_query("so ngoi vu")]
    assert set(names[:2]) == {"Sở Nội vụ", "Sở Ngoại vụ"}


def test_split_keeps_collective_names_and_compound_names_whole():
    assert split_agencies("Sở Nội vụ, Sở Tài chính, UBND các huyện, thị xã, thành phố") == [
        "Sở Nội vụ", "Sở Tài chính", "UBND các huyện, thị xã, thành phố",
    ]
    assert split_agencies("Sở Kế hoạch và Đầu tư, Sở Tài chính và các sở, ngành liên quan") == [
        "Sở Kế hoạch và Đầu tư", "Sở Tài chính", "các sở, ngành liên quan",
    ]
    assert split_agencies("Các sở, ban, ngành, đơn vị liên quan") == ["Các sở, ban, ngành, đơn vị liên quan"]
    assert split_agencies("Ban QLDA&TXD CTDD và CN") == ["Ban QLDA&TXD CTDD và CN"]


def test_canonical_names_and_collectives():
    assert registry.canonical("Sở Y tế.").name == "Sở Y tế"
    assert registry.canonical("Sở Thông tin truyền thông").name == "Sở Thông tin và Truyền thông"
    assert registry.canonical("Các sở, ngành liên quan").collective
    unknown = registry.canonical("Ban QLDA&TXD CTDD và CN")
    assert unknown.name == "Ban QLDA&TXD CTDD và CN" and not unknown.collective


def test_notes_are_not_agencies():
    assert is_note("Đã phê duyệt chủ trương đầu tư")
    assert not is_note("Sở Y tế")
    assert not is_note("Các sở, ngành liên quan")


@pytest.mark.parametrize(
    "question",
    ["Báo cáo định kỳ gửi khi nào?", "Nhiệm vụ nào phải xong trước 01/7/2025?", "Hội nghị tổng kết tổ chức khi nào?"],
)
def test_ordinary_words_are_not_agencies(question):
    assert registry.match_query(question) == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # Lower-case common words that fold like an alias are not agencies.
        ("đầu tư trang thiết bị cho các cơ sở y tế tuyến huyện", []),
        ("đội ngũ cán bộ y tế cơ sở", []),
        ("phát huy truyền thống toàn tỉnh đoàn kết", []),
        ("đóng bảo hiểm xã hội bắt buộc", []),
        # Other diacritics on the first word: another word ("Số", "Bảo tính").
        ("Số y tế trên 1.000 dân", []),
        # Punctuation between the words of an alias is not an alias ("sở; xây dựng").
        ("các phòng ban thuộc Sở; Xây dựng kế hoạch", []),
        ("Sở Y tế chủ trì, phối hợp với Sở Kế hoạch - Đầu tư", ["Sở Y tế", "Sở Kế hoạch và Đầu tư"]),
        ("Giao Sở KH&ĐT tổng hợp", ["Sở Kế hoạch và Đầu tư"]),
        ("các sở, ngành liên quan", ["Các sở, ngành"]),
    ],
)
def test_mentions_in_prose(text, names):
    assert [m.ref.name for m in registry.find_mentions(text)] == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Bộ Tài nguyên và Môi trường khẩn trương hoàn thiện", ["Bộ Tài nguyên và Môi trường"]),
        ("Thuế Đồng Nai chủ trì", ["Thuế Đồng Nai"]),
        ("Tỉnh Đoàn tổ chức", ["Tỉnh Đoàn"]),
        ("Sở Văn hóa, Thể thao và Du lịch chủ trì", ["Sở Văn hóa, Thể thao và Du lịch"]),
        ("Bộ Lao động - Thương binh và Xã hội", ["Bộ Lao động - Thương binh và Xã hội"]),
        ("Hội đồng Thi đua - Khen thưởng các cấp phân công", ["Hội đồng Thi đua - Khen thưởng"]),
        ("về Văn phòng Ủy ban nhân dân thành phố tổng hợp", ["Văn phòng Ủy ban nhân dân thành phố"]),
        ("Trung tâm Phục vụ hành chính công tỉnh tiếp nhận", ["Trung tâm Phục vụ hành chính công tỉnh"]),
        ("Giao Bộ Công an, Bộ Quốc phòng chủ trì", ["Bộ Công an", "Bộ Quốc phòng"]),
        ("gửi Bộ Tài chính. Thời gian hoàn thành", ["Bộ Tài chính"]),
        ("Cục Đăng kiểm Việt Nam có trách nhiệm", ["Cục Đăng kiểm Việt Nam"]),
        ("Hội đồng nhân dân Thành phố Hồ Chí Minh quy định chi tiết", ["Hội đồng nhân dân Thành phố Hồ Chí Minh"]),
        # Not names: sentence-initial common words, all-caps headings, "tỉnh" alone.
        ("Phòng chống dịch bệnh", []),
        ("Ban hành quy định", []),
        ("Hội nghị tổng kết", []),
        ("ĐỐI TƯỢNG, NỘI DUNG THI ĐUA", []),
        ("BẢO TỒN THIÊN NHIÊN VÀ ĐA DẠNG SINH HỌC", []),
        ("toàn tỉnh đoàn kết", []),
        ("Số Y tế", []),
    ],
)
def test_agency_names_by_shape(text, names):
    from knowledge.orgs.agency_patterns import find_names
    from knowledge.text import fold

    assert [text[a:b] for a, b in find_names(text, fold(text))] == names


def test_split_on_courts_and_procuracies():
    assert split_agencies("Viện kiểm sát nhân dân thành phố, Tòa án nhân dân thành phố") == [
        "Viện kiểm sát nhân dân thành phố", "Tòa án nhân dân thành phố",
    ]


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("UBND cấp xã", "Ủy ban nhân dân cấp xã"),
        ("Ủy ban nhân dân các phường, xã, đặc khu", "Ủy ban nhân dân cấp xã"),
        ("UBND các huyện, thị xã, thành phố", "Ủy ban nhân dân các huyện, thị xã, thành phố"),
        ("Bảo hiểm xã hội Thành phố", "Bảo hiểm xã hội Thành phố"),
        ("Ủy ban MTTQ Việt Nam thành phố", "Ủy ban MTTQ Việt Nam thành phố"),
        ("Ban Quản lý Khu kinh tế Đông Nam", "Ban Quản lý Khu kinh tế Đông Nam"),
        ("các bộ, ngành", "Các bộ, ngành"),
        ("các sở, ban, ngành", "Các sở, ngành"),
    ],
)
def test_canonical_keeps_level_and_kind(raw, name):
    """A canonical name never states another level of government or another kind of body."""
    assert AgencyRegistry().canonical(raw).name == name


def test_a_name_met_in_one_plan_does_not_absorb_another_levels():
    registry = AgencyRegistry()
    registry.add_name("Ban Tuyên giáo Tỉnh ủy")
    assert registry.canonical("Ban Tuyên giáo Thành ủy").name == "Ban Tuyên giáo Thành ủy"
    assert registry.canonical("Ban Tuyên giáo Tỉnh uỷ").name == "Ban Tuyên giáo Tỉnh ủy"


def test_every_static_name_and_alias_reads_as_its_own_entry():
    """The static list (`knowledge.orgs.agency_list`) has no alias two entries claim, and each name and
    alias canonicalises to its entry (a collision would silently send one agency's tasks to another)."""
    registry = AgencyRegistry()
    for entry in STATIC_ENTRIES:
        for alias in (entry.name, *entry.aliases):
            assert registry.entry(alias) is entry, alias
            assert registry.canonical(alias).name == entry.name, alias
            assert registry.canonical(alias).collective == entry.collective, alias
    assert "sở" in HEAD_WORDS and "ubnd" in HEAD_WORDS


def test_alias_matches_word_by_word_equal_the_one_regex_of_every_alias():
    """The registry tries, at each word, only the aliases opening with it; the hits must be
    those of the single alternation of all aliases (same order), punctuation and "&" included."""
    from knowledge.orgs.agencies import _AliasMatcher, _compile_aliases
    from knowledge.text import fold, squash

    own = AgencyRegistry()
    own.add_name("Ban QLDA&TXD CTDD và CN")
    own.add_name("Trung tâm Kiểm soát bệnh tật")
    texts = [
        "Sở Kế hoạch - Đầu tư, Sở KH&ĐT và UBND các huyện, thị xã, thành phố phối hợp; Chính phủ số.",
        "Chính phủ chỉ đạo; các sở, ban, ngành, đoàn thể; Ban QLDA&TXD CTDD và CN; Trung tâm Y tế huyện",
        "Phòng Kế hoạch – Tài chính/Sở Y tế/BHXH tỉnh & TTYT; cơ sở y tế; Sở TT&TT; so y te;ubnd",
        "Trung tâm Kiểm soát bệnh tật tỉnh, Sở Nội vụ.Sở Tài chính,,Sở Tư pháp",
    ]
    for matcher_parts in (own._base, tuple(sorted(own._alias_patterns, key=len, reverse=True))):
        whole, by_word = _compile_aliases(matcher_parts), _AliasMatcher(matcher_parts)
        for text in texts:
            for folded in (fold(text), squash(text)):
                expected = [(m.start(), m.end(), m.group(0)) for m in whole.finditer(folded)]
                assert by_word.finditer(folded) == expected, folded
    found = [m.ref.name for m in own.find_mentions(texts[1])]
    assert "Ban QLDA&TXD CTDD và CN" in found and "Trung tâm Y tế" in found[-1]
