"""What every local stand-in shares: a threaded HTTP server bound to one handler state, run until Ctrl-C/SIGTERM."""

import signal
from http.server import ThreadingHTTPServer


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
