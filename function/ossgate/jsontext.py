"""JSON in and out for untrusted text: parsing raises nothing but ValueError (a document nested thousands
deep raises RecursionError in the json module), and encoded text can always be sent as UTF-8 (a lone
surrogate, which a `\\udXXX` escape in a request can put into a string, is written back as an escape)."""

import json


def loads(text):
    """json.loads, with a too deeply nested document reported as ValueError like any other bad JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("the JSON document is nested too deeply")


def utf8_safe_encoder(**options):
    """A JSONEncoder(**options).encode that keeps non-ASCII text readable, and ASCII-escapes the whole
    document only when it holds text UTF-8 cannot encode."""
    readable = json.JSONEncoder(ensure_ascii=False, **options).encode
    escaped = json.JSONEncoder(ensure_ascii=True, **options).encode

    def encode(value):
        text = readable(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return escaped(value)
        return text
    return encode


dumps = utf8_safe_encoder(separators=(",", ":"))
