"""`make build`: vendor requirements.txt into function/python for FC's python3.10 on linux x86_64.

    python tools/vendor.py [--target function/python]

pip cannot fetch oss2 or crcmod for another Python as binaries: both are published only as source
(reference/fc-runtime.md, "Vendoring"). oss2 is pure Python, so its wheel built here is valid on FC. crcmod's
C extension would be built for this machine's CPython, so we wheel only its pure-Python fallback (it imports
`_crcfunext` optionally; only CRC speed is affected). Everything else comes as cp310 / abi3 manylinux wheels.
"""

import argparse
import base64
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
PYTHON_VERSION = "3.10"


def pip(*args):
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"] + list(args), check=True)


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (name, digest, len(data))


def pure_crcmod_wheel(workdir, wheels):
    """A py3-none-any wheel of crcmod holding only its pure-Python modules."""
    pip("download", "--no-deps", "--no-binary", ":all:", "crcmod==1.7", "-d", workdir)
    with tarfile.open(glob.glob(os.path.join(workdir, "crcmod-1.7.tar.gz"))[0]) as archive:
        archive.extractall(workdir)
    source = os.path.join(workdir, "crcmod-1.7", "python3", "crcmod")
    files = {}
    for name in ("__init__.py", "crcmod.py", "predefined.py", "_crcfunpy.py"):
        with open(os.path.join(source, name), "rb") as module:
            files["crcmod/" + name] = module.read()
    info = "crcmod-1.7.dist-info/"
    files[info + "METADATA"] = b"Metadata-Version: 2.1\nName: crcmod\nVersion: 1.7\nLicense: MIT\n"
    files[info + "WHEEL"] = b"Wheel-Version: 1.0\nGenerator: ossgate-vendor\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    with open(os.path.join(workdir, "crcmod-1.7", "LICENSE"), "rb") as licence:
        files[info + "LICENSE"] = licence.read()
    record = [_record_line(name, data) for name, data in files.items()] + [info + "RECORD,,"]
    files[info + "RECORD"] = ("\n".join(record) + "\n").encode()
    path = os.path.join(wheels, "crcmod-1.7-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
    return path


def vendor(target, requirements):
    with tempfile.TemporaryDirectory() as workdir:
        wheels = os.path.join(workdir, "wheels")
        os.makedirs(wheels)
        oss2_spec = next(line.strip() for line in open(requirements) if line.strip().startswith("oss2"))
        pip("wheel", "--no-deps", "-w", wheels, oss2_spec)
        pure_crcmod_wheel(workdir, wheels)
        if os.path.isdir(target):
            shutil.rmtree(target)
        platforms = [arg for platform in TARGET_PLATFORMS for arg in ("--platform", platform)]
        pip("install", "--target", target, "--python-version", PYTHON_VERSION, "--implementation", "cp",
            "--abi", "cp310", "--abi", "abi3", "--abi", "none", "--only-binary=:all:", "--find-links", wheels,
            *platforms, "-r", requirements)
    for cache in glob.glob(os.path.join(target, "**", "__pycache__"), recursive=True):
        shutil.rmtree(cache)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default=os.path.join(ROOT, "function", "python"))
    parser.add_argument("--requirements", default=os.path.join(ROOT, "requirements.txt"))
    args = parser.parse_args(argv)
    vendor(args.target, args.requirements)
    print("vendored %s into %s" % (args.requirements, args.target))


if __name__ == "__main__":
    main()
