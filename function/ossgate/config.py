"""The function's configuration: one typed, validated object built from the environment once per instance.

This module and credentials.py are the only ones that read the environment; everything else is handed a Config.
"""

import base64
import binascii
import re

from . import jsontext, mediatypes
from .errors import ConfigError
from .record import REQUIRED, Record

MAX_TICKET_TTL = 3600
MAX_OBJECT_SIZE = 5 * 1024 ** 3
DEFAULT_MAX_SIZE = 10 * 1024 * 1024
MIN_SESSION_SECRET_BYTES = 32

AUTH_MODES = ("wechat", "anonymous")
CREDENTIALS_MODES = ("runtime", "assume_role", "default_chain")

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_REGION_RE = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+$")
_PROFILE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_PREFIX_RE = re.compile(r"^([A-Za-z0-9._-]+/)*$")
_TYPE_PATTERN_RE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$")
_URL_RE = re.compile(r"^https?://[^\s/?#]+(/[^\s]*)?$")
_ROLE_ARN_RE = re.compile(r"^acs:ram::\d+:role/[A-Za-z0-9._-]+$")


class Profile(Record):
    """An upload profile: the largest file, the allowed types (empty: any), an optional ticket ttl, and how
    its objects are served (`attachment`, or `inline` for a profile of safe types only)."""

    __slots__ = ("name", "max_size", "content_types", "ttl", "disposition")
    _fields = (("name", REQUIRED), ("max_size", REQUIRED), ("content_types", ()), ("ttl", None),
               ("disposition", "attachment"))

    @property
    def restricts_types(self):
        return bool(self.content_types)

    def allows_type(self, content_type):
        """An active type (mediatypes.is_active) only when listed exactly: no wildcard, no any-type profile."""
        if mediatypes.is_active(content_type):
            return content_type in self.content_types
        if not self.content_types:
            return True
        major = content_type.split("/", 1)[0]
        return any(p == content_type or p == major + "/*" for p in self.content_types)


class Config(Record):
    """Every setting of README's configuration table, validated; see from_environ."""

    _fields = (
        ("bucket", REQUIRED), ("region", REQUIRED), ("upload_host", REQUIRED), ("endpoint", REQUIRED),
        ("auth_mode", REQUIRED), ("upload_prefix", "uploads/"), ("profiles", None), ("ticket_ttl", 600),
        ("cors_origins", ()), ("wechat_appid", None), ("wechat_secret", None),
        ("wechat_api_base", "https://api.weixin.qq.com"), ("session_secrets", ()), ("session_ttl", 7200),
        ("credentials_mode", "runtime"), ("sts_role_arn", None), ("sts_duration", 3600), ("callback_url", None),
        ("callback_public_key", None), ("download_ttl", 300), ("seed_route", False),
        ("moderation", "off"), ("moderation_profiles", ()), ("moderation_scene", 1),
        ("moderation_action", "quarantine"), ("quarantine_prefix", "quarantine/"), ("wechat_push_token", None),
        ("wechat_push_aes_key", None),
        ("quota_redis_url", None), ("quotas", None), ("quota_fail_mode", "closed"), ("quota_day_offset", 8 * 3600),
    )
    __slots__ = tuple(name for name, _ in _fields)
    _hidden = ("wechat_secret", "session_secrets", "callback_public_key", "wechat_push_token", "wechat_push_aes_key",
               "quota_redis_url")

    def secrets(self):
        """Values that must never appear in a response or a log line."""
        values = [self.wechat_secret] + [s.decode("utf-8", "replace") for s in self.session_secrets]
        values += [self.wechat_push_token, self.wechat_push_aes_key]
        values += redis_url_secrets(self.quota_redis_url)
        return [v for v in values if v]

    def moderates(self, profile_name):
        """Whether uploads of this profile are checked (MODERATION=wechat and the profile is listed)."""
        return self.moderation == "wechat" and profile_name in self.moderation_profiles


def _get(env, name):
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _required(env, name):
    value = _get(env, name)
    if value is None:
        raise ConfigError("%s is required" % name)
    return value


def _int(env, name, default, low, high):
    raw = _get(env, name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,12}", raw):
        raise ConfigError("%s must be a whole number of seconds or bytes, got %r" % (name, raw))
    value = int(raw)
    if not low <= value <= high:
        raise ConfigError("%s must be between %d and %d, got %d" % (name, low, high, value))
    return value


