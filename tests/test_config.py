import json
import re

import pytest

from conftest import base_env
from ossgate import config
from ossgate.errors import ConfigError


def test_defaults():
    cfg = config.from_environ(base_env())
    assert cfg.upload_host == "https://demo-bucket.oss-cn-hangzhou.aliyuncs.com"
    assert cfg.endpoint == "https://oss-cn-hangzhou.aliyuncs.com"
    assert cfg.upload_prefix == "uploads/"
    assert cfg.ticket_ttl == 600
    assert cfg.profiles["default"].max_size == 10 * 1024 * 1024
    assert not cfg.profiles["default"].restricts_types
    assert cfg.credentials_mode == "runtime"


@pytest.mark.parametrize("overrides, named", [
    ({"OSS_BUCKET": None}, "OSS_BUCKET"),
    ({"OSS_BUCKET": "Bad_Bucket"}, "OSS_BUCKET"),
    ({"OSS_REGION": None}, "OSS_REGION"),
    ({"OSS_REGION": "oss-cn-hangzhou"}, "OSS_REGION"),
    ({"AUTH_MODE": None}, "AUTH_MODE"),
    ({"AUTH_MODE": "none"}, "AUTH_MODE"),
    ({"TICKET_TTL_SECONDS": "7200"}, "TICKET_TTL_SECONDS"),
    ({"TICKET_TTL_SECONDS": "ten"}, "TICKET_TTL_SECONDS"),
    ({"UPLOAD_PREFIX": "../x/"}, "UPLOAD_PREFIX"),
    ({"UPLOAD_PREFIX": "/abs/"}, "UPLOAD_PREFIX"),
    ({"UPLOAD_PROFILES": "{"}, "UPLOAD_PROFILES"),
    ({"UPLOAD_PROFILES": json.dumps({"avatar": {"maxSize": 10}})}, "default"),
    ({"UPLOAD_PROFILES": json.dumps({"default": {"maxSize": 0}})}, "maxSize"),
    ({"UPLOAD_PROFILES": json.dumps({"default": {"maxSize": True}})}, "maxSize"),
    ({"UPLOAD_PROFILES": json.dumps({"default": {"contentTypes": ["jpeg"]}})}, "contentTypes"),
    ({"UPLOAD_PROFILES": json.dumps({"default": {"ttl": 99999}})}, "ttl"),
    ({"UPLOAD_PROFILES": json.dumps({"default": {"maxsize": 1}})}, "maxsize"),
    ({"UPLOAD_PROFILES": json.dumps({"default": {}, "x\n": {}})}, "profile name"),
    ({"UPLOAD_PROFILES": json.dumps({"default": {"contentTypes": ["image/png\n"]}})}, "contentTypes"),
    ({"OSS_UPLOAD_HOST": "ftp://x"}, "OSS_UPLOAD_HOST"),
    ({"CORS_ALLOW_ORIGINS": "https://a.example/path"}, "CORS_ALLOW_ORIGINS"),
    ({"CREDENTIALS_MODE": "magic"}, "CREDENTIALS_MODE"),
    ({"CREDENTIALS_MODE": "assume_role"}, "OSS_STS_ROLE_ARN"),
    ({"CREDENTIALS_MODE": "assume_role", "OSS_STS_ROLE_ARN": "role"}, "OSS_STS_ROLE_ARN"),
    ({"AUTH_MODE": "wechat"}, "WECHAT_APPID"),
    ({"AUTH_MODE": "wechat", "WECHAT_APPID": "wx1"}, "WECHAT_SECRET"),
    ({"AUTH_MODE": "wechat", "WECHAT_APPID": "wx1", "WECHAT_SECRET": "s"}, "SESSION_SECRETS"),
    ({"AUTH_MODE": "wechat", "WECHAT_APPID": "wx1", "WECHAT_SECRET": "s", "SESSION_SECRETS": "short"},
     "SESSION_SECRETS"),
    ({"OSS_CALLBACK_PUBLIC_KEY": "not a pem"}, "OSS_CALLBACK_PUBLIC_KEY"),
])
def test_invalid_settings_name_the_variable(overrides, named):
    with pytest.raises(ConfigError) as raised:
        config.from_environ(base_env(**overrides))
    assert named in raised.value.message
    assert raised.value.status == 500 and raised.value.code == "config_error"


