"""`make doctor` against the local OSS and the local FC: a well-configured bucket passes every check, and each
misconfiguration (public-read ACL, no CORS, no lifecycle rule, wrong region, skewed clock, bad settings) is named."""

import io
import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from conftest import ROOT, stop_process

sys.path.insert(0, str(ROOT / "tools"))
import doctor  # noqa: E402

from local.callback import write_key_pair  # noqa: E402

BUCKET = "doctor-bucket"
KEY_ID, SECRET, TOKEN = "LTAI-doctor-test", "doctor-secret-" + "x" * 20, "doctor-sts-token"
GOOD_BUCKET = {
    "acl": "private",
    "cors": [{"allowedOrigins": ["*"], "allowedMethods": ["GET", "POST", "PUT", "HEAD", "DELETE"],
              "allowedHeaders": ["*"], "exposeHeaders": ["ETag", "x-oss-request-id"], "maxAgeSeconds": 600}],
    "lifecycle": [{"id": "abort-parts", "prefix": "", "abortMultipartUploadDays": 1}],
}
BAD_BUCKET = {"acl": "public-read", "cors": [], "lifecycle": []}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(port, process):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("port %d never opened" % port)


class Servers:
    def __init__(self):
        self.processes = []

    def start(self, args, env):
        port = _free_port()
        process = subprocess.Popen([sys.executable, "-m"] + args + ["--port", str(port)], cwd=str(ROOT), env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.processes.append(process)
        _wait(port, process)
        return port

    def stop(self):
        for process in self.processes:
            stop_process(process, timeout=5)


def _base_env():
    return {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_ACCESS", "ALIBABA_CLOUD_SEC",
                                                                      "OSS_", "LOCAL_OSS_", "AUTH_MODE"))}


def _oss(servers, tmp_path, name, bucket_config, region="cn-hangzhou", callback_key=None):
    config_path = tmp_path / (name + "-bucket.json")
    config_path.write_text(json.dumps(bucket_config))
    env = dict(_base_env(), LOCAL_OSS_ACCESS_KEY_ID=KEY_ID, LOCAL_OSS_ACCESS_KEY_SECRET=SECRET,
               LOCAL_OSS_SECURITY_TOKEN=TOKEN)
    args = ["local.oss", "--bucket", BUCKET, "--data", str(tmp_path / (name + "-data")), "--region", region,
            "--bucket-config", str(config_path)]
    if callback_key:
        args += ["--callback-key", callback_key]
    return servers.start(args, env)