def _url(env, name, default=None):
    value = _get(env, name) or default
    if value is not None and not _URL_RE.fullmatch(value):
        raise ConfigError("%s must be an http(s) URL, got %r" % (name, value))
    return value.rstrip("/") if value else value


def _choice(env, name, choices, default=None):
    value = _get(env, name) or default
    if value not in choices:
        raise ConfigError("%s must be one of %s, got %r" % (name, ", ".join(choices), value))
    return value


def _whole_number(value, low, high):
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _json_object(raw, setting, shape):
    """A setting holding a non-empty JSON object; ConfigError naming the setting (never echoing its value)."""
    try:
        data = jsontext.loads(raw)
    except ValueError as exc:
        raise ConfigError("%s is not valid JSON: %s" % (setting, getattr(exc, "msg", exc)))
    if not isinstance(data, dict) or not data:
        raise ConfigError("%s must be %s" % (setting, shape))
    return data


def parse_profiles(raw, ticket_ttl_limit=MAX_TICKET_TTL):
    """UPLOAD_PROFILES: `{"<name>": {"maxSize": bytes, "contentTypes": [...], "ttl": seconds}}`."""
    if raw is None:
        return {"default": Profile("default", DEFAULT_MAX_SIZE)}
    data = _json_object(raw, "UPLOAD_PROFILES", "a non-empty JSON object of profiles")
    profiles = {}
    for name, spec in data.items():
        where = "UPLOAD_PROFILES[%r]" % name
        if not _PROFILE_NAME_RE.fullmatch(name):
            raise ConfigError("%s: a profile name is 1-32 of a-z 0-9 _ -" % where)
        if not isinstance(spec, dict):
            raise ConfigError("%s must be an object" % where)
        unknown = set(spec) - {"maxSize", "contentTypes", "ttl", "disposition"}
        if unknown:
            raise ConfigError("%s has unknown settings: %s" % (where, ", ".join(sorted(unknown))))
        max_size = spec.get("maxSize", DEFAULT_MAX_SIZE)
        if not _whole_number(max_size, 1, MAX_OBJECT_SIZE):
            raise ConfigError("%s.maxSize must be a whole number of bytes from 1 to 5 GiB" % where)
        types = spec.get("contentTypes", [])
        if not isinstance(types, list) or not all(isinstance(t, str) and _TYPE_PATTERN_RE.fullmatch(t) for t in types):
            raise ConfigError('%s.contentTypes must be a list like ["image/jpeg", "image/*"]' % where)
        ttl = spec.get("ttl")
        if ttl is not None and not _whole_number(ttl, 1, ticket_ttl_limit):
            raise ConfigError("%s.ttl must be a whole number of seconds from 1 to %d" % (where, ticket_ttl_limit))
        types = tuple(t.lower() for t in types)
        profiles[name] = Profile(name, max_size, types, ttl, _disposition(spec.get("disposition"), types, where))
    if "default" not in profiles:
        raise ConfigError('UPLOAD_PROFILES must define a "default" profile')
    return profiles


def _disposition(value, types, where):
    """`attachment` (the default) or `inline`, which needs listed types none of which is active."""
    if value is None or value == "attachment":
        return "attachment"
    if value != "inline":
        raise ConfigError('%s.disposition must be "attachment" or "inline"' % where)
    active = [t for t in types if mediatypes.is_active(t)]
    if not types or active:
        raise ConfigError("%s.disposition inline needs contentTypes with no active type (HTML, XML, SVG, script)%s"
                          % (where, ": " + ", ".join(active) if active else ""))
    return "inline"


def _session_secrets(env, why="AUTH_MODE=wechat"):
    raw = _get(env, "SESSION_SECRETS")
    secrets = tuple(s.strip().encode("utf-8") for s in (raw or "").split(",") if s.strip())
    if not secrets:
        raise ConfigError("SESSION_SECRETS is required when %s" % why)
    if any(len(s) < MIN_SESSION_SECRET_BYTES for s in secrets):
        raise ConfigError("every SESSION_SECRETS entry must be at least %d bytes" % MIN_SESSION_SECRET_BYTES)
    return secrets


def _upload_prefix(env):
    prefix = _get(env, "UPLOAD_PREFIX") or "uploads/"
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if not _PREFIX_RE.fullmatch(prefix) or any(part in (".", "..") for part in prefix.split("/")):
        raise ConfigError("UPLOAD_PREFIX must be path segments of A-Z a-z 0-9 . _ - ending in /, got %r" % prefix)
    return prefix


