"""GIFT reading, one test per feature of Moodle's format, plus our choices at its edges."""

from __future__ import annotations

import pytest

from app.assessments.gift import export_gift, parse_gift

CODES = {"1.2", "4.1", "4.2", "6.1"}


def parse(text: str, default: str | None = "4.2"):
    return parse_gift(text, CODES, default)


def one(text: str, default: str | None = "4.2"):
    result = parse(text, default)
    assert not result.problems, result.problems
    assert len(result.questions) == 1
    return result.questions[0]


def options(question) -> list[tuple[str, float]]:
    return [(o["text_md"], o["weight"]) for o in question.data["options"]]


# --- Structure ------------------------------------------------------------------------------

def test_comments_are_ignored_anywhere():
    q = one("// đầu tệp\n::q-1:: Câu hỏi? // không phải chú thích\n// giữa câu\n{=A ~B}\n")
    assert q.stem_md == "Câu hỏi? // không phải chú thích"
    assert options(q) == [("A", 100), ("B", 0)]


def test_blank_lines_separate_questions_and_lines_are_counted():
    result = parse("\n\n::a-1:: Một? {=A ~B}\n\n\n::a-2:: Hai? {=C ~D}\n")
    assert [(q.key, q.line) for q in result.questions] == [("a-1", 3), ("a-2", 6)]


def test_multi_line_question_keeps_its_lines():
    q = one("::m-1:: Dòng một\ndòng hai\n{\n  =Đúng\n  ~Sai\n}")
    assert q.stem_md == "Dòng một\ndòng hai"
    assert options(q) == [("Đúng", 100), ("Sai", 0)]


def test_two_questions_without_a_blank_line_are_a_syntax_error():
    result = parse("::a-1:: Một? {=A ~B}\n::a-2:: Hai? {=C ~D}")
    assert not result.ok and result.errors[0].line == 2
    assert "chỉ có một phần đáp án" in result.errors[0].reason


def test_title_that_looks_like_an_id_is_the_key():
    q = one("::ats-050:: Câu? {=A ~B}")
    assert (q.key, q.title) == ("ats-050", "")


def test_other_titles_are_kept_and_the_key_is_a_hash_of_title_and_stem():
    import hashlib

    q = one("::Câu về OTP:: Mã OTP là gì? {=A ~B}")
    digest = hashlib.sha1("Câu về OTPMã OTP là gì?".encode()).hexdigest()[:10]
    assert (q.key, q.title) == (f"gift-{digest}", "Câu về OTP")
    assert one("Mã OTP là gì? {=A ~B}").key != q.key  # no title: a different key


def test_category_sets_the_competency_of_the_following_questions():
    result = parse("$CATEGORY: 757/4.1\n\n::a-1:: Một? {=A ~B}\n\n"
                   "$CATEGORY: $course$/757/6.1\n\n::a-2:: Hai? {=C ~D}\n", default=None)
    assert result.ok, result.problems
    assert [q.competency_code for q in result.questions] == ["4.1", "6.1"]


def test_category_may_be_followed_directly_by_a_question():
    result = parse("$CATEGORY: $course$/top/757/1.2\n::a-1:: Một? {=A ~B}", default=None)
    assert result.ok and result.questions[0].competency_code == "1.2"
    assert result.questions[0].line == 2


def test_unknown_code_in_category_is_reported_at_its_line():
    result = parse("::a-0:: Trước? {=A ~B}\n\n$CATEGORY: 757/9.9\n\n::a-1:: Một? {=A ~B}")
    assert [(p.line, p.reason) for p in result.errors] == [
        (3, "mã năng lực '9.9' trong $CATEGORY không có trong khung 757")]


def test_question_without_category_needs_a_default_competency():
    result = parse("::a-1:: Một? {=A ~B}", default=None)
    assert not result.ok and result.errors[0].line == 1
    assert "chưa có năng lực" in result.errors[0].reason
    assert parse("::a-1:: Một? {=A ~B}", default="6.1").questions[0].competency_code == "6.1"


