"""Multipart uploads on disk, apart from the objects until they are completed.

<data>/<bucket>/uploads/<uploadId>/upload.json   key, initiated, the object settings given at initiate
<data>/<bucket>/uploads/<uploadId>/<n>.json      part n's metadata, naming its data file <n>.<id>.data
Completing or aborting first renames the upload's folder away (one atomic rename: exactly one of several
concurrent completes or aborts wins; the others find no upload), so a failed or aborted upload never
leaves anything visible."""

import json
import os
import shutil
import threading
import uuid

from .errors import OssError
from .store import remove_file


def no_such_upload(upload_id):
    return OssError("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the "
                                    "upload may have been aborted or completed.", UploadId=upload_id)


class Uploads:
    def __init__(self, root):
        self.dir = os.path.join(root, "uploads")
        self.claimed = os.path.join(root, "claimed")
        for folder in (self.dir, self.claimed):
            os.makedirs(folder, exist_ok=True)
        self.lock = threading.Lock()

    def recover(self):
        """At start: a complete cut short by a crash gave nothing back; its upload is open again."""
        for name in os.listdir(self.claimed):
            upload_id = name.split(".")[0]
            if os.path.exists(os.path.join(self.dir, upload_id)):
                shutil.rmtree(os.path.join(self.claimed, name), ignore_errors=True)
            else:
                os.rename(os.path.join(self.claimed, name), os.path.join(self.dir, upload_id))

    def _folder(self, upload_id):
        if not upload_id or not all(c in "0123456789ABCDEF" for c in upload_id):
            return None
        return os.path.join(self.dir, upload_id)

    def _write_json(self, path, document):
        temp = path + ".%s.tmp" % uuid.uuid4().hex
        with open(temp, "w") as out:
            json.dump(document, out)
        os.replace(temp, path)

    def initiate(self, key, settings, now):
        upload_id = uuid.uuid4().hex.upper()
        folder = os.path.join(self.dir, upload_id)
        os.makedirs(folder)
        self._write_json(os.path.join(folder, "upload.json"),
                         {"key": key, "uploadId": upload_id, "initiated": now, "settings": settings})
        return upload_id

    def get(self, upload_id, key):
        """The upload's record; NoSuchUpload unless it exists for this key."""
        folder = self._folder(upload_id)
        try:
            with open(os.path.join(folder or "", "upload.json")) as source:
                record = json.load(source)
        except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
            raise no_such_upload(upload_id)
        if record["key"] != key:
            raise no_such_upload(upload_id)
        return record

    def put_part(self, upload_id, key, number, received, now):
        """Move a received part (a file under the store's tmp/) into the upload; replaces an earlier part n."""
        self.get(upload_id, key)
        folder = self._folder(upload_id)
        data_name = "%d.%s.data" % (number, uuid.uuid4().hex)
        meta = {"partNumber": number, "etag": received.etag, "size": received.size,
                "crc64": str(received.crc64), "md5": received.md5.hex(), "lastModified": now, "dataFile": data_name}
        with self.lock:
            try:
                os.replace(received.path, os.path.join(folder, data_name))
            except FileNotFoundError:  # completed or aborted meanwhile
                raise no_such_upload(upload_id)
            old = self._part(folder, number)
            self._write_json(os.path.join(folder, "%d.json" % number), meta)
            if old is not None:
                remove_file(os.path.join(folder, old["dataFile"]))
        return meta

    def _part(self, folder, number):
        try:
            with open(os.path.join(folder, "%d.json" % number)) as source:
                return json.load(source)
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def parts(self, upload_id, key):
        """Every uploaded part's metadata, by part number."""
        self.get(upload_id, key)
        try:
            return self._parts(self._folder(upload_id))
        except FileNotFoundError:  # claimed by a complete or an abort since get(): gone, as OSS would say
            raise no_such_upload(upload_id)

    def _parts(self, folder):
        found = []
        for name in os.listdir(folder):
            if name.endswith(".json") and name[:-5].isdigit():
                part = self._part(folder, int(name[:-5]))
                if part is not None:
                    found.append(part)
        return sorted(found, key=lambda p: p["partNumber"])

    def claim(self, upload_id, key):
        """Take the upload away from everyone else (complete, abort). Returns the claimed folder."""
        self.get(upload_id, key)
        target = os.path.join(self.claimed, "%s.%s" % (upload_id, uuid.uuid4().hex))
        with self.lock:
            try:
                os.rename(self._folder(upload_id), target)
            except FileNotFoundError:
                raise no_such_upload(upload_id)
        return target

    def release(self, upload_id, claimed):
        """Give a claimed upload back (a complete that failed after the claim)."""
        os.rename(claimed, os.path.join(self.dir, upload_id))

    def claimed_parts(self, claimed):
        return self._parts(claimed)

    def part_path(self, claimed, part):
        return os.path.join(claimed, part["dataFile"])

    def discard(self, claimed):
        shutil.rmtree(claimed, ignore_errors=True)

    def abort(self, upload_id, key):
        self.discard(self.claim(upload_id, key))

    def all(self):
        """Every open upload's record, sorted by key then initiation time."""
        records = []
        for upload_id in os.listdir(self.dir):
            try:
                with open(os.path.join(self.dir, upload_id, "upload.json")) as source:
                    records.append(json.load(source))
            except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
                continue
        return sorted(records, key=lambda r: (r["key"].encode("utf-8"), r["initiated"], r["uploadId"]))

    def expire(self, rules, now):
        """Apply the bucket's lifecycle rules: abort uploads initiated more than N days ago under a prefix."""
        for record in self.all():
            for rule in rules:
                if record["key"].startswith(rule["prefix"]) and \
                        now - record["initiated"] > rule["abortMultipartUploadDays"] * 86400:
                    try:
                        self.abort(record["uploadId"], record["key"])
                    except OssError:
                        pass
                    break