def _cors_origins(env):
    raw = _get(env, "CORS_ALLOW_ORIGINS")
    origins = tuple(o.strip().rstrip("/") for o in (raw or "").split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not re.fullmatch(r"https?://[^\s/?#]+", origin):
            raise ConfigError("CORS_ALLOW_ORIGINS entries must be exact origins like https://a.example or *")
    return origins


MODERATION_MODES = ("off", "wechat")
MODERATION_ACTIONS = ("quarantine", "delete")
# Where the function keeps its own moderation records in the bucket; neither prefix may overlap it.
MODERATION_STATE_PREFIX = ".ossgate/"


def _quarantine_prefix(env, upload_prefix):
    prefix = _get(env, "QUARANTINE_PREFIX") or "quarantine/"
    if not prefix.endswith("/"):
        prefix += "/"
    if not _PREFIX_RE.fullmatch(prefix) or any(part in (".", "..") for part in prefix.split("/")):
        raise ConfigError("QUARANTINE_PREFIX must be path segments of A-Z a-z 0-9 . _ - ending in /, got %r" % prefix)
    if prefix.startswith(upload_prefix) or upload_prefix.startswith(prefix):
        raise ConfigError("QUARANTINE_PREFIX %r must lie outside UPLOAD_PREFIX %r (users could reach it)"
                          % (prefix, upload_prefix))
    if prefix.startswith(MODERATION_STATE_PREFIX) or upload_prefix.startswith(MODERATION_STATE_PREFIX):
        raise ConfigError("QUARANTINE_PREFIX and UPLOAD_PREFIX must not start with %s (moderation records)"
                          % MODERATION_STATE_PREFIX)
    return prefix


def _push_aes_key(env):
    """WECHAT_PUSH_AES_KEY: the 43-character EncodingAESKey, base64 of 32 bytes (the value is never echoed)."""
    raw = _get(env, "WECHAT_PUSH_AES_KEY")
    if raw is None:
        return None
    try:
        valid = len(raw) == 43 and len(base64.b64decode(raw + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise ConfigError("WECHAT_PUSH_AES_KEY must be the 43-character EncodingAESKey from the mini program's "
                          "message-push settings (base64 of 32 bytes)")
    return raw


def _moderation(env, settings):
    """The MODERATION* settings; MODERATION=wechat needs AUTH_MODE=wechat, CALLBACK_URL and WECHAT_PUSH_TOKEN."""
    mode = _choice(env, "MODERATION", MODERATION_MODES, "off")
    raw_profiles = _get(env, "MODERATION_PROFILES")
    names = tuple(n.strip() for n in (raw_profiles or "").split(",") if n.strip()) or tuple(settings["profiles"])
    unknown = [n for n in names if n not in settings["profiles"]]
    if unknown:
        raise ConfigError("MODERATION_PROFILES names no such upload profile: %s" % ", ".join(unknown)[:200])
    scene = _int(env, "MODERATION_SCENE", 1, 1, 4)
    result = dict(
        moderation=mode, moderation_profiles=names, moderation_scene=scene,
        moderation_action=_choice(env, "MODERATION_ACTION", MODERATION_ACTIONS, "quarantine"),
        quarantine_prefix=_quarantine_prefix(env, settings["upload_prefix"]),
        wechat_push_token=_get(env, "WECHAT_PUSH_TOKEN"),
        wechat_push_aes_key=_push_aes_key(env),
    )
    if mode == "wechat":
        if settings["auth_mode"] != "wechat":
            raise ConfigError("MODERATION=wechat needs AUTH_MODE=wechat (the check needs the uploader's openid)")
        if not settings["callback_url"]:
            raise ConfigError("MODERATION=wechat needs CALLBACK_URL (checks start from the upload callback)")
        token = result["wechat_push_token"]
        if token is None or not re.fullmatch(r"[A-Za-z0-9]{3,32}", token):
            raise ConfigError("MODERATION=wechat needs WECHAT_PUSH_TOKEN: the message-push Token "
                              "(3-32 letters and digits)")
    return result


def from_environ(env):
    """Build and validate the Config; raises ConfigError naming the first bad variable."""
    bucket = _required(env, "OSS_BUCKET")
    if not _BUCKET_RE.fullmatch(bucket) or "--" in bucket:
        raise ConfigError("OSS_BUCKET %r is not a valid bucket name" % bucket)
    region = _required(env, "OSS_REGION")
    if region.startswith("oss-") or not _REGION_RE.fullmatch(region):
        raise ConfigError("OSS_REGION must be a region id like cn-hangzhou (no oss- prefix), got %r" % region)
    auth_mode = _choice(env, "AUTH_MODE", AUTH_MODES)
    ticket_ttl = _int(env, "TICKET_TTL_SECONDS", 600, 60, MAX_TICKET_TTL)
    settings = dict(
        bucket=bucket,
        region=region,
        upload_host=_url(env, "OSS_UPLOAD_HOST", "https://%s.oss-%s.aliyuncs.com" % (bucket, region)),
        endpoint=_url(env, "OSS_ENDPOINT", "https://oss-%s.aliyuncs.com" % region),
        auth_mode=auth_mode,
        upload_prefix=_upload_prefix(env),
        profiles=parse_profiles(_get(env, "UPLOAD_PROFILES"), ticket_ttl),
        ticket_ttl=ticket_ttl,
        cors_origins=_cors_origins(env),
        wechat_api_base=_url(env, "WECHAT_API_BASE", "https://api.weixin.qq.com"),
        session_ttl=_int(env, "SESSION_TTL_SECONDS", 7200, 60, 30 * 86400),
        credentials_mode=_choice(env, "CREDENTIALS_MODE", CREDENTIALS_MODES, "runtime"),
        sts_duration=_int(env, "STS_DURATION_SECONDS", 3600, 900, 43200),
        callback_url=_url(env, "CALLBACK_URL"),
        callback_public_key=_get(env, "OSS_CALLBACK_PUBLIC_KEY"),
        download_ttl=_int(env, "DOWNLOAD_TTL_SECONDS", 300, 1, 604800),
        seed_route=_choice(env, "SEED_ROUTE", ("on", "off"), "off") == "on",
    )
    if auth_mode == "wechat":
        settings.update(
            wechat_appid=_required(env, "WECHAT_APPID"),
            wechat_secret=_required(env, "WECHAT_SECRET"),
            session_secrets=_session_secrets(env),
        )
    if settings["callback_url"] and not settings.get("session_secrets"):
        # they key the MAC each ticket's callback body carries (callbacks.object_mac), in either auth mode
        settings["session_secrets"] = _session_secrets(env, "CALLBACK_URL is set (they key the callback MAC)")
    if settings["credentials_mode"] == "assume_role":
        arn = _required(env, "OSS_STS_ROLE_ARN")
        if not _ROLE_ARN_RE.fullmatch(arn):
            raise ConfigError("OSS_STS_ROLE_ARN must look like acs:ram::<uid>:role/<name>")
        settings["sts_role_arn"] = arn
    settings.update(_moderation(env, settings))
    _check_internal_endpoint(env, settings["endpoint"], region)
    key = settings["callback_public_key"]
    if key is not None and "BEGIN PUBLIC KEY" not in key:
        raise ConfigError("OSS_CALLBACK_PUBLIC_KEY must be a PEM public key")
    settings.update(_quota_settings(env, settings["profiles"]))
    return Config(**settings)


QUOTA_LIMITS = ("ticketsPerMinute", "uploadsPerDay", "bytesPerDay")
# A sliding window keeps one entry per ticket of the last minute, so its size is bounded here.
QUOTA_LIMIT_RANGES = {"ticketsPerMinute": 10000, "uploadsPerDay": 10 ** 9, "bytesPerDay": 2 ** 53}
QUOTA_FAIL_MODES = ("closed", "open")
_REDIS_URL_QUERY = ("ssl_ca_certs",)
_UTC_OFFSET_RE = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_REDIS_URL_HELP = ("QUOTA_REDIS_URL must look like redis://[[user]:password@]host[:port][/db] or rediss://... "
                   "[?ssl_ca_certs=<file>] (its value is not shown: it may hold a password)")


def redis_url_secrets(url):
    """The password of a Redis URL, as written and percent-decoded, for the log redactor."""
    if not url or "@" not in url:
        return []
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


def _redis_url(raw):
    from urllib.parse import parse_qs, urlsplit

    try:
        parts = urlsplit(raw)
        port = parts.port
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ConfigError(_REDIS_URL_HELP) from None
    valid = (parts.scheme in ("redis", "rediss") and parts.hostname and not parts.fragment
             and re.fullmatch(r"/?\d{0,2}", parts.path) and (port is None or 0 < port < 65536)
             and not any(c.isspace() for c in raw) and set(query) <= set(_REDIS_URL_QUERY)
             and (not query or parts.scheme == "rediss"))
    if not valid:
        raise ConfigError(_REDIS_URL_HELP)
    return raw


def parse_quotas(raw, profiles):
    """QUOTAS: `{"<profile>" | "*": {"ticketsPerMinute": n, "uploadsPerDay": n, "bytesPerDay": n}}`."""
    data = _json_object(raw, "QUOTAS", 'a non-empty JSON object like {"*": {"uploadsPerDay": 500}}')
    quotas = {}
    for scope, limits in data.items():
        where = "QUOTAS[%r]" % scope[:40]
        if scope != "*" and scope not in profiles:
            raise ConfigError('%s: no upload profile has that name (use a profile name or "*")' % where)
        if not isinstance(limits, dict) or not limits:
            raise ConfigError("%s must be an object naming at least one of %s" % (where, ", ".join(QUOTA_LIMITS)))
        unknown = sorted(set(limits) - set(QUOTA_LIMITS))
        if unknown:
            raise ConfigError("%s has unknown limits: %s (known: %s)"
                              % (where, ", ".join(u[:40] for u in unknown), ", ".join(QUOTA_LIMITS)))
        for name, value in limits.items():
            if not _whole_number(value, 1, QUOTA_LIMIT_RANGES[name]):
                raise ConfigError("%s.%s must be a whole number from 1 to %d"
                                  % (where, name, QUOTA_LIMIT_RANGES[name]))
        quotas[scope] = tuple(limits.get(name) for name in QUOTA_LIMITS)
    return quotas


def _utc_offset(env):
    raw = _get(env, "QUOTA_DAY_UTC_OFFSET") or "+08:00"
    match = _UTC_OFFSET_RE.fullmatch(raw)
    if not match or int(match.group(3)) >= 60 or int(match.group(2)) * 60 + int(match.group(3)) > 14 * 60:
        raise ConfigError("QUOTA_DAY_UTC_OFFSET must be an offset from -14:00 to +14:00 like +08:00, got %r" % raw[:40])
    seconds = int(match.group(2)) * 3600 + int(match.group(3)) * 60
    return -seconds if match.group(1) == "-" else seconds


def _quota_settings(env, profiles):
    """QUOTA_REDIS_URL, QUOTAS, QUOTA_FAIL_MODE, QUOTA_DAY_UTC_OFFSET: all or nothing, checked together."""
    url, raw_quotas = _get(env, "QUOTA_REDIS_URL"), _get(env, "QUOTAS")
    settings = dict(quota_fail_mode=_choice(env, "QUOTA_FAIL_MODE", QUOTA_FAIL_MODES, "closed"),
                    quota_day_offset=_utc_offset(env))
    if url is None and raw_quotas is None:
        return settings
    if url is None:
        raise ConfigError("QUOTAS is set but QUOTA_REDIS_URL is not: quotas need a Redis (or Tair) to count in")
    if raw_quotas is None:
        raise ConfigError("QUOTA_REDIS_URL is set but QUOTAS is not: name the limits to enforce")
    settings.update(quota_redis_url=_redis_url(url), quotas=parse_quotas(raw_quotas, profiles))
    return settings


_INTERNAL_ENDPOINT_RE = re.compile(r"^https?://oss-([a-z0-9-]+)-internal\.aliyuncs\.com$")


def _check_internal_endpoint(env, endpoint, region):
    """An -internal OSS endpoint answers only from inside its own region
    (https://help.aliyun.com/zh/oss/user-guide/regions-and-endpoints): it must be OSS_REGION's, and the function must
    run there (FC sets FC_REGION to the function's region)."""
    match = _INTERNAL_ENDPOINT_RE.fullmatch(endpoint)
    if not match:
        return
    if match.group(1) != region:
        raise ConfigError("OSS_ENDPOINT %s is region %s's internal endpoint but OSS_REGION is %s"
                          % (endpoint, match.group(1), region))
    function_region = _get(env, "FC_REGION")
    if function_region and function_region != region:
        raise ConfigError("OSS_ENDPOINT %s is reachable only from %s, but the function runs in %s: deploy it to %s "
                          "(unset OSSGATE_REGION) or use https://oss-%s.aliyuncs.com"
                          % (endpoint, region, function_region, region, region))


def load():
    """The Config of this process's environment."""
    import os

    return from_environ(os.environ)
