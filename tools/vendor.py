"""`make build`: vendor requirements.txt (runtime dependencies only) into function/python for FC's python3.10 on
linux x86_64, whatever Python runs this script.

    python tools/vendor.py [--target function/python] [--requirements requirements.txt] [--keep-everything]

pip cannot fetch oss2 or crcmod for another Python as binaries: both are published only as source distributions
on PyPI. oss2 is pure Python, so its wheel built here is valid on FC. crcmod's C extension would be built for this
machine's CPython, so we wheel only its pure-Python fallback (it imports `_crcfunext` optionally; only CRC speed is
affected). Everything else comes as cp310 / abi3 manylinux wheels.

pip evaluates environment markers against the Python running it, not the target (`--python-version` only
selects wheels), so dependencies such as aiohttp's `async-timeout; python_version < "3.11"` are missed when this
runs on 3.11+. `add_target_only_dependencies` evaluates every vendored package's markers for python3.10 on linux
x86_64 and installs what is missing.

Then the tree is slimmed (`slim`): what the function never loads at run time is removed (byte code, type stubs,
C/Cython sources, test suites, console scripts, install records, the KMS API requests oss2 never imports), and
shared objects are stripped of symbols when `strip` is available. tests/test_vendor.py imports every runtime
module from the slimmed tree under a real python3.10 to prove nothing needed was cut.
"""

import argparse
import base64
import email.parser
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

try:
    from packaging.requirements import Requirement
except ImportError:  # a bare Python with pip only: pip carries packaging
    from pip._vendor.packaging.requirements import Requirement

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
PYTHON_VERSION = "3.10"
# PEP 508 environment markers of FC's python3.10 runtime (linux x86_64, CPython).
TARGET_MARKERS = {
    "python_version": PYTHON_VERSION, "python_full_version": PYTHON_VERSION + ".0", "implementation_name": "cpython",
    "implementation_version": PYTHON_VERSION + ".0", "platform_python_implementation": "CPython",
    "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
    "platform_release": "", "platform_version": "", "extra": "",
}
# Never loaded by the function at run time.
SLIM_DIRS = ("__pycache__", "tests", "SelfTest")        # any directory with this name
SLIM_TOP_DIRS = ("bin",)                                # console scripts
SLIM_SUFFIXES = (".pyc", ".pyi", ".pyx", ".pxd", ".pxi", ".c", ".h", "py.typed")
SLIM_DIST_INFO = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")
# Packages of which only some modules are ever imported: {folder: modules kept}. oss2.crypto imports these three
# KMS requests (GenerateDataKey, Decrypt, Encrypt) and no other.
KEEP_ONLY = {
    os.path.join("aliyunsdkkms", "request", "v20160120"): (
        "__init__.py", "GenerateDataKeyRequest.py", "DecryptRequest.py", "EncryptRequest.py"),
}


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


def pip_install_for_target(target, wheels, *requirements):
    platforms = [arg for platform in TARGET_PLATFORMS for arg in ("--platform", platform)]
    pip("install", "--target", target, "--python-version", PYTHON_VERSION, "--implementation", "cp",
        "--abi", "cp310", "--abi", "abi3", "--abi", "none", "--only-binary=:all:", "--find-links", wheels,
        *platforms, *requirements)


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions(target):
    """{canonical name: [Requires-Dist, ...]} of the packages in target."""
    found = {}
    for info in glob.glob(os.path.join(target, "*.dist-info")):
        with open(os.path.join(info, "METADATA"), encoding="utf-8") as source:
            metadata = email.parser.Parser().parse(source, headersonly=True)
        found[_canonical(metadata["Name"])] = metadata.get_all("Requires-Dist") or []
    return found


def missing_for_target(target):
    """Requirements (strings) that the vendored packages need on the target but are not vendored."""
    installed = installed_distributions(target)
    missing = set()
    for requires in installed.values():
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate(TARGET_MARKERS):
                continue
            if _canonical(requirement.name) not in installed:
                missing.add(str(Requirement("%s%s" % (requirement.name, requirement.specifier))))
    return sorted(missing)


def add_target_only_dependencies(target, wheels):
    """Install, for the target, what only the target's markers require, until nothing is missing."""
    for _ in range(10):
        missing = missing_for_target(target)
        if not missing:
            return
        with tempfile.TemporaryDirectory() as extra:
            pip_install_for_target(extra, wheels, *missing)
            for entry in os.listdir(extra):
                if not os.path.exists(os.path.join(target, entry)):
                    shutil.move(os.path.join(extra, entry), os.path.join(target, entry))
    raise RuntimeError("dependencies for python%s still missing: %s" % (PYTHON_VERSION, missing_for_target(target)))


