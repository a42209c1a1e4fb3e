"""A local stand-in for WeChat's auth.code2Session (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html).

    python -m local.wechat --port 9200 --appid wxlocal --secret <secret>

Codes: any `[A-Za-z0-9_-]` code logs in once as openid `o-<sha256(code without a "-N" suffix)>` (so "alice",
"alice-2" are the same user, "bob" another); a code is usable once (40163 after). Special codes answer WeChat's
errors: `invalid` 40029, `ratelimit` 45011, `blocked` 40226, `busy` -1 (every time), `busy-once` -1 the first
time. Wrong appid or secret: 40013 / 40125.
"""

import argparse
import hashlib
import json
import os
import threading
from urllib.parse import parse_qs, urlsplit

from .serving import StandInHandler, bound_server, serve

SPECIAL = {"invalid": 40029, "ratelimit": 45011, "blocked": 40226, "busy": -1}


class WeChatStandIn:
    def __init__(self, appid, secret):
        self.appid = appid
        self.secret = secret
        self.used = set()
        self.busy_seen = set()
        self.calls = 0
        self.lock = threading.Lock()

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
            return {"openid": openid, "session_key": "sk-" + hashlib.sha256(code.encode()).hexdigest()[:22]}


class Handler(StandInHandler):
    log_name = "wechat"
    stand_in = None

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path != "/sns/jscode2session":
            body, status = b'{"errcode":404,"errmsg":"not found"}', 404
        else:
            query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            body, status = json.dumps(self.stand_in.answer(query)).encode(), 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def make_server(stand_in, host="127.0.0.1", port=9200):
    return bound_server(Handler, {"stand_in": stand_in}, host, port)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m local.wechat", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--appid", default=os.environ.get("WECHAT_APPID", "wxlocaldev"))
    parser.add_argument("--secret", default=os.environ.get("WECHAT_SECRET", ""))
    args = parser.parse_args(argv)
    server = make_server(WeChatStandIn(args.appid, args.secret), port=args.port)
    serve(server, "local.wechat: code2Session stand-in at http://127.0.0.1:%d/")


if __name__ == "__main__":
    main()