def test_profiles_and_wechat_settings():
    cfg = config.from_environ(base_env(
        AUTH_MODE="wechat", WECHAT_APPID="wx123", WECHAT_SECRET="appsecret-value",
        SESSION_SECRETS="a" * 32 + ", " + "b" * 40,
        UPLOAD_PROFILES=json.dumps({"default": {"maxSize": 100},
                                    "avatar": {"maxSize": 2048, "contentTypes": ["image/*"], "ttl": 120}}),
        UPLOAD_PREFIX="media", CORS_ALLOW_ORIGINS="https://a.example, http://localhost:8080/"))
    assert cfg.session_secrets == (b"a" * 32, b"b" * 40)
    assert cfg.upload_prefix == "media/"
    assert cfg.cors_origins == ("https://a.example", "http://localhost:8080")
    avatar = cfg.profiles["avatar"]
    assert avatar.allows_type("image/png") and not avatar.allows_type("video/mp4")
    assert avatar.ttl == 120


def test_secrets_are_not_in_repr():
    cfg = config.from_environ(base_env(AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET="the-app-secret",
                                       SESSION_SECRETS="s" * 40))
    assert "the-app-secret" not in repr(cfg) and "s" * 40 not in repr(cfg)
    assert "the-app-secret" in cfg.secrets()


@pytest.mark.parametrize("auth", [{"AUTH_MODE": "anonymous"}, {"AUTH_MODE": "wechat", "WECHAT_APPID": "wx1",
                                                               "WECHAT_SECRET": "s"}])
def test_callbacks_need_session_secrets_in_either_auth_mode(auth):
    """They key the MAC each ticket's callback body carries (docs/threat-model.md)."""
    with pytest.raises(ConfigError, match="SESSION_SECRETS"):
        config.from_environ(base_env(CALLBACK_URL="https://api.example.com/v1/oss-callback", **auth))
    cfg = config.from_environ(base_env(CALLBACK_URL="https://api.example.com/v1/oss-callback",
                                       SESSION_SECRETS="a" * 32 + "," + "b" * 32, **auth))
    assert cfg.session_secrets == (b"a" * 32, b"b" * 32)


def test_deeply_nested_profiles_are_a_config_error():
    with pytest.raises(ConfigError, match="UPLOAD_PROFILES"):
        config.from_environ(base_env(UPLOAD_PROFILES="[" * 100000))


@pytest.mark.parametrize("spec, error", [
    ({"disposition": "inline"}, "contentTypes"),                                            # any type: no
    ({"contentTypes": ["image/*", "image/svg+xml"], "disposition": "inline"}, "image/svg+xml"),
    ({"contentTypes": ["text/html"], "disposition": "inline"}, "text/html"),
    ({"contentTypes": ["image/png"], "disposition": "download"}, "disposition"),
])
def test_inline_disposition_only_for_safe_types(spec, error):
    with pytest.raises(ConfigError, match=re.escape(error)):
        config.from_environ(base_env(UPLOAD_PROFILES=json.dumps({"default": {}, "p": spec})))


def test_profile_disposition_defaults_to_attachment():
    cfg = config.from_environ(base_env(UPLOAD_PROFILES=json.dumps(
        {"default": {}, "photos": {"contentTypes": ["image/*"], "disposition": "inline"}})))
    assert cfg.profiles["default"].disposition == "attachment" and cfg.profiles["photos"].disposition == "inline"


def test_seed_route_is_off_unless_on():
    assert config.from_environ(base_env()).seed_route is False
    assert config.from_environ(base_env(SEED_ROUTE="on")).seed_route is True
    with pytest.raises(ConfigError, match="SEED_ROUTE"):
        config.from_environ(base_env(SEED_ROUTE="yes"))


MODERATED = dict(AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET="app-secret", SESSION_SECRETS="s" * 32,
                 CALLBACK_URL="https://fn.example/v1/oss-callback", MODERATION="wechat", WECHAT_PUSH_TOKEN="tok123")
GOOD_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def test_moderation_defaults_and_settings():
    cfg = config.from_environ(base_env())
    assert (cfg.moderation, cfg.moderation_scene, cfg.moderation_action, cfg.quarantine_prefix) == (
        "off", 1, "quarantine", "quarantine/")
    assert not cfg.moderates("default")
    profiles = json.dumps({"default": {}, "avatar": {"contentTypes": ["image/*"]}})
    cfg = config.from_environ(base_env(**dict(MODERATED, UPLOAD_PROFILES=profiles)))
    assert cfg.moderation_profiles == ("default", "avatar") and cfg.moderates("avatar")
    cfg = config.from_environ(base_env(**dict(MODERATED, UPLOAD_PROFILES=profiles, MODERATION_PROFILES="avatar",
                                              MODERATION_SCENE="3", MODERATION_ACTION="delete",
                                              QUARANTINE_PREFIX="held", WECHAT_PUSH_AES_KEY=GOOD_AES_KEY)))
    assert cfg.moderates("avatar") and not cfg.moderates("default")
    assert (cfg.moderation_scene, cfg.moderation_action, cfg.quarantine_prefix) == (3, "delete", "held/")
    assert GOOD_AES_KEY in cfg.secrets() and "tok123" in cfg.secrets()
    assert GOOD_AES_KEY not in repr(cfg) and "tok123" not in repr(cfg)


