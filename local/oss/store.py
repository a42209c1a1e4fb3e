"""Objects on disk, safe against crashes and concurrent writers.

<data>/<bucket>/objects/<sha256(key)>.json  the object's metadata, replaced atomically (os.replace)
<data>/<bucket>/objects/<sha256(key)>.<id>.data  its bytes; the metadata names the data file it belongs to,
so a reader always sees a matching pair, and an overwrite never exposes half an object.
<data>/<bucket>/tmp/  files being received (never listed). The key never becomes a path."""

import hashlib
import json
import os
import threading
import time
import uuid

from .errors import OssError

ALREADY_EXISTS = "The object you specified already exists and can not be overwritten."


class Store:
    def __init__(self, root, bucket):
        self.root = os.path.join(root, bucket)
        self.objects = os.path.join(self.root, "objects")
        self.tmp = os.path.join(self.root, "tmp")
        for folder in (self.objects, self.tmp):
            os.makedirs(folder, exist_ok=True)
        self.lock = threading.RLock()

    def recover(self):
        """At start: drop the half-received bodies of a previous run."""
        for name in os.listdir(self.tmp):
            remove_file(os.path.join(self.tmp, name))

    # --- paths and files -----------------------------------------------------------------------

    def _meta_path(self, key):
        return os.path.join(self.objects, hashlib.sha256(key.encode("utf-8")).hexdigest() + ".json")

    def temp_path(self):
        return os.path.join(self.tmp, uuid.uuid4().hex)

    def _write_json(self, path, document):
        temp = self.temp_path()
        with open(temp, "w") as out:
            json.dump(document, out)
        os.replace(temp, path)

    def _read_json(self, path):
        try:
            with open(path) as source:
                return json.load(source)
        except FileNotFoundError:
            return None

    # --- operations ----------------------------------------------------------------------------

    def exists(self, key):
        return os.path.exists(self._meta_path(key))

    def head(self, key):
        return self._read_json(self._meta_path(key))

    def open(self, key):
        """(meta, open binary file) of the object as one consistent version, or (None, None)."""
        with self.lock:
            meta = self.head(key)
            if meta is None:
                return None, None
            return meta, open(os.path.join(self.objects, meta["dataFile"]), "rb")

    def get(self, key):
        """(meta, bytes), or (None, None)."""
        meta, source = self.open(key)
        if meta is None:
            return None, None
        with source:
            return meta, source.read()

    def commit(self, key, temp_data, meta, forbid_overwrite=False):
        """Install `temp_data` (a file under tmp/, moved, not copied) as the object's bytes with `meta`.
        Returns the stored metadata. FileAlreadyExists leaves the old object untouched."""
        meta_path = self._meta_path(key)
        data_name = os.path.basename(meta_path)[:-5] + ".%s.data" % uuid.uuid4().hex
        meta = dict(meta, key=key, dataFile=data_name)
        meta.setdefault("lastModified", time.time())
        with self.lock:
            old = self.head(key)
            if forbid_overwrite and old is not None:
                raise OssError("FileAlreadyExists", ALREADY_EXISTS)
            os.replace(temp_data, os.path.join(self.objects, data_name))
            self._write_json(meta_path, meta)
            if old is not None:
                remove_file(os.path.join(self.objects, old["dataFile"]))
        return meta

    def update(self, key, change):
        """Apply change(meta) → new meta (tags, ACL) atomically. Returns it, or None when the key is missing."""
        with self.lock:
            meta = self.head(key)
            if meta is None:
                return None
            meta = change(dict(meta))
            self._write_json(self._meta_path(key), meta)
            return meta

    def delete(self, key):
        with self.lock:
            meta = self.head(key)
            if meta is None:
                return False
            remove_file(self._meta_path(key))
            remove_file(os.path.join(self.objects, meta["dataFile"]))
            return True

    def keys(self):
        """Every object's metadata, sorted by key (UTF-8 byte order, as OSS lists)."""
        metas = []
        for name in os.listdir(self.objects):
            if name.endswith(".json"):
                meta = self._read_json(os.path.join(self.objects, name))
                if meta is not None:
                    metas.append(meta)
        return sorted(metas, key=lambda m: m["key"].encode("utf-8"))


def remove_file(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
