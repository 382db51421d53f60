import pytest

from qa_toolkit.rules.pii import find_pii, id_card_valid, luhn_valid


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("我手机是13800138000", ["mobile"]),
        ("您记一下，幺三八零零一三八零零零", ["mobile"]),
        ("号码 138-0013-8000 打这个", ["mobile"]),
        ("身份证号11010519491231002X", ["id_card"]),
        ("身份证440304198510123124", ["id_card"]),
        ("卡号6222 0200 0000 0000 000", ["bank_card"]),
        ("身份证110105194912310021", ["id_card"]),  # bad check digit (an ASR slip), real region and birth date
        ("编号990105194912310021", []),  # bad check digit and no such region: not an ID number
        ("合同编号是202311250000123456", []),
        ("卡号6222020000000000001", ["bank_card"]),  # fails Luhn, but said as a card number
        ("订单号6222020000000000001", []),  # fails Luhn, no card cue
        ("尾号8000", []),
        ("一共13800元", []),
        ("手机13800138000，身份证440304198510123124", ["mobile", "id_card"]),
        ("新号是186-290-431-5期,对吗", ["mobile"]),  # ASR: 期 for 七 next to digits
        ("分5期还款,第3期已经还了", []),  # a digit-sounding character that completes no number
    ],
)
def test_find_pii(text, kinds):
    found = find_pii(text)
    assert [p.kind for p in found] == kinds
    for p in found:
        digits = "".join(ch for ch in text[p.start : p.end] if ch.isalnum())
        assert len(digits) >= 11  # the span covers the whole number in the original text


def test_numbers_kept_by_shape_are_marked_invalid():
    (id_card,) = find_pii("身份证110105194912310021")
    (card,) = find_pii("还款卡号是6222 0200 0000 0000 001")
    (good,) = find_pii("身份证11010519491231002X")
    assert (id_card.valid, card.valid, good.valid) == (False, False, True)


def test_checksums():
    assert id_card_valid("11010519491231002X") and not id_card_valid("110105194912310021")
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