def _function_env(oss_port, **extra):
    env = dict(_base_env(), OSS_BUCKET=BUCKET, OSS_REGION="cn-hangzhou",
               OSS_ENDPOINT="http://127.0.0.1:%d" % oss_port,
               OSS_UPLOAD_HOST="http://127.0.0.1:%d/%s" % (oss_port, BUCKET),
               AUTH_MODE="wechat", WECHAT_APPID="wxdoctortest", WECHAT_SECRET="doctor-app-secret",
               SESSION_SECRETS="s" * 40, ALIBABA_CLOUD_ACCESS_KEY_ID=KEY_ID,
               ALIBABA_CLOUD_ACCESS_KEY_SECRET=SECRET, ALIBABA_CLOUD_SECURITY_TOKEN=TOKEN)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """A well-configured bucket behind the local OSS, and the function behind the local FC, with callbacks."""
    tmp_path = tmp_path_factory.mktemp("doctor")
    key_path = str(tmp_path / "callback-key.pem")
    public_pem = write_key_pair(key_path)
    servers = Servers()
    try:
        oss_port = _oss(servers, tmp_path, "good", GOOD_BUCKET, callback_key=key_path)
        fc_port = _free_port()
        env = _function_env(oss_port, OSS_CALLBACK_PUBLIC_KEY=public_pem,
                            CALLBACK_URL="http://127.0.0.1:%d/v1/oss-callback" % fc_port)
        process = subprocess.Popen([sys.executable, "-m", "local.fc", "--port", str(fc_port)], cwd=str(ROOT),
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        servers.processes.append(process)
        _wait(fc_port, process)
        env["OSSGATE_URL"] = "http://127.0.0.1:%d" % fc_port
        yield env, tmp_path / "good-data"
    finally:
        servers.stop()


@pytest.fixture(scope="module")
def bad_buckets(tmp_path_factory):
    """The same bucket misconfigured (public-read, no CORS, no lifecycle), and one in another region."""
    tmp_path = tmp_path_factory.mktemp("doctor-bad")
    servers = Servers()
    try:
        yield {"misconfigured": _oss(servers, tmp_path, "bad", BAD_BUCKET),
               "elsewhere": _oss(servers, tmp_path, "shanghai", GOOD_BUCKET, region="cn-shanghai")}
    finally:
        servers.stop()


def run_doctor(env, lang="en", now=None):
    out = io.StringIO()
    code = doctor.run(env, out, lang, now)
    lines = out.getvalue().splitlines()
    checks = {}
    for line in lines:
        status, _, rest = line.partition(" ")
        if status in ("PASS", "WARN", "FAIL"):
            checks[rest.split(":", 1)[0]] = status
    return code, checks, out.getvalue()


def test_a_well_configured_deployment_passes_with_a_real_round_trip(deployment):
    env, data_dir = deployment
    code, checks, text = run_doctor(env)
    assert code == 0, text
    for name in ("config", "bucket", "region", "acl", "cors", "lifecycle", "clock", "roundtrip"):
        assert checks[name] == "PASS", text
    # local plain-HTTP callback and IP hosts: fine for make local, flagged for a deployment, not failed
    assert checks["callback"] == "WARN" and checks["wechat-domains"] == "WARN", text
    assert "uploadFile    http://127.0.0.1:" in text and "request       %s" % env["OSSGATE_URL"] in text
    assert "(uploads/ossgatedoctor/default/" in text  # the round trip wrote under the doctor's own prefix
    import oss2

    bucket = doctor.oss_bucket(doctor.config_module.from_environ(env), env)
    assert [o.key for o in oss2.ObjectIteratorV2(bucket, prefix="uploads/")] == []  # and deleted it


def test_every_misconfiguration_is_named_and_fails(bad_buckets):
    env = _function_env(bad_buckets["misconfigured"], CORS_ALLOW_ORIGINS="https://h5.example.com")
    code, checks, text = run_doctor(env)
    assert code == 1
    assert checks["bucket"] == "PASS" and checks["region"] == "PASS", text
    assert checks["acl"] == "FAIL" and "public-read" in text
    assert checks["cors"] == "FAIL" and "H5" in text        # the deployment serves H5 pages: CORS is needed
    assert checks["lifecycle"] == "FAIL" and "incomplete multipart" in text
    assert checks["roundtrip"] == "WARN"                     # no OSSGATE_URL


def test_missing_cors_only_warns_when_no_browser_origin_is_configured(bad_buckets):
    code, checks, text = run_doctor(_function_env(bad_buckets["misconfigured"]))
    assert checks["cors"] == "WARN" and "mini programs do not need CORS" in text


def test_a_bucket_in_another_region_is_named(bad_buckets):
    code, checks, text = run_doctor(_function_env(bad_buckets["elsewhere"]))
    assert code == 1
    assert checks["region"] == "FAIL", text
    assert "OSS_REGION" in text


def test_clock_skew_is_measured_against_oss(bad_buckets):
    from datetime import datetime, timezone

    later = datetime.now(timezone.utc) + timedelta(minutes=20)
    code, checks, text = run_doctor(_function_env(bad_buckets["misconfigured"]), now=later)
    assert checks["clock"] == "FAIL" and "RequestTimeTooSkewed" in text


def test_wrong_credentials_are_named(bad_buckets):
    env = _function_env(bad_buckets["misconfigured"], ALIBABA_CLOUD_ACCESS_KEY_SECRET="not-the-secret")
    code, checks, text = run_doctor(env)
    assert code == 1 and checks["bucket"] == "FAIL" and "SignatureDoesNotMatch" in text
    assert "not-the-secret" not in text


def test_a_bad_setting_fails_before_anything_is_called():
    env = _function_env(1, AUTH_MODE="open")
    code, checks, text = run_doctor(env)
    assert code == 1 and checks == {"config": "FAIL"} and "AUTH_MODE" in text
    code, checks, _ = run_doctor(dict(env, AUTH_MODE="anonymous", ALIBABA_CLOUD_ACCESS_KEY_ID=""))
    assert code == 1 and checks["credentials"] == "FAIL"


def test_chinese_report(bad_buckets):
    code, checks, text = run_doctor(_function_env(bad_buckets["misconfigured"]), lang="zh")
    assert checks["acl"] == "FAIL" and "私有" in text and "生命周期" in text


def test_language_follows_the_locale():
    assert doctor.language(None, {"LANG": "zh_CN.UTF-8"}) == "zh"
    assert doctor.language(None, {"LANG": "en_US.UTF-8"}) == "en"
    assert doctor.language(None, {"LC_ALL": "zh_TW", "LANG": "en_US"}) == "zh"
    assert doctor.language("en", {"LANG": "zh_CN"}) == "en"