def slim(target):
    """Remove what the function never loads (see the module docstring); returns the bytes removed."""
    before = tree_size(target)
    for entry in SLIM_TOP_DIRS:
        shutil.rmtree(os.path.join(target, entry), ignore_errors=True)
    for folder, kept in KEEP_ONLY.items():
        path = os.path.join(target, folder)
        for name in os.listdir(path) if os.path.isdir(path) else ():
            if name not in kept and name.endswith(".py"):
                os.remove(os.path.join(path, name))
    for folder, dirs, files in os.walk(target, topdown=True):
        for name in [d for d in dirs if d in SLIM_DIRS]:
            shutil.rmtree(os.path.join(folder, name))
            dirs.remove(name)
        in_dist_info = folder.endswith(".dist-info")
        for name in files:
            if name.endswith(SLIM_SUFFIXES) or (in_dist_info and name in SLIM_DIST_INFO):
                os.remove(os.path.join(folder, name))
    strip = shutil.which("strip")
    if strip:
        objects = glob.glob(os.path.join(target, "**", "*.so"), recursive=True)
        for start in range(0, len(objects), 50):
            subprocess.run([strip, "--strip-unneeded"] + objects[start:start + 50], check=True)
    return before - tree_size(target)


def tree_size(folder):
    return sum(os.path.getsize(os.path.join(path, name)) for path, _, files in os.walk(folder) for name in files)


def vendor(target, requirements, keep_everything=False):
    with tempfile.TemporaryDirectory() as workdir:
        wheels = os.path.join(workdir, "wheels")
        os.makedirs(wheels)
        oss2_spec = next(line.strip() for line in open(requirements) if line.strip().startswith("oss2"))
        pip("wheel", "--no-deps", "-w", wheels, oss2_spec)
        pure_crcmod_wheel(workdir, wheels)
        if os.path.isdir(target):
            shutil.rmtree(target)
        pip_install_for_target(target, wheels, "-r", requirements)
        add_target_only_dependencies(target, wheels)
    if keep_everything:
        for cache in glob.glob(os.path.join(target, "**", "__pycache__"), recursive=True):
            shutil.rmtree(cache)
    else:
        slim(target)


def cached_vendor(requirements, cache_root, keep_everything=False):
    """A vendored tree of `requirements` under cache_root, built once per content of requirements.txt and of
    this script (tests and `make bench` reuse it instead of reaching the package registry again)."""
    digest = hashlib.sha256()
    for path in (requirements, os.path.abspath(__file__)):
        with open(path, "rb") as source:
            digest.update(source.read())
    key = digest.hexdigest()[:16] + ("-full" if keep_everything else "")
    target = os.path.join(cache_root, key, "python")
    if not os.path.isdir(target):
        building = os.path.join(cache_root, key + ".building")
        shutil.rmtree(building, ignore_errors=True)
        vendor(os.path.join(building, "python"), requirements, keep_everything)
        for stale in os.listdir(cache_root):
            if stale.split("-")[0] != key.split("-")[0] and not stale.endswith(".building"):
                shutil.rmtree(os.path.join(cache_root, stale), ignore_errors=True)
        os.rename(building, os.path.dirname(target))
    return target


def package_size(function_dir, vendored=None):
    """(bytes unpacked, bytes zipped) of the deployment package: function_dir's files with the vendored tree as
    its python/ folder (what `s deploy` uploads), zipped with deflate as the deploy tool does."""
    files = []
    for folder, dirs, names in os.walk(function_dir):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not (folder == function_dir and d == "python")]
        files += [(os.path.join(folder, n), os.path.relpath(os.path.join(folder, n), function_dir)) for n in names
                  if not n.endswith(".pyc")]
    if vendored:
        files += [(os.path.join(folder, n), os.path.join("python", os.path.relpath(os.path.join(folder, n), vendored)))
                  for folder, _, names in os.walk(vendored) for n in names]
    with tempfile.TemporaryFile() as archive:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as package:
            for path, name in files:
                package.write(path, name)
        zipped = archive.tell()
    return sum(os.path.getsize(path) for path, _ in files), zipped


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default=os.path.join(ROOT, "function", "python"))
    parser.add_argument("--requirements", default=os.path.join(ROOT, "requirements.txt"))
    parser.add_argument("--keep-everything", action="store_true", help="skip slimming (to compare sizes)")
    args = parser.parse_args(argv)
    vendor(args.target, args.requirements, args.keep_everything)
    print("vendored %s into %s (%.1f MB)" % (args.requirements, args.target, tree_size(args.target) / 1e6))


if __name__ == "__main__":
    main()
