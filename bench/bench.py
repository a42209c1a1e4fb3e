"""`make bench`: what an FC instance pays, measured side by side in one run.

1. Cold start: a fresh interpreter importing function/index.py and issuing its first ticket, against a fresh
   interpreter importing what the classic server-signing sample (a Flask server) imports (flask, alibabacloud_credentials,
   alibabacloud_sts20150401, alibabacloud_tea_openapi). Built-in runtimes serve one request per instance,
   so this is the latency of every scale-out.
2. Warm: one ticket through the whole handler (event parsing, routing, validation, policy, signing, JSON,
   access log) against a bare stdlib loop that only builds and signs a policy.
Targets (issue 2): cold start at least 10x faster than the sample's imports with neither SDK imported;
a warm ticket within 3x of the bare signing loop.
"""

import base64
import hmac
import io
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUNCTION_DIR = os.path.join(ROOT, "function")
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "9"))
WARM = int(os.environ.get("BENCH_WARM_TICKETS", "5000"))
ENV = {"OSS_BUCKET": "bench-bucket", "OSS_REGION": "cn-hangzhou", "AUTH_MODE": "anonymous",
       "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIbench", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "bench-secret",
       "ALIBABA_CLOUD_SECURITY_TOKEN": "bench-token"}
EVENT = json.dumps({"version": "v1", "rawPath": "/v1/uploads", "isBase64Encoded": False,
                    "headers": {"Content-Type": "application/json"},
                    "body": json.dumps({"size": 12345, "contentType": "image/jpeg", "filename": "a.jpg"}),
                    "requestContext": {"requestId": "bench", "http": {"method": "POST", "path": "/v1/uploads"}}})

OURS = """
import time; t0 = time.perf_counter()
import sys; sys.path.insert(0, %r)
import index
r = index.handler(%r.encode(), None)
t1 = time.perf_counter()
assert r["statusCode"] == 200, r
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"oss2", "alibabacloud_credentials", "requests"})
print(t1 - t0, ",".join(heavy) or "-")
""" % (FUNCTION_DIR, EVENT)

SEED = """
import time; t0 = time.perf_counter()
import flask
from alibabacloud_credentials.client import Client
from alibabacloud_credentials.models import Config
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi import models
print(time.perf_counter() - t0, "-")
"""


def cold(code):
    times, heavy = [], set()
    env = dict(os.environ, **ENV)
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        seconds, modules = out.stdout.strip().splitlines()[-1].split()
        times.append(float(seconds))
        heavy.update(m for m in modules.split(",") if m != "-")
    return statistics.median(times), heavy


def bare_sign_loop(count):
    """Signing only, as the sample does it with the stdlib: the same policy a ticket carries (V4 conditions,
    token, bucket, exact key, size range, status, type, overwrite), JSON, base64, key derivation, signature."""
    start = time.perf_counter()
    for i in range(count):
        policy = {"expiration": "2026-11-29T23:20:00.000Z", "conditions": [
            {"x-oss-signature-version": "OSS4-HMAC-SHA256"},
            {"x-oss-credential": "LTAIbench/20261129/cn-hangzhou/oss/aliyun_v4_request"},
            {"x-oss-date": "20261129T231000Z"}, {"x-oss-security-token": "bench-token"},
            {"bucket": "bench-bucket"}, ["eq", "$key", "uploads/anonymous/default/2026/11/29/%032d.jpg" % i],
            ["content-length-range", 1, 10485760], ["eq", "$success_action_status", "200"],
            ["eq", "$content-type", "image/jpeg"], ["eq", "$x-oss-forbid-overwrite", "true"]]}
        encoded = base64.b64encode(json.dumps(policy).encode())
        key = hmac.digest(b"aliyun_v4bench-secret", b"20261129", "sha256")
        for part in (b"cn-hangzhou", b"oss", b"aliyun_v4_request"):
            key = hmac.digest(key, part, "sha256")
        hmac.digest(key, encoded, "sha256").hex()
    return (time.perf_counter() - start) / count


def warm_tickets(count):
    sys.path.insert(0, FUNCTION_DIR)
    os.environ.update(ENV)
    from ossgate import config
    from ossgate.app import App
    from ossgate.log import JsonLogger
    app = App(config.load, logger=JsonLogger(io.StringIO()))
    event = EVENT.encode()
    app.handle(event)
    start = time.perf_counter()
    for _ in range(count):
        app.handle(event)
    return (time.perf_counter() - start) / count


def package_sizes():
    """The deployment package (function/ plus the vendored python/ folder), zipped and not: as `make build`
    leaves it (slimmed) and as pip alone would (everything). Vendoring needs the package registry once; the trees
    are cached under .local/vendor/."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import vendor
    requirements, cache = os.path.join(ROOT, "requirements.txt"), os.path.join(ROOT, ".local", "vendor")
    rows = []
    for label, keep in (("deploy package as make build makes it (slimmed)", False),
                        ("deploy package, pip's tree without byte code (not slimmed)", True)):
        try:
            unpacked, zipped = vendor.package_size(FUNCTION_DIR, vendor.cached_vendor(requirements, cache, keep))
        except Exception as exc:  # offline: the timings above still stand
            print("%-58s unavailable (%s)" % (label, exc.__class__.__name__))
            continue
        rows.append((label, unpacked, zipped))
        print("%-58s %7.1f MB unpacked, %5.1f MB zipped" % (label, unpacked / 1e6, zipped / 1e6))
    return rows


def main():
    ours, heavy = cold(OURS)
    seed, _ = cold(SEED)
    bare = min(bare_sign_loop(WARM) for _ in range(3))
    warm = min(warm_tickets(WARM) for _ in range(3))
    print("ossgate bench (python %s, median of %d cold starts, best of 3 x %d warm tickets)\n"
          % (sys.version.split()[0], RUNS, WARM))
    print("%-58s %12s" % ("measure", "time"))
    print("%-58s %10.1f ms" % ("cold: import index + first ticket (ossgate)", ours * 1000))
    print("%-58s %10.1f ms" % ("cold: the Flask sample's imports (flask + Alibaba Cloud SDKs)", seed * 1000))
    print("%-58s %10.1f us" % ("warm: one ticket through the whole handler", warm * 1e6))
    print("%-58s %10.1f us" % ("warm: bare stdlib policy+sign loop", bare * 1e6))
    cold_ratio, warm_ratio = seed / ours, warm / bare
    print()
    print("cold start: %.1fx faster than the Flask sample's imports (target >= 10x): %s"
          % (cold_ratio, "ok" if cold_ratio >= 10 else "MISSED"))
    print("warm ticket: %.2fx the bare signing loop (target <= 3x): %s"
          % (warm_ratio, "ok" if warm_ratio <= 3 else "MISSED"))
    print("SDKs imported on the ticket path: %s" % (", ".join(sorted(heavy)) or "none"))
    print()
    package_sizes()
    return 0  # a measurement, not a gate: the verdicts above say what missed


if __name__ == "__main__":
    sys.exit(main())
