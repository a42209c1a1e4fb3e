"""Structured JSON log lines. Only named, non-secret fields are logged, and every line passes through a
redactor that blanks any known secret value (credentials, app secret, session secrets) that slipped in."""

import json
import sys
import traceback

REDACTED = "[REDACTED]"


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
        line = redact(json.dumps(record, ensure_ascii=False, default=str), secrets)
        stream = self._stream or sys.stdout
        stream.write(line + "\n")
        stream.flush()

    def exception(self, event, exc, secrets=(), **fields):
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.write("error", event, secrets=secrets, traceback=trace, **fields)
