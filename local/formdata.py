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


def _parse_part(raw):
    head, sep, data = raw.partition(b"\r\n\r\n")
    if not sep:
        raise FormDataError("a part has no header/body separator")
    headers = {}
    for line in head.split(b"\r\n"):
        name, colon, value = line.decode("utf-8", "replace").partition(":")
        if not colon:
            raise FormDataError("a part header line has no colon")
        headers[name.strip().lower()] = value.strip()
    disposition, params = header_params(headers.get("content-disposition", ""))
    if disposition != "form-data" or "name" not in params:
        raise FormDataError("every part needs Content-Disposition: form-data; name=...")
    return Part(params["name"], params.get("filename"), headers.get("content-type"), data)


def parse(body, content_type):
    """Every part, in order. The body must start at the first delimiter and end with the closing one."""
    boundary = boundary_of(content_type)
    delimiter = b"--" + boundary
    if not body.startswith(delimiter + b"\r\n"):
        raise FormDataError("the body does not start with the boundary")
    close = b"\r\n" + delimiter + b"--"
    end = body.rfind(close)
    if end < 0 or body[end + len(close):].strip(b"\r\n") != b"":
        raise FormDataError("the body does not end with the closing boundary")
    inner = body[len(delimiter) + 2:end]
    return [_parse_part(raw) for raw in inner.split(b"\r\n" + delimiter + b"\r\n")]
