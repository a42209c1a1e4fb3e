"""Content moderation (MODERATION=wechat): start WeChat's check when an upload lands, apply its verdict when
the push arrives, and answer what state an object is in. See docs/threat-model.md "Content moderation".

State lives in the bucket, so every function instance sees the same:
- the object's tag `ossgate-moderation` = pending | pass | review, with a MAC (tag_value; OSS object tagging);
- `.ossgate/moderation/trace/<trace_id>.json`: which key a WeChat trace_id is about, and whether its verdict
  was applied (pushes are retried, and must act once);
- `.ossgate/moderation/removed/<key>`: written BEFORE a risky object is moved or deleted; downloads and the
  status route consult it.
Neither prefix is under UPLOAD_PREFIX (config.py checks it), so no user can download or overwrite them.

Timing: the upload callback must be answered within OSS's 5 s, and an FC instance may be frozen as soon as
the answer is sent, so nothing runs after it: the check starts inline, its WeChat calls bounded by one
CALLBACK_BUDGET_SECONDS deadline and each OSS call by OSS_TIMEOUT_SECONDS. A failure leaves the object `pending`,
is logged, and never fails the upload.
"""

import contextlib
import hashlib
import hmac
import json
import re

from . import contentsecurity
from .config import MODERATION_STATE_PREFIX
from .errors import CredentialsError, OssgateError, RequestError, UpstreamError

TAG = "ossgate-moderation"
# The callback body's field carrying the uploader's openid, sealed (sessions.seal_openid); pinned by the policy.
SEALED_OPENID_FIELD = "ossgate_o"
STATES = ("pending", "pass", "review", "risky")
VERDICTS = ("pass", "review", "risky")
TRACE_PREFIX = MODERATION_STATE_PREFIX + "moderation/trace/"
REMOVED_PREFIX = MODERATION_STATE_PREFIX + "moderation/removed/"
# WeChat answers within 30 minutes, and fetches the file itself: the link it gets outlives that.
MEDIA_URL_SECONDS = 3600
MIN_MEDIA_URL_SECONDS = 1800
CALLBACK_BUDGET_SECONDS = 3.0
OSS_TIMEOUT_SECONDS = 1.0
_TRACE_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class OssCalls:
    """The few bucket operations moderation needs (oss2, V4, short timeouts), with NoSuchKey as None/False."""

    def __init__(self, config, credentials, timeout=OSS_TIMEOUT_SECONDS):
        import oss2

        from .ossclient import bucket_for

        self._oss2 = oss2
        self.bucket = bucket_for(config, credentials, timeout)
        self.bucket_name = config.bucket

    def _tags(self, values):
        rule = self._oss2.models.TaggingRule()
        for name, value in values.items():
            rule.add(name, value)
        return self._oss2.models.Tagging(rule)

    def set_tag(self, key, value):
        self.bucket.put_object_tagging(key, self._tags({TAG: value}))

    def tag(self, key):
        """The object's moderation tag ('' if untagged), or None if there is no such object."""
        try:
            return self.bucket.get_object_tagging(key).tag_set.tagging_rule.get(TAG, "")
        except self._oss2.exceptions.NoSuchKey:
            return None

    def put_json(self, key, value):
        self.bucket.put_object(key, json.dumps(value, separators=(",", ":")).encode("utf-8"),
                               headers={"Content-Type": "application/json"})

    def get_json(self, key):
        try:
            return json.loads(self.bucket.get_object(key).read().decode("utf-8"))
        except self._oss2.exceptions.NoSuchKey:
            return None

    def exists(self, key):
        return self.bucket.object_exists(key)

    def move(self, key, target, tag_value):
        """CopyObject to `target` (tagged `tag_value`), then delete `key`; a key already gone is not an error."""
        try:
            self.bucket.copy_object(self.bucket_name, key, target, headers={
                "x-oss-tagging-directive": "Replace", "x-oss-tagging": "%s=%s" % (TAG, tag_value)})
        except self._oss2.exceptions.NoSuchKey:
            if not self.exists(target):
                raise
        self.delete(key)

    def delete(self, key):
        self.bucket.delete_object(key)

    @property
    def errors(self):
        """What a failed OSS call raises: OSS's answer, or the network."""
        return (self._oss2.exceptions.OssError, OSError)


