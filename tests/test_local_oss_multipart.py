"""Multipart uploads on the local OSS, driven by oss2: every operation, OSS's refusals, ETag and CRC-64 as the
SDK computes them, one winner among concurrent completes, nothing visible before completion or after abort."""

import hashlib
import os
import threading
import time
import tracemalloc
from urllib.parse import unquote
from xml.etree import ElementTree

import oss2
import pytest

from localoss import bucket, sdk_crc64
from localoss import bkt, server  # noqa: F401 - fixtures
from test_local_oss_api import raises_oss

KB = 1024


def upload_parts(bkt, key, chunks, **init_headers):
    upload_id = bkt.init_multipart_upload(key, headers=init_headers or None).upload_id
    parts = []
    for number, chunk in enumerate(chunks, 1):
        result = bkt.upload_part(key, upload_id, number, chunk)
        assert result.crc == sdk_crc64(chunk) and result.etag == hashlib.md5(chunk).hexdigest().upper()
        parts.append(oss2.models.PartInfo(number, result.etag, size=len(chunk), part_crc=result.crc))
    return upload_id, parts


def multipart_etag(chunks):
    return "%s-%d" % (hashlib.md5(b"".join(hashlib.md5(c).digest() for c in chunks)).hexdigest().upper(),
                      len(chunks))


def test_complete_gives_oss_etag_and_whole_object_crc(bkt):
    chunks = [os.urandom(100 * KB), os.urandom(150 * KB), b"tail"]
    upload_id, parts = upload_parts(bkt, "mp/a.bin", chunks, **{"Content-Type": "video/mp4"})
    assert not bkt.object_exists("mp/a.bin")
    assert [o.key for o in oss2.ObjectIteratorV2(bkt, prefix="mp/")] == []  # parts are not objects
    result = bkt.complete_multipart_upload("mp/a.bin", upload_id, parts)  # oss2 checks the combined CRC too
    data = b"".join(chunks)
    assert result.etag == multipart_etag(chunks) and result.crc == sdk_crc64(data)
    got = bkt.get_object("mp/a.bin")
    assert got.read() == data and got.server_crc == sdk_crc64(data) and got.content_type == "video/mp4"
    assert bkt.head_object("mp/a.bin").object_type == "Multipart"
    raises_oss(lambda: bkt.list_parts("mp/a.bin", upload_id), oss2.exceptions.NoSuchUpload, 404, "NoSuchUpload")


def test_list_parts_pages(bkt):
    upload_id, parts = upload_parts(bkt, "mp/paged.bin", [b"%d" % i * 10 for i in range(5)])
    first = bkt.list_parts("mp/paged.bin", upload_id, max_parts=2)
    assert [p.part_number for p in first.parts] == [1, 2] and first.is_truncated and first.next_marker == "2"
    assert first.parts[0].size == 10 and first.parts[0].etag == parts[0].etag
    second = bkt.list_parts("mp/paged.bin", upload_id, marker=first.next_marker, max_parts=2)
    assert [p.part_number for p in second.parts] == [3, 4] and second.is_truncated
    last = bkt.list_parts("mp/paged.bin", upload_id, marker=second.next_marker, max_parts=2)
    assert [p.part_number for p in last.parts] == [5] and not last.is_truncated
    assert [p.part_number for p in oss2.PartIterator(bkt, "mp/paged.bin", upload_id, max_parts=2)] == [1, 2, 3, 4, 5]
    bkt.abort_multipart_upload("mp/paged.bin", upload_id)


def test_complete_refusals_leave_the_upload_usable(bkt):
    chunks = [os.urandom(100 * KB), os.urandom(10)]
    upload_id, parts = upload_parts(bkt, "mp/refused.bin", chunks)
    wrong_etag = [parts[0], oss2.models.PartInfo(2, "0" * 32)]
    raises_oss(lambda: bkt.complete_multipart_upload("mp/refused.bin", upload_id, wrong_etag),
               oss2.exceptions.ServerError, 400, "InvalidPart")
    missing = [parts[0], oss2.models.PartInfo(3, parts[1].etag)]
    raises_oss(lambda: bkt.complete_multipart_upload("mp/refused.bin", upload_id, missing),
               oss2.exceptions.ServerError, 400, "InvalidPart")
    # oss2 sorts the parts it sends: send the descending list through its own signed request
    descending = oss2.xml_utils.to_complete_upload_request(parts[::-1])
    raises_oss(lambda: bkt._Bucket__do_object("POST", "mp/refused.bin", data=descending,
                                              params={"uploadId": upload_id}),
               oss2.exceptions.ServerError, 400, "InvalidPartOrder")
    assert not bkt.object_exists("mp/refused.bin")
    bkt.complete_multipart_upload("mp/refused.bin", upload_id, parts)
    assert bkt.get_object("mp/refused.bin").read() == b"".join(chunks)


