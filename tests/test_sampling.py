"""Seeded stratified sampling and the estimates drawn from its review."""

from __future__ import annotations

import pandas as pd
import pytest

from qa_toolkit.errors import ConfigError
from qa_toolkit.sampling import (
    UNFLAGGED,
    SampleParams,
    allocate,
    draw_sample,
    estimate,
    export_tables,
    wilson,
    xlsx_bytes,
)


def population(n: int = 2000) -> pd.DataFrame:
    rows = []
    for i in range(n):
        flagged = i % 4 == 0
        rows.append({"call_id": f"C{i:05d}", "agent_id": f"A{i % 7}", "team": f"T{i % 3}",
                     "risk": (i * 37) % 100 if flagged else 0.0, "flagged": flagged})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("strata", [(), ("risk_band",), ("team", "risk_band"), ("agent",)])
def test_same_seed_same_sample(strata):
    params = SampleParams(size=120, strata=strata, unflagged_share=0.25)
    a = draw_sample(population(), params, 42)
    b = draw_sample(population().sample(frac=1.0, random_state=1), params, 42)  # row order does not matter
    assert list(a["call_id"]) == list(b["call_id"]) and len(a) == 120
    assert set(a["call_id"]) != set(draw_sample(population(), params, 43)["call_id"])


def test_unflagged_stratum_always_present():
    s = draw_sample(population(), SampleParams(size=10, strata=("agent",), unflagged_share=0.1), 1)
    assert (s["stratum"] == UNFLAGGED).sum() >= 2
    assert s.attrs["strata"][UNFLAGGED] == 1500


def test_allocation_fits_sizes():
    sizes = {UNFLAGGED: 5, "flagged|risk=high": 100, "flagged|risk=low": 3}
    alloc = allocate(sizes, SampleParams(size=50, unflagged_share=0.5))
    assert alloc[UNFLAGGED] == 5 and alloc["flagged|risk=low"] == 3 and sum(alloc.values()) == 50
    assert sum(allocate({UNFLAGGED: 2, "flagged": 1}, SampleParams(size=99)).values()) == 3


def test_params_are_checked():
    with pytest.raises(ConfigError, match="agent, team, risk_band"):
        SampleParams(strata=("region",))
    assert SampleParams.from_dict(SampleParams(strata=("team",)).to_dict()) == SampleParams(strata=("team",))


@pytest.mark.parametrize(("k", "n", "low", "high"), [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634),
                                                     (10, 10, 0.7225, 1.0), (1, 100, 0.0018, 0.0545)])
def test_wilson(k, n, low, high):
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)
    assert wilson(0, 0) == (None, None)


def test_estimate_miss_rate():
    rows = pd.DataFrame(
        [{"stratum": UNFLAGGED, "flagged": False, "call_verdict": "violation" if i < 2 else "clean", "findings": 0,
          "confirmed": 0, "false_alarm": 0, "unreviewed": 0} for i in range(20)]
        + [{"stratum": "flagged", "flagged": True, "call_verdict": "", "findings": 1, "confirmed": int(i < 15),
            "false_alarm": int(i >= 15), "unreviewed": 0} for i in range(20)]
    )
    table, summary = estimate(rows, {UNFLAGGED: 900, "flagged": 100})
    un = table.set_index("stratum").loc[UNFLAGGED]
    assert un["rate"] == pytest.approx(0.1) and un["est_violating"] == pytest.approx(90)
    # 90 missed of 90 + 75 violating calls
    assert summary["miss_rate"] == pytest.approx(90 / 165)
    assert summary["miss_low"] < summary["miss_rate"] < summary["miss_high"]
    assert summary["complete"]


def test_estimate_waits_for_reviews():
    rows = pd.DataFrame([{"stratum": UNFLAGGED, "flagged": False, "call_verdict": "", "findings": 0, "confirmed": 0,
                          "false_alarm": 0, "unreviewed": 0}])
    _, summary = estimate(rows, {UNFLAGGED: 10, "flagged": 5})
    assert summary["miss_rate"] is None


def test_export_masks_and_redacts():
    rows = pd.DataFrame([{"call_id": "C1", "stratum": "flagged", "flagged": True,
                          "started_at": pd.Timestamp("2026-03-02 10:00", tz="Asia/Shanghai"), "phone": "13800138000",
                          "call_note": "客户说他叫张伟，电话13912345678", "call_revision": 1}])
    fnd = pd.DataFrame([{"call_id": "C1", "text": "您的卡6222020200001234567逾期了", "note": "",
                         "regulation": "个人信息保护法"}])
    frames = export_tables({"sample_id": "S1", "seed": 3}, rows, fnd, pd.DataFrame(), redact=True)
    assert frames["calls"]["phone"].iloc[0] == "138****8000"
    flat = frames["calls"].to_csv() + frames["findings"].to_csv()
    assert "13912345678" not in flat and "6222020200001234567" not in flat and "张伟" not in flat
    assert xlsx_bytes(frames)[:2] == b"PK"
