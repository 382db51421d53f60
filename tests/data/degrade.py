#!/usr/bin/env python3
"""Turn a labelled corpus JSONL into an "ASR-degraded" copy (Whisper-on-phone-audio style errors).

Usage:
    python tests/data/degrade.py IN.jsonl OUT.jsonl [--rate 0.15]

Determinism
    Every call gets its own ``random.Random("degrade:<call_id>:<rate>")`` (string seeds are hashed with
    SHA-512 by the stdlib, so the output is identical across runs, machines and PYTHONHASHSEED values).
    The same input and rate always give byte-identical output. ``--rate 0`` copies the text unchanged.

What is kept
    Every field except ``segments[i].text`` is copied unchanged: call metadata, tags, labels, the number
    of segments, their order, speakers and start/end times. Segments are never merged, split or dropped,
    so segment indices in ``labels`` stay valid. A segment whose text would become empty keeps its
    original text.

Rules, applied to each segment text in this order (p = probability, r = --rate):
    1. Homophones, domain vocabulary (p = min(0.9, 3r) per occurrence): a table of real Chinese
       homophones / near-homophones Whisper produces on collection calls, e.g. 坐牢→做牢, 征信→正信,
       起诉→起速, 法院→发院, 上门→尚门, 欠款→欠宽, 逾期→预期, 律师→律诗, 通讯录→通讯路, 传票→船票,
       拘留→居留, 失信→失心, 微信群→微信裙 (see DOMAIN_HOMOPHONES; a value may be a list to choose
       from). Matching is longest-first and never re-scans replaced text.
    2. Homophones, common words (p = min(0.6, r) per occurrence): 在→再, 已经→以经, 知道→知到,
       时候→时后, 今天→金天 … (COMMON_HOMOPHONES).
    3. Dropped particles and fillers (p = min(0.9, 2.5r) per occurrence): 啊 呢 吧 嗯 哈 呀 哦 嘛 and
       the fillers 那个 / 就是说 / 哎 when followed by a comma.
    4. Numbers, both ways (p = min(0.9, 3r) per span):
       * digit-by-digit Chinese numerals (runs of ≥3 of 零〇幺一二三四五六七八九, commas between groups
         allowed) → ASCII digits ("幺三八零零…" → "13800…");
       * Chinese amounts with units (三千二百一十五, 一万零八百六十, 二十四, 两万) → ASCII ("3215", "10860", "24",
         "2万");
       * ASCII digit runs (≥2 digits) → Chinese numerals read digit by digit, 1 read as 一 or 幺.
       All three are done in one pass, so a converted span is never converted back. Idioms such as
       万一, 十分, 千万 are never touched.
    5. Traditional characters (per segment p = min(0.9, 1.5r)): 1–2 random spans of 2–4 Han characters
       converted with OpenCC s2t; with p = r/3 the whole segment is converted.
    6. Punctuation (per mark): dropped with p = min(0.8, 2r), else changed with p = r
       (，→space/。/、, 。→，/space, ？→。/，, ！→。/，, …→，); punctuation left at the start of
       a segment (after a dropped particle) is stripped; never leaves a segment empty.
"""
import argparse
import json
import random
import re
import sys

try:
    import opencc  # installed in the project venv
    _S2T = opencc.OpenCC("s2t")
except Exception:  # pragma: no cover - degrade gracefully without OpenCC
    _S2T = None

