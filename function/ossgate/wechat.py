"""WeChat login: exchange a wx.login code for the user's openid (auth.code2Session).

The session_key WeChat returns is dropped here and never leaves this module. The request URL carries the app
secret, so neither the URL nor an exception's text is ever logged (see log.py).
"""

import random
import re
import time

from . import jsontext
from .errors import AuthError, RequestError, UpstreamError

TIMEOUT_SECONDS = 3.0
_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_ERRORS = {
    40029: ("invalid_code", "the login code is invalid; call wx.login again"),
    40163: ("invalid_code", "the login code was already used; call wx.login again"),
    45011: ("rate_limited", "WeChat is rate-limiting this user's logins; wait a minute"),
    40226: ("user_blocked", "WeChat has blocked this user as high-risk"),
}


def check_code(code):
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        raise RequestError("bad_request", "code must be the string wx.login returned")
    return code


def _fetch(url, timeout):
    """GET → parsed JSON; raises OSError / ValueError on a network or format failure."""
    from urllib.request import Request, urlopen  # only the login route pays for urllib

    with urlopen(Request(url, headers={"Accept": "application/json"}), timeout=timeout) as answer:
        return jsontext.loads(answer.read(65536).decode("utf-8"))


def session_url(api_base, appid, secret, code):
    from urllib.parse import urlencode

    query = urlencode({"appid": appid, "secret": secret, "js_code": code, "grant_type": "authorization_code"})
    return "%s/sns/jscode2session?%s" % (api_base, query)


def code_to_openid(api_base, appid, secret, code, fetch=_fetch, sleep=time.sleep, jitter=random.random):
    """The openid for a login code. One jittered retry on WeChat's -1 (busy) or a network failure."""
    url = session_url(api_base, appid, secret, check_code(code))
    for attempt in (1, 2):
        try:
            answer = fetch(url, TIMEOUT_SECONDS)
        except (OSError, ValueError):
            answer = None
        if isinstance(answer, dict) and isinstance(answer.get("openid"), str) and answer["openid"]:
            return answer["openid"]
        errcode = answer.get("errcode") if isinstance(answer, dict) else None
        if errcode in _ERRORS:
            code_name, message = _ERRORS[errcode]
            if code_name == "invalid_code":
                raise AuthError(message, code="invalid_code")
            raise UpstreamError(code_name, message)
        if answer is not None and errcode != -1:
            raise UpstreamError("upstream_error", "WeChat refused the login (errcode %s)" % (errcode,))
        if attempt == 1:
            sleep(0.1 + 0.2 * jitter())
    raise UpstreamError("upstream_error", "WeChat login is unavailable right now; try again")
