"""A strict multipart/form-data (HTML form) reader for the local OSS: anything malformed raises FormDataError."""

import re
from dataclasses import dataclass
from typing import Optional

_PARAM_RE = re.compile(r';\s*([A-Za-z0-9_*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')


class FormDataError(ValueError):
    pass


@dataclass
class Part:
    name: str
    filename: Optional[str]
    content_type: Optional[str]
    data: bytes


def header_params(value):
    """`form-data; name="a"; filename="b"` → ("form-data", {"name": "a", "filename": "b"})."""
    main, _, rest = value.partition(";")
    params = {}
    for match in _PARAM_RE.finditer(";" + rest):
        raw = match.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[match.group(1).lower()] = raw
    return main.strip().lower(), params


def boundary_of(content_type):
    kind, params = header_params(content_type or "")
    if kind != "multipart/form-data":
        raise FormDataError("the body is not multipart/form-data")
    boundary = params.get("boundary", "")
    if not 1 <= len(boundary) <= 70:
        raise FormDataError("multipart/form-data needs a boundary of 1 to 70 characters")
    return boundary.encode("latin-1")


def _part_headers(raw):
    headers = {}
    for line in raw.split(b"\r\n"):
        name, colon, value = line.decode("utf-8", "replace").partition(":")
        if not colon:
            raise FormDataError("a part header line has no colon")
        headers[name.strip().lower()] = value.strip()
    disposition, params = header_params(headers.get("content-disposition", ""))
    if disposition != "form-data" or "name" not in params:
        raise FormDataError("every part needs Content-Disposition: form-data; name=...")
    return params["name"], params.get("filename"), headers.get("content-type")


def spans(buffer, content_type):
    """(name, filename, content type, start, end) of every part of `buffer` (bytes, or an mmap of a body
    received to disk), in order. The body must start at the first delimiter and end with the closing one."""
    boundary = boundary_of(content_type)
    delimiter = b"--" + boundary
    if buffer[:len(delimiter) + 2] != delimiter + b"\r\n":
        raise FormDataError("the body does not start with the boundary")
    close = b"\r\n" + delimiter + b"--"
    end = buffer.rfind(close)
    if end < 0 or len(buffer) - end > len(close) + 1024 or buffer[end + len(close):].strip(b"\r\n") != b"":
        raise FormDataError("the body does not end with the closing boundary")
    separator = b"\r\n" + delimiter + b"\r\n"
    position, found = len(delimiter) + 2, []
    while True:
        following = buffer.find(separator, position, end)
        part_end = end if following < 0 else following
        head_end = buffer.find(b"\r\n\r\n", position, part_end)
        if head_end < 0:
            raise FormDataError("a part has no header/body separator")
        found.append(_part_headers(buffer[position:head_end]) + (head_end + 4, part_end))
        if following < 0:
            return found
        position = following + len(separator)


def parse(body, content_type):
    """Every part, in order, with its bytes."""
    return [Part(name, filename, ctype, body[start:end]) for name, filename, ctype, start, end
            in spans(body, content_type)]
