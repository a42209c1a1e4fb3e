import io
import json

from ossgate.log import REDACTED, JsonLogger, describe, redact


def test_known_secrets_are_redacted_from_any_field():
    out = io.StringIO()
    JsonLogger(out).write("info", "x", secrets=["s3cr3t-value"], note="saw s3cr3t-value here", nested={"a": "s3cr3t-value"})
    line = out.getvalue()
    assert "s3cr3t-value" not in line and line.count(REDACTED) == 2
    assert json.loads(line)["event"] == "x"


def test_short_or_empty_secrets_do_not_blank_everything():
    assert redact("abc", ["", None, "ab"]) == "abc"


def test_describe_follows_the_cause_chain_without_messages():
    try:
        try:
            raise KeyError("inner-secret")
        except KeyError as inner:
            raise ValueError("outer-secret") from inner
    except ValueError as exc:
        chain = describe(exc)
    assert [c["type"] for c in chain] == ["builtins.ValueError", "builtins.KeyError"]
    assert "secret" not in json.dumps(chain)