# ---------------------------------------------------------------------------------------------------
# 1. domain homophones: key -> replacement or list of replacements (all real homophones/near-homophones)
DOMAIN_HOMOPHONES = {
    "坐牢": ["做牢", "座牢"],
    "征信": ["正信", "征心", "争信"],
    "起诉": ["起速", "起塑", "起素"],
    "法院": ["发院", "法院", "法员"],
    "上门": ["尚门", "上们"],
    "欠款": ["欠宽", "钱款"],
    "逾期": ["预期", "余期", "鱼期"],
    "律师": ["律诗", "律式"],
    "通讯录": ["通讯路", "通信录", "通讯鹿"],
    "催收": ["吹收", "崔收"],
    "还款": ["环款", "还宽"],
    "还钱": ["环钱", "还前"],
    "利息": ["例息", "立息"],
    "罚息": ["罚西", "乏息"],
    "违约金": ["违约今", "为约金"],
    "欠钱": ["欠前", "千钱"],
    "单位": ["单为", "担位"],
    "领导": ["领到", "领倒"],
    "老赖": ["老来", "老癞"],
    "拘留": ["居留", "拘流"],
    "传票": ["船票", "传飘"],
    "立案": ["例案", "力案"],
    "诈骗": ["炸骗", "诈片"],
    "冻结": ["动结", "冻节"],
    "黑名单": ["黑明单", "嘿名单"],
    "失信": ["失心", "诗信"],
    "执行": ["直行", "执形"],
    "派出所": ["派出锁", "拍出所"],
    "警察": ["警查", "井察"],
    "判刑": ["判型", "盼刑"],
    "案底": ["暗底", "案抵"],
    "政审": ["正审", "政婶"],
    "骚扰": ["扫扰", "骚绕"],
    "投诉": ["头诉", "投速"],
    "录音": ["路音", "录因"],
    "身份证": ["身分证", "深份证"],
    "银行卡": ["银航卡", "银行咔"],
    "信用卡": ["信用咔", "信用卡"],
    "账单": ["帐单", "账单"],
    "分期": ["分其", "分七"],
    "协商": ["鞋商", "协伤"],
    "减免": ["简免", "检免"],
    "本金": ["本今", "本斤"],
    "后果自负": ["后果自付", "后果自富"],
    "等着瞧": ["等着桥", "等着乔"],
    "朋友圈": ["朋友权", "朋友全"],
    "微信群": ["微信裙", "为信群"],
    "家人": ["加人", "家仁"],
    "贷款": ["带款", "代款"],
    "网贷": ["网带", "网代"],
    "外访": ["外放", "外方"],
    "家访": ["加访", "家放"],
    "抵押": ["底押", "抵压"],
    "拖车": ["托车", "拖扯"],
    "担保": ["单保", "担宝"],
    "工资": ["公资", "工资"],
    "核实": ["核时", "合实"],
    "延期": ["严期", "言期"],
    "展期": ["斩期", "战期"],
    "宽限": ["款限", "宽线"],
    "结清": ["节清", "接清"],
    "借款": ["接款", "借宽"],
    "平台": ["平抬", "凭台"],
    "合同": ["和同", "何同"],
    "手机号": ["手机好", "首机号"],
    "号码": ["号马", "好码"],
    "医院": ["一院", "医愿"],
    "手术": ["手述", "首术"],
    "安眠药": ["安眠要", "安棉药"],
    "去世": ["去事", "去逝"],
    "丧事": ["桑事", "丧是"],
    "透析": ["透西", "透息"],
    "威胁": ["威协", "为胁"],
    "后果": ["后过", "候果"],
    "法律": ["法率", "发律"],
    "诉讼": ["诉送", "速讼"],
    "公安": ["公按", "工安"],
    "吸血鬼": ["吸血贵"],
}

# 2. common-word homophones (Whisper confuses these on noisy audio)
COMMON_HOMOPHONES = {
    "在": ["再"],
    "已经": ["以经", "已近"],
    "知道": ["知到"],
    "时候": ["时后"],
    "今天": ["金天", "今天"],
    "明天": ["名天"],
    "现在": ["现再"],
    "什么": ["甚么", "神么"],
    "那么": ["哪么"],
    "因为": ["应为"],
    "一下": ["一夏"],
    "应该": ["因该"],
    "麻烦": ["马烦"],
    "不好意思": ["不好一思"],
    "谢谢": ["谢谢", "写写"],
    "电话": ["店话"],
    "孩子": ["还子"],
    "学校": ["学效"],
    "老婆": ["老破"],
    "的时候": ["得时候"],
    "想办法": ["想半法"],
    "没有": ["每有"],
}

PARTICLES = "啊呢吧嗯哈呀哦嘛"
FILLERS = ("那个，", "就是说，", "哎，", "就是说", "那个")
NEVER_NUM = ("万一", "十分", "千万", "一一", "百分", "一点", "一下", "一样", "一直", "一定")

