"""The local OSS's disk layout survives a crash: a restart drops half-received bodies and gives back an upload
whose complete was cut short, and keys never become paths."""

import os

import oss2

from local import oss as local_oss
from localoss import AK, BUCKET, REGION, SK, bucket, running_oss


def test_restart_recovers_an_interrupted_complete(tmp_path):
    with running_oss(tmp_path, token=None) as info:
        bkt = bucket(info["endpoint"], token=None)
        upload_id = bkt.init_multipart_upload("crash/a.bin").upload_id
        part = bkt.upload_part("crash/a.bin", upload_id, 1, b"part one")
        uploads = info["oss"].uploads
        claimed = uploads.claim(upload_id, "crash/a.bin")  # a complete took the upload, then the process died
        with open(os.path.join(info["oss"].store.tmp, "half-received"), "wb") as out:
            out.write(b"x" * 10)
        assert os.path.isdir(claimed)
    with running_oss(tmp_path, token=None) as info:
        bkt = bucket(info["endpoint"], token=None)
        assert os.listdir(info["oss"].store.tmp) == [] and os.listdir(info["oss"].uploads.claimed) == []
        assert [p.etag for p in bkt.list_parts("crash/a.bin", upload_id).parts] == [part.etag]
        bkt.complete_multipart_upload("crash/a.bin", upload_id, [oss2.models.PartInfo(1, part.etag)])
        assert bkt.get_object("crash/a.bin").read() == b"part one"


def test_keys_never_become_paths(tmp_path):
    oss = local_oss.LocalOss(BUCKET, REGION, local_oss.Identity(AK, SK), str(tmp_path))
    store = oss.store
    temp = store.temp_path()
    with open(temp, "wb") as out:
        out.write(b"data")
    store.commit("../../escape/../x", temp, {"size": 4, "etag": "X", "crc64": "0", "contentType": "text/plain"})
    names = os.listdir(store.objects)
    assert all(".." not in name and "/" not in name for name in names) and len(names) == 2
    assert store.get("../../escape/../x")[1] == b"data"
    assert sorted(os.listdir(tmp_path)) == [BUCKET]
