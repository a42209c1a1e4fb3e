"""Request bodies, read once and streamed: to a file (objects, parts) or into memory (XML, forms).

Whatever an operation does not read is drained before the answer, so an error never cuts a keep-alive
connection mid-upload."""

import base64
import hashlib
import os

from .crc64 import Crc64
from .errors import OssError

CHUNK = 1024 * 1024


class Received:
    def __init__(self, path, size, md5, crc64):
        self.path = path
        self.size = size
        self.md5 = md5          # raw 16 bytes
        self.crc64 = crc64      # int

    @property
    def etag(self):
        return self.md5.hex().upper()

    def discard(self):
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass


class Body:
    def __init__(self, rfile, headers):
        self.rfile = rfile
        self.chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        length = headers.get("Content-Length")
        if not self.chunked and length is not None and not length.strip().isdigit():
            raise OssError("InvalidArgument", "Content-Length is not a number.")
        self.has_length = self.chunked or length is not None
        self.remaining = 0 if self.chunked else int(length or 0)
        self.declared = None if self.chunked else self.remaining
        self._chunk_left = 0
        self.done = not self.chunked and self.remaining == 0

    def read(self, size=CHUNK):
        """Up to `size` bytes; b"" at the end."""
        if self.done:
            return b""
        if not self.chunked:
            data = self.rfile.read(min(size, self.remaining))
            if not data:
                raise OssError("InvalidRequest", "The request body ended before Content-Length bytes.")
            self.remaining -= len(data)
            self.done = self.remaining == 0
            return data
        if self._chunk_left == 0:
            line = self.rfile.readline(1024)
            try:
                self._chunk_left = int(line.split(b";")[0].strip() or b"x", 16)
            except ValueError:
                self.done = True
                raise OssError("InvalidRequest", "Malformed chunked request body.")
            if self._chunk_left == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                self.done = True
                return b""
        data = self.rfile.read(min(size, self._chunk_left))
        if not data:
            self.done = True
            raise OssError("InvalidRequest", "The request body ended early.")
        self._chunk_left -= len(data)
        if self._chunk_left == 0:
            self.rfile.readline(8)
        return data

    def read_all(self, limit):
        """The whole body in memory, refused above `limit` bytes."""
        if self.declared is not None and self.declared > limit:
            raise OssError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
        chunks, total = [], 0
        while True:
            data = self.read()
            if not data:
                return b"".join(chunks)
            total += len(data)
            if total > limit:
                raise OssError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
            chunks.append(data)

    def drain(self):
        try:
            while self.read():
                pass
        except OssError:
            pass

    def to_file(self, path, limit, content_md5=None):
        """Stream the body to `path`, hashing as it goes. Content-MD5 (base64) is checked at the end:
        InvalidDigest when it is not a base64 MD5 (EC 0017-00000502) or does not match (EC 0017-00000503),
        as https://help.aliyun.com/zh/oss/user-guide/0017-00000503 describes; the file is removed.
        An upload must say how long it is (Content-Length, or chunked): MissingContentLength otherwise."""
        if not self.has_length:
            raise OssError("MissingContentLength", "You must provide the Content-Length HTTP header.")
        if self.declared is not None and self.declared > limit:
            raise OssError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
        expected = _decode_md5(content_md5) if content_md5 is not None else None
        md5, crc, size = hashlib.md5(), Crc64(), 0
        try:
            with open(path, "wb") as out:
                while True:
                    data = self.read()
                    if not data:
                        break
                    size += len(data)
                    if size > limit:
                        raise OssError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
                    md5.update(data)
                    crc.update(data)
                    out.write(data)
            if expected is not None and md5.digest() != expected:
                raise OssError("InvalidDigest", "The Content-MD5 you specified did not match what we received.",
                               ec="0017-00000503", ExpectedMD5=content_md5,
                               CalculatedMD5=base64.b64encode(md5.digest()).decode())
        except BaseException:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
            raise
        return Received(path, size, md5.digest(), crc.value)


def copy_to_file(source, path, length):
    """Copy `length` bytes from the open file `source` (at its position) to `path`, hashing as it goes."""
    md5, crc, left = hashlib.md5(), Crc64(), length
    with open(path, "wb") as out:
        while left:
            data = source.read(min(CHUNK, left))
            if not data:
                break
            md5.update(data)
            crc.update(data)
            out.write(data)
            left -= len(data)
    return Received(path, length - left, md5.digest(), crc.value)


def _decode_md5(value):
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 16:
        raise OssError("InvalidDigest", "The Content-MD5 you specified is not valid.", ec="0017-00000502")
    return raw


def check_content_md5(headers, data):
    """Content-MD5 of an in-memory body (XML requests)."""
    value = headers.get("Content-MD5")
    if value is not None and hashlib.md5(data).digest() != _decode_md5(value):
        raise OssError("InvalidDigest", "The Content-MD5 you specified did not match what we received.",
                       ec="0017-00000503")
