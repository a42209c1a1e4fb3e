"""function/ runs on FC's python3.10 (and 3.11, 3.12): vermin finds nothing in it that needs a newer Python
(no tomllib, ExceptionGroup, typing.Self, ...). The vendored function/python tree is not ours and is skipped."""

import os
import subprocess
import sys

from conftest import FUNCTION_DIR

VERMIN = os.path.join(os.path.dirname(sys.executable), "vermin")


def run(*paths):
    return subprocess.run([VERMIN, "--no-tips", "--violations", "-t=3.10-", "--exclude-regex", r".*/python/.*"]
                          + [str(p) for p in paths], capture_output=True, text=True)


def test_function_code_needs_nothing_newer_than_python_3_10():
    out = run(FUNCTION_DIR)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_check_catches_311_features(tmp_path):
    (tmp_path / "new.py").write_text("import tomllib\n")
    assert run(tmp_path).returncode != 0
