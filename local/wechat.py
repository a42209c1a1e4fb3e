"""A local stand-in for the WeChat server APIs ossgate calls (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/).

    python -m local.wechat --port 9200 --appid wxlocal --secret <secret> \
        [--push-url http://127.0.0.1:9000/v1/wechat/push --push-token <Token> [--push-aes-key <EncodingAESKey>]]

code2Session (`GET /sns/jscode2session`): any `[A-Za-z0-9_-]` code logs in once as openid
`o-<sha256(code without a "-N" suffix)>` (so "alice", "alice-2" are the same user, "bob" another); a code is
usable once (40163 after). Special codes answer WeChat's errors: `invalid` 40029, `ratelimit` 45011, `blocked`
40226, `busy` -1 (every time), `busy-once` -1 the first time. Wrong appid or secret: 40013 / 40125.

Stable token (`POST /cgi-bin/stable_token`): normal mode returns the current token while it is valid (the same
one to every caller); `force_refresh: true` issues a new one and invalidates the old (then 40001), at most once
per 30 s (45009). An expired token answers 42001.

`POST /wxa/media_check_async?access_token=`: checks the token and the request (v2, media_type 1 or 2, scene 1-4,
an openid that logged in here), answers a trace_id, then — as WeChat does — downloads `media_url` itself and
decides by marker bytes in the file: `OSSGATE-RISKY` → risky, `OSSGATE-REVIEW` → review, anything else → pass
(a failed download is pushed with errcode -1). After `--push-delay` seconds the `wxa_media_check` event is
POSTed to `--push-url`, signed with `--push-token` (plaintext JSON, or safe mode with `--push-aes-key`), and
re-sent up to 3 times while the answer is not `success`.

Test hooks (not WeChat's): `GET /__standin/state` (counters and deliveries) and `POST /__standin/media-check`
`{"mode": "ok" | "close" | "slow" | "busy"}` to make media_check_async drop the connection, stall 10 s or
answer -1; `POST /__standin/push {"mode": "hold" | "send"}` to hold results back and release them.
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit

from .serving import StandInHandler, bound_server, serve

SPECIAL = {"invalid": 40029, "ratelimit": 45011, "blocked": 40226, "busy": -1}
MARKERS = ((b"OSSGATE-RISKY", "risky", 87), (b"OSSGATE-REVIEW", "review", 20001))
MAX_MEDIA_BYTES = 10 * 1024 * 1024
FORCE_REFRESH_SPACING = 30
PUSH_RETRIES = 3


def push_signature(*parts):
    """sha1 hex of the sorted, concatenated parts (WeChat's `signature` / `msg_signature`)."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def encrypt_push(encoding_aes_key, appid, message, random16=None):
    """Safe mode's `Encrypt`: AES-256-CBC (key = base64(EncodingAESKey + "="), IV = key[:16]) of 16 random
    bytes + 4-byte big-endian length + message + appid, PKCS#7-padded to 32 bytes. Written with the
    `cryptography` package, independently of the function's pycryptodome decryption."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(encoding_aes_key + "=")
    plain = (random16 or os.urandom(16)) + len(message).to_bytes(4, "big") + message + appid.encode("utf-8")
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")


def verdict_for(data):
    for marker, suggest, label in MARKERS:
        if marker in data:
            return suggest, label
    return "pass", 100


class WeChatStandIn:
    def __init__(self, appid, secret, push_url=None, push_token=None, push_aes_key=None, push_delay=0.5,
                 retry_delay=1.0, token_ttl=7200, clock=time.time):
        self.appid = appid
        self.secret = secret
        self.used = set()
        self.busy_seen = set()
        self.calls = 0
        self.lock = threading.Lock()
        self.openids = set()
        self.push_url, self.push_token, self.push_aes_key = push_url, push_token, push_aes_key
        self.push_delay, self.retry_delay, self.token_ttl = push_delay, retry_delay, token_ttl
        self.clock = clock
        self.token, self.token_expires, self.invalidated = None, 0, set()
        self.last_forced = None
        self.media_mode = "ok"
        self.stats = {"tokensIssued": 0, "forcedRefreshes": 0, "tokenCalls": 0, "mediaChecks": 0,
                      "rejectedTokens": 0, "fetches": 0}
        self.deliveries = []   # one entry per push attempt: {traceId, attempt, status, answer}
        self.checks = []       # one entry per finished check: {traceId, suggest, errcode}
        self.hold_pushes, self.held = False, []

    # --- code2Session ---------------------------------------------------------------------------

    def answer(self, query):
        with self.lock:
            self.calls += 1
            if query.get("appid") != self.appid:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            if query.get("secret") != self.secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            if query.get("grant_type") != "authorization_code":
                return {"errcode": 40002, "errmsg": "invalid grant_type"}
            code = query.get("js_code", "")
            if code in SPECIAL:
                return {"errcode": SPECIAL[code], "errmsg": "stand-in error"}
            if code == "busy-once" and code not in self.busy_seen:
                self.busy_seen.add(code)
                return {"errcode": -1, "errmsg": "system error"}
            if not code:
                return {"errcode": 40029, "errmsg": "invalid code"}
            if code in self.used:
                return {"errcode": 40163, "errmsg": "code been used"}
            self.used.add(code)
            user = code.rsplit("-", 1)[0] if code.rsplit("-", 1)[-1].isdigit() else code
            openid = "o-" + hashlib.sha256(user.encode()).hexdigest()[:26]
            self.openids.add(openid)
            return {"openid": openid, "session_key": "sk-" + hashlib.sha256(code.encode()).hexdigest()[:22]}

    # --- stable token ---------------------------------------------------------------------------

    def stable_token(self, body):
        with self.lock:
            self.stats["tokenCalls"] += 1
            if body.get("grant_type") != "client_credential":
                return {"errcode": 40002, "errmsg": "invalid grant_type"}
            if body.get("appid") != self.appid:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            if body.get("secret") != self.secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            now = self.clock()
            if body.get("force_refresh") is True:
                if self.last_forced is not None and now - self.last_forced < FORCE_REFRESH_SPACING:
                    return {"errcode": 45009, "errmsg": "reach max api minute quota limit"}
                self.last_forced = now
                self.stats["forcedRefreshes"] += 1
                if self.token:
                    self.invalidated.add(self.token)
                self.token = None
            if self.token is None or now >= self.token_expires:
                self.token = "st-" + secrets.token_urlsafe(24)
                self.token_expires = now + self.token_ttl
                self.stats["tokensIssued"] += 1
            return {"access_token": self.token, "expires_in": int(self.token_expires - now)}

    def token_error(self, token):
        """None for the current valid token, else WeChat's errcode for it."""
        if token and token == self.token and self.clock() < self.token_expires:
            return None
        if token and token == self.token:
            return 42001
        return 40001

    # --- media_check_async and the push ---------------------------------------------------------

    def media_check(self, token, body):
        """→ (answer dict, trace_id to check in the background or None)."""
        with self.lock:
            self.stats["mediaChecks"] += 1
            error = self.token_error(token)
            if error is not None:
                self.stats["rejectedTokens"] += 1
                return {"errcode": error, "errmsg": "invalid credential, access_token is invalid or not latest"
                        if error == 40001 else "access_token expired"}, None
            if self.media_mode == "busy":
                return {"errcode": -1, "errmsg": "system error"}, None
            if (body.get("version") != 2 or body.get("media_type") not in (1, 2)
                    or body.get("scene") not in (1, 2, 3, 4)):
                return {"errcode": 47001, "errmsg": "data format error"}, None
            url = body.get("media_url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                return {"errcode": 47001, "errmsg": "media_url is not a URL"}, None
            if body.get("openid") not in self.openids:
                return {"errcode": 40003, "errmsg": "invalid openid"}, None
            trace_id = secrets.token_hex(12)
            return {"errcode": 0, "errmsg": "ok", "trace_id": trace_id}, trace_id

    def run_check(self, trace_id, body):
        """What WeChat does after answering: fetch the media itself, decide, push the result."""
        event = {"ToUserName": "gh_localstandin", "FromUserName": body["openid"], "CreateTime": int(self.clock()),
                 "MsgType": "event", "Event": "wxa_media_check", "appid": self.appid, "trace_id": trace_id,
                 "version": 2}
        try:
            with urllib.request.urlopen(body["media_url"], timeout=10) as answer:
                data = answer.read(MAX_MEDIA_BYTES + 1)
            with self.lock:
                self.stats["fetches"] += 1
            suggest, label = verdict_for(data)
            event.update(errcode=0, errmsg="ok", result={"suggest": suggest, "label": label},
                         detail=[{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label}])
        except (OSError, ValueError):
            event.update(errcode=-1, errmsg="media download failed")
        time.sleep(self.push_delay)
        with self.lock:
            self.checks.append({"traceId": trace_id, "suggest": event.get("result", {}).get("suggest"),
                                "errcode": event["errcode"]})
            if self.hold_pushes:
                self.held.append(event)
                return
        self.push(event)

    def set_push_mode(self, mode):
        """`hold`: keep results back (tests forge pushes meanwhile); `send`: deliver them, and later ones."""
        with self.lock:
            self.hold_pushes = mode == "hold"
            released = []
            if not self.hold_pushes:
                released, self.held = self.held, []
        for event in released:
            threading.Thread(target=self.push, args=(event,), daemon=True).start()

    def signed_push(self, event):
        """(query string, body bytes) of a push, signed as WeChat signs it."""
        timestamp, nonce = str(int(self.clock())), str(secrets.randbelow(10 ** 9))
        message = json.dumps(event, ensure_ascii=False).encode("utf-8")
        query = {"signature": push_signature(self.push_token, timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce}
        if self.push_aes_key:
            encrypted = encrypt_push(self.push_aes_key, self.appid, message)
            query.update(encrypt_type="aes",
                         msg_signature=push_signature(self.push_token, timestamp, nonce, encrypted))
            message = json.dumps({"ToUserName": event["ToUserName"], "Encrypt": encrypted}).encode("utf-8")
        return urlencode(query), message

    def push(self, event):
        if not self.push_url:
            return
        for attempt in range(1 + PUSH_RETRIES):
            query, body = self.signed_push(event)
            request = urllib.request.Request(self.push_url + "?" + query, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    status, text = answer.status, answer.read(1024).decode("utf-8", "replace")
            except urllib.error.HTTPError as error:
                status, text = error.code, error.read(1024).decode("utf-8", "replace")
            except OSError:
                status, text = None, ""
            with self.lock:
                self.deliveries.append({"traceId": event["trace_id"], "attempt": attempt + 1, "status": status,
                                        "answer": text[:200]})
            if status == 200 and text in ("success", ""):
                return
            time.sleep(self.retry_delay)

    def state(self):
        with self.lock:
            return dict(self.stats, deliveries=list(self.deliveries), checks=list(self.checks),
                        mediaMode=self.media_mode, heldPushes=len(self.held))


class Handler(StandInHandler):
    log_name = "wechat"
    stand_in = None

    def _json(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            data = json.loads(self.rfile.read(length).decode("utf-8")) if length else None
        except (UnicodeDecodeError, ValueError):
            data = None
        return data if isinstance(data, dict) else None

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/sns/jscode2session":
            query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            self._json(200, self.stand_in.answer(query))
        elif url.path == "/__standin/state":
            self._json(200, self.stand_in.state())
        else:
            self._json(404, {"errcode": 404, "errmsg": "not found"})

    def do_POST(self):
        url = urlsplit(self.path)
        body = self._body()
        stand_in = self.stand_in
        if url.path == "/cgi-bin/stable_token":
            self._json(200, stand_in.stable_token(body) if body else {"errcode": 47001, "errmsg": "data format error"})
        elif url.path == "/wxa/media_check_async":
            if stand_in.media_mode == "close":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if stand_in.media_mode == "slow":
                time.sleep(10)
            token = parse_qs(url.query).get("access_token", [""])[0]
            answer, trace_id = stand_in.media_check(token, body or {})
            self._json(200, answer)
            if trace_id:
                threading.Thread(target=stand_in.run_check, args=(trace_id, body), daemon=True).start()
        elif url.path == "/__standin/media-check" and body and body.get("mode") in ("ok", "close", "slow", "busy"):
            stand_in.media_mode = body["mode"]
            self._json(200, {"mediaMode": stand_in.media_mode})
        elif url.path == "/__standin/push" and body and body.get("mode") in ("hold", "send"):
            stand_in.set_push_mode(body["mode"])
            self._json(200, {"pushMode": body["mode"]})
        else:
            self._json(404, {"errcode": 404, "errmsg": "not found"})


def make_server(stand_in, host="127.0.0.1", port=9200):
    return bound_server(Handler, {"stand_in": stand_in}, host, port)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m local.wechat", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--appid", default=os.environ.get("WECHAT_APPID", "wxlocaldev"))
    parser.add_argument("--secret", default=os.environ.get("WECHAT_SECRET", ""))
    parser.add_argument("--push-url", help="where results of media_check_async are pushed")
    parser.add_argument("--push-token", help="the message-push Token that signs pushes")
    parser.add_argument("--push-aes-key", help="EncodingAESKey: push in safe (encrypted) mode")
    parser.add_argument("--push-delay", type=float, default=0.5, help="seconds between a check and its push")
    args = parser.parse_args(argv)
    if args.push_url and not args.push_token:
        parser.error("--push-url needs --push-token")
    stand_in = WeChatStandIn(args.appid, args.secret, args.push_url, args.push_token, args.push_aes_key,
                             args.push_delay)
    serve(make_server(stand_in, port=args.port), "local.wechat: WeChat API stand-in at http://127.0.0.1:%d/")


if __name__ == "__main__":
    main()