def test_a_category_without_757_leaves_the_default():
    result = parse("$CATEGORY: $course$/Ngân hàng chung\n\n::a-1:: Một? {=A ~B}", default="4.1")
    assert result.ok and result.questions[0].competency_code == "4.1"


# --- Question types ---------------------------------------------------------------------------

def test_single_choice_with_equals_and_tildes():
    q = one("Ai? {~Grant ~Jefferson =không ai}")
    assert q.type == "single"
    assert options(q) == [("Grant", 0), ("Jefferson", 0), ("không ai", 100)]
    assert [o["id"] for o in q.data["options"]] == ["a", "b", "c"]
    assert [o["correct"] for o in q.data["options"]] == [False, False, True]


def test_partial_credit_and_negative_weights_make_a_multiple_response():
    q = one("Chọn các ý đúng {~%50%Một ~%50%Hai ~%-50%Ba ~Bốn}")
    assert q.type == "multiple"
    assert options(q) == [("Một", 50), ("Hai", 50), ("Ba", -50), ("Bốn", 0)]


def test_decimal_weights_like_moodle_thirds():
    q = one("Chọn {~%33.33333%A ~%33.33333%B ~%33.33334%C ~%-100%D}")
    assert [w for _, w in options(q)] == [33.33333, 33.33333, 33.33334, -100]


def test_single_choice_may_give_a_distractor_partial_credit():
    q = one("Chọn {=Đúng ~%50%Gần đúng ~Sai}")
    assert q.type == "single" and options(q)[1] == ("Gần đúng", 50)


def test_weights_of_a_multiple_response_must_add_up_to_100():
    result = parse("Chọn {~%50%A ~%40%B ~C}")
    assert not result.ok and "tổng trọng số" in result.errors[0].reason


def test_answer_feedback_after_hash():
    q = one("Màu? {=vàng # đúng rồi ~đỏ # sai, là vàng}")
    assert [o["feedback_md"] for o in q.data["options"]] == ["đúng rồi", "sai, là vàng"]


def test_general_feedback_becomes_the_explanation():
    q = one("Màu? {=vàng ~đỏ ####Vì **vàng** nằm giữa cam và lục.}")
    assert q.explanation_md == "Vì **vàng** nằm giữa cam và lục."
    assert options(q) == [("vàng", 100), ("đỏ", 0)]


@pytest.mark.parametrize("mark, value", [("T", True), ("TRUE", True), ("F", False),
                                         ("FALSE", False), ("true", True)])
def test_true_false_forms(mark, value):
    q = one(f"Trái đất quay quanh Mặt trời. {{{mark}}}")
    assert q.type == "true_false" and q.data["answer"] is value


def test_true_false_feedback_is_wrong_then_right():
    q = one("OTP được cho người khác. {F#Không, OTP là bí mật.#Đúng, không bao giờ cho.}")
    assert q.data == {"answer": False, "feedback_true_md": "Không, OTP là bí mật.",
                      "feedback_false_md": "Đúng, không bao giờ cho."}
    q = one("Nên bật xác thực hai lớp. {TRUE#Sai rồi#Chính xác####Giải thích.}")
    assert (q.data["feedback_true_md"], q.data["feedback_false_md"]) == ("Chính xác", "Sai rồi")
    assert q.explanation_md == "Giải thích."


def test_short_answer_with_several_answers():
    q = one("Ai chôn trong mộ Grant? {=không ai =chẳng ai}")
    assert q.type == "short_answer"
    assert q.data == {"answers": ["không ai", "chẳng ai"], "match": "loose"}


def test_short_answer_weights_and_feedback():
    q = one("Hai cộng hai? {=bốn =%50%4#gần đúng, viết bằng chữ}")
    assert q.data["answers"] == ["bốn", {"text": "4", "weight": 50,
                                         "feedback_md": "gần đúng, viết bằng chữ"}]


def test_matching():
    q = one("Ghép con vật với thức ăn. {=mèo -> cá =chó -> xương =bò -> cỏ}")
    assert q.type == "matching"
    assert q.data == {"pairs": [{"left_md": "mèo", "right": "cá"},
                                {"left_md": "chó", "right": "xương"},
                                {"left_md": "bò", "right": "cỏ"}]}