def test_small_non_last_part_is_too_small(bkt):
    upload_id, parts = upload_parts(bkt, "mp/small.bin", [os.urandom(100 * KB - 1), b"end"])
    raises_oss(lambda: bkt.complete_multipart_upload("mp/small.bin", upload_id, parts),
               oss2.exceptions.ServerError, 400, "EntityTooSmall")
    assert bkt.complete_multipart_upload("mp/small.bin", upload_id, parts[:1]).status == 200  # last may be small


def test_forbid_overwrite_at_initiate_and_complete(bkt):
    bkt.put_object("mp/taken.bin", b"first")
    raises_oss(lambda: bkt.init_multipart_upload("mp/taken.bin", headers={"x-oss-forbid-overwrite": "true"}),
               oss2.exceptions.ServerError, 409, "FileAlreadyExists")
    upload_id, parts = upload_parts(bkt, "mp/taken.bin", [b"second"])
    raises_oss(lambda: bkt.complete_multipart_upload("mp/taken.bin", upload_id, parts,
                                                     headers={"x-oss-forbid-overwrite": "true"}),
               oss2.exceptions.ServerError, 409, "FileAlreadyExists")
    assert bkt.get_object("mp/taken.bin").read() == b"first"
    assert [p.part_number for p in bkt.list_parts("mp/taken.bin", upload_id).parts] == [1]


def test_complete_all(bkt):
    chunks = [os.urandom(100 * KB), b"rest"]
    upload_id, _ = upload_parts(bkt, "mp/all.bin", chunks)
    result = bkt.complete_multipart_upload("mp/all.bin", upload_id, None, headers={"x-oss-complete-all": "yes"})
    assert result.etag == multipart_etag(chunks)
    assert bkt.get_object("mp/all.bin").read() == b"".join(chunks)


def test_abort_then_no_such_upload(bkt, server):
    upload_id, parts = upload_parts(bkt, "mp/aborted.bin", [b"x" * 10])
    assert bkt.abort_multipart_upload("mp/aborted.bin", upload_id).status == 204
    for call in (lambda: bkt.abort_multipart_upload("mp/aborted.bin", upload_id),
                 lambda: bkt.list_parts("mp/aborted.bin", upload_id),
                 lambda: bkt.upload_part("mp/aborted.bin", upload_id, 2, b"y"),
                 lambda: bkt.complete_multipart_upload("mp/aborted.bin", upload_id, parts)):
        raises_oss(call, oss2.exceptions.NoSuchUpload, 404, "NoSuchUpload")
    raises_oss(lambda: bkt.list_parts("mp/other-key.bin", upload_id), oss2.exceptions.NoSuchUpload, 404,
               "NoSuchUpload")
    assert not bkt.object_exists("mp/aborted.bin")
    uploads = server["oss"].uploads
    assert upload_id not in os.listdir(uploads.dir) and os.listdir(uploads.claimed) == []  # no part left on disk


def test_part_number_range(bkt):
    upload_id = bkt.init_multipart_upload("mp/range.bin").upload_id
    for number in (0, 10001):
        raises_oss(lambda: bkt.upload_part("mp/range.bin", upload_id, number, b"x"),
                   oss2.exceptions.InvalidArgument, 400, "InvalidArgument")
    bkt.abort_multipart_upload("mp/range.bin", upload_id)