@pytest.mark.parametrize("overrides, named", [
    ({"MODERATION": "on"}, "MODERATION"),
    ({"AUTH_MODE": "anonymous"}, "AUTH_MODE=wechat"),
    ({"CALLBACK_URL": None}, "CALLBACK_URL"),
    ({"WECHAT_PUSH_TOKEN": None}, "WECHAT_PUSH_TOKEN"),
    ({"WECHAT_PUSH_TOKEN": "a b"}, "WECHAT_PUSH_TOKEN"),
    ({"MODERATION_PROFILES": "default,avatars"}, "MODERATION_PROFILES"),
    ({"MODERATION_SCENE": "5"}, "MODERATION_SCENE"),
    ({"MODERATION_ACTION": "hide"}, "MODERATION_ACTION"),
    ({"QUARANTINE_PREFIX": "uploads/quarantine/"}, "QUARANTINE_PREFIX"),
    ({"QUARANTINE_PREFIX": "../q/"}, "QUARANTINE_PREFIX"),
    ({"QUARANTINE_PREFIX": ".ossgate/q/"}, "QUARANTINE_PREFIX"),
    ({"UPLOAD_PREFIX": "files/", "QUARANTINE_PREFIX": "files/"}, "QUARANTINE_PREFIX"),
    ({"WECHAT_PUSH_AES_KEY": "tooShort"}, "WECHAT_PUSH_AES_KEY"),
    ({"WECHAT_PUSH_AES_KEY": GOOD_AES_KEY[:-1] + "!"}, "WECHAT_PUSH_AES_KEY"),
    ({"WECHAT_PUSH_AES_KEY": GOOD_AES_KEY + "A"}, "WECHAT_PUSH_AES_KEY"),
])
def test_invalid_moderation_settings_name_the_variable(overrides, named):
    with pytest.raises(ConfigError) as raised:
        config.from_environ(base_env(**dict(MODERATED, **overrides)))
    assert named in raised.value.message
    for value in overrides.values():
        if value and "AES" in named:
            assert value not in raised.value.message  # a bad key is named, never echoed


QUOTA_URL = "redis://:pa55word-in-url@tair.example.internal:6379/0"


def test_quota_settings_default_to_off_and_parse_when_set():
    off = config.from_environ(base_env())
    assert off.quotas is None and off.quota_redis_url is None
    assert off.quota_fail_mode == "closed" and off.quota_day_offset == 8 * 3600
    on = config.from_environ(base_env(
        QUOTA_REDIS_URL=QUOTA_URL, QUOTA_FAIL_MODE="open", QUOTA_DAY_UTC_OFFSET="-05:30",
        UPLOAD_PROFILES=json.dumps({"default": {}, "avatar": {"maxSize": 1000}}),
        QUOTAS=json.dumps({"*": {"ticketsPerMinute": 30, "uploadsPerDay": 500, "bytesPerDay": 2147483648},
                           "avatar": {"uploadsPerDay": 5}})))
    assert on.quotas == {"*": (30, 500, 2147483648), "avatar": (None, 5, None)}
    assert on.quota_fail_mode == "open" and on.quota_day_offset == -(5 * 3600 + 30 * 60)
    assert on.quota_redis_url == QUOTA_URL
    assert "pa55word-in-url" in on.secrets() and "pa55word" not in repr(on)


@pytest.mark.parametrize("url", [
    "rediss://default:pa55%40word@r-bp1.redis.rds.aliyuncs.com:6380",
    "redis://127.0.0.1", "redis://h:6379/15", "rediss://h?ssl_ca_certs=/code/tair-ca.pem",
])
def test_redis_urls_accepted(url):
    cfg = config.from_environ(base_env(QUOTA_REDIS_URL=url, QUOTAS='{"*": {"uploadsPerDay": 1}}'))
    assert cfg.quota_redis_url == url


def test_a_percent_encoded_redis_password_is_redacted_both_ways():
    cfg = config.from_environ(base_env(QUOTA_REDIS_URL="redis://:pa55%40word@h", QUOTAS='{"*": {"uploadsPerDay": 1}}'))
    assert {"pa55%40word", "pa55@word"} <= set(cfg.secrets())


