"""The default lexicons and the role-word table ship inside the wheel, so an install outside the repo works."""

import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_carries_the_lexicons_and_loads_them(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("qa_toolkit-*.whl"))
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import qa_toolkit, pathlib; from qa_toolkit.rules.loader import load_lexicon, default_lexicon_dir; "
            "d = default_lexicon_dir(); assert pathlib.Path(qa_toolkit.__file__).parent in d.parents, d; "
            "from qa_toolkit.speakers import text_role_score; assert text_role_score('厂里三个月没发工资了') < 0; "
            "print(load_lexicon().version)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
                         check=True, capture_output=True, text=True)
    assert out.stdout.strip().startswith("2026.")
