"""Roles for mono calls: text cues, voice models, sequence smoothing, the accuracy measure."""

from __future__ import annotations

import numpy as np
import pytest

from qa_toolkit.speakers import assign_roles, role_accuracy, segment_frames, text_role_score, voice_scores
from qa_toolkit.types import Segment


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("喂，您好，我是恒远银行信用卡中心的客服专员，工号三零二六。", "agent"),
        ("请问是李建华先生吗？", "agent"),
        ("麻烦您报一下身份证后四位，核对一下。", "agent"),
        ("您尾号六六二一的信用卡已经逾期五天了。", "agent"),
        ("你再拖着不还，我们就去你单位找你领导聊聊。", "agent"),
        ("嗯，是我，啥事啊？", "customer"),
        ("我现在真没钱，过两个月行不行？", "customer"),
        ("你们别再打了，这是骚扰！", "customer"),
        ("我是他妈妈，他不在家。", "customer"),
        ("嗯嗯，好的。", "customer"),
        # no hand-written cue: the learned character pairs decide
        ("这笔款项系统会自动扣划", "agent"),
        ("厂里三个月没发工资了", "customer"),
        ("家里老人刚住院", "customer"),
    ],
)
def test_text_cues(text, role):
    score = text_role_score(text)
    assert (score > 0) == (role == "agent"), score


def _seg(start, end, text, speaker="unknown"):
    return Segment(start=start, end=end, speaker=speaker, text=text)


CALL = [
    _seg(0.5, 4.0, "您好，我是安诚资产管理公司的，请问是王先生吗？"),
    _seg(4.6, 5.5, "嗯，是我。"),
    _seg(6.2, 9.0, "您在快易贷的借款已经逾期三十天了。"),
    _seg(9.0, 11.0, "今天能处理一下吗？"),  # same stretch of speech: no pause, same speaker
    _seg(11.8, 13.5, "我最近手头紧，下个月发了工资就还。"),
    _seg(14.2, 16.0, "好的，那我给您备注一下，请您按时还款。"),
]
GOLD = ["agent", "customer", "agent", "agent", "customer", "agent"]


def test_assign_roles_text_only():
    roles = [s.speaker for s in assign_roles(CALL, None, method="text")]
    assert roles == GOLD


def test_assign_roles_returns_new_segments_and_none_keeps_them():
    out = assign_roles(CALL, None, method="text")
    assert all(a is not b for a, b in zip(out, CALL, strict=False))
    assert all(s.speaker == "unknown" for s in CALL)
    assert assign_roles(CALL, None, method="none") == tuple(CALL)
    assert assign_roles([], None) == ()


def _voice(f0: float, seconds: float, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    return (0.1 * wave * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


# Six more turns where the text says little: the voices must decide.
QUIET = [
    _seg(16.8, 19.0, "那个，就这样吧，行。"),  # agent
    _seg(19.6, 22.2, "那就这样，好，行的。"),  # customer
    _seg(22.9, 25.0, "嗯，那，就这么定了。"),  # agent
    _seg(25.6, 27.8, "行，那就，就这样吧。"),  # customer
]
QUIET_GOLD = ["agent", "customer", "agent", "customer"]


def _two_voices(segments, roles, sr=16000):
    samples = np.zeros(int((segments[-1].end + 1) * sr), np.float32)
    for seg, role in zip(segments, roles, strict=True):
        a = int(seg.start * sr)
        clip = _voice(120 if role == "agent" else 220, seg.end - seg.start)
        samples[a : a + len(clip)] = clip
    return samples


def test_voice_models_decide_where_the_text_cannot():
    segments, gold = CALL + QUIET, GOLD + QUIET_GOLD
    samples = _two_voices(segments, gold)
    frames = segment_frames(samples, segments)
    assert [len(f) for f in frames[:2]] == [350, 90]  # 10 ms frames, 80 mel bins each
    assert frames[0].shape[1] == 80
    text_only = [s.speaker for s in assign_roles(segments, None, method="text")]
    assert text_only[len(CALL) :] != QUIET_GOLD  # the text alone gets the quiet turns wrong
    scores = voice_scores(frames, np.array([0 if r == "agent" else 1 for r in gold]))
    assert all((v > 0) == (r == "agent") for v, r in zip(scores, gold, strict=True))
    assert [s.speaker for s in assign_roles(segments, samples, method="auto")] == gold
    assert [s.speaker for s in assign_roles(segments, samples, method="voice")] == gold


def test_voice_models_need_speech_on_both_sides():
    samples = _two_voices(CALL, GOLD)
    frames = segment_frames(samples, CALL)
    assert voice_scores(frames, np.array([0, -1, -1, -1, -1, -1])) is None  # no customer speech at all
    assert voice_scores(frames, np.array([0, 1, 0, 0, 1, 0])) is not None


def test_role_accuracy_is_speech_time_weighted():
    gold = [{"start": 0.0, "end": 4.0, "speaker": "agent"}, {"start": 4.0, "end": 6.0, "speaker": "customer"}]
    hyp = [_seg(0.0, 4.0, "", "agent"), _seg(4.0, 6.0, "", "agent")]
    correct, total = role_accuracy(hyp, gold, collar=0.0)
    assert (correct, total) == (4.0, 6.0)
    correct, total = role_accuracy(hyp, gold)  # 0.25 s collar at each gold boundary
    assert correct == pytest.approx(3.5) and total == pytest.approx(5.0)


def test_role_accuracy_leaves_out_crosstalk():
    gold = [{"start": 0.0, "end": 4.0, "speaker": "agent"}, {"start": 3.0, "end": 6.0, "speaker": "customer"}]
    hyp = [_seg(0.0, 4.0, "", "agent"), _seg(3.0, 6.0, "", "customer")]  # two channels, both right
    assert role_accuracy(hyp, gold, collar=0.0) == (pytest.approx(5.0), pytest.approx(5.0))  # 3-4 s not scored
