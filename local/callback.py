"""The local OSS's upload callback (https://www.alibabacloud.com/help/en/oss/developer-reference/callback):
substitute the variables, sign with RSA (MD5withRSA, PKCS#1 v1.5, via the `cryptography` package: a different
library from the function's verifier), POST to callbackUrl within 5 s, and report what to relay to the uploader."""

import base64
import binascii
import http.client
import json
import re
import struct
from urllib.parse import quote, unquote, urlsplit

TIMEOUT_SECONDS = 5.0
KEY_URL = "https://gosspublic.alicdn.com/callback_pub_key_v1.pem"
_VAR_RE = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")


class CallbackSpecError(ValueError):
    pass


def parse_spec(field):
    """The decoded `callback` form field; CallbackSpecError when OSS would answer InvalidArgument."""
    try:
        spec = json.loads(base64.b64decode(field, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise CallbackSpecError("The callback field is not base64 JSON.")
    if not isinstance(spec, dict) or not isinstance(spec.get("callbackUrl"), str) \
            or not isinstance(spec.get("callbackBody"), str):
        raise CallbackSpecError("The callback needs callbackUrl and callbackBody.")
    if urlsplit(spec["callbackUrl"]).scheme not in ("http", "https"):
        raise CallbackSpecError("The callbackUrl must be http or https.")
    body_type = spec.get("callbackBodyType", "application/x-www-form-urlencoded")
    if body_type not in ("application/x-www-form-urlencoded", "application/json"):
        raise CallbackSpecError("Unsupported callbackBodyType.")
    spec["callbackBodyType"] = body_type
    return spec


def image_info(data):
    """(width, height, format) of a PNG, GIF or JPEG, else None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height, "png"
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height, "gif"
    if data[:2] == b"\xff\xd8":
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                return None
            marker = data[index + 1]
            length = struct.unpack(">H", data[index + 2:index + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[index + 5:index + 9])
                return width, height, "jpg"
            index += 2 + length
    return None


def render_body(spec, bucket, key, meta, data, fields):
    info = image_info(data)
    values = {"bucket": bucket, "object": key, "etag": meta["etag"], "size": meta["size"],
              "mimeType": meta["contentType"], "imageInfo.width": info[0] if info else "",
              "imageInfo.height": info[1] if info else "", "imageInfo.format": info[2] if info else ""}
    as_json = spec["callbackBodyType"] == "application/json"

    def substitute(match):
        name = match.group(1)
        if name.startswith("x:"):
            value = fields.get(name.lower(), "")
        elif name in values:
            value = values[name]
        else:
            return match.group(0)
        return json.dumps(value) if as_json else quote(str(value), safe="")
    return _VAR_RE.sub(substitute, spec["callbackBody"]).encode("utf-8")


def sign(private_key, path, query, body):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    message = unquote(path).encode("utf-8") + query.encode("utf-8") + b"\n" + body
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.MD5())).decode("ascii")


def deliver(spec, body, private_key, timeout=TIMEOUT_SECONDS):
    """POST the callback. Returns (ok, response body bytes)."""
    url = urlsplit(spec["callbackUrl"])
    query = "?" + url.query if url.query else ""
    headers = {
        "Content-Type": spec["callbackBodyType"], "Content-Length": str(len(body)),
        "Authorization": sign(private_key, url.path or "/", query, body),
        "x-oss-pub-key-url": base64.b64encode(KEY_URL.encode()).decode("ascii"),
        "Host": spec.get("callbackHost") or url.netloc,
        "User-Agent": "aliyun-oss-callback",
    }
    connection_type = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(url.hostname, url.port, timeout=timeout)
    try:
        connection.request("POST", (url.path or "/") + query, body=body, headers=headers)
        answer = connection.getresponse()
        payload = answer.read(1024 * 1024 + 1)
        return answer.status == 200 and len(payload) <= 1024 * 1024, payload
    except OSError:
        return False, b""
    finally:
        connection.close()


def load_or_create_key(path=None):
    """The RSA private key OSS signs callbacks with: from a PEM file, or a new 2048-bit one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if path:
        with open(path, "rb") as source:
            return serialization.load_pem_private_key(source.read(), password=None)
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_key_pair(private_path):
    """Create a key pair for `make local`: the private PEM at `private_path`; returns the public PEM text."""
    from cryptography.hazmat.primitives import serialization

    key = load_or_create_key()
    with open(private_path, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
