"""The values the demo data is drawn from: places, trades, needs, UTM records, lost reasons.

Data, not interface text: Vietnamese for the Vietnamese market and English for the international one, as a
Vietnamese company's CRM holds them. People's names come from Faker (``vi_VN`` and ``en_US``).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- Vietnam: province → districts / cities, split between the two domestic teams -----------------------
# Weights make the two big cities dominate, as they do in real pipelines.
NORTH: dict[str, tuple[tuple[str, ...], int]] = {
    "Hà Nội": (("Ba Đình", "Hoàn Kiếm", "Cầu Giấy", "Đống Đa", "Thanh Xuân", "Long Biên", "Hà Đông"), 10),
    "Hải Phòng": (("Hồng Bàng", "Lê Chân", "Ngô Quyền"), 3),
    "Quảng Ninh": (("Hạ Long", "Cẩm Phả", "Móng Cái"), 2),
    "Bắc Ninh": (("Bắc Ninh", "Từ Sơn"), 2),
    "Hải Dương": (("Hải Dương", "Chí Linh"), 1),
    "Thái Nguyên": (("Thái Nguyên", "Sông Công"), 1),
    "Thanh Hóa": (("Thanh Hóa", "Sầm Sơn"), 1),
    "Nghệ An": (("Vinh", "Cửa Lò"), 1),
}
SOUTH: dict[str, tuple[tuple[str, ...], int]] = {
    "TP. Hồ Chí Minh": (("Quận 1", "Quận 3", "Quận 7", "Bình Thạnh", "Tân Bình", "Phú Nhuận", "Thủ Đức"), 10),
    "Bình Dương": (("Thủ Dầu Một", "Dĩ An", "Thuận An"), 3),
    "Đồng Nai": (("Biên Hòa", "Long Khánh"), 2),
    "Đà Nẵng": (("Hải Châu", "Sơn Trà", "Thanh Khê"), 2),
    "Cần Thơ": (("Ninh Kiều", "Cái Răng"), 1),
    "Bà Rịa - Vũng Tàu": (("Vũng Tàu", "Bà Rịa"), 1),
    "Khánh Hòa": (("Nha Trang", "Cam Ranh"), 1),
    "Long An": (("Tân An", "Bến Lức"), 1),
}
VN_STREETS = (
    "Lê Lợi",
    "Nguyễn Huệ",
    "Trần Hưng Đạo",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Nguyễn Trãi",
    "Lê Duẩn",
    "Phạm Văn Đồng",
    "Cách Mạng Tháng Tám",
    "Võ Văn Kiệt",
    "Hoàng Quốc Việt",
    "Kim Mã",
    "Láng Hạ",
)
# Mobile prefixes of the Vietnamese operators (after the leading 0), all valid in libphonenumber.
VN_MOBILE_PREFIXES = (
    "90",
    "91",
    "93",
    "94",
    "96",
    "97",
    "98",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "38",
    "39",
    "86",
    "88",
    "70",
    "76",
    "77",
    "78",
    "79",
    "81",
    "82",
    "83",
    "84",
    "85",
)
# Landline area codes of some provinces (for company switchboards).
VN_AREA_CODES = {
    "Hà Nội": "24",
    "TP. Hồ Chí Minh": "28",
    "Hải Phòng": "225",
    "Đà Nẵng": "236",
    "Cần Thơ": "292",
}

# --- abroad: country → (weight, [(state, cities)]) ---------------------------------------------------------
ABROAD: dict[str, tuple[int, tuple[tuple[str, tuple[str, ...]], ...]]] = {
    "US": (
        5,
        (
            ("California", ("San Francisco", "San Jose", "Los Angeles")),
            ("New York", ("New York",)),
            ("Texas", ("Austin", "Houston")),
            ("Washington", ("Seattle",)),
        ),
    ),
    "GB": (3, (("England", ("London", "Manchester", "Bristol")), ("Scotland", ("Edinburgh", "Glasgow")))),
    "SG": (3, (("", ("Singapore",)),)),
    "AU": (
        2,
        (("New South Wales", ("Sydney",)), ("Victoria", ("Melbourne",)), ("Queensland", ("Brisbane",))),
    ),
    "CA": (2, (("Ontario", ("Toronto", "Ottawa")), ("British Columbia", ("Vancouver",)))),
    "NZ": (1, (("Auckland", ("Auckland",)),)),
    "IE": (1, (("Dublin", ("Dublin",)),)),
}

# The legal-form suffixes of company names abroad, by country.
LEGAL_SUFFIXES = {
    "US": (" Inc.", " LLC", ""),
    "GB": (" Ltd", " plc", ""),
    "SG": (" Pte. Ltd.", ""),
    "AU": (" Pty Ltd", ""),
    "CA": (" Inc.", " Ltd.", ""),
    "NZ": (" Limited", ""),
    "IE": (" Ltd", " DAC", ""),
}

# --- companies ---------------------------------------------------------------------------------------------
VN_LEGAL_FORMS = ("Công ty TNHH", "Công ty TNHH", "Công ty Cổ phần", "Công ty TNHH MTV", "Tập đoàn")
VN_BRAND_FIRST = (
    "Minh",
    "Phát",
    "Hưng",
    "Thịnh",
    "An",
    "Việt",
    "Hoàng",
    "Thành",
    "Đại",
    "Tân",
    "Phú",
    "Sao",
    "Bình",
    "Hòa",
    "Nam",
    "Trường",
    "Kim",
    "Long",
    "Quang",
    "Đông",
    "Hồng",
    "Thiên",
)
VN_BRAND_SECOND = (
    "Phát",
    "Thịnh",
    "Long",
    "Hưng",
    "Phong",
    "Á",
    "Tiến",
    "Lộc",
    "Khang",
    "Thành",
    "Vượng",
    "Sơn",
    "Hải",
    "Việt",
)


@dataclass(frozen=True)
class Trade:
    """A line of business: the word in a Vietnamese company name, and the industry in both languages."""

    vi_word: str
    industry_vi: str
    industry_en: str


TRADES = (
    Trade("Thương mại", "Bán buôn, bán lẻ", "Retail"),
    Trade("Xây dựng", "Xây dựng", "Construction"),
    Trade("Công nghệ", "Công nghệ thông tin", "Software"),
    Trade("Thực phẩm", "Thực phẩm & đồ uống", "Food & beverage"),
    Trade("Dược phẩm", "Y tế, dược phẩm", "Healthcare"),
    Trade("Vận tải", "Vận tải, logistics", "Logistics"),
    Trade("Cơ khí", "Sản xuất", "Manufacturing"),
    Trade("Dệt may", "Dệt may", "Textiles"),
    Trade("Nội thất", "Nội thất", "Furniture"),
    Trade("Du lịch", "Du lịch, khách sạn", "Hospitality"),
    Trade("Giáo dục", "Giáo dục", "Education"),
    Trade("Bất động sản", "Bất động sản", "Real estate"),
)
# Employees: sizes drawn from, smallest to largest, with their weights.
COMPANY_SIZES = ((3, 2), (8, 3), (15, 4), (30, 4), (45, 3), (80, 3), (150, 2), (220, 2), (400, 1), (1200, 1))

VN_JOB_TITLES = (
    "Giám đốc",
    "Phó giám đốc",
    "Trưởng phòng kinh doanh",
    "Trưởng phòng mua hàng",
    "Kế toán trưởng",
    "Trưởng phòng IT",
    "Nhân viên mua hàng",
    "Trưởng phòng hành chính",
    "Chủ cửa hàng",
    "Trợ lý giám đốc",
)
EN_JOB_TITLES = (
    "CEO",
    "Managing Director",
    "Head of Procurement",
    "Purchasing Manager",
    "IT Director",
    "CFO",
    "Operations Manager",
    "Office Manager",
    "Procurement Officer",
    "Founder",
)


@dataclass(frozen=True)
class Need:
    """What a lead asks for, with the usual deal size in millions of VND."""

    vi: str
    en: str
    low: int
    high: int


NEEDS = (
    Need("phần mềm CRM", "CRM software", 40, 450),
    Need("phần mềm kế toán", "accounting software", 15, 120),
    Need("hệ thống camera an ninh", "security cameras", 25, 300),
    Need("máy chủ và lưu trữ", "servers and storage", 120, 2000),
    Need("wifi doanh nghiệp", "office Wi-Fi", 20, 180),
    Need("tổng đài IP", "an IP phone system", 30, 250),
    Need("máy photocopy", "copiers", 35, 280),
    Need("hệ thống chấm công", "a time-attendance system", 10, 90),
    Need("bảo trì hệ thống mạng", "network maintenance", 24, 200),
)
VN_LEAD_NAMES = (
    "Báo giá {need}",
    "Tư vấn {need}",
    "Cần {need} cho văn phòng mới",
    "Demo {need}",
    "Nâng cấp {need}",
)
EN_LEAD_NAMES = (
    "Quote for {need}",
    "Enquiry about {need}",
    "Demo request: {need}",
    "Upgrade of {need}",
    "{Need} for the new office",
)
VN_DESCRIPTIONS = (
    "Khách quan tâm {need}, cần báo giá cho khoảng {users} người dùng.",
    "Đã gọi điện trao đổi sơ bộ; khách muốn xem demo {need} trong tuần tới.",
    "Khách đang dùng giải pháp cũ, muốn thay {need} trước cuối quý.",
)
EN_DESCRIPTIONS = (
    "Interested in {need} for about {users} users; asked for a quote.",
    "First call done; they would like a demo of {need} next week.",
    "Replacing an old system; wants {need} in place before the end of the quarter.",
)
VN_NOTES = (
    "Đã gọi điện, khách hẹn gặp trực tiếp tuần sau.",
    "Đã gửi báo giá qua e-mail, chờ phản hồi.",
    "Khách yêu cầu giảm giá 5% nếu ký trong tháng.",
    "Đã demo cho phòng IT, khách đánh giá tốt.",
)
EN_NOTES = (
    "Called them; meeting set for next week.",
    "Sent the quote by e-mail, waiting for an answer.",
    "They ask for 5% off if signed this month.",
    "Demo done with their IT team; good feedback.",
)

# --- pipeline, UTM, tags ---------------------------------------------------------------------------------
LOST_REASONS = (
    "Giá quá cao",
    "Chọn đối thủ",
    "Không có nhu cầu",
    "Không liên lạc được",
    "Ngân sách chưa duyệt",
)
VN_LOST_NOTES = (
    "Khách chọn nhà cung cấp khác rẻ hơn.",
    "Dự án bị hoãn sang năm sau.",
    "Gọi nhiều lần không nghe máy.",
)
EN_LOST_NOTES = (
    "They went with a cheaper supplier.",
    "Project postponed to next year.",
    "No answer after many calls.",
)
TAGS = (
    ("VIP", "danger"),
    ("Khách quay lại", "success"),
    ("Cần demo", "info"),
    ("Khẩn", "warning"),
    ("Doanh nghiệp lớn", "primary"),
    ("Đối tác", "secondary"),
)
# Source → (weight, the mediums it comes through).
SOURCES: dict[str, tuple[int, tuple[str, ...]]] = {
    "Website": (6, ("Tự nhiên", "Google Ads", "Facebook", "Zalo", "LinkedIn")),
    "E-mail": (3, ("E-mail",)),
    "Điện thoại": (3, ("Trực tiếp",)),
    "Hội thảo": (2, ("Trực tiếp",)),
    "Giới thiệu": (2, ("Trực tiếp", "Zalo")),
    "Nhập file": (2, ("",)),
}
MEDIUMS = ("Tự nhiên", "Google Ads", "Facebook", "Zalo", "LinkedIn", "E-mail", "Trực tiếp")
VN_CAMPAIGNS = ("Khuyến mãi Tết", "Hội chợ Vietnam Expo", "Zalo OA quý 3", "Webinar chuyển đổi số")
EN_CAMPAIGNS = ("Global outreach", "SaaS Summit Singapore")
