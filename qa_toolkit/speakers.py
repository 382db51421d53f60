"""Speaker roles (agent / customer) for mono recordings.

Dual-channel recordings get roles from the channel (see ``AsrOptions.channel_roles``); a mono
recording has one mixed line, so each segment's role is inferred here from two cues:

1. **Text.** The collector is the one who introduces the company (我是…银行/公司/中心),
   asks 请问是…吗, gives a 工号, verifies identity (核对, 身份证后四位), talks about 逾期 /
   账单 / 还款 / 征信 and says 您; the debtor answers briefly (嗯, 是我, 啥事), talks about
   their own money (手头紧, 工资, 下个月) and calls the company 你们. Each segment gets a
   score: the sum of the weights of the cues it contains (positive = agent), plus a learned
   part: the log-odds of its characters and character pairs being said by the agent, counted
   on the speaker-labelled dev corpora (``role_words.json``, made by
   ``tests/data/role_model.py``), divided by the square root of their number and capped at ±3.
2. **Voice.** Per segment, a 24-number voice print: mean and spread of 12 MFCCs (numpy,
   from Whisper's log-mel features) and the median log pitch (autocorrelation). Segments are
   split into two clusters (2-means, seeded with the text-confident segments, weighted by
   duration); the cluster whose segments carry more agent text is the agent.

The two scores are added per segment and a two-state Viterbi pass over the call (turns
alternate more often than not) picks the roles. Segments must already be cut at pauses
(the ASR pipeline cuts Whisper segments at VAD pauses using word timestamps).

Accuracy is measured as the share of speech time with the right role
(:func:`role_accuracy`); ``bench/asr.py`` reports it on ``sample_audio/`` (see docs/ASR.md).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from qa_toolkit.types import Segment

__all__ = ["assign_roles", "role_accuracy", "role_grams", "text_role_score", "voice_features"]

SAMPLE_RATE = 16000

# (pattern, weight): positive means the agent says it, negative the customer.
_TEXT_CUES: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(p), w)
    for p, w in (
        (r"我是.{0,14}(公司|银行|中心|平台|客服|克服|专员|法务|部门|事务所|金融|贷)", 4.0),
        (r"(这里是|这边是).{0,14}(公司|银行|中心|平台|金融|贷)", 4.0),
        (r"请问.{0,10}(吗|么|嘛)", 3.0),
        (r"请问", 1.5),
        (r"工号|公号", 3.0),
        (r"核对|核实|合对|身份证后|后四位|保护您的", 2.0),
        (r"(先生|女士|小姐)(您好|你好|吗|是吧)", 2.5),
        (r"逾期|一期|账单|长单|欠款|本金|罚息|最低还款|应还|结清|滞纳金|违约金", 1.5),
        (r"还款|还清|还上这|处理一下", 1.0),
        (r"征信|起诉|法律|法务|诉讼|上门|委托|协商|分期|减免|方案", 1.0),
        (r"请您|麻烦您|提醒您|建议您|需要您|希望您|给您|帮您|跟您|您看|您这边|祝您", 2.0),
        (r"您", 0.8),
        (r"你(?!们)", 0.8),
        (r"我(?!们)", -0.8),
        (r"我们(的人|就|会|这儿|这里|平台|公司)", 1.5),
        (r"你(欠|借|都|再|自己|老婆|孩子|家|单位|通讯录|以后)", 1.5),
        (r"我们(公司|这边|会|可以|不会|将|也)", 1.0),
        (r"再见|不客气|打扰了|感谢您的", 0.8),
        (r"还有别的问题|还有什么问题|记得|务必|尽快", 1.0),
        (r"^(嗯+|啊|哎+|唉|喂|哦|噢|对|对对|是的?|是我|好的?|行|嗯嗯|没了?|知道了?)[，,。.!！?？]*$", -3.0),
        (r"^(嗯|啊|哎|唉|哦|噢|对|是|好|行)[，,]", -1.0),
        (r"是我|我就是|我知道|我晓得|晓得|我明白", -1.5),
        (r"我(没钱|没有钱|手头|最近|工资|下个月|会还|尽快还|发了|真的|也想|实在|一定)", -2.0),
        (r"啥|咋|俺|莫得|么子|咋整|干啥", -1.5),
        (r"你们|凭什么|别再打|别打|骚扰|投诉|烦不烦|有完没完", -2.0),
        (r"我是(他|她)的?(妈|爸|同事|朋友|老婆|老公|家人|哥|姐|弟|妹|儿子|女儿|室友|邻居)", -4.0),
        (r"谁啊|哪位|啥事|什么事|打错了|不认识", -2.5),
        (r"谢谢啊|谢谢你|好嘞|行吧|那行|没问题", -1.0),
        (r"我(住院|生病|失业|离婚|活不下去|不想活)", -3.0),
    )
)


LEARNED_CAP = 3.0  # the learned part never outweighs a strong hand-written cue


def role_grams(text: str) -> list[str]:
    """The Chinese characters and character pairs of ``text`` (after normalization)."""
    from qa_toolkit.text.normalize import normalize

    han = "".join(c for c in normalize(text).text if "\u4e00" <= c <= "\u9fff")
    return list(han) + [han[i : i + 2] for i in range(len(han) - 1)]


@functools.lru_cache(maxsize=1)
def _learned_odds() -> dict[str, float]:
    return json.loads((Path(__file__).with_name("role_words.json")).read_text(encoding="utf-8"))["log_odds"]


def text_role_score(text: str) -> float:
    """Agent-likeness of one utterance from its wording (positive = agent)."""
    score = 0.0
    for pattern, weight in _TEXT_CUES:
        hits = len(pattern.findall(text))
        if hits:
            score += weight * min(hits, 3)
    grams = role_grams(text)
    if grams:
        odds = _learned_odds()
        learned = sum(odds.get(g, 0.0) for g in grams) / math.sqrt(len(grams))
        score += max(-LEARNED_CAP, min(LEARNED_CAP, learned))
    return score


def _mfcc_frames(samples: np.ndarray) -> np.ndarray:
    """12 MFCCs per 10 ms frame (DCT of Whisper's 80-bin log-mel)."""
    from faster_whisper.feature_extractor import FeatureExtractor

    mel = FeatureExtractor(feature_size=80)(samples, padding=0)  # (80, frames)
    n = mel.shape[0]
    k = np.arange(n)
    dct = np.cos(np.pi / n * (k[None, :] + 0.5) * np.arange(1, 13)[:, None])
    return (dct @ mel).T  # (frames, 12)


def _pitch(samples: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """Median log f0 (Hz) of voiced 40 ms frames by normalized autocorrelation; 0 if unvoiced."""
    frame, hop = int(0.04 * sr), int(0.02 * sr)
    lo, hi = int(sr / 400), int(sr / 60)
    f0 = []
    for start in range(0, len(samples) - frame, hop):
        x = samples[start : start + frame]
        x = x - x.mean()
        energy = float(x @ x)
        if energy < 1e-6 * frame:
            continue
        spec = np.fft.rfft(x, 2 * frame)
        ac = np.fft.irfft(spec * np.conj(spec))[: hi + 1]
        ac /= ac[0] + 1e-12
        lag = lo + int(np.argmax(ac[lo : hi + 1]))
        if ac[lag] > 0.45:
            f0.append(sr / lag)
    return float(np.log(np.median(f0))) if len(f0) >= 3 else 0.0


def voice_features(samples: np.ndarray, segments: Sequence[Segment]) -> np.ndarray:
    """One voice print per segment: MFCC means and spreads (24) and median log pitch (1)."""
    rows = []
    mfcc = _mfcc_frames(samples) if len(samples) else np.zeros((0, 12))
    for seg in segments:
        a, b = int(seg.start * 100), max(int(seg.end * 100), int(seg.start * 100) + 1)
        frames = mfcc[a:b]
        if len(frames) < 3:
            rows.append(np.full(25, np.nan))
            continue
        pitch = _pitch(samples[int(seg.start * SAMPLE_RATE) : int(seg.end * SAMPLE_RATE)])
        rows.append(np.concatenate([frames.mean(0), frames.std(0), [pitch or np.nan]]))
    return np.asarray(rows, dtype=np.float64).reshape(len(segments), 25)


def _voice_scores(features: np.ndarray, text: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-segment voice score (positive = the agent's cluster), scaled to about ±1..3."""
    n = len(features)
    ok = ~np.isnan(features).any(axis=1)
    if ok.sum() < 4 or (text[ok] > 1).sum() == 0 or (text[ok] < -1).sum() == 0:
        return np.zeros(n)
    x = features[ok]
    x = (x - x.mean(0)) / (x.std(0) + 1e-9)
    w = weights[ok]
    # Seed the two centroids with the segments the text is sure about.
    agent = x[text[ok] > 1].mean(0)
    cust = x[text[ok] < -1].mean(0)
    for _ in range(20):
        d_agent = ((x - agent) ** 2).sum(1)
        d_cust = ((x - cust) ** 2).sum(1)
        is_agent = d_agent < d_cust
        if is_agent.all() or (~is_agent).all():
            return np.zeros(n)
        new_agent = np.average(x[is_agent], axis=0, weights=w[is_agent])
        new_cust = np.average(x[~is_agent], axis=0, weights=w[~is_agent])
        if np.allclose(new_agent, agent) and np.allclose(new_cust, cust):
            break
        agent, cust = new_agent, new_cust
    # Which cluster is the agent: the one with more agent text.
    if np.sum(w[is_agent] * text[ok][is_agent]) < np.sum(w[~is_agent] * text[ok][~is_agent]):
        agent, cust = cust, agent
    margin = ((x - cust) ** 2).sum(1) - ((x - agent) ** 2).sum(1)
    spread = np.median(np.abs(margin)) + 1e-9
    out = np.zeros(n)
    out[ok] = np.clip(margin / spread, -3, 3)
    return out


def _switch_probability(gap: float) -> float:
    """Prior that the speaker changes across a pause of ``gap`` seconds.

    No pause (Whisper split one stretch of speech) almost never changes speaker; a pause of
    more than ~0.6 s usually does (measured on sample_audio, see docs/ASR.md).
    """
    if gap < 0.05:
        return 0.05
    if gap < 0.35:
        return 0.3
    if gap < 0.6:
        return 0.45
    return 0.7


def _viterbi(scores: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """Two-state Viterbi (0 = agent, 1 = customer) over per-segment scores.

    ``gaps[i]`` is the pause before segment ``i`` (``gaps[0]`` unused).
    """
    p_agent = 1 / (1 + np.exp(-scores))
    emit = np.log(np.stack([p_agent, 1 - p_agent], axis=1) + 1e-9)
    n = len(scores)
    best = np.zeros((n, 2))
    back = np.zeros((n, 2), dtype=int)
    best[0] = emit[0] + np.log([0.7, 0.3])  # the collector usually speaks first
    for i in range(1, n):
        switch = _switch_probability(gaps[i])
        trans = np.log(np.array([[1 - switch, switch], [switch, 1 - switch]]))
        cand = best[i - 1][:, None] + trans
        back[i] = cand.argmax(0)
        best[i] = cand.max(0) + emit[i]
    path = np.zeros(n, dtype=int)
    path[-1] = int(best[-1].argmax())
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def assign_roles(segments: Sequence[Segment], samples: np.ndarray | None = None, *, method: str = "auto") -> tuple[Segment, ...]:
    """Give each segment of a mono call the role ``agent`` or ``customer``.

    Args:
        segments: The call's segments in time order, cut at pauses.
        samples: The 16 kHz mono samples (needed for ``auto`` and ``voice``).
        method: ``auto`` (text + voice), ``text``, ``voice`` (voice clusters named by text),
            or ``none`` (leave roles as they are).

    Returns:
        New segments with ``speaker`` set.
    """
    if method == "none" or not segments:
        return tuple(segments)
    text = np.array([text_role_score(s.text) for s in segments])
    weights = np.array([max(s.end - s.start, 0.1) for s in segments])
    voice = np.zeros(len(segments))
    if method in ("auto", "voice") and samples is not None and len(samples):
        voice = _voice_scores(voice_features(samples, segments), text, weights)
    if method == "text":
        total = text
    elif method == "voice":
        total = 2 * voice if voice.any() else text
    else:
        total = text + voice
    gaps = np.array([0.0] + [b.start - a.end for a, b in zip(segments, segments[1:], strict=False)])
    path = _viterbi(np.clip(total, -8, 8), gaps)
    return tuple(
        dataclasses.replace(seg, speaker="agent" if role == 0 else "customer") for seg, role in zip(segments, path, strict=False)
    )


def role_accuracy(
    hypothesis: Sequence[Segment], gold: Sequence[Segment | Mapping], *, collar: float = 0.25
) -> tuple[float, float]:
    """Speech-time weighted role agreement.

    Every overlap between a hypothesis segment and a gold segment counts its duration, as
    correct when the two speakers agree. As in diarization scoring, ``collar`` seconds at
    each end of a gold segment are not scored (timestamps of either side are not that exact).

    Returns:
        ``(correct_seconds, compared_seconds)``; accuracy is their ratio.
    """
    correct = total = 0.0
    gold_rows = [(g["start"], g["end"], g["speaker"]) if isinstance(g, Mapping) else (g.start, g.end, g.speaker) for g in gold]
    gold_rows = [(s + collar, e - collar, spk) for s, e, spk in gold_rows if e - s > 2 * collar]
    for h in hypothesis:
        for start, end, speaker in gold_rows:
            overlap = min(h.end, end) - max(h.start, start)
            if overlap > 0:
                total += overlap
                correct += overlap if h.speaker == speaker else 0.0
    return correct, total
