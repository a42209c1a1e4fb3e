import pytest

from conftest import make_config
from ossgate import auth, sessions
from ossgate.errors import AuthError
from ossgate.httpio import Request

SECRET = "k" * 32
WECHAT = dict(AUTH_MODE="wechat", WECHAT_APPID="wx1", WECHAT_SECRET="app-secret", SESSION_SECRETS=SECRET)


def request(authorization=None):
    return Request("POST", "/v1/uploads", {"authorization": authorization} if authorization else {})


def test_anonymous_mode_is_one_shared_user():
    assert auth.authenticate(request(), make_config(), 0) == "anonymous"
    assert auth.authenticate(request("Bearer whatever"), make_config(), 0) == "anonymous"


def test_wechat_mode_takes_the_bearer_token():
    token = sessions.mint("u" + "2" * 31, SECRET.encode(), "wx1", 1000, 60)[0]
    assert auth.authenticate(request("Bearer " + token), make_config(**WECHAT), 1001) == "u" + "2" * 31
    assert auth.authenticate(request("bearer   " + token + "  "), make_config(**WECHAT), 1001) == "u" + "2" * 31


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "Token x"])
def test_wechat_mode_without_a_bearer_token_is_401(header):
    with pytest.raises(AuthError) as raised:
        auth.authenticate(request(header), make_config(**WECHAT), 0)
    assert raised.value.status == 401
