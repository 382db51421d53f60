"""Audit sampling: a seeded, reproducible stratified sample, and what its review says.

Selection uses *permanent random numbers*: each call gets the number
``sha256(f"{seed}|{call_id}")``, and a stratum takes its ``n`` calls with the smallest numbers.
The same seed over the same population always gives the same sample, on any machine and
Python version, and adding calls to the population changes a stratum's sample only where a
new call ranks among the smallest.

Unflagged calls always form their own stratum (``unflagged``): without them the detector's
miss rate cannot be estimated. Flagged calls are split by the chosen keys (agent, team,
risk band).

After review, :func:`estimate` gives per stratum the violation rate with a Wilson interval,
and the detector's *miss rate* (share of violating calls it did not flag). The miss rate's
interval combines the Wilson bounds of the strata conservatively: lowest unflagged rate with
highest flagged rates for the lower bound, and the reverse for the upper bound.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from qa_toolkit.errors import ConfigError

__all__ = [
    "RISK_BANDS",
    "STRATA_KEYS",
    "UNFLAGGED",
    "SampleParams",
    "allocate",
    "draw_sample",
    "estimate",
    "export_tables",
    "risk_band",
    "wilson",
    "xlsx_bytes",
]

UNFLAGGED = "unflagged"
STRATA_KEYS = ("agent", "team", "risk_band")
RISK_BANDS = ((70.0, "high"), (40.0, "medium"), (0.0, "low"))  # lower bound, name; flagged calls only


@dataclass(frozen=True)
class SampleParams:
    """How to draw an audit sample.

    Attributes:
        size: Total calls wanted.
        strata: Keys splitting the flagged calls: any of ``agent``, ``team``, ``risk_band``.
        unflagged_share: Share of ``size`` reserved for unflagged calls (at least
            ``min_per_stratum`` of them, as long as there are that many).
        min_per_stratum: Calls every non-empty stratum gets before the proportional split.
        date_from / date_to: The audit period (ISO dates, Beijing days), recorded for the export.
    """

    size: int = 100
    strata: tuple[str, ...] = ("risk_band",)
    unflagged_share: float = 0.2
    min_per_stratum: int = 2
    date_from: str | None = None
    date_to: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = [k for k in self.strata if k not in STRATA_KEYS]
        if bad:
            raise ConfigError(f"unknown stratum key {bad[0]!r}; choose from: {', '.join(STRATA_KEYS)}")
        if self.size < 1:
            raise ConfigError(f"sample size must be at least 1, not {self.size}")
        if not 0.0 < self.unflagged_share < 1.0:
            raise ConfigError(f"unflagged_share must be between 0 and 1 (exclusive), not {self.unflagged_share}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["strata"] = list(self.strata)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SampleParams:
        d = dict(d)
        d["strata"] = tuple(d.get("strata", ()))
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def risk_band(risk: float | None) -> str:
    """``high`` (≥ 70), ``medium`` (≥ 40) or ``low``."""
    r = float(risk or 0.0)
    for lower, name in RISK_BANDS:
        if r >= lower:
            return name
    return "low"


def _stratum(row: pd.Series, keys: tuple[str, ...]) -> str:
    if not row["flagged"]:
        return UNFLAGGED
    parts = []
    for k in keys:
        if k == "agent":
            parts.append(f"agent={row['agent_id']}")
        elif k == "team":
            parts.append(f"team={row['team']}")
        else:
            parts.append(f"risk={risk_band(row['risk'])}")
    return "flagged" + ("|" + "|".join(parts) if parts else "")


def _prn(seed: int, call_id: str) -> float:
    digest = hashlib.sha256(f"{seed}|{call_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def allocate(sizes: dict[str, int], params: SampleParams) -> dict[str, int]:
    """How many calls each stratum gets (never more than it holds).

    The unflagged stratum gets ``unflagged_share`` of the size; every other non-empty stratum
    gets ``min_per_stratum``, the rest is split in proportion to stratum size (largest
    remainders first); what a small stratum cannot take goes to the others.
    """
    want: dict[str, int] = {s: 0 for s in sizes}
    size = min(params.size, sum(sizes.values()))
    flagged = {s: n for s, n in sizes.items() if s != UNFLAGGED and n > 0}
    if sizes.get(UNFLAGGED, 0):
        share = max(params.min_per_stratum, math.ceil(size * params.unflagged_share)) if flagged else size
        want[UNFLAGGED] = min(sizes[UNFLAGGED], share)
    left = size - want.get(UNFLAGGED, 0)
    for s in sorted(flagged):
        take = min(flagged[s], params.min_per_stratum, left)
        want[s] += take
        left -= take
    while left > 0:
        room = {s: flagged[s] - want[s] for s in flagged if flagged[s] > want[s]}
        if not room:
            break
        total = sum(flagged[s] for s in room)
        quota = {s: left * flagged[s] / total for s in room}
        base = {s: min(room[s], int(quota[s])) for s in room}
        order = sorted(room, key=lambda s: (-(quota[s] - int(quota[s])), s))
        given = sum(base.values())
        for s in order:
            if given >= left:
                break
            if base[s] < room[s]:
                base[s] += 1
                given += 1
        if given == 0:
            break
        for s, k in base.items():
            want[s] += k
        left -= given
    if left > 0 and sizes.get(UNFLAGGED, 0) > want.get(UNFLAGGED, 0):
        want[UNFLAGGED] += min(left, sizes[UNFLAGGED] - want[UNFLAGGED])
    return want


def draw_sample(population: pd.DataFrame, params: SampleParams, seed: int) -> pd.DataFrame:
    """Draw the sample.

    Args:
        population: One row per call: ``call_id``, ``agent_id``, ``team``, ``risk``, ``flagged``.
        params: Size and strata.
        seed: Any integer; recorded with the sample so it can be drawn again.

    Returns:
        The sampled rows with ``stratum`` and ``prn`` columns, sorted by stratum and rank, and
        ``attrs["strata"]`` holding each stratum's population size (needed by :func:`estimate`).
    """
    need = {"call_id", "agent_id", "team", "risk", "flagged"}
    missing = need - set(population.columns)
    if missing:
        raise ConfigError(f"population lacks columns: {', '.join(sorted(missing))}")
    pop = population.copy()
    if pop.empty:
        out = pop.assign(stratum=pd.Series(dtype=str), prn=pd.Series(dtype=float))
        out.attrs["strata"] = {}
        return out
    pop["stratum"] = pop.apply(_stratum, axis=1, keys=tuple(params.strata))
    pop["prn"] = [_prn(seed, cid) for cid in pop["call_id"]]
    sizes = pop.groupby("stratum").size().to_dict()
    alloc = allocate(sizes, params)
    pop = pop.sort_values(["stratum", "prn", "call_id"])
    pop["rank"] = pop.groupby("stratum").cumcount()
    out = pop[pop["rank"] < pop["stratum"].map(alloc)].drop(columns="rank").reset_index(drop=True)
    out.attrs["strata"] = {s: int(n) for s, n in sizes.items()}
    return out


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float | None, float | None]:
    """The Wilson score interval of a proportion (95 % by default); ``(None, None)`` when ``n`` is 0."""
    if n <= 0:
        return None, None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def call_violation(row: pd.Series) -> bool | None:
    """Whether a reviewed sample call holds a violation (``None`` while undecided).

    A call verdict (``violation`` / ``clean``) decides. Without one, a flagged call with a
    confirmed finding is a violation, and one whose findings are all false alarms is clean.
    """
    verdict = row.get("call_verdict") or ""
    if verdict == "violation":
        return True
    if verdict == "clean":
        return False
    if row.get("confirmed", 0) > 0:
        return True
    if row.get("findings", 0) > 0 and row.get("unreviewed", 0) == 0 and row.get("false_alarm", 0) == row.get(
            "findings", 0):
        return False
    return None


def estimate(rows: pd.DataFrame, strata_sizes: dict[str, int]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Violation rate per stratum and the detector's miss rate.

    Args:
        rows: The sample with review results (``stratum``, ``flagged`` and the columns
            :func:`call_violation` reads: ``call_verdict``, ``findings``, ``confirmed``,
            ``false_alarm``, ``unreviewed``).
        strata_sizes: Each stratum's population size (``params["strata_sizes"]`` of a saved sample).

    Returns:
        A frame per stratum (population, sampled, reviewed, violations, rate, low, high,
        estimated violating calls) and a dict with the miss rate, its interval and totals.
    """
    rows = rows.copy()
    rows["violation"] = rows.apply(call_violation, axis=1) if len(rows) else pd.Series(dtype=object)
    out = []
    for stratum, population in sorted(strata_sizes.items()):
        part = rows[rows["stratum"] == stratum] if len(rows) else rows
        decided = part[part["violation"].notna()] if len(part) else part
        k = int(decided["violation"].astype(bool).sum()) if len(decided) else 0
        n = len(decided)
        low, high = wilson(k, n)
        out.append({"stratum": stratum, "population": population, "sampled": len(part), "reviewed": n,
                    "violations": k, "rate": k / n if n else None, "low": low, "high": high,
                    "est_violating": population * k / n if n else None})
    table = pd.DataFrame(out, columns=["stratum", "population", "sampled", "reviewed", "violations", "rate",
                                       "low", "high", "est_violating"])
    summary: dict[str, Any] = {"miss_rate": None, "miss_low": None, "miss_high": None,
                               "est_violating": None, "complete": False}
    un = table[table["stratum"] == UNFLAGGED]
    fl = table[table["stratum"] != UNFLAGGED]
    if len(un) and un["reviewed"].iloc[0] > 0 and len(fl) and (fl["reviewed"] > 0).all():
        n_u = un["population"].iloc[0]

        def miss(p_u: float, p_f: pd.Series) -> float | None:
            missed = n_u * p_u
            caught = float((fl["population"] * p_f).sum())
            return missed / (missed + caught) if missed + caught > 0 else None

        summary["miss_rate"] = miss(un["rate"].iloc[0], fl["rate"])
        summary["miss_low"] = miss(un["low"].iloc[0], fl["high"])
        summary["miss_high"] = miss(un["high"].iloc[0], fl["low"])
        summary["est_violating"] = float(table["est_violating"].sum())
        summary["complete"] = bool((table["reviewed"] == table["sampled"]).all())
    summary["unflagged_rate"] = un["rate"].iloc[0] if len(un) else None
    summary["unflagged_low"] = un["low"].iloc[0] if len(un) else None
    summary["unflagged_high"] = un["high"].iloc[0] if len(un) else None
    return table, summary


