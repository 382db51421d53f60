"""What the fault suite covered: for each injected fault, the files tried, faults injected, calls
expected and stored, and calls lost (must be 0 everywhere).

Runs the fault tests (tests/test_faults.py, the Ray fault tests of tests/test_distributed.py)
with a ledger each of them appends to, then prints it. PostgreSQL scenarios run when
$QA_TOOLKIT_TEST_PG_URL is set (eval "$(.ci/postgres.sh)"), Ray ones when Ray is installed.

    python bench/faults.py            # exit status 1 if a call was lost or a test failed
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ["tests/test_faults.py", "tests/test_distributed.py::test_ray_retries_a_call_whose_worker_was_killed",
         "tests/test_distributed.py::test_ray_poison_file_fails_alone_and_rerun_completes"]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Path(tmp) / "ledger.jsonl"
        env = dict(os.environ, QA_TOOLKIT_FAULT_LEDGER=str(ledger))
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        rows = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines()] if ledger.exists() else []
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr.strip()[-300:]
    width = max((len(r["scenario"]) for r in rows), default=20)
    print(f"{'scenario':<{width}}  files  faults  expected  stored  lost  note")
    for r in rows:
        print(f"{r['scenario']:<{width}}  {r['files']:>5}  {r['faults']:>6}  {r['expected']:>8}  {r['stored']:>6}  "
              f"{r['lost']:>4}  {r['note']}")
    total = {k: sum(r[k] for r in rows) for k in ("files", "faults", "expected", "stored", "lost")}
    print(f"{'total (' + str(len(rows)) + ' scenarios)':<{width}}  {total['files']:>5}  {total['faults']:>6}  "
          f"{total['expected']:>8}  {total['stored']:>6}  {total['lost']:>4}")
    skipped = "PostgreSQL scenarios skipped: $QA_TOOLKIT_TEST_PG_URL unset" if not os.environ.get("QA_TOOLKIT_TEST_PG_URL") else ""
    print(f"pytest: {tail}" + (f"; {skipped}" if skipped else ""))
    print(f"calls lost: {total['lost']}")
    return 1 if total["lost"] or proc.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
