"""The static agency list: canonical names (what users see) with their aliases, abbreviations
and collective names, and the words an agency name starts with. Data only; the matching is
`knowledge.orgs.agencies.AgencyRegistry`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgencyEntry:
    name: str
    aliases: tuple[str, ...] = ()
    collective: bool = False


def _e(name: str, *aliases: str, collective: bool = False) -> AgencyEntry:
    return AgencyEntry(name, tuple(aliases), collective)


# Provincial departments, district offices, health units and collective names. Extend freely:
# every alias is matched diacritics-insensitively; the first string is what users see.
STATIC_ENTRIES: tuple[AgencyEntry, ...] = (
    _e("Sở Y tế", "SYT", "Sở Y tế tỉnh"),
    _e("Sở Nội vụ", "SNV", "Sở Nội vụ tỉnh"),
    _e("Sở Ngoại vụ", "SNgV"),
    _e("Sở Tài chính", "STC", "Sở Tài chính tỉnh"),
    _e("Sở Kế hoạch và Đầu tư", "Sở KH&ĐT", "Sở KHĐT", "KH&ĐT", "KHĐT", "SKHĐT", "Sở KH-ĐT",
       "Sở Kế hoạch - Đầu tư", "Sở Kế hoạch Đầu tư", "Sở KHĐT tỉnh"),
    _e("Sở Thông tin và Truyền thông", "Sở TT&TT", "TT&TT", "TTTT", "Sở TTTT", "STTTT",
       "Sở Thông tin truyền thông", "Sở Thông tin - Truyền thông"),
    _e("Sở Giáo dục và Đào tạo", "Sở GD&ĐT", "GD&ĐT", "Sở GDĐT", "SGDĐT"),
    _e("Sở Lao động - Thương binh và Xã hội", "Sở LĐTB&XH", "LĐTB&XH", "Sở LĐTBXH", "LĐTBXH",
       "Sở Lao động Thương binh và Xã hội"),
    _e("Sở Tài nguyên và Môi trường", "Sở TN&MT", "Sở TNMT", "STNMT"),
    _e("Sở Văn hóa, Thể thao và Du lịch", "Sở VHTT&DL", "Sở VHTTDL", "VHTTDL"),
    _e("Sở Nông nghiệp và Phát triển nông thôn", "Sở NN&PTNT", "NN&PTNT", "Sở NNPTNT"),
    _e("Sở Xây dựng", "SXD"),
    _e("Sở Tư pháp", "STP"),
    _e("Sở Công Thương", "SCT"),
    _e("Sở Giao thông vận tải", "Sở GTVT", "GTVT"),
    _e("Sở Khoa học và Công nghệ", "Sở KH&CN", "KH&CN", "Sở KHCN"),
    _e("Ban Dân tộc tỉnh", "Ban Dân tộc"),
    _e("Thanh tra tỉnh"),
    _e("Công an tỉnh"),
    _e("Bộ Chỉ huy Quân sự tỉnh", "BCH Quân sự tỉnh"),
    _e("Bộ Chỉ huy Bộ đội Biên phòng tỉnh", "BĐBP tỉnh"),
    _e("Bảo hiểm xã hội tỉnh", "BHXH tỉnh", "BHXH", "Bảo hiểm xã hội", "BHXH Việt Nam tỉnh"),
    _e("Bảo hiểm xã hội huyện", "BHXH huyện"),
    _e("Ủy ban nhân dân tỉnh", "UBND tỉnh", "Ủy ban nhân dân tỉnh", "UBND Tỉnh"),
    _e("Ủy ban nhân dân huyện", "UBND huyện"),
    _e("Ủy ban nhân dân các huyện, thị xã, thành phố", "UBND các huyện, thị xã, thành phố",
       "UBND các huyện, thị, thành phố", "UBND cấp huyện", "Ủy ban nhân dân cấp huyện",
       "UBND các huyện", "UBND huyện, thị xã, thành phố", "UBND các huyện/thị/thành phố",
       "Ủy ban nhân dân các huyện", collective=True),
    # The commune level by its level name: "các xã, thị trấn" (before 2025) and "các xã, phường,
    # đặc khu" (after) are both the communes of the province.
    _e("Ủy ban nhân dân cấp xã", "UBND cấp xã", "Ủy ban nhân dân các xã, thị trấn", "UBND các xã, thị trấn",
       "UBND các xã, phường, thị trấn", "Ủy ban nhân dân các xã, phường, thị trấn", "UBND các xã", "UBND xã",
       "Ủy ban nhân dân các xã, phường, đặc khu", "UBND các xã, phường, đặc khu", "Ủy ban nhân dân các xã, phường",
       "UBND các xã, phường", "Ủy ban nhân dân các phường, xã, đặc khu", "UBND các phường, xã, đặc khu",
       "Ủy ban nhân dân các phường, xã", "UBND các phường, xã", "UBND xã, phường, đặc khu", "Ủy ban nhân dân xã, phường, đặc khu", "Ủy ban nhân dân xã, phường",
       "UBND xã, phường", collective=True),
    _e("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "Ủy ban MTTQ Việt Nam tỉnh", "UBMTTQ tỉnh",
       "Ủy ban Mặt trận Tổ quốc", "Mặt trận Tổ quốc", "MTTQ", "UB MTTQ", "Ủy ban MTTQ tỉnh", "Ủy ban MTTQ",
       "UBMTTQ"),
    _e("Hội đồng nhân dân tỉnh", "HĐND tỉnh"),
    _e("Bộ Y tế", "BYT"),
    _e("Chính phủ"),
    _e("Thủ tướng Chính phủ"),
    _e("Các bộ, ngành", "các bộ, ngành trung ương", "các bộ, cơ quan ngang bộ", "các Bộ, ngành liên quan",
       collective=True),
    _e("Đài Phát thanh và Truyền hình tỉnh", "Đài PT&TH", "Đài PTTH tỉnh", "Đài PTTH",
       "Đài Phát thanh và Truyền hình"),
    _e("Các sở, ngành", "các sở, ban, ngành", "các sở, ngành liên quan", "các sở, ngành có liên quan",
       "các sở, ban, ngành liên quan", "sở, ban, ngành", "các sở ngành", "các Sở, ban, ngành, đoàn thể",
       "các sở, ban, ngành cấp tỉnh", "các ngành", "các sở, ngành, đơn vị liên quan",
       "các sở, ngành liên quan và địa phương", "các sở, ngành liên quan và các địa phương",
       "các sở, ngành, cơ quan, đơn vị có liên quan", "sở, ngành liên quan", collective=True),
    _e("Các cơ quan, đơn vị liên quan", "các cơ quan liên quan", "các cơ quan, đơn vị có liên quan",
       "các đơn vị liên quan", "các cơ quan, đơn vị", "các đơn vị có liên quan",
       "các cơ quan, ban ngành liên quan", "các cơ quan, ban ngành có liên quan", collective=True),
    _e("Các đơn vị trực thuộc", "Thủ trưởng các đơn vị trực thuộc", "các đơn vị trực thuộc Sở",
       "các đơn vị trong ngành", "Thủ trưởng các đơn vị thuộc Sở", "tất cả các đơn vị trong ngành",
       collective=True),
    _e("Các đơn vị sự nghiệp y tế", "đơn vị sự nghiệp y tế", collective=True),
    _e("Các phòng, ban chức năng của Sở", "các phòng/ban chức năng của Sở", "Trưởng các phòng/ban chức năng của Sở",
       "các phòng, ban cơ quan Sở", "Các Phòng/Ban cơ quan Sở Y tế", "Trưởng các phòng/ban của Sở",
       "các phòng chức năng thuộc Sở", collective=True),
    _e("Văn phòng Sở Y tế", "Văn phòng Sở", "Văn phòng - Sở Y tế", "VP Sở"),
    _e("Phòng Tổ chức cán bộ", "Phòng TCCB", "TCCB", "Phòng Tổ chức cán bộ Sở Y tế",
       "Phòng Tổ chức cán bộ, Sở Y tế"),
    _e("Phòng Kế hoạch - Tài chính", "Phòng KHTC", "KHTC", "Phòng KH-TC", "Phòng Kế hoạch Tài chính"),
    _e("Phòng Nghiệp vụ Y", "Phòng NVY"),
    _e("Phòng Nghiệp vụ Dược", "Phòng NVD"),
    _e("Thanh tra Sở Y tế", "Thanh tra Sở"),
    _e("Phòng Y tế", "PYT", "Phòng Y tế huyện"),
    _e("Phòng Tài chính - Kế hoạch", "Phòng TC-KH", "Phòng TCKH", "Phòng Tài chính Kế hoạch",
       "Phòng Tài chính"),
    _e("Phòng Tài nguyên và Môi trường", "Phòng TN&MT", "Phòng TNMT"),
    _e("Phòng Văn hóa và Thông tin", "Phòng VH&TT", "Phòng VHTT", "Phòng Văn hóa - Thông tin"),
    _e("Phòng Nội vụ"),
    _e("Phòng Giáo dục và Đào tạo", "Phòng GD&ĐT", "Phòng GDĐT"),
    _e("Phòng Lao động - Thương binh và Xã hội", "Phòng LĐTB&XH", "Phòng LĐTBXH"),
    _e("Trung tâm Y tế", "TTYT", "Trung tâm Y tế huyện", "Trung tâm y tế cấp huyện", "TTYT huyện"),
    _e("Trung tâm Kiểm soát bệnh tật tỉnh", "Trung tâm Kiểm soát bệnh tật", "CDC", "TTKSBT", "CDC tỉnh"),
    _e("Trung tâm Truyền thông - Văn hóa - Thể thao", "Trung tâm Truyền thông Văn hóa Thể thao"),
    _e("Trạm Y tế", "TYT", "Trạm Y tế xã", "Trạm y tế các xã, thị trấn"),
    _e("Bệnh viện Đa khoa tỉnh", "BVĐK tỉnh"),
    _e("Chi cục Dân số - Kế hoạch hóa gia đình", "Chi cục DS-KHHGĐ", "Chi cục DS-KHHGD", "Chi cục Dân số"),
    _e("Chi cục An toàn vệ sinh thực phẩm", "Chi cục ATVSTP", "Chi cục ATTP"),
    _e("Trung tâm Kiểm nghiệm"),
    _e("Trung tâm Giám định Y khoa"),
    _e("Trung tâm Pháp y"),
    _e("Ban Thi đua - Khen thưởng tỉnh", "Ban TĐ-KT tỉnh", "Ban TĐKT", "Ban Thi đua Khen thưởng"),
    # Departments created or merged by the 2025 reorganisation, and other provincial bodies.
    _e("Sở Dân tộc và Tôn giáo", "Sở DT&TG"),
    _e("Sở Nông nghiệp và Môi trường", "Sở NN&MT", "Sở NNMT"),
    _e("Sở Du lịch"),
    _e("Sở Văn hóa và Thể thao", "Sở VH&TT"),
    _e("Văn phòng Ủy ban nhân dân tỉnh", "Văn phòng UBND tỉnh", "VP UBND tỉnh"),
    _e("Ban Quản lý các khu công nghiệp", "BQL các KCN"),
    _e("Ban Quản lý Khu kinh tế", "Ban Quản lý KKT"),
    _e("Kho bạc Nhà nước tỉnh", "Kho bạc Nhà nước", "KBNN"),
    _e("Cục Thuế tỉnh", "Cục Thuế"),
    _e("Cục Thống kê tỉnh", "Cục Thống kê"),
    _e("Ngân hàng Chính sách xã hội tỉnh", "Ngân hàng Chính sách xã hội", "NHCSXH"),
    _e("Báo tỉnh"),
    _e("Hội Liên hiệp Phụ nữ tỉnh", "Hội Liên hiệp Phụ nữ", "Hội LHPN", "Hội Phụ nữ"),
    _e("Tỉnh Đoàn", "Tỉnh đoàn", "Đoàn Thanh niên"),
    _e("Liên đoàn Lao động tỉnh", "Liên đoàn Lao động", "LĐLĐ tỉnh"),
    _e("Hội Nông dân tỉnh", "Hội Nông dân"),
    _e("Hội Cựu chiến binh tỉnh", "Hội Cựu chiến binh", "Hội CCB"),
    _e("Hội Chữ thập đỏ tỉnh", "Hội Chữ thập đỏ"),
    _e("Các tổ chức chính trị - xã hội", "các đoàn thể", "các tổ chức chính trị - xã hội tỉnh",
       "tổ chức chính trị - xã hội", "các tổ chức chính trị - xã hội các cấp", collective=True),
    # District offices.
    _e("Văn phòng HĐND và UBND huyện", "Văn phòng HĐND - UBND huyện", "Văn phòng UBND huyện"),
    _e("Phòng Kinh tế - Hạ tầng", "Phòng KT-HT", "Phòng Kinh tế và Hạ tầng"),
    _e("Phòng Kinh tế"),
    _e("Phòng Nông nghiệp và Môi trường", "Phòng NN&MT"),
    _e("Phòng Nông nghiệp và Phát triển nông thôn", "Phòng NN&PTNT"),
    _e("Phòng Văn hóa, Khoa học và Thông tin", "Phòng VH-KH&TT"),
    _e("Phòng Tư pháp"),
    _e("Phòng Dân tộc", "Phòng Dân tộc và Tôn giáo"),
    _e("Thanh tra huyện"),
    _e("Công an huyện"),
    _e("Ban Chỉ huy Quân sự huyện", "BCH Quân sự huyện"),
    _e("Trung tâm Văn hóa - Thể thao", "Trung tâm Văn hóa Thể thao"),
    _e("Trung tâm Dịch vụ nông nghiệp"),
)

# Words that start an agency name: used to split a cell listing several agencies.
HEAD_WORDS = (
    "sở", "ubnd", "ủy ban", "uỷ ban", "phòng", "trung tâm", "bệnh viện", "ban", "bảo hiểm", "bhxh",
    "đài", "báo", "văn phòng", "chi cục", "cục", "thanh tra", "công an", "bộ", "các", "người đứng đầu",
    "thủ trưởng", "trạm", "hội", "liên đoàn", "tỉnh đoàn", "mặt trận", "kho bạc", "ngân hàng",
    "đơn vị", "cơ quan", "tổ chức", "ttyt", "cdc", "hđnd", "hội đồng", "viện", "trường", "cơ sở",
    "tòa án", "toà án", "thuế", "kiểm toán", "hải quan", "tỉnh ủy", "thành ủy", "huyện ủy", "quỹ", "doanh nghiệp",
    "đoàn thể", "giám đốc", "chủ tịch", "trưởng ban", "lãnh đạo",
)
