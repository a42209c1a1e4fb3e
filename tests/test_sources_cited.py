"""Code and docs cite public documentation or the project's own docs/, never a file outside the repository."""

import re
import subprocess

from conftest import ROOT

# Paths of the material the project was built from, which readers of the repository do not have.
OUTSIDE = re.compile(r"reference/[a-z0-9-]+\.md|/work/|\bshared/|CONTRACT\.md|seed document")


def test_no_file_points_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=str(ROOT), capture_output=True, text=True,
                             check=True).stdout.split()
    offenders = []
    for name in tracked:
        if name == "tests/test_sources_cited.py" or name.endswith(("package-lock.json", ".png")):
            continue
        path = ROOT / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += ["%s:%d: %s" % (name, number, line.strip())
                      for number, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]
    assert offenders == []


def test_the_check_catches_a_reference():
    assert OUTSIDE.search("# see reference/oss-v4.md section 1")
    assert OUTSIDE.search("as provided in shared/data/fc3")
    assert not OUTSIDE.search("https://www.alibabacloud.com/help/en/oss/developer-reference/callback")
