import pytest

from qa_toolkit.text.normalize import normalize
from qa_toolkit.text.pinyin import plain, term_codes, to_codes
from qa_toolkit.text.tokens import Tokenizer


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("還款後果自負", "还款后果自负"),  # traditional -> simplified
        ("明天我接著打，你等著瞧", "明天我接着打,你等着瞧"),  # Whisper's 著 for the particle 着
        ("著名的律师，效果显著", "著名的律师,效果显著"),  # ... but not in 著名, 显著
        ("ＡＢＣ１２３，好的！", "abc123,好的!"),  # full-width -> half-width, punctuation
        ("幺三八零零一三八零零零", "13800138000"),  # spoken digit by digit
        ("你欠了八千块", "你欠了8000块"),  # numeral with unit
        ("一万五千元", "15000元"),
        ("一万四千多块", "14000多块"),  # approximate amounts stay one number (not 14000千多)
        ("三万出头，两千左右", "30000出头,2000左右"),
        ("嗯，那个，等一下", "嗯,那个,等一下"),  # a filler on its own is kept (嗯 as a yes)
        ("我们嗯上门", "我们上门"),  # a hesitation inside a phrase is dropped
        ("十分抱歉", "十分抱歉"),
        ("一定会还", "一定会还"),
        ("上 门 找你", "上门找你"),  # spaces between Chinese characters
    ],
)
def test_normalize_table(raw, expected):
    assert normalize(raw).text == expected


@pytest.mark.parametrize("raw", ["你欠了我們八千塊，嗯，再不還就上門！", "幺三八 零零一三 八零零零", "ＡＢＣ，　好"])
def test_offsets_map_back_to_original(raw):
    norm = normalize(raw)
    for i in range(len(norm.text)):
        a, b = norm.span(i, i + 1)
        assert 0 <= a < b <= len(raw)
    a, b = norm.span(0, len(norm.text))
    assert (a, b) == (0, len(raw)) or raw[b:].strip("！，　 ") == ""


def test_number_span_covers_the_spoken_number():
    raw = "你欠了我们八千块"
    norm = normalize(raw)
    i = norm.text.index("8000")
    a, b = norm.span(i, i + 4)
    assert raw[a:b] == "八千"


def test_pinyin_codes_keep_length_and_heteronyms():
    assert len(to_codes("坐牢abc，")) == 6
    assert to_codes("做牢") in term_codes("坐牢")  # homophone: same tone-less pinyin
    assert to_codes("环款") in term_codes("还款")  # 还 has two everyday readings
    assert to_codes("前覆") not in term_codes("钱还")  # ... but not its rare third, fu
    assert to_codes("打到你接")[1:] not in term_codes("到你家")  # 家 is not read jie
    assert to_codes("律诗") in term_codes("律师") and to_codes("路诗") not in term_codes("律师")
    assert plain("征信") == "zheng xin"


def test_a_stretch_that_cuts_a_word():
    tok = Tokenizer()
    assert tok.cuts_a_word("按合同计收违约金", 2, 4)  # 同计 (tong ji, like 通缉) cuts 合同
    assert tok.cuts_a_word("我们不是任何机关", 2, 5)  # 不是任 cuts 任何
    assert not tok.cuts_a_word("先帮你缓上吗", 3, 5)
    assert not tok.cuts_a_word("我是城关拍出所的", 4, 7)