def test_matching_extra_answers_are_distractors():
    q = one("Ghép. {=a -> 1 =b -> 2 =c -> 3 = -> 4}")
    assert q.data["distractors"] == ["4"]


def test_matching_needs_three_pairs():
    result = parse("Ghép. {=a -> 1 =b -> 2}")
    assert not result.ok and "ít nhất 3 cặp" in result.errors[0].reason


def test_numerical_with_tolerance():
    q = one("Số pi? {#3.14:0.005}")
    assert (q.type, q.data) == ("numerical", {"answer": 3.14, "tolerance": 0.005})


def test_numerical_range():
    q = one("Một số từ 1 đến 5? {#1..5}")
    assert q.data == {"answers": [{"min": 1, "max": 5, "weight": 100, "feedback_md": ""}]}
    q = one("Nhiệt độ? {#-5..5}")
    assert q.data["answers"][0] | {} == {"min": -5, "max": 5, "weight": 100, "feedback_md": ""}


def test_numerical_plain_answer_and_negative():
    assert one("Bao nhiêu? {#15}").data == {"answer": 15, "tolerance": 0}
    assert one("Âm? {#-3:1}").data == {"answer": -3, "tolerance": 1}


def test_several_numerical_answers_with_partial_credit():
    q = one("Năm sinh? {#=1822:0 # đúng =%50%1822:2 # gần đúng ~# sai}")
    assert q.data == {
        "answers": [{"answer": 1822, "tolerance": 0, "weight": 100, "feedback_md": "đúng"},
                    {"answer": 1822, "tolerance": 2, "weight": 50, "feedback_md": "gần đúng"}],
        "wrong_feedback_md": "sai"}


def test_numerical_answer_that_is_not_a_number_names_its_line():
    result = parse("::n-1:: Bao nhiêu?\n{#\n=12\n=mười:1\n}")
    assert [(p.line, p.reason) for p in result.errors] == [(4, "'mười' không phải là số")]


def test_missing_word_keeps_a_blank_where_the_answers_were():
    q = one("Grant được {~chôn =an táng ~sống} trong mộ Grant.")
    assert q.type == "single"
    assert q.stem_md == "Grant được \\_\\_\\_\\_\\_ trong mộ Grant."


# --- Text ------------------------------------------------------------------------------------

def test_escapes():
    q = one(r"Ký hiệu \~ \= \# \{ \} \: và \\ có nghĩa gì?\nDòng mới. {=dấu \= ~dấu \# # phản hồi \: có}")
    assert q.stem_md == "Ký hiệu ~ = # { } : và \\ có nghĩa gì?\nDòng mới."
    assert options(q) == [("dấu =", 100), ("dấu #", 0)]
    assert q.data["options"][1]["feedback_md"] == "phản hồi : có"


def test_markdown_and_moodle_formats_are_markdown():
    assert one("[markdown]Chữ **đậm**? {=A ~B}").stem_md == "Chữ **đậm**?"
    assert one("[moodle]Chữ *nghiêng*? {=A ~B}").stem_md == "Chữ *nghiêng*?"


def test_html_format_is_kept_for_the_sanitizer():
    q = one("[html]<p>Chọn <b>một</b></p> {=A ~B}")
    assert q.stem_md == "<p>Chọn <b>một</b></p>"


def test_plain_format_escapes_markdown():
    from app.markdown import render_markdown

    q = one("[plain]2 * 3 * 4 và _x_ # không phải tiêu đề {=A ~B}")
    assert q.stem_md == "2 \\* 3 \\* 4 và \\_x\\_ \\# không phải tiêu đề"
    assert "<em>" not in str(render_markdown(q.stem_md))
    assert "2 * 3 * 4 và _x_" in str(render_markdown(q.stem_md))


def test_format_of_the_question_applies_to_its_answers():
    q = one("[plain]Chọn {=*A* ~B}")
    assert options(q)[0] == ("\\*A\\*", 100)


# --- Unsupported and broken -----------------------------------------------------------------

