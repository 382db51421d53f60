"""The Ray engine on a local 2-CPU Ray cluster started here: same results as the local engine
(real Whisper on two sample calls), and no call lost or doubled when a worker dies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from faultkit import assert_exactly_once, expected_findings, fake_factory, record, sample_dir, store_state
from sqlalchemy import create_engine, select

from qa_toolkit.asr import AsrOptions
from qa_toolkit.distributed import plan_workers
from qa_toolkit.errors import ConfigError
from qa_toolkit.pipeline import run_audio
from qa_toolkit.store.schema import calls, findings, segments

ray = pytest.importorskip("ray", reason="the ray engine needs: pip install 'qa-toolkit[ray]'")

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def ray_cluster():
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR",
             runtime_env={"env_vars": {"PYTHONPATH": path, "RAY_DEDUP_LOGS": "0"}})
    yield ray
    ray.shutdown()


@pytest.mark.parametrize(
    ("resources", "workers", "device", "plan"),
    [
        ({"CPU": 8}, 0, "auto", (8, 1.0, 0.0)),
        ({"CPU": 8}, 3, "auto", (3, 1.0, 0.0)),
        ({"CPU": 32, "GPU": 4}, 0, "auto", (4, 1.0, 1.0)),
        ({"CPU": 32, "GPU": 4}, 8, "cuda", (8, 1.0, 0.5)),
        ({"CPU": 32, "GPU": 4}, 0, "cpu", (32, 1.0, 0.0)),
    ],
)
def test_plan_workers(resources, workers, device, plan):
    assert plan_workers(resources, workers, device) == plan


def test_cuda_without_gpus_is_refused():
    with pytest.raises(ConfigError, match="no GPU"):
        plan_workers({"CPU": 4}, 0, "cuda")


def _calls(url: str) -> dict[str, tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = {}
        for call_id, risk in conn.execute(select(calls.c.call_id, calls.c.risk)):
            segs = tuple(conn.execute(select(segments.c.speaker, segments.c.text).where(segments.c.call_id == call_id)
                                      .order_by(segments.c.idx)).all())
            fnd = sorted(conn.execute(select(findings.c.rule_id, findings.c.segment, findings.c.start_char)
                                      .where(findings.c.call_id == call_id)).all())
            out[call_id] = (risk, segs, fnd)
    engine.dispose()
    return out


@pytest.mark.slow
def test_ray_gives_the_local_engines_results(ray_cluster, tmp_path):
    audio = sample_dir(tmp_path, ["S06", "S12"])  # no manifest: call ids from the file names
    local, dist = f"sqlite:///{tmp_path / 'local.db'}", f"sqlite:///{tmp_path / 'ray.db'}"
    a = run_audio([audio], db=local, workers=1, progress=False)
    b = run_audio([audio], db=dist, workers=2, engine="ray", progress=False)
    assert (a.done, a.failed, b.done, b.failed) == (2, 0, 2, 0), b.errors
    assert a.findings == b.findings
    assert _calls(local) == _calls(dist)


def test_ray_retries_a_call_whose_worker_was_killed(ray_cluster, tmp_path, scanner):
    ids = ["S01", "S02", "S03", "S04"]
    audio, control = sample_dir(tmp_path, ids), tmp_path / "control"
    control.mkdir()
    (control / "kill-once-S02").touch()
    url = f"sqlite:///{tmp_path / 'qa.db'}"
    summary = run_audio([audio], db=url, workers=2, engine="ray", progress=False, options=AsrOptions(),
                        transcriber_factory=fake_factory(control))
    assert (summary.done, summary.failed) == (4, 0), summary.errors
    assert not (control / "kill-once-S02").exists()  # the kill did happen
    state = assert_exactly_once(url, expected_findings(scanner, ids))
    record("ray: worker killed mid-call (retried in the same run)", files=4, faults=1, expected=4, stored=len(state["calls"]))


def test_ray_poison_file_fails_alone_and_rerun_completes(ray_cluster, tmp_path, scanner):
    ids = ["S01", "S02", "S03", "S04"]
    audio, control = sample_dir(tmp_path, ids), tmp_path / "control"
    control.mkdir()
    (control / "kill-always-S03").touch()
    url = f"sqlite:///{tmp_path / 'qa.db'}"
    first = run_audio([audio], db=url, workers=2, engine="ray", progress=False, transcriber_factory=fake_factory(control))
    assert (first.done, first.failed) == (3, 1)
    assert "S03" in first.errors[0] and "[E700]" in first.errors[0] and "died 3 times" in first.errors[0]
    assert sorted(store_state(url)["calls"]) == ["S01", "S02", "S04"]
    (control / "kill-always-S03").unlink()  # the decoder bug is fixed
    second = run_audio([audio], db=url, workers=2, engine="ray", progress=False, transcriber_factory=fake_factory(control))
    assert (second.done, second.skipped, second.failed) == (1, 3, 0)
    state = assert_exactly_once(url, expected_findings(scanner, ids))
    record("ray: recording that kills its worker every time, then re-run", files=4, faults=3, expected=4,
           stored=len(state["calls"]))
