"""WeChat's content-security API: the stable access token and `media_check_async` (v2).

- Stable token: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
  In normal mode WeChat returns the same token while it is valid, so every function instance may fetch and
  cache it without invalidating another's; `force_refresh` (rate-limited, and it invalidates the old token) is
  used only when normal mode hands back the very token an API call just rejected.
- mediaCheckAsync: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/sec-center/sec-check/mediaCheckAsync.html

The access token travels in the query string and the app secret in a request body: neither a URL nor an
exception's text is ever logged or answered.
"""

import json
import threading
import time

from .errors import UpstreamError

TOKEN_REFRESH_MARGIN_SECONDS = 300
FORCE_REFRESH_SPACING_SECONDS = 30
CALL_TIMEOUT_SECONDS = 1.5
INVALID_TOKEN_ERRCODES = (40001, 42001)
MEDIA_TYPES = {"audio": 1, "image": 2}


class Deadline:
    """A time budget shared by several calls (the OSS upload callback waits 5 s at most)."""

    def __init__(self, seconds, clock=time.monotonic):
        self._clock = clock
        self._end = clock() + seconds

    def timeout(self, wanted=CALL_TIMEOUT_SECONDS):
        left = self._end - self._clock()
        if left < 0.1:
            raise UpstreamError("upstream_error", "no time left to call WeChat")
        return min(wanted, left)


def post_json(url, payload, timeout):
    """POST JSON → parsed JSON; raises OSError / ValueError on a network or format failure."""
    from urllib.request import Request, urlopen

    request = Request(url, data=json.dumps(payload).encode("utf-8"), method="POST",
                      headers={"Content-Type": "application/json", "Accept": "application/json"})
    with urlopen(request, timeout=timeout) as answer:
        data = json.loads(answer.read(65536).decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _call(post, url, payload, deadline, what):
    try:
        return post(url, payload, deadline.timeout())
    except (OSError, ValueError):
        raise UpstreamError("upstream_error", "WeChat's %s could not be reached" % what)


class StableTokenCache:
    """One access token per instance, kept until 5 minutes before WeChat says it expires."""

    def __init__(self, post=post_json, clock=time.monotonic):
        self._post = post
        self._clock = clock
        self._lock = threading.Lock()
        self._token = None
        self._expires = 0.0
        self._last_forced = None
        self.fetches = 0

    def _fetch(self, config, deadline, force):
        url = "%s/cgi-bin/stable_token" % config.wechat_api_base
        payload = {"grant_type": "client_credential", "appid": config.wechat_appid,
                   "secret": config.wechat_secret, "force_refresh": force}
        self.fetches += 1
        answer = _call(self._post, url, payload, deadline, "stable_token")
        token, lifetime = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(lifetime, int):
            raise UpstreamError("upstream_error", "WeChat refused an access token (errcode %s)"
                                % (answer.get("errcode"),))
        self._token = token
        self._expires = self._clock() + lifetime - TOKEN_REFRESH_MARGIN_SECONDS
        return token

    def get(self, config, deadline):
        with self._lock:
            if self._token is not None and self._clock() < self._expires:
                return self._token
            return self._fetch(config, deadline, force=False)

    def renew(self, config, rejected, deadline):
        """A token to replace `rejected` (40001/42001): normal mode first; force_refresh only if normal mode
        returns the same rejected token, and never twice within WeChat's 30 s spacing."""
        with self._lock:
            if self._token is not None and self._token != rejected and self._clock() < self._expires:
                return self._token  # another request already replaced it
            token = self._fetch(config, deadline, force=False)
            if token != rejected:
                return token
            now = self._clock()
            if self._last_forced is not None and now - self._last_forced < FORCE_REFRESH_SPACING_SECONDS:
                self._token = None
                raise UpstreamError("upstream_error", "WeChat keeps rejecting the access token")
            self._last_forced = now
            return self._fetch(config, deadline, force=True)


def media_type(content_type):
    """1 (audio) or 2 (image) for a checked content type, else None."""
    return MEDIA_TYPES.get((content_type or "").split("/", 1)[0].strip().lower())


def media_check_async(config, tokens, media_url, kind, openid, deadline, post=None):
    """Starts a check; → WeChat's trace_id. One retry with a renewed token on 40001/42001."""
    post = post or post_json
    payload = {"media_url": media_url, "media_type": kind, "version": 2,
               "scene": config.moderation_scene, "openid": openid}
    from urllib.parse import quote

    token = tokens.get(config, deadline)
    for attempt in (1, 2):
        url = "%s/wxa/media_check_async?access_token=%s" % (config.wechat_api_base, quote(token, safe=""))
        answer = _call(post, url, payload, deadline, "media_check_async")
        errcode = answer.get("errcode", 0)
        if errcode == 0 and isinstance(answer.get("trace_id"), str) and answer["trace_id"]:
            return answer["trace_id"]
        if errcode in INVALID_TOKEN_ERRCODES and attempt == 1:
            token = tokens.renew(config, token, deadline)
            continue
        raise UpstreamError("upstream_error", "WeChat refused the media check (errcode %s)" % (errcode,))