def test_essay_and_description_are_skipped_with_their_lines_and_the_rest_imports():
    result = parse("::e-1:: Viết một đoạn văn. {}\n\n::d-1:: Chỉ là mô tả\n\n::a-1:: Một? {=A ~B}")
    assert result.ok
    assert [(p.line, p.is_error) for p in result.skipped] == [(1, False), (3, False)]
    assert "tự luận" in result.skipped[0].reason and "mô tả" in result.skipped[1].reason
    assert [q.key for q in result.questions] == ["a-1"]


def test_unclosed_brace_names_its_line():
    result = parse("::a-1:: Một?\n{=A\n~B\n\n::a-2:: Hai? {=C ~D}")
    assert [(p.line, p.reason) for p in result.errors] == [
        (2, "phần đáp án mở bằng { nhưng thiếu dấu } đóng")]


def test_closing_brace_without_opening_one():
    result = parse("Một } hai {=A ~B}")
    assert result.errors[0].line == 1 and "không có dấu { mở" in result.errors[0].reason


def test_bad_weight_and_answer_without_mark_are_syntax_errors():
    result = parse("::a-1:: Một? {~%năm mươi%A ~B}\n\n::a-2:: Hai? {A ~B =C}")
    assert [p.line for p in result.errors] == [1, 3]
    assert "không phải số" in result.errors[0].reason
    assert "phải bắt đầu bằng = (đúng) hoặc ~ (sai)" in result.errors[1].reason


def test_every_problem_is_listed():
    result = parse("::a-1:: Một? {=A =B ~C}\n\n::a-2:: Hai? {~A ~B}\n\n::a-3:: Ba {=x -> }")
    assert sorted({p.line for p in result.errors}) == [1, 3, 5]
    assert not result.ok


def test_duplicate_question_in_one_file():
    result = parse("::a-1:: Một? {=A ~B}\n\n::a-1:: Một lần nữa? {=A ~B}")
    assert "trùng với câu ở dòng 1" in result.errors[0].reason and result.errors[0].line == 3


def test_empty_file_or_only_comments():
    assert "không có câu hỏi nào" in parse("// chỉ có chú thích\n\n").errors[0].reason


# --- Writing -----------------------------------------------------------------------------------

ALL_FEATURES = r"""$CATEGORY: 757/4.2

::s-1::[markdown]Chọn **một** \{x\}? {=Đúng#hay ~Sai\: không#tiếc ~%25%Gần####Vì *thế*.}

::m-1:: Chọn nhiều {~%50%A ~%50%B ~%-100%C}

::Tiêu đề dài:: Đúng hay sai? {F#sai rồi#đúng rồi####Giải thích}

::sa-1:: Điền từ {=deepfake =%50%deep fake#gần đúng}

::ma-1:: Ghép {=a -> 1 =b -> 2 =c -> 3 = -> 4####Ghép theo số.}

::n-1:: Số? {#3.5:0.5}

::n-2:: Khoảng? {#=1..5 =%50%6:1#gần ~#sai}

Câu không tiêu đề \= dòng một\ndòng hai {T}
"""


def test_export_then_parse_gives_the_same_questions():
    first = parse(ALL_FEATURES, default=None)
    assert first.ok, first.problems
    text = export_gift(first.questions)
    assert text.count("$CATEGORY: 757/4.2") == 1
    second = parse(text, default=None)
    assert second.ok, second.problems

    def shape(q):
        return (q.key, q.type, q.title, q.stem_md, q.data, q.explanation_md, q.competency_code)

    assert sorted(map(shape, second.questions)) == sorted(map(shape, first.questions))


def test_export_groups_questions_by_competency():
    result = parse("$CATEGORY: 757/6.1\n\n::b-1:: B? {T}\n\n$CATEGORY: 757/4.1\n\n::a-1:: A? {F}",
                   default=None)
    text = export_gift(result.questions)
    assert text.index("$CATEGORY: 757/4.1") < text.index("::a-1::") \
        < text.index("$CATEGORY: 757/6.1") < text.index("::b-1::")
