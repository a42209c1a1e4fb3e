import pytest

from local import formdata

CT = "multipart/form-data; boundary=XyZ"


def body(*parts, close=True):
    out = b""
    for head, data in parts:
        out += b"--XyZ\r\n" + head + b"\r\n\r\n" + data + b"\r\n"
    return out + (b"--XyZ--\r\n" if close else b"")


def test_parses_fields_and_file_in_order():
    raw = body((b'Content-Disposition: form-data; name="key"', b"a/b.txt"),
               (b'Content-Disposition: form-data; name="file"; filename="x.bin"\r\nContent-Type: image/png',
                b"\x00\r\n--Xy\xff"))
    parts = formdata.parse(raw, CT)
    assert [(p.name, p.filename, p.data) for p in parts] == [
        ("key", None, b"a/b.txt"), ("file", "x.bin", b"\x00\r\n--Xy\xff")]
    assert parts[1].content_type == "image/png"


def test_quoted_boundary_and_escaped_names():
    raw = body((b'Content-Disposition: form-data; name="a\\"b"', b"v"))
    assert formdata.parse(raw, 'multipart/form-data; boundary="XyZ"')[0].name == 'a"b'


@pytest.mark.parametrize("raw, content_type", [
    (b"", CT),
    (body((b'Content-Disposition: form-data; name="k"', b"v"), close=False), CT),
    (body((b'Content-Disposition: form-data; name="k"', b"v")), "application/json"),
    (body((b'Content-Disposition: form-data; name="k"', b"v")), "multipart/form-data"),
    (body((b"Content-Disposition: attachment", b"v")), CT),
    (b"--XyZ\r\nno separator\r\n--XyZ--\r\n", CT),
    (b"junk--XyZ\r\n", CT),
])
def test_malformed_bodies_are_refused(raw, content_type):
    with pytest.raises(formdata.FormDataError):
        formdata.parse(raw, content_type)
