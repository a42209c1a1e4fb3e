import json

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
