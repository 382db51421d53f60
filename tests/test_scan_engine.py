"""Engine behaviour on a small, stable lexicon (tests/data/engine_lexicon): every matcher and
every context decision, independent of the production lexicon's content."""

from datetime import datetime

import pytest
from conftest import DATA

from qa_toolkit.rules.examples import run_examples
from qa_toolkit.rules.loader import load_lexicon
from qa_toolkit.scan import Scanner
from qa_toolkit.types import Segment, Transcript


@pytest.fixture(scope="module")
def engine_scanner():
    return Scanner(load_lexicon(DATA / "engine_lexicon"))


def call(*lines, started_at=None):
    segs = tuple(Segment(float(i), float(i) + 1, "agent" if who == "A" else "customer", text) for i, (who, text) in enumerate(lines))
    return Transcript("T", segs, started_at=started_at)


def rules_in(scanner, transcript, segment=None):
    return {f.rule_id for f in scanner.scan(transcript) if segment is None or f.segment == segment}


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("再不还就让你坐牢", True),
        ("你这样要做牢的", True),  # ASR homophone: sound match
        ("坐牢是不可能的", False),  # negation after the hit
        ("我们不会让你坐牢", False),  # 不会 negates the causing, and so the hit
        ("没有人说要坐牢", False),
    ],
)
def test_jail_with_negation_and_sound(engine_scanner, text, fires):
    assert ("deception.jail" in rules_in(engine_scanner, call(("A", text)), 0)) is fires


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("我是城关派出所的", True),
        ("我是城关拍出所的", True),  # ASR homophone of a word the pattern needs: sound match
        ("我是排除所有干扰的", False),  # 排除所 sounds alike but cuts through 所有
        ("我是城关派的", False),
    ],
)
def test_pattern_words_by_sound(engine_scanner, text, fires):
    found = [f for f in engine_scanner.scan(call(("A", text))) if f.rule_id == "deception.police"]
    assert bool(found) is fires
    if found and "拍" in text:
        assert found[0].evidence.matcher == "sound" and "拍出所→派出所" in found[0].evidence.context[0]


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("不还就上门", True),  # 不 scopes over 还, 就 breaks the scope
        ("我们不会上门打扰您", False),
        ("公司规定不允许上门", False),
        ("不要逼我们上门", True),  # the cue negates 逼, not 上门
        ("明天去你单位找你", True),
        ("我们会依法安排上门核实", False),  # rule exclusion
        ("我们不会打电话、上门打扰您", False),  # 、 joins items of one clause: 不会 scopes over both
        ("我们不会打电话，上门是肯定的", True),  # a clause comma ends the scope
        ("电话你也不接了、我们只能上门", True),  # so does a 、 after a finished clause
    ],
)
def test_negation_scope_and_exclusion(engine_scanner, text, fires):
    assert ("threat.visit" in rules_in(engine_scanner, call(("A", text)), 0)) is fires


def test_speaker_scope(engine_scanner):
    # the customer's threat is not the agent's violation; the customer's cue is a vulnerability
    t = call(("C", "你们再打我就去你公司闹"), ("C", "我真的不想活了"), ("A", "我不想活了这种话别说"))
    assert rules_in(engine_scanner, t, 0) == set()
    assert "vulnerability.selfharm" in rules_in(engine_scanner, t, 1)
    assert "vulnerability.selfharm" not in rules_in(engine_scanner, t, 2)


def test_line_state_decides_disclosure(engine_scanner):
    third = call(("A", "请问是王强吗？"), ("C", "我是他妈妈。"), ("A", "他欠了八千块。"))
    debtor = call(("A", "请问是王强吗？"), ("C", "对，是我。"), ("A", "您欠了八千块。"))
    before = call(("A", "喂，你欠了八千块。"), ("C", "啊？"))
    findings = [f for f in engine_scanner.scan(third) if f.rule_id == "disclosure.debt"]
    assert [f.segment for f in findings] == [2]
    assert any("third_party" in c and "我是他妈妈" in c for c in findings[0].evidence.context)
    assert "disclosure.debt" not in rules_in(engine_scanner, debtor)
    assert "disclosure.debt" in rules_in(engine_scanner, before, 0)


def test_matchers_tokens_cooccur_at_least(engine_scanner):
    t = call(("A", "我们让你好看"), ("A", "你让家里人多丢人"), ("A", "你真是废物又窝囊"), ("A", "你真是废物"))
    fired = {(f.segment, f.rule_id, f.evidence.matcher) for f in engine_scanner.scan(t)}
    assert (0, "threat.tokens", "tokens") in fired
    assert (1, "harassment.cooccur", "cooccur") in fired
    assert (2, "harassment.at_least", "cooccur") in fired
    assert not any(seg == 3 and rule == "harassment.at_least" for seg, rule, _ in fired)


