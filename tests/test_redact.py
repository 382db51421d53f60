"""Redaction hides every planted personal number, names and addresses, and keeps the rest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qa_toolkit.redact import redact, redact_texts

CORPUS = Path(__file__).resolve().parent / "data" / "corpus_dev.jsonl"
W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(first17: str) -> str:
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, W, strict=True)) % 11]


def luhn(body: str) -> str:
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return body + str((10 - total % 10) % 10)


VALID_ID = id_number("11010519900307231")
VALID_CARD = luhn("622202020000123456")
CN = dict(zip("0123456789", "零一二三四五六七八九", strict=True))

PLANTED = [
    ("mobile digits", "你打我电话13800138000就行", "13800138000"),
    ("mobile with dashes", "号码是138-0013-8000", "138-0013-8000"),
    ("mobile with spaces", "记一下 139 1234 5678 好吧", "139 1234 5678"),
    ("mobile spoken", "我手机是幺三八零零一三八零零零", "幺三八零零一三八零零零"),
    ("id valid", f"身份证号{VALID_ID}对吧", VALID_ID),
    ("id bad checksum", "身份证110105199003072319没错", "110105199003072319"),
    ("id spoken", "身份证" + "".join(CN[c] for c in VALID_ID[:17]) + VALID_ID[17], VALID_ID[:10]),
    ("card valid", f"卡号{VALID_CARD}", VALID_CARD),
    ("card spaced", f"卡号 {VALID_CARD[:4]} {VALID_CARD[4:8]} {VALID_CARD[8:12]} {VALID_CARD[12:16]} {VALID_CARD[16:]}",
     VALID_CARD[4:8] + " " + VALID_CARD[8:12]),
    ("card bad luhn", "卡号6222020200001234560啊", "6222020200001234560"),
    ("landline", "打座机010-62345678", "62345678"),
    ("full-width digits", "电话１３８００１３８０００", "１３８００１３８０００"),
]


@pytest.mark.parametrize(("case", "text", "planted"), PLANTED, ids=[p[0] for p in PLANTED])
def test_planted_numbers_are_removed(case, text, planted):
    out = redact(text).text
    assert planted not in out
    assert not re.search(r"\d{7,}", out.replace(" ", "").replace("-", ""))


@pytest.mark.parametrize(("text", "kept"), [
    ("您尾号3391的那张卡", "3391"),
    ("本期账单三千二百一十五块", "三千二百一十五"),
    ("欠款一万五千元，逾期四个月", "一万五千"),
    ("一个小时以后我再打过来", "一个小时"),
    ("如协商不成，我方可能依法起诉", "依法起诉"),
    ("你去超市买东西了", "超市"),
])
def test_ordinary_text_stays(text, kept):
    assert kept in redact(text).text


@pytest.mark.parametrize(("text", "gone", "expected"), [
    ("请问是陈建国先生吗？", "陈建国", "请问是[姓名]先生吗？"),
    ("陈先生您好", "陈", "某先生您好"),
    ("我是安信公司的小李", "小李", "我是安信公司的小某"),
    ("我姓周", "周", "我姓某"),
    ("王总说了今天处理", "王总", "某总说了今天处理"),
    ("我叫张伟，做销售的", "张伟", "我叫[姓名]，做销售的"),
    ("我家住在北京市朝阳区建国路88号3单元502室", "建国路", "我家住在[地址]"),
    ("地址是上海市浦东新区世纪大道100号", "世纪大道", "地址是[地址]"),
])
def test_names_and_addresses(text, gone, expected):
    out = redact(text).text
    assert gone not in out
    assert out == expected


def test_names_found_once_are_hidden_everywhere():
    out = redact_texts(["请问是陈建国先生吗", "建国啊，你听我说", "陈建国你别挂"])
    assert not any("建国" in t for t in out)


def test_spans_map_into_the_redacted_text():
    r = redact("请问是陈建国先生吗，电话13800138000好的")
    a, b = r.map_span(3, 6)
    assert r.text[a:b] == "[姓名]"
    a, b = r.map_span(23, 25)
    assert r.text[a:b] == "好的"


@pytest.mark.skipif(not CORPUS.exists(), reason="labelled corpus missing")
def test_corpus_pii_segments_are_clean():
    from qa_toolkit.rules.pii import find_pii

    seen = 0
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        call = json.loads(line)
        texts = [s["text"] for s in call["segments"]]
        out = redact_texts(texts)
        for label in call["labels"]:
            if "pii" in label["categories"] and label["segment"] is not None:
                seen += 1
                red = out[label["segment"]]
                assert not find_pii(red), red
                assert not re.search(r"[0-9零〇一二三四五六七八九幺两](?:[\s\-]?[0-9零〇一二三四五六七八九幺两]){6,}", red), red
    assert seen > 0