@pytest.mark.parametrize("overrides, named", [
    ({"QUOTAS": '{"*": {"uploadsPerDay": 1}}'}, "QUOTA_REDIS_URL"),
    ({"QUOTA_REDIS_URL": QUOTA_URL}, "QUOTAS"),
    ({"QUOTA_REDIS_URL": "http://:pa55word-in-url@h", "QUOTAS": '{"*": {"uploadsPerDay": 1}}'}, "QUOTA_REDIS_URL"),
    ({"QUOTA_REDIS_URL": "redis://:pa55word-in-url@h:99999", "QUOTAS": '{"*": {"uploadsPerDay": 1}}'},
     "QUOTA_REDIS_URL"),
    ({"QUOTA_REDIS_URL": "redis://:pa55word-in-url@", "QUOTAS": '{"*": {"uploadsPerDay": 1}}'}, "QUOTA_REDIS_URL"),
    ({"QUOTA_REDIS_URL": "redis://:pa55word-in-url@h/db", "QUOTAS": '{"*": {"uploadsPerDay": 1}}'},
     "QUOTA_REDIS_URL"),
    ({"QUOTA_REDIS_URL": "redis://:pa55word-in-url@h?password=x", "QUOTAS": '{"*": {"uploadsPerDay": 1}}'},
     "QUOTA_REDIS_URL"),
    ({"QUOTA_REDIS_URL": "redis://:pa55word-in-url@h?ssl_ca_certs=/code/ca.pem",
      "QUOTAS": '{"*": {"uploadsPerDay": 1}}'}, "QUOTA_REDIS_URL"),
    ({"QUOTA_REDIS_URL": QUOTA_URL, "QUOTAS": "{"}, "QUOTAS"),
    ({"QUOTA_REDIS_URL": QUOTA_URL, "QUOTAS": "{}"}, "QUOTAS"),
    ({"QUOTA_REDIS_URL": QUOTA_URL, "QUOTAS": "[" * 100000}, "QUOTAS"),
    ({"QUOTA_REDIS_URL": QUOTA_URL, "QUOTAS": '{"avatar": {"uploadsPerDay": 1}}'}, "avatar"),
    ({"QUOTA_REDIS_URL": QUOTA_URL, "QUOTAS": '{"*": {}}'}, "ticketsPerMinute"),
    ({"QUOTA_REDIS_URL": QUOTA_URL, "QUOTAS": '{"*": {"uploadsPerHour": 1}}'}, "uploadsPerHour"),
    ({"QUOTA_REDIS_URL": QUOTA_URL, "QUOTAS": '{"*": {"uploadsPerDay": 0}}'}, "uploadsPerDay"),
    ({"QUOTA_REDIS_URL": QUOTA_URL, "QUOTAS": '{"*": {"bytesPerDay": 1.5}}'}, "bytesPerDay"),
    ({"QUOTA_REDIS_URL": QUOTA_URL, "QUOTAS": '{"*": {"bytesPerDay": "100"}}'}, "bytesPerDay"),
    ({"QUOTA_REDIS_URL": QUOTA_URL, "QUOTAS": '{"*": {"ticketsPerMinute": true}}'}, "ticketsPerMinute"),
    ({"QUOTA_REDIS_URL": QUOTA_URL, "QUOTAS": '{"*": {"ticketsPerMinute": 100000}}'}, "ticketsPerMinute"),
    ({"QUOTA_FAIL_MODE": "sometimes"}, "QUOTA_FAIL_MODE"),
    ({"QUOTA_DAY_UTC_OFFSET": "8"}, "QUOTA_DAY_UTC_OFFSET"),
    ({"QUOTA_DAY_UTC_OFFSET": "+15:00"}, "QUOTA_DAY_UTC_OFFSET"),
    ({"QUOTA_DAY_UTC_OFFSET": "+08:60"}, "QUOTA_DAY_UTC_OFFSET"),
])
def test_invalid_quota_settings_name_the_setting_and_never_the_password(overrides, named):
    with pytest.raises(ConfigError) as raised:
        config.from_environ(base_env(**overrides))
    assert named in raised.value.message and raised.value.code == "config_error"
    assert "pa55word" not in raised.value.message


@pytest.mark.parametrize("overrides", [
    {"OSS_ENDPOINT": "https://oss-cn-shanghai-internal.aliyuncs.com"},                         # not OSS_REGION's
    {"OSS_ENDPOINT": "https://oss-cn-hangzhou-internal.aliyuncs.com", "FC_REGION": "cn-beijing"},  # function elsewhere
])
def test_an_internal_endpoint_outside_its_region_is_refused(overrides):
    with pytest.raises(ConfigError, match="OSS_ENDPOINT"):
        config.from_environ(base_env(**overrides))


def test_an_internal_endpoint_in_the_functions_region_is_fine():
    cfg = config.from_environ(base_env(OSS_ENDPOINT="https://oss-cn-hangzhou-internal.aliyuncs.com",
                                       FC_REGION="cn-hangzhou"))
    assert cfg.endpoint == "https://oss-cn-hangzhou-internal.aliyuncs.com"
    public = config.from_environ(base_env(OSS_ENDPOINT="https://oss-cn-hangzhou.aliyuncs.com", FC_REGION="cn-beijing"))
    assert public.endpoint == "https://oss-cn-hangzhou.aliyuncs.com"
