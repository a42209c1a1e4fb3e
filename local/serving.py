"""What every local stand-in shares: a threaded HTTP server bound to one handler state, run until Ctrl-C/SIGTERM."""

import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandInHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, and quiet unless LOCAL_<NAME>_VERBOSE is set (e.g. LOCAL_OSS_VERBOSE=1)."""

    protocol_version = "HTTP/1.1"
    log_name = "local"

    def log_message(self, fmt, *args):
        if os.environ.get("LOCAL_%s_VERBOSE" % self.log_name.upper()):
            sys.stderr.write("local.%s: %s\n" % (self.log_name, fmt % args))


def bound_server(handler_class, state, host, port):
    """A ThreadingHTTPServer whose handler class carries `state` (e.g. {"oss": LocalOss(...)})."""
    handler = type("Bound" + handler_class.__name__, (handler_class,), dict(state))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def _interrupt(*_):
    raise KeyboardInterrupt


def serve(server, banner):
    """Print `banner` (with the real port, when 0 was asked for) and serve until interrupted or terminated."""
    print(banner % server.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
