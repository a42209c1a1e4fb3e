"""Test helpers: a local OSS started in a thread on a free port (optionally with a movable clock and bucket
settings), and oss2 clients for it."""

import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import oss2
import pytest

from local import oss as local_oss

BUCKET = "sdk-bucket"
REGION = "cn-hangzhou"
AK, SK, TOKEN = "LTAIlocalsdk", "local-sdk-secret", "local-sdk-sts-token"


class Clock:
    """The server's clock: real time plus an offset a test may move."""

    def __init__(self):
        self.offset = timedelta()

    def __call__(self):
        return datetime.now(timezone.utc) + self.offset


@contextmanager
def running_oss(data_dir, token=TOKEN, settings=None):
    clock = Clock()
    oss = local_oss.LocalOss(BUCKET, REGION, local_oss.Identity(AK, SK, token), str(data_dir), clock=clock,
                             settings=settings)
    server = local_oss.make_server(oss, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"endpoint": "http://127.0.0.1:%d" % server.server_address[1], "oss": oss, "clock": clock}
    finally:
        server.shutdown()
        server.server_close()


def auth(secret=SK, token=TOKEN, key_id=AK):
    return oss2.ProviderAuthV4(oss2.credentials.StaticCredentialsProvider(key_id, secret, token))


def bucket(endpoint, region=REGION, name=BUCKET, **auth_args):
    return oss2.Bucket(auth(**auth_args), endpoint, name, region=region)


def sdk_crc64(data):
    crc = oss2.utils.Crc64()
    crc.update(data)
    return crc.crc


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A local OSS (with an STS token) for the whole test module."""
    with running_oss(tmp_path_factory.mktemp("oss")) as info:
        yield info


@pytest.fixture
def bkt(server):
    """An oss2 Bucket on `server`, whose clock is set back to real time."""
    server["clock"].offset = timedelta()
    return bucket(server["endpoint"])