CN_DIGIT = {"零": 0, "〇": 0, "幺": 1, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
            "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNIT = {"十": 10, "百": 100, "千": 1000}
DIGIT_CN = "零一二三四五六七八九"
PUNCT_CHANGE = {"，": [" ", "。", "、"], "。": ["，", " "], "？": ["。", "，"], "！": ["。", "，"],
                "…": ["，"], "、": ["，", " "], ",": [" "], ".": [" "], "?": ["。"]}
PUNCT = set(PUNCT_CHANGE) | set("；：“”\"（）()")


def _sub_table(text, table, p, rng):
    """Longest-first replacement of table keys, each occurrence with probability p."""
    keys = sorted(table, key=len, reverse=True)
    out, i = [], 0
    while i < len(text):
        for k in keys:
            if text.startswith(k, i):
                if rng.random() < p:
                    v = table[k]
                    out.append(rng.choice(v) if isinstance(v, list) else v)
                else:
                    out.append(k)
                i += len(k)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _drop_fillers(text, p, rng):
    for f in FILLERS:
        pieces = text.split(f)
        if len(pieces) > 1:
            text = pieces[0] + "".join(("" if rng.random() < p else f) + s for s in pieces[1:])
    return "".join(ch for ch in text if not (ch in PARTICLES and rng.random() < p))


def _cn_amount(s):
    """Parse a Chinese amount with units (三千二百一十五, 一万零八百六十, 二十四, 九千四, 一万二);
    None if it is not one."""
    total, section, num, last_unit, zero = 0, 0, None, 1, False
    for ch in s:
        if ch in "零〇":                 # placeholder zero: 一万零八百, 一千零五十
            if num is not None:
                return None
            zero = True
        elif ch in CN_DIGIT:
            if num is not None:          # two digits in a row: not an amount (七八千)
                return None
            num = CN_DIGIT[ch]
        elif ch in CN_UNIT:
            if num is None and ch != "十":
                return None
            section += (1 if num is None else num) * CN_UNIT[ch]
            num, last_unit, zero = None, CN_UNIT[ch], False
        elif ch == "万":
            section += num or 0
            if section == 0:
                return None
            total += section * 10000
            section, num, last_unit, zero = 0, None, 10000, False
        else:
            return None
    if num is not None and not zero and last_unit >= 100:   # colloquial 九千四 = 9400, 一万二 = 12000
        num *= last_unit // 10
    return total + section + (num or 0)


_NUM_RE = re.compile(
    r"(?P<ascii>(?<![0-9])[0-9]{2,}(?![0-9]))"
    r"|(?P<spoken>[零〇幺一二三四五六七八九](?:[，、 ]?[零〇幺一二三四五六七八九]){2,})"
    r"|(?P<amount>[零一二两三四五六七八九十百千万]{2,})")


def _numbers(text, p, rng):
    """One pass over number spans, so a converted span is never converted back."""
    def swap(m):
        s = m.group()
        if m.lastgroup == "ascii":                      # 3391 -> 三三九幺
            if rng.random() >= p:
                return s
            yao = rng.random() < 0.5
            return "".join(("幺" if yao and d == "1" else DIGIT_CN[int(d)]) for d in s)
        if m.lastgroup == "spoken" and not re.search("[十百千万]", s):   # 幺三八零零 -> 13800
            if rng.random() >= p:
                return s
            return "".join(str(CN_DIGIT[c]) for c in s if c in CN_DIGIT)
        # amount with units: 三千二百一十五 -> 3215
        if (not re.search("[十百千万]", s) or s[0] in "零百千万" or any(w in s for w in NEVER_NUM)
                or rng.random() >= p):
            return s
        v = _cn_amount(s)
        if v is None:
            return s
        return f"{v // 10000}万" if v >= 10000 and v % 10000 == 0 else str(v)   # 两万 -> 2万
    return _NUM_RE.sub(swap, text)


def _traditional(text, p, rng):
    if _S2T is None or rng.random() >= p:
        return text
    if rng.random() < 1 / 3:
        return _S2T.convert(text)
    for _ in range(rng.randint(1, 2)):
        spans = [m.span() for m in re.finditer(r"[\u4e00-\u9fff]{2,}", text)]
        if not spans:
            break
        a, b = rng.choice(spans)
        n = rng.randint(2, min(4, b - a))
        s = rng.randint(a, b - n)
        text = text[:s] + _S2T.convert(text[s:s + n]) + text[s + n:]
    return text


def _punct(text, p_drop, p_change, rng):
    out = []
    for ch in text:
        if ch in PUNCT:
            r = rng.random()
            if r < p_drop:
                continue
            if r < p_drop + p_change and ch in PUNCT_CHANGE:
                out.append(rng.choice(PUNCT_CHANGE[ch]))
                continue
        out.append(ch)
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def degrade_text(text, rate, rng):
    if rate <= 0:
        return text
    t = _sub_table(text, DOMAIN_HOMOPHONES, min(0.9, 3 * rate), rng)
    t = _sub_table(t, COMMON_HOMOPHONES, min(0.6, rate), rng)
    t = _drop_fillers(t, min(0.9, 2.5 * rate), rng)
    t = _numbers(t, min(0.9, 3 * rate), rng)
    t = _traditional(t, min(0.9, 1.5 * rate), rng)
    t = _punct(t, min(0.8, 2 * rate), rate, rng)
    t = t.lstrip("，、。,.；：？！… ")
    return t if re.search(r"\w", t) else text


def degrade_call(call, rate):
    rng = random.Random(f"degrade:{call['call_id']}:{rate}")
    out = dict(call)
    out["segments"] = [dict(s, text=degrade_text(s["text"], rate, rng)) for s in call["segments"]]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--rate", type=float, default=0.15, help="error rate, 0..~0.3 (default 0.15)")
    a = ap.parse_args(argv)
    if _S2T is None:
        print("warning: opencc not importable, traditional-character rule disabled", file=sys.stderr)
    n = 0
    with open(a.inp, encoding="utf-8") as fi, open(a.out, "w", encoding="utf-8") as fo:
        for line in fi:
            if not line.strip():
                continue
            fo.write(json.dumps(degrade_call(json.loads(line), a.rate), ensure_ascii=False) + "\n")
            n += 1
    print(f"{n} calls degraded at rate {a.rate} -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
