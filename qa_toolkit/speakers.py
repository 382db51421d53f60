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
2. **Voice.** Each side's voice is one full-covariance Gaussian over the 10 ms frames of
   Whisper's 80-bin log-mel spectrum. The first two are fitted on the segments whose text
   is sure (score beyond ±1; the text-only reading when one side has under 2 s of those);
   every segment then gets the mean log-likelihood ratio of its frames, the roles are
   re-read with half the text score + voice, and the Gaussians are refitted on the new roles
   (four rounds). Frame-level models use every frame of short pieces; averaged voice prints
   per segment (MFCC means, pitch) separated these voices far worse.

Text and voice scores are added per segment and a two-state Viterbi pass over the call
(turns alternate more often than not) picks the roles. Segments must already be cut at pauses
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

__all__ = ["assign_roles", "role_accuracy", "role_grams", "segment_frames", "text_role_score", "voice_scores"]

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


SEED_SCORE = 1.0  # a segment whose text score is beyond ±this seeds its side's first voice model
VOICE_ROUNDS = 4  # fit voices → Viterbi → refit on the new roles, this many times
VOICE_GAIN = 2.0  # mean per-frame log-likelihood ratio → score units
VOICE_CAP = 6.0
MIN_VOICE_FRAMES = 200  # 2 s of speech per side before a voice model is fitted
TEXT_WEIGHT_WITH_VOICE = 0.5  # once voices are modelled, the text counts half


def segment_frames(samples: np.ndarray, segments: Sequence[Segment]) -> list[np.ndarray]:
    """Each segment's 10 ms frames of Whisper's 80-bin log-mel spectrum, ``(frames, 80)``."""
    from faster_whisper.feature_extractor import FeatureExtractor

    mel = FeatureExtractor(feature_size=80)(samples, padding=0).T if len(samples) else np.zeros((0, 80))
    out = []
    for seg in segments:
        a = round(seg.start * 100)
        out.append(mel[a : max(round(seg.end * 100), a + 1)])
    return out


def _gaussian(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and Cholesky factor of a full-covariance Gaussian (shrunk a little towards its diagonal)."""
    cov = np.cov(frames.T)
    cov = 0.95 * cov + 0.05 * np.diag(np.diag(cov)) + 1e-4 * np.eye(len(cov))
    return frames.mean(0), np.linalg.cholesky(cov)


def _log_likelihood(frames: np.ndarray, model: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    mean, chol = model
    z = np.linalg.solve(chol, (frames - mean).T)
    return -0.5 * (z**2).sum(0) - np.log(np.diag(chol)).sum()


def voice_scores(frames: Sequence[np.ndarray], roles: np.ndarray) -> np.ndarray | None:
    """Per segment, how much more its frames sound like the agent's voice than the customer's.

    One full-covariance Gaussian per side is fitted on the log-mel frames of the segments
    ``roles`` gives that side (0 = agent, 1 = customer, -1 = not used); a segment's score is
    the mean log-likelihood ratio of its frames (positive = agent). ``None`` when either side
    has less than :data:`MIN_VOICE_FRAMES` frames.
    """
    sides = []
    for role in (0, 1):
        chosen = [f for f, r in zip(frames, roles, strict=True) if r == role and len(f)]
        if sum(map(len, chosen)) < MIN_VOICE_FRAMES:
            return None
        sides.append(_gaussian(np.vstack(chosen)))
    agent, customer = sides
    return np.array(
        [float((_log_likelihood(f, agent) - _log_likelihood(f, customer)).mean()) if len(f) else 0.0 for f in frames]
    )


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


def _seed_roles(text: np.ndarray, frames: Sequence[np.ndarray], text_path: np.ndarray) -> np.ndarray:
    """Roles to fit the first voice models on: the segments whose text is sure, or, when one
    side says too little that is sure (a customer who only answers 对), the text-only reading."""
    sure = np.where(text > SEED_SCORE, 0, np.where(text < -SEED_SCORE, 1, -1))
    if all(sum(len(f) for f, r in zip(frames, sure, strict=True) if r == role) >= MIN_VOICE_FRAMES for role in (0, 1)):
        return sure
    return text_path


def assign_roles(segments: Sequence[Segment], samples: np.ndarray | None = None, *, method: str = "auto") -> tuple[Segment, ...]:
    """Give each segment of a mono call the role ``agent`` or ``customer``.

    Args:
        segments: The call's segments in time order, cut at pauses.
        samples: The 16 kHz mono samples (needed for ``auto`` and ``voice``).
        method: ``auto`` (text + voice), ``text``, ``voice`` (voice models seeded by the text,
            then voice alone), or ``none`` (leave roles as they are).

    Returns:
        New segments with ``speaker`` set.
    """
    if method == "none" or not segments:
        return tuple(segments)
    text = np.array([text_role_score(s.text) for s in segments])
    gaps = np.array([0.0] + [b.start - a.end for a, b in zip(segments, segments[1:], strict=False)])
    path = _viterbi(np.clip(text, -8, 8), gaps)
    if method in ("auto", "voice") and samples is not None and len(samples):
        frames = segment_frames(samples, segments)
        roles = _seed_roles(text, frames, path)
        for _ in range(VOICE_ROUNDS):
            voice = voice_scores(frames, roles)
            if voice is None:
                break
            voice = np.clip(VOICE_GAIN * voice, -VOICE_CAP, VOICE_CAP)
            total = voice if method == "voice" else TEXT_WEIGHT_WITH_VOICE * text + voice
            roles = path = _viterbi(np.clip(total, -8, 8), gaps)
    return tuple(
        dataclasses.replace(seg, speaker="agent" if role == 0 else "customer") for seg, role in zip(segments, path, strict=False)
    )


def role_accuracy(
    hypothesis: Sequence[Segment], gold: Sequence[Segment | Mapping], *, collar: float = 0.25
) -> tuple[float, float]:
    """Speech-time weighted role agreement.

    Every overlap between a hypothesis segment and a gold segment counts its duration, as
    correct when the two speakers agree. As in diarization scoring, ``collar`` seconds at
    each end of a gold segment are not scored (timestamps of either side are not that exact),
    nor is time where the gold has both speakers talking at once (one role per moment cannot
    be right there).

    Returns:
        ``(correct_seconds, compared_seconds)``; accuracy is their ratio.
    """
    correct = total = 0.0
    rows = [(g["start"], g["end"], g["speaker"]) if isinstance(g, Mapping) else (g.start, g.end, g.speaker) for g in gold]
    crosstalk: list[tuple[float, float]] = []  # merged spans where gold speakers differ at once
    for cs, ce in sorted((max(a[0], b[0]), min(a[1], b[1])) for i, a in enumerate(rows) for b in rows[i + 1 :]
                         if a[2] != b[2] and min(a[1], b[1]) > max(a[0], b[0])):
        if crosstalk and cs <= crosstalk[-1][1]:
            crosstalk[-1] = (crosstalk[-1][0], max(crosstalk[-1][1], ce))
        else:
            crosstalk.append((cs, ce))
    gold_rows = [(s + collar, e - collar, spk) for s, e, spk in rows if e - s > 2 * collar]
    for h in hypothesis:
        for start, end, speaker in gold_rows:
            a, b = max(h.start, start), min(h.end, end)
            if b > a:
                overlap = (b - a) - sum(max(0.0, min(b, ce) - max(a, cs)) for cs, ce in crosstalk)
                total += overlap
                correct += overlap if h.speaker == speaker else 0.0
    return correct, total
