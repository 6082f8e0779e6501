"""Phone numbers as people type them, and the reasons bad ones are refused."""

import pytest

from app.auth.phone import InvalidPhone, format_phone, normalize_phone


@pytest.mark.parametrize("typed", [
    "0912 345 678",
    "0912345678",
    "+84912345678",
    "84-912-345-678",
    "(+84) 912.345.678",
    "84912345678",
    "0084 912 345 678",
    "0084912345678",
    "912345678",                 # Excel dropped the leading zero
    "  0912 345 678  ",
    "0912\u00a0345\u00a0678",    # no-break spaces pasted from a web page or Word
    "0912–345–678",              # en dashes from a word processor
    "０９１２ ３４５ ６７８",       # full-width digits from some phone keyboards
    "＋84 912 345 678",
    "+84 0912 345 678",          # trunk 0 kept after the country code
    "+84 (0) 912 345 678",
    "840912345678",
    "(0912) 345-678",
    "0912\t345\t678",
])
def test_mobile_spellings_all_store_the_same_number(typed):
    assert normalize_phone(typed) == "+84912345678"


@pytest.mark.parametrize("typed, stored", [
    ("0251 3822 123", "+842513822123"),      # Đồng Nai landline
    ("(0251) 3822.123", "+842513822123"),
    ("+84 251 3822 123", "+842513822123"),
    ("2513822123", "+842513822123"),         # Excel-dropped zero, landline
    ("0084 251 3822 123", "+842513822123"),
    ("024 3822 1234", "+842438221234"),      # Hà Nội
    ("0283 822 1234", "+842838221234"),      # TP Hồ Chí Minh
    ("0352 345 678", "+84352345678"),        # Viettel 03x
    ("0562 345 678", "+84562345678"),        # 05x
    ("0702 345 678", "+84702345678"),        # 07x
    ("0842 345 678", "+84842345678"),        # 08x
    ("842345678", "+84842345678"),           # 084… without its zero: not the country code
    ("84842345678", "+84842345678"),
    ("0987654321", "+84987654321"),
])
def test_other_valid_numbers(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("typed, reason", [
    ("", "Chưa nhập số điện thoại"),
    ("   ", "Chưa nhập số điện thoại"),
    (None, "Chưa nhập số điện thoại"),
    ("0912abc678", "chỉ gồm chữ số"),
    ("không có", "chỉ gồm chữ số"),
    ("09l2345678", "chỉ gồm chữ số"),
    ("0912 345 678 ext 12", "chỉ gồm chữ số"),
    ("٠٩١٢٣٤٥٦٧٨", "chỉ gồm chữ số"),  # Arabic-Indic digits are not ours
    ("0912345", "thiếu chữ số"),
    ("091234567", "thiếu chữ số"),
    ("+84 91234", "thiếu chữ số"),
    ("+84", "thiếu chữ số"),
    ("09123456789", "thừa chữ số"),
    ("091234567890", "thừa chữ số"),
    ("+84 9123456789", "thừa chữ số"),
    ("0112345678", "Đầu số"),
    ("0612345678", "Đầu số"),
    ("0412345678", "Đầu số"),
    ("0012345678", "Đầu số"),
    ("01234567890", "đã đổi sang số 10 chữ số"),  # old 11-digit mobile number
    ("+1 212 555 1234", "Việt Nam (+84)"),
    ("+33 1 23 45 67 89", "Việt Nam (+84)"),
    ("001 212 555 1234", "Việt Nam (+84)"),
    ("0033 123 456 789", "Việt Nam (+84)"),
    ("++84912345678", "Dấu +"),
    ("+84+912345678", "Dấu +"),
    ("0912+345678", "Dấu +"),
])
def test_bad_numbers_are_refused_with_a_vietnamese_reason(app, typed, reason):
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone(typed)
    assert reason in str(caught.value.reason)


def test_every_stored_number_is_ascii():
    assert normalize_phone("０９１２３４５６７８").isascii()


@pytest.mark.parametrize("stored, shown", [
    ("+84912345678", "0912 345 678"),
    ("+842513822123", "0251 3822 123"),
    (None, ""),
])
def test_display_form(stored, shown):
    assert format_phone(stored) == shown