def test_concurrent_completes_have_one_winner(bkt, server):
    chunks = [os.urandom(100 * KB) for _ in range(3)]
    upload_id, parts = upload_parts(bkt, "mp/race.bin", chunks)
    outcomes = []

    def complete():
        client = bucket(server["endpoint"])
        try:
            outcomes.append(client.complete_multipart_upload("mp/race.bin", upload_id, parts).status)
        except oss2.exceptions.OssError as error:
            outcomes.append(error.code)
    threads = [threading.Thread(target=complete) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [200, "NoSuchUpload", "NoSuchUpload", "NoSuchUpload"]
    assert bkt.get_object("mp/race.bin").read() == b"".join(chunks)


def test_list_multipart_uploads_and_lifecycle_abort(bkt, server):
    ids = {key: bkt.init_multipart_upload(key).upload_id for key in ("lmu/a", "lmu/b", "lmu/dir/c")}
    listed = [(u.key, u.upload_id) for u in oss2.MultipartUploadIterator(bkt, prefix="lmu/", max_uploads=1)]
    assert listed == sorted(ids.items())
    grouped = bkt.list_multipart_uploads(prefix="lmu/", delimiter="/")
    assert [u.key for u in grouped.upload_list] == ["lmu/a", "lmu/b"] and grouped.prefix_list == ["lmu/dir/"]
    oss = server["oss"]
    oss.uploads.expire(oss.settings.lifecycle, time.time() + 86400 - 60)  # the default rule: 1 day
    assert len(bkt.list_multipart_uploads(prefix="lmu/").upload_list) == 3
    oss.uploads.expire(oss.settings.lifecycle, time.time() + 86400 + 60)
    assert bkt.list_multipart_uploads(prefix="lmu/").upload_list == []


def test_resumable_upload_with_checkpoints(bkt, tmp_path):
    data = os.urandom(1024 * KB + 123)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    store = oss2.ResumableStore(root=str(tmp_path / "checkpoints"))
    result = oss2.resumable_upload(bkt, "mp/resumable.bin", str(source), store=store,
                                   multipart_threshold=200 * KB, part_size=200 * KB, num_threads=2)
    chunks = [data[i:i + 200 * KB] for i in range(0, len(data), 200 * KB)]
    assert result.etag == multipart_etag(chunks)
    assert bkt.get_object("mp/resumable.bin").read() == data
    assert bkt.head_object("mp/resumable.bin").headers["x-oss-hash-crc64ecma"] == str(sdk_crc64(data))
    assert [p for p in (tmp_path / "checkpoints").rglob("*") if p.is_file()] == []  # done: checkpoint removed


def test_url_encoded_answers(bkt):
    key = "mp/odd key+%?&.bin"
    upload_id = bkt.init_multipart_upload(key, params={"encoding-type": "url"}).upload_id
    bkt.upload_part(key, upload_id, 1, b"x")
    answer = bkt._Bucket__do_object("GET", key, params={"uploadId": upload_id, "encoding-type": "url"})
    root = ElementTree.fromstring(answer.read())
    assert root.findtext("EncodingType") == "url" and unquote(root.findtext("Key")) == key
    assert root.findtext("Key") != key
    uploads = bkt.list_multipart_uploads(prefix="mp/odd")  # oss2 sends encoding-type=url here
    assert [u.key for u in uploads.upload_list] == [key]
    bkt.abort_multipart_upload(key, upload_id)


def test_large_parts_stream_to_disk(bkt):
    chunk = os.urandom(1024 * KB)
    upload_id = bkt.init_multipart_upload("mp/streamed.bin").upload_id
    tracemalloc.start()
    try:
        result = bkt.upload_part("mp/streamed.bin", upload_id, 1, (chunk for _ in range(48)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * 1024 * KB, "a 48 MB part was held in memory (peak %d bytes)" % peak
    crc = oss2.utils.Crc64()
    for _ in range(48):
        crc.update(chunk)
    assert result.crc == crc.crc
    bkt.abort_multipart_upload("mp/streamed.bin", upload_id)


def test_listing_parts_of_an_upload_claimed_meanwhile_is_no_such_upload(tmp_path, monkeypatch):
    """The race behind concurrent completes: one complete lists the parts just after another claimed the upload
    (its folder renamed between the record check and the listing). OSS answers NoSuchUpload, not a 500."""
    from local.oss.errors import OssError
    from local.oss.uploads import Uploads

    uploads = Uploads(str(tmp_path))
    upload_id = uploads.initiate("mp/claimed.bin", {}, 0)
    real_get = uploads.get

    def get_then_claimed_by_another(upload_id_, key):
        record = real_get(upload_id_, key)
        monkeypatch.setattr(uploads, "get", real_get)
        uploads.discard(uploads.claim(upload_id_, key))  # the other complete wins right here
        return record
    monkeypatch.setattr(uploads, "get", get_then_claimed_by_another)
    with pytest.raises(OssError) as raised:
        uploads.parts(upload_id, "mp/claimed.bin")
    assert raised.value.code == "NoSuchUpload"
