"""Structured JSON log lines. Only named, non-secret fields are logged, and every line passes through a
redactor that blanks any known secret value (credentials, app secret, session secrets) that slipped in.

Exceptions are logged as their type and stack frames, never their message: a message may carry a value
(a secret from a failed call, a token) that no redactor knows about."""

import sys
import traceback

from .jsontext import utf8_safe_encoder

REDACTED = "[REDACTED]"
_encode_line = utf8_safe_encoder(default=str)


def redact(text, secrets):
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


class JsonLogger:
    def __init__(self, stream=None):
        self._stream = stream

    def write(self, level, event, secrets=(), **fields):
        record = {"level": level, "event": event}
        record.update((k, v) for k, v in fields.items() if v is not None)
        line = redact(_encode_line(record), secrets)
        stream = self._stream or sys.stdout
        stream.write(line + "\n")
        stream.flush()

    def exception(self, event, exc, secrets=(), **fields):
        self.write("error", event, secrets=secrets, exception=describe(exc), **fields)


def describe(exc):
    """Type and frames of an exception and of its causes, without any message."""
    chain = []
    while exc is not None and len(chain) < 5:
        frames = ["%s:%d in %s" % (f.filename, f.lineno, f.name) for f in traceback.extract_tb(exc.__traceback__)]
        chain.append({"type": "%s.%s" % (type(exc).__module__, type(exc).__qualname__), "frames": frames})
        exc = exc.__cause__ or exc.__context__
    return chain
