"""`make build` vendors requirements.txt for FC's python3.10 (x86_64): every file is pure Python or a cp310 /
abi3 manylinux x86_64 binary (reference/fc-runtime.md, "Vendoring"). Needs the package registry, like CI has."""

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

_SO_RE = re.compile(r"\.(cpython-310-x86_64-linux-gnu|abi3)\.so$")
_OK_TAGS = re.compile(r"^(py3|py2\.py3|cp310|cp3\d+)-(none|abi3|cp310)-(any|manylinux[_0-9a-z]*x86_64)$")


@pytest.fixture(scope="module")
def vendored(tmp_path_factory):
    target = tmp_path_factory.mktemp("vendor") / "python"
    subprocess.run([sys.executable, str(ROOT / "tools" / "vendor.py"), "--target", str(target)], check=True,
                   capture_output=True)
    return target


def test_only_pure_python_or_cp310_abi3_binaries(vendored):
    binaries = []
    for folder, _, files in os.walk(vendored):
        for name in files:
            if name.endswith((".so", ".pyd", ".dylib")) or ".so." in name:
                binaries.append(os.path.relpath(os.path.join(folder, name), vendored))
    assert binaries, "expected some binary wheels (pycryptodome, cryptography)"
    wrong = [b for b in binaries if not _SO_RE.search(b)]
    assert wrong == []


def test_every_wheel_tag_fits_python310_x86_64(vendored):
    tags = {}
    for entry in os.listdir(vendored):
        if entry.endswith(".dist-info") and os.path.exists(vendored / entry / "WHEEL"):
            text = (vendored / entry / "WHEEL").read_text()
            tags[entry] = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]
    assert {"oss2", "crcmod", "alibabacloud_credentials", "pycryptodome"} <= {e.split("-")[0] for e in tags}
    for entry, entry_tags in tags.items():
        assert entry_tags and any(_OK_TAGS.match(tag) for tag in entry_tags), (entry, entry_tags)


def test_crcmod_is_its_pure_python_fallback(vendored):
    crcmod = vendored / "crcmod"
    assert (crcmod / "_crcfunpy.py").exists()
    assert not list(crcmod.glob("_crcfunext*"))
