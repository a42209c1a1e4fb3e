"""One local bucket: its name, region, the one accepted credential, settings, objects and uploads."""

from datetime import datetime, timezone

from .. import callback
from ..serving import bound_server
from .bucket import BucketSettings
from .settings import MAX_OBJECT_SIZE
from .handler import Handler, split_target
from .store import Store
from .uploads import Uploads


class LocalOss:
    def __init__(self, bucket, region, identity, data_dir, clock=None, max_body=MAX_OBJECT_SIZE + 8 * 1024 * 1024,
                 callback_key=None, settings=None):
        self.bucket = bucket
        self.region = region
        self.identity = identity
        self.store = Store(data_dir, bucket)
        self.uploads = Uploads(self.store.root)
        self.store.recover()
        self.uploads.recover()
        self.settings = settings or BucketSettings.default()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.max_body = max_body  # the largest PostObject form: a 5 GB file and 8 MB of fields, as on OSS
        self._callback_key = callback_key

    @property
    def callback_key(self):
        if self._callback_key is None:
            self._callback_key = callback.load_or_create_key()
        return self._callback_key

    def split_target(self, host, path):
        return split_target(self.bucket, host, path)


def make_server(oss, host="127.0.0.1", port=9100):
    return bound_server(Handler, {"oss": oss}, host, port)
