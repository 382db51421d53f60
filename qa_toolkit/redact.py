"""Redact debtors' personal data from text and exports: names, numbers, addresses.

What is hidden, and with what:

* Personal numbers found by :func:`qa_toolkit.rules.pii.find_pii` (mobile, resident ID, bank
  card, in digits or spoken digit by digit) become ``[手机号]``, ``[身份证号]``, ``[银行卡号]``.
* Any other run of seven or more digits (a number whose checksum failed, a landline, a
  contract number, spoken 幺三八… digits) becomes ``[号码]``: redaction errs on the safe side.
  Amounts written with 十/百/千/万 and partial numbers (尾号1234) stay.
* Names: a surname before a form of address (王先生, 李女士, 张总, 陈阿姨) keeps the address
  and hides the surname (某先生); 小李/老王 become 小某/老某; 姓周 becomes 姓某; a full name after a
  cue (请问是陈建国先生吗, 我叫张伟) becomes ``[姓名]``, and its other occurrences in the same
  texts (陈建国, 建国) too.
* Addresses: a run of place parts (省/市/区/县/镇/街道, 路/街/小区, 号/栋/单元/室) with at
  least two parts, e.g. ``北京市朝阳区建国路88号`` -> ``[地址]``.

Names and addresses are found by patterns, so unusual ones can slip through; numbers are
caught whether or not they pass their checksum.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["RedactedSpan", "Redaction", "known_names", "redact", "redact_texts"]

NUMBER_LABELS = {"mobile": "[手机号]", "id_card": "[身份证号]", "bank_card": "[银行卡号]"}
OTHER_NUMBER = "[号码]"
NAME = "[姓名]"
ADDRESS = "[地址]"

_SURNAMES_1 = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常"
    "温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍"
    "涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆农司卓古吉缪简项芦麦褚娄窦戚岑景党"
    "宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝"
)
_SURNAMES_2 = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "尉迟", "长孙", "宇文", "司徒", "夏侯")
_SURNAME = "(?:" + "|".join(_SURNAMES_2) + f"|[{_SURNAMES_1}])"
_TITLES = "先生|女士|小姐|太太|老师|师傅|经理|主任|总(?![额数计共是结体之部的])|阿姨|叔叔|大哥|大姐|哥|姐|老板|同志"
_CJK = "\u4e00-\u9fff"

_TITLED = re.compile(rf"({_SURNAME})(?:{_TITLES})")
_NICK = re.compile(rf"(?<=[小老])({_SURNAME})(?![{_CJK}])|(?<=[小老])({_SURNAME})(?=[啊呀呢吗吧啦哈嘛，,。.！!？?\s]|$)")
_SURNAME_ONLY = re.compile(rf"(?<=姓)({_SURNAME})(?![{_CJK}])|(?<=姓)({_SURNAME})(?=[的啊呢吧，,。.！!？?\s]|$)")
_FULL = re.compile(
    # a clear cue (我叫) before the name, or a weak one (是, 找, start of a clause) and a clear end (先生, 吗)
    rf"(?:(?:我是|我叫|他叫|她叫|叫做|名叫|姓名是?|名字是|本人是)(({_SURNAME})[{_CJK}]{{1,2}}?)"
    rf"(?=先生|女士|小姐|同志|本人|吗|嘛|呢|吧|啊|[，,。.！!？?\s]|$)"
    rf"|(?:^|[，,。.！!？?\s]|请问是|请问您是|您是|是|找一下|找|转告|告诉|叫)(({_SURNAME})[{_CJK}]{{1,2}}?)"
    rf"(?=先生|女士|小姐|同志|本人|吗|嘛|的?家属))"
)
_NOT_GIVEN = set("的了吗呢吧啊呀是在有不也就都还说要会能")

_DIGIT = "0-9０-９零〇一二三四五六七八九幺两"
_LONG_NUMBER = re.compile(rf"[{_DIGIT}](?:[\s\-－—·]?[{_DIGIT}]){{6,}}")

_ADMIN = rf"[{_CJK}]{{2,8}}?(?:自治区|自治州|地区|街道|省|市|州|盟|区|县|旗|镇|乡|村)"
_STREET = rf"[{_CJK}A-Za-z0-9]{{1,10}}?(?:大道|胡同|小区|花园|公寓|大厦|广场|社区|新村|路|街|巷|弄|里|苑)"
_NUMBER = r"[0-9０-９一二三四五六七八九十百零〇幺两]+(?:号楼|号院|号|栋|幢|座|单元|楼|层|室|户)"
_ADDRESS = re.compile(rf"(?P<admin>(?:{_ADMIN}){{0,4}})(?P<street>(?:{_STREET})?)(?P<number>(?:{_NUMBER}){{0,4}})")
_ADDRESS_CUE = re.compile(r".*(?:住在|住址|地址|家在|在|到|去|住|是|于|的|:|：)")


@dataclass(frozen=True)
class RedactedSpan:
    """One hidden stretch: ``[start, end)`` of the original text and what replaced it."""

    start: int
    end: int
    kind: str
    replacement: str


@dataclass(frozen=True)
class Redaction:
    """A redacted text, the original spans it hid, and a map of offsets into it."""

    text: str
    original: str
    spans: tuple[RedactedSpan, ...]

    def map_span(self, start: int, end: int) -> tuple[int, int]:
        """Where original ``[start, end)`` lies in the redacted text (widened over hidden parts)."""

        def pos(p: int, is_end: bool) -> int:
            delta = 0
            for s in self.spans:
                if s.end <= p:
                    delta += len(s.replacement) - (s.end - s.start)
                elif s.start < p:  # p falls inside a hidden part: widen to its edge
                    return s.start + delta + (len(s.replacement) if is_end else 0)
                else:
                    break
            return p + delta

        return pos(start, False), pos(end, True)


def _number_spans(text: str) -> list[RedactedSpan]:
    spans = []
    try:
        from qa_toolkit.rules.pii import find_pii
    except ImportError:  # pragma: no cover - the rule engine is part of the package
        find_pii = None
    if find_pii is not None:
        for m in find_pii(text):
            spans.append(RedactedSpan(m.start, m.end, m.kind, NUMBER_LABELS.get(m.kind, OTHER_NUMBER)))
    for m in _LONG_NUMBER.finditer(text):
        spans.append(RedactedSpan(m.start(), m.end(), "number", OTHER_NUMBER))
    return spans


def known_names(texts: Iterable[str]) -> set[str]:
    """Full names (and two-character given names) that the name cues find in ``texts``."""
    names: set[str] = set()
    for text in texts:
        for m in _FULL.finditer(text):
            name, surname = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            given = name[len(surname):]
            if not given or given[0] in _NOT_GIVEN or given[-1] in _NOT_GIVEN or re.search(
                    f"(?:{_TITLES})$", name) or given[0] in "先女小太老师经主总阿叔大哥姐同":
                continue
            names.add(name)
            if len(given) == 2:
                names.add(given)
    return names


def _name_spans(text: str, names: set[str]) -> list[RedactedSpan]:
    spans = []
    for name in sorted(names, key=len, reverse=True):
        for m in re.finditer(re.escape(name), text):
            spans.append(RedactedSpan(m.start(), m.end(), "name", NAME))
    for pattern in (_TITLED, _NICK, _SURNAME_ONLY):
        for m in pattern.finditer(text):
            g = 1 if m.lastindex and m.group(1) else 2
            spans.append(RedactedSpan(m.start(g), m.end(g), "surname", "某"))
    return spans


def _address_spans(text: str) -> list[RedactedSpan]:
    spans = []
    for m in _ADDRESS.finditer(text):
        admin, street, number = m.group("admin", "street", "number")
        admins = re.findall(_ADMIN, admin)
        if len(admins) + bool(street) + bool(number) < 2 or not (admin or street):
            continue
        start = m.start()
        cue = _ADDRESS_CUE.match(text, start, start + len(admins[0] if admins else street))
        if cue:
            start = cue.end()
        spans.append(RedactedSpan(start, m.end(), "address", ADDRESS))
    return spans


def _merge(spans: list[RedactedSpan]) -> tuple[RedactedSpan, ...]:
    # Longer, earlier spans win; a span overlapping a kept one is dropped or merged into it.
    order = sorted(spans, key=lambda s: (s.start, -(s.end - s.start)))
    kept: list[RedactedSpan] = []
    for s in order:
        if kept and s.start < kept[-1].end:
            last = kept[-1]
            if s.end > last.end:
                rep = last.replacement if last.kind != "surname" else s.replacement
                kind = last.kind if last.kind != "surname" else s.kind
                kept[-1] = RedactedSpan(last.start, s.end, kind, rep)
            continue
        kept.append(s)
    return tuple(kept)


def redact(text: str, *, names: set[str] | None = None) -> Redaction:
    """Hide personal data in one text.

    Args:
        text: Any text (a segment, a note, a finding's matched text).
        names: Full names already known to belong to this call (see :func:`redact_texts`).
    """
    if not text:
        return Redaction(text or "", text or "", ())
    known = set(names or ()) | known_names([text])
    spans = _merge(_number_spans(text) + _address_spans(text) + _name_spans(text, known))
    out, pos = [], 0
    for s in spans:
        out.append(text[pos:s.start])
        out.append(s.replacement)
        pos = s.end
    out.append(text[pos:])
    return Redaction("".join(out), text, spans)


def redact_texts(texts: Iterable[str | None]) -> list[str]:
    """Redact texts of one call together: a name found in one is hidden in all."""
    texts = list(texts)
    names = known_names(t for t in texts if t)
    return [redact(t, names=names).text if t else (t or "") for t in texts]