@contextlib.contextmanager
def oss_errors_as_upstream():
    """A failed bucket call answers 502 upstream_error (logged by the caller's access line), never a 500."""
    import oss2

    try:
        yield
    except (oss2.exceptions.OssError, OSError):
        raise UpstreamError("upstream_error", "the bucket could not be reached or refused; try again")


def openid_from_callback(config, key, callback_body):
    """The uploader's openid, sealed in the callback body the ticket pinned (SEALED_OPENID_FIELD), opened for
    the user the key belongs to; None when absent or not genuine."""
    from . import sessions
    from .sealing import SealError

    try:
        sealed = json.loads(callback_body.decode("utf-8")).get(SEALED_OPENID_FIELD)
        return sessions.open_openid(config, user_of(config, key), sealed)
    except (ValueError, AttributeError, TypeError, SealError):
        return None


def trace_record_key(trace_id):
    return "%s%s.json" % (TRACE_PREFIX, trace_id)


def removed_marker_key(key):
    return REMOVED_PREFIX + key


def profile_of(config, key):
    """The profile name inside a server-chosen key `<prefix><userId>/<profile>/yyyy/mm/dd/<id>`, or None."""
    if not key.startswith(config.upload_prefix):
        return None
    parts = key[len(config.upload_prefix):].split("/")
    return parts[1] if len(parts) == 6 else None


def user_of(config, key):
    parts = key[len(config.upload_prefix):].split("/") if key.startswith(config.upload_prefix) else []
    return parts[0] if len(parts) == 6 else None


def checks_upload(config, profile_name, content_type):
    """Whether an upload is checked: MODERATION=wechat, a listed profile, an image or audio type."""
    return (profile_name is not None and config.moderates(profile_name)
            and contentsecurity.media_type(content_type) is not None)


def checks(config, key, content_type):
    """checks_upload for a stored object, its profile read from the server-chosen key."""
    return checks_upload(config, profile_of(config, key), content_type)


def callback_constants_for_key(config, session_payload, key):
    """For multipart complete's `x-oss-callback`: the key is known, its type need not be (the verified callback
    reports the stored type and decides). The sealed openid when the key's profile is moderated, else None; the
    complete's answer then relays `data.moderation` as a form upload's does."""
    profile = profile_of(config, key)
    if profile is None or not config.moderates(profile):
        return None
    return callback_constants(config, session_payload, profile, "image/*")


def callback_constants(config, session_payload, profile_name, content_type):
    """What the ticket's callback body adds for moderation (callbacks.ticket_callback_field's extra constants):
    the uploader's sealed openid when the upload will be checked, else None. The policy pins the body, so the
    client can neither drop nor swap it. A session from before moderation was turned on has none: 401."""
    from . import sessions
    from .errors import AuthError

    if not checks_upload(config, profile_name, content_type):
        return None
    sealed = session_payload.get(sessions.SEALED_OPENID_CLAIM)
    if not isinstance(sealed, str):
        raise AuthError("this upload is checked by WeChat and needs a newer session; sign in again")
    return {SEALED_OPENID_FIELD: sealed}


def media_url(config, credentials, key, now):
    """A presigned GET WeChat can fetch for at least 30 minutes (capped by the credentials' own expiry)."""
    from . import downloads

    seconds = MEDIA_URL_SECONDS
    if credentials.expiration is not None:
        seconds = min(seconds, int((credentials.expiration - now).total_seconds()) - 60)
    if seconds < MIN_MEDIA_URL_SECONDS:
        raise CredentialsError("the credentials expire too soon for WeChat to fetch the file")
    return downloads.sign_get(config, credentials, key, seconds)


def start_check(config, credentials, tokens, key, content_type, openid, now, log, oss=None,
                deadline=None):
    """Tag the object pending and start WeChat's check; → "pending". Never raises for OSS or WeChat trouble:
    it is logged (event moderation_not_started, with the failing step) and the object stays pending."""
    deadline = deadline or contentsecurity.Deadline(CALLBACK_BUDGET_SECONDS)
    step = "tag"
    try:
        oss = oss or OssCalls(config, credentials)
        oss.set_tag(key, tag_value(config, key, "pending"))
        step = "media_check_async"
        if openid is None:
            raise UpstreamError("upstream_error", "the upload carries no sealed openid")
        trace_id = contentsecurity.media_check_async(
            config, tokens, media_url(config, credentials, key, now), contentsecurity.media_type(content_type),
            openid, deadline)
        if not _TRACE_ID_RE.fullmatch(trace_id):
            raise UpstreamError("upstream_error", "WeChat answered an unusable trace_id")
        step = "record"
        oss.put_json(trace_record_key(trace_id), {"key": key, "state": "pending"})
        log("info", "moderation_started", key=key, traceId=trace_id)
    except OssgateError as exc:
        log("error", "moderation_not_started", key=key, step=step, code=exc.code, reason=exc.message)
    except Exception as exc:  # OSS or the network: logged by type only (messages may carry URLs)
        log("error", "moderation_not_started", key=key, step=step, reason=type(exc).__name__)
    return "pending"


