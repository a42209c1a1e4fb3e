import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

# alibabacloud-credentials' default chain ends at the ECS metadata service (100.100.100.200): no test may
# reach it. The SDK reads these variables once, at import.
NETWORK_GUARDS = {"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true", "ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true"}
os.environ.update(NETWORK_GUARDS)

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_DIR = ROOT / "function"
VECTORS = Path(__file__).resolve().parent / "vectors"
SHARED = ROOT.parent / "shared"
FC3_DATA = Path(__file__).resolve().parent / "data" / "fc3"  # the fc3 component's files (see SOURCE.md there)
for path in (str(FUNCTION_DIR), str(ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)

from ossgate import config as config_mod  # noqa: E402
from ossgate.credentials import Credentials  # noqa: E402

ACCESS_KEY_ID = "LTAI5tTestKeyId"
ACCESS_KEY_SECRET = "test-secret-Zq8vX2pL9mN4bR7t"
SECURITY_TOKEN = "CAIStestSecurityToken0123456789abcdef"
FIXED_NOW = datetime(2026, 11, 29, 23, 10, 0, tzinfo=timezone.utc)


def stop_process(process, timeout=10):
    """SIGTERM a server the test started, then SIGKILL it if it has not exited within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def load_vectors(name):
    with open(VECTORS / name) as source:
        return json.load(source)


def base_env(**overrides):
    env = {"OSS_BUCKET": "demo-bucket", "OSS_REGION": "cn-hangzhou", "AUTH_MODE": "anonymous"}
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def make_config(**overrides):
    return config_mod.from_environ(base_env(**overrides))


def http_event(method="POST", path="/v1/uploads", body=None, headers=None, query=None, base64_body=False,
               request_id="req-test-1"):
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    event = {
        "version": "v1",
        "rawPath": path,
        "body": body if body is not None else "",
        "isBase64Encoded": base64_body,
        "headers": headers if headers is not None else {"Content-Type": "application/json"},
        "queryParameters": query or {},
        "requestContext": {
            "accountId": "1234567890123456", "requestId": request_id, "time": "2026-11-29T23:10:00Z",
            "timeEpoch": "1796080200000",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "pytest"},
        },
    }
    return json.dumps(event).encode("utf-8")


def response_json(response):
    return json.loads(response["body"]) if response["body"] else None


@pytest.fixture
def credentials():
    return Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN)


@pytest.fixture
def clean_environ(monkeypatch):
    """No ALIBABA_CLOUD_* or ossgate settings leak in from the machine running the tests."""
    for name in list(os.environ):
        if name in NETWORK_GUARDS:
            continue
        if name.startswith(("ALIBABA_CLOUD_", "OSS_", "LOCAL_OSS_")) or name in (
                "AUTH_MODE", "UPLOAD_PROFILES", "UPLOAD_PREFIX", "SESSION_SECRETS", "WECHAT_SECRET"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def sdk_environment(clean_environ, tmp_path):
    """Set variables for alibabacloud-credentials, which snapshots the environment when first imported."""
    import importlib

    import alibabacloud_credentials.utils.auth_util as auth_util

    clean_environ.setenv("HOME", str(tmp_path))

    def apply(**variables):
        for name, value in variables.items():
            clean_environ.setenv(name, value)
        importlib.reload(auth_util)
    yield apply
    clean_environ.undo()
    importlib.reload(auth_util)


@pytest.fixture(scope="session")
def redis_server():
    """One real redis-server (no persistence, free port) for the whole run; tests use distinct user ids."""
    from redis_server import RedisServer

    with RedisServer() as server:
        yield server
