"""A strict local stand-in for one OSS bucket, speaking the object API the official SDKs use.

    python -m local.oss --port 9100 --bucket <bucket> --data <dir> [--region cn-hangzhou]
                        [--callback-key PEM] [--bucket-config FILE]

Accepts exactly one credential: LOCAL_OSS_ACCESS_KEY_ID, LOCAL_OSS_ACCESS_KEY_SECRET and, when set,
LOCAL_OSS_SECURITY_TOKEN (then every request must carry it). Requests are verified as OSS verifies V4
(header or query signature, PostObject policy) and refused with OSS's own XML errors. It is strict on
purpose: whatever it accepts, the tests treat as what real OSS accepts. See docs/local-oss.md.

Modules: sigv4 (who sent it), access (what anonymous requests may do), handler (routing), objects,
settings (what an upload sets), multipart and uploads, postobject, listing, bucket (settings, CORS),
store (objects on disk), body (streamed bodies), callbacks, errors, crc64, wire."""

import argparse
import os

from .. import callback
from ..serving import serve
from .bucket import BucketConfigError, BucketSettings
from .errors import OssError, error_xml
from .postobject import post_object
from .service import LocalOss, make_server
from .sigv4 import Identity, check_credential, parse_stamp
from .store import Store

__all__ = ["LocalOss", "make_server", "main", "Identity", "OssError", "Store", "BucketSettings", "post_object",
           "check_credential", "parse_stamp", "error_xml"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m local.oss", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--data", required=True, help="folder the objects are stored under")
    parser.add_argument("--region", default=os.environ.get("LOCAL_OSS_REGION", "cn-hangzhou"))
    parser.add_argument("--callback-key", help="PEM private key that signs upload callbacks (default: a new one)")
    parser.add_argument("--bucket-config", help="JSON file: {acl, cors, lifecycle} (see docs/local-oss.md)")
    args = parser.parse_args(argv)
    settings = None
    if args.bucket_config:
        try:
            settings = BucketSettings.from_file(args.bucket_config)
        except (OSError, BucketConfigError) as exc:
            parser.error("--bucket-config %s: %s" % (args.bucket_config, exc))
    oss = LocalOss(args.bucket, args.region, Identity.from_environ(os.environ), args.data,
                   callback_key=callback.load_or_create_key(args.callback_key) if args.callback_key else None,
                   settings=settings)
    server = make_server(oss, args.host, args.port)
    serve(server, "local.oss: bucket %s (%s) at http://%s:%%d/%s/ , objects under %s"
          % (args.bucket, args.region, args.host, args.bucket, args.data.replace("%", "%%")))