def _mask_phone(phone: object) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if isinstance(phone, str) and len(phone) >= 7 else ""


def export_tables(meta: dict[str, Any], rows: pd.DataFrame, findings: pd.DataFrame, estimates: pd.DataFrame,
                  *, redact: bool = True) -> dict[str, pd.DataFrame]:
    """A reviewed sample as export sheets: ``calls`` (verdicts, regulations), ``findings``,
    ``estimates`` and ``about`` (seed and parameters, so the sample can be drawn again).

    With ``redact`` the phone is masked (138****8000) and names, numbers and addresses in
    matched texts and notes are hidden (:mod:`qa_toolkit.redact`).
    """
    from qa_toolkit.redact import redact_texts

    calls = rows.drop(columns=[c for c in ("call_revision",) if c in rows]).copy()
    if "started_at" in calls and len(calls):
        calls["started_at"] = pd.to_datetime(calls["started_at"]).dt.strftime("%Y-%m-%d %H:%M")
    fnd = findings.copy()
    if redact:
        calls["phone"] = calls["phone"].map(_mask_phone)
        calls["call_note"] = redact_texts(calls["call_note"]) if "call_note" in calls else ""
        for col in ("text", "note"):
            if col in fnd:
                fnd[col] = redact_texts(fnd[col])
    about = pd.DataFrame([{
        "sample_id": meta.get("sample_id"), "name": meta.get("name"), "seed": meta.get("seed"),
        "created_by": meta.get("created_by"), "created_at": str(meta.get("created_at")),
        "params": str(meta.get("params")), "redacted": redact,
    }])
    return {"calls": calls, "findings": fnd, "estimates": estimates, "about": about}


def xlsx_bytes(frames: dict[str, pd.DataFrame]) -> bytes:
    """Sheets as one XLSX file."""
    import io

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for sheet, df in frames.items():
            df.to_excel(xw, sheet_name=sheet[:31], index=False)
    return buf.getvalue()
