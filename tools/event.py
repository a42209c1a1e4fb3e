"""`make invoke`: the event file handed to `s local invoke -f`, with the caller's session token or wx.login code.

    python tools/event.py events/upload-ticket.json [--token T] [--code C] > .local/invoke-event.json

AUTH_MODE=wechat: `--token` puts `Authorization: Bearer <T>` (a token from POST /v1/session) in the event;
`--code` puts a fresh wx.login code in events/session.json's body. Without either the event is copied unchanged
(anonymous mode ignores the placeholder Authorization header).
"""

import argparse
import json
import sys


def prepare(event, token=None, code=None):
    event = json.loads(json.dumps(event))
    if token:
        headers = {k: v for k, v in event.get("headers", {}).items() if k.lower() != "authorization"}
        headers["Authorization"] = "Bearer " + token
        event["headers"] = headers
    if code:
        body = json.loads(event.get("body") or "{}")
        body["code"] = code
        event["body"] = json.dumps(body)
    return event


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("event")
    parser.add_argument("--token", default="")
    parser.add_argument("--code", default="")
    args = parser.parse_args(argv)
    with open(args.event) as source:
        event = json.load(source)
    json.dump(prepare(event, args.token.strip(), args.code.strip()), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