def test_position_order_required_and_time(engine_scanner):
    t = call(("A", "喂"), ("A", "喂"), ("A", "测试开场"), ("A", "还要通缉你"), ("A", "让你坐牢"), ("A", "还要通缉你"),
             started_at=datetime.fromisoformat("2026-01-01T23:30:00+08:00"))
    found = engine_scanner.scan(t)
    assert not any(f.rule_id == "procedure.early_greeting" for f in found)  # third agent turn: too late
    assert [f.segment for f in found if f.rule_id == "deception.after_jail"] == [5]  # only after the jail hit
    call_level = {f.rule_id for f in found if f.segment is None}
    assert call_level == {"procedure.intro", "harassment.night"}
    night = next(f for f in found if f.rule_id == "harassment.night")
    assert "23:30" in night.explanation


def test_spans_point_into_original_text(engine_scanner):
    text = "再不還就讓你坐牢！"  # traditional characters: matched after folding, span in the original
    f = next(f for f in engine_scanner.scan(call(("A", text))) if f.rule_id == "deception.jail")
    assert text[f.start_char : f.end_char] == "坐牢" == f.text


def test_pii_in_any_speaker(engine_scanner):
    t = call(("C", "我手机是幺三八零零一三八零零零"))
    f = next(f for f in engine_scanner.scan(t) if f.rule_id == "pii.mobile")
    assert f.text == "幺三八零零一三八零零零"


def test_finding_ids_are_stable(engine_scanner):
    t = call(("A", "再不还就让你坐牢"))
    assert [f.finding_id for f in engine_scanner.scan(t)] == [f.finding_id for f in engine_scanner.scan(t)]


def test_engine_lexicon_examples(engine_scanner):
    n, failures = run_examples(engine_scanner)
    assert n >= 20 and failures == []


def test_third_party_revealed_later_counts_for_earlier_segments(engine_scanner):
    t = call(("A", "喂，你好。"), ("C", "喂？你说。"), ("A", "你这笔欠款已经逾期三个月了。"), ("C", "我不是他，我是他哥。"))
    found = [f for f in engine_scanner.scan(t) if f.rule_id == "disclosure.debt"]
    assert [f.segment for f in found] == [2]
    assert any("revealed after this segment" in c for c in found[0].evidence.context)


def test_the_next_answer_decides_who_heard_it(engine_scanner):
    # disclosed before any check, and the answer shows the debtor: said to the debtor
    debtor = call(("A", "喂，你欠了八千块。"), ("C", "我知道，我下周还。"))
    assert "disclosure.debt" not in rules_in(engine_scanner, debtor)
    # "你谁啊?" settles nothing: a later confirmation does not reach back past it
    unsure = call(("A", "喂，你欠了八千块。"), ("C", "你谁啊？"), ("A", "我是信达的。"), ("C", "哦，是我，我下周还。"))
    assert rules_in(engine_scanner, unsure, 0) == {"disclosure.debt"}


def test_a_confirmed_debtor_stays_on_the_line_until_a_handover(engine_scanner):
    about_son = call(("A", "请问是王强吗？"), ("C", "是我。"), ("C", "我儿子在外地打工，帮不上忙。"), ("A", "您欠了八千块。"))
    assert "disclosure.debt" not in rules_in(engine_scanner, about_son)
    handover = call(("A", "请问是王强吗？"), ("C", "是我。"), ("C", "喂，我是他老婆，他出去了。"), ("A", "他欠了八千块。"))
    assert rules_in(engine_scanner, handover, 3) == {"disclosure.debt"}
    # the debtor takes the phone back and answers the ID check
    back = call(("A", "请问是王强吗？"), ("C", "我是他妈妈。"), ("A", "请问身份证后四位是多少？"), ("C", "0611"), ("A", "您欠了八千块。"))
    assert "disclosure.debt" not in rules_in(engine_scanner, back)


def test_a_bare_yes_confirms_identity(engine_scanner):
    t = call(("A", "请问是王强吗？"), ("C", "嗯。"), ("A", "您这笔欠款已经逾期了。"))
    assert "disclosure.debt" not in rules_in(engine_scanner, t)


def test_after_customer_window(engine_scanner):
    near = call(("C", "我在医院呢"), ("A", "那您今天先还一千"))
    far = call(("C", "我在医院呢"), ("A", "好的"), ("A", "嗯"), ("A", "嗯"), ("A", "那您今天先还一千"))
    found = [f for f in engine_scanner.scan(near) if f.rule_id == "harassment.press_after_stop"]
    assert [f.segment for f in found] == [1] and "在医院" in found[0].explanation
    assert "harassment.press_after_stop" not in rules_in(engine_scanner, far)