def _verdict(event):
    """(trace_id, suggest) of a media-check event; suggest None when WeChat reports a failed check; (None, None)
    for events of other kinds."""
    if event.get("Event") not in (None, "wxa_media_check"):
        return None, None
    trace_id = event.get("trace_id")
    if not isinstance(trace_id, str) or not _TRACE_ID_RE.fullmatch(trace_id):
        raise RequestError("bad_request", "the push carries no valid trace_id")
    result = event.get("result")
    suggest = result.get("suggest") if isinstance(result, dict) else None
    if event.get("errcode", 0) != 0 or suggest not in VERDICTS:
        return trace_id, None
    return trace_id, suggest


def apply_push(config, oss, event, log):
    """Apply a verified `wxa_media_check` push once; → what was done (for the log and tests)."""
    trace_id, suggest = _verdict(event)
    if trace_id is None:
        return "ignored"
    record_key = trace_record_key(trace_id)
    record = oss.get_json(record_key)
    if not isinstance(record, dict) or not isinstance(record.get("key"), str):
        raise RequestError("not_found", "no moderation check with this trace_id (yet); WeChat will retry")
    key = record["key"]
    if record.get("state") != "pending":
        log("info", "moderation_push_repeated", key=key, traceId=trace_id)
        return "repeated"
    if suggest is None:
        log("error", "moderation_check_failed", key=key, traceId=trace_id, errcode=str(event.get("errcode")))
        oss.put_json(record_key, {"key": key, "state": "failed"})
        return "failed"
    if suggest == "risky":
        oss.put_json(removed_marker_key(key), {"state": "risky", "action": config.moderation_action,
                                               "traceId": trace_id})
        if config.moderation_action == "quarantine":
            target = config.quarantine_prefix + key
            oss.move(key, target, tag_value(config, target, "risky"))
        else:
            oss.delete(key)
    else:
        oss.set_tag(key, tag_value(config, key, suggest))
    oss.put_json(record_key, {"key": key, "state": suggest})
    log("info", "moderation_verdict", key=key, traceId=trace_id, suggest=suggest,
        action=config.moderation_action if suggest == "risky" else "tag")
    return suggest


def tag_value(config, key, state):
    """The `ossgate-moderation` tag value: the state and a MAC of key + state (keyed by SESSION_SECRETS), so a
    tag the uploader sets on their own object (a form may carry x-oss-tagging) is never taken for a verdict."""
    return "%s.%s" % (state, _tag_mac(config.session_secrets[0], key, state))


def _tag_mac(secret, key, state):
    message = b"\0".join((b"ossgate-moderation-tag-v1", key.encode("utf-8", "surrogatepass"), state.encode("ascii")))
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def state_from_tag(config, key, value):
    """The state a tag value of ours records, or None for anything we did not write."""
    state, _, mac = (value or "").partition(".")
    if state not in STATES or not mac:
        return None
    if any(hmac.compare_digest(_tag_mac(secret, key, state), mac) for secret in config.session_secrets):
        return state
    return None


def state_of(config, oss, key):
    """pending | pass | review | risky, or "unchecked" for an object that was never checked; 404 if none."""
    if oss.exists(removed_marker_key(key)):
        return "risky"
    tag = oss.tag(key)
    if tag is None:
        raise RequestError("not_found", "no such upload: %s" % key[:200])
    return state_from_tag(config, key, tag) or "unchecked"


def refuse_removed(oss, key):
    """410 removed when WeChat judged the object risky (it is quarantined or deleted)."""
    if oss.exists(removed_marker_key(key)):
        raise OssgateError("removed", "this upload was removed: WeChat's content check judged it risky")

