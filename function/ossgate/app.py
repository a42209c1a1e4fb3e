"""Wiring: event → Request → route → response dict. Routes are small; the logic lives in the modules they call."""

import os
import threading
import time
from datetime import datetime, timezone

from . import __version__, auth, cors, credentials, httpio, tickets
from .errors import ConfigError, OssgateError, RequestError
from .log import JsonLogger


def utc_now():
    return datetime.now(timezone.utc)


class RandomIds:
    """128-bit ids (32 hex characters) from the OS CSPRNG, read in batches: a getrandom() call per id costs
    microseconds inside a sandboxed runtime, one call per 64 ids does not."""

    BATCH = 64

    def __init__(self, read=os.urandom):
        self._read = read
        self._buffer = b""
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            if not self._buffer:
                self._buffer = self._read(16 * self.BATCH)
            chunk, self._buffer = self._buffer[:16], self._buffer[16:]
        return chunk.hex()


class Invocation:
    """One request and what its routes may ask for; credentials are read only when a route needs them."""

    def __init__(self, app, request, context, now):
        self.app = app
        self.config = app.config
        self.request = request
        self.context = context
        self.now = now
        self._credentials = None

    def credentials(self):
        if self._credentials is None:
            self._credentials = self.app.credentials_provider(self.config, self.context)
        return self._credentials

    def user_id(self):
        return auth.authenticate(self.request, self.config, self.now.timestamp())

    def moderation_credentials(self):
        """With assume_role, tickets are signed with credentials narrowed to UPLOAD_PREFIX; moderation's own
        calls (tags, its records, the quarantine, WeChat's hour-long link) use the function role's."""
        if self.config.credentials_mode == "assume_role":
            return credentials.runtime_credentials(self.context)
        return self.credentials()

    def session_payload(self):
        return auth.session_payload(self.request, self.config, self.now.timestamp())

    def log(self, level, event, **fields):
        self.app.logger.write(level, event, secrets=self.app._secrets(), requestId=self.request.request_id,
                              **fields)

    def oss(self):
        """A client for the function's own OSS requests, with this invocation's credentials (imports oss2)."""
        from .ossclient import OssClient

        return OssClient(self.config, self.credentials())


def create_upload(inv):
    user_id = inv.user_id()
    ticket_request = tickets.parse_ticket_request(inv.request.json())
    callback_fields = None
    if inv.config.callback_url:
        from . import callbacks

        extra_constants = None
        if inv.config.moderation == "wechat":
            from . import moderation

            extra_constants = moderation.callback_constants(
                inv.config, inv.session_payload(), ticket_request.profile, ticket_request.content_type)

        def pinned_callback(key):
            return {"callback": callbacks.ticket_callback_field(inv.config, key, extra_constants)}
        callback_fields = pinned_callback
    ticket = tickets.upload_ticket(inv.config, inv.credentials(), user_id, ticket_request, inv.now,
                                   inv.app.random_id(), callback_fields)
    charge_ticket(inv, user_id, ticket_request.profile, ticket_request.size)
    return 200, ticket


def generate_signature(inv):
    if not inv.config.seed_route:
        raise RequestError("not_found", "GET /generate_signature is off (SEED_ROUTE=off); use POST /v1/uploads")
    user_id = inv.user_id()
    signature = tickets.seed_signature(inv.config, inv.credentials(), user_id, inv.now)
    # The seed's form declares no size: it is charged the most its policy lets through.
    charge_ticket(inv, user_id, "default", inv.config.profiles["default"].max_size)
    return 200, signature


def charge_ticket(inv, user_id, profile, size):
    """Count one ticket against the caller's quotas (a no-op when QUOTA_REDIS_URL is unset). Called after every
    other check passed, so a refused request counts nothing; QuotaError 429 / 503 when quotas refuse."""
    if inv.config.quotas:
        inv.app.quotas.charge(user_id, profile, size, inv.now, inv.app.random_id(), inv.request.request_id)


def create_session(inv):
    from . import sessions, wechat

    config = inv.config
    if config.auth_mode != "wechat":
        raise RequestError("not_found", "sessions exist only with AUTH_MODE=wechat; this deployment is anonymous")
    code = inv.request.json().get("code")
    openid = wechat.code_to_openid(config.wechat_api_base, config.wechat_appid, config.wechat_secret, code)
    return 200, sessions.issue(config, openid, int(inv.now.timestamp()))


def receive_oss_callback(inv):
    from . import callbacks

    if not inv.config.callback_url:
        raise RequestError("not_found", "upload callbacks are not enabled (CALLBACK_URL is unset)")
    callbacks.verify(inv.request, inv.config, inv.app.callback_keys)
    result = callbacks.answer(inv.request.body, inv.config)
    if inv.config.moderation == "wechat":
        moderate_upload(inv, result, inv.request.body)
    return 200, result


def moderate_upload(inv, result, callback_body):
    """MODERATION=wechat: start WeChat's check of a stored upload (verified callback, or multipart complete)
    and add `moderation: "pending"` to the upload's answer; uploads that are not checked are left alone."""
    from . import moderation

    key, content_type = result["key"], result.get("mimeType")
    if moderation.checks(inv.config, key, content_type):
        openid = moderation.openid_from_callback(inv.config, key, callback_body)
        result["moderation"] = moderation.start_check(inv.config, inv.moderation_credentials(), inv.app.wechat_tokens,
                                                      key, content_type, openid, inv.now, inv.log)
    return result


def create_download(inv):
    from . import downloads

    user_id = inv.user_id()
    body = inv.request.json()
    key = downloads.owned_key(body, inv.config, user_id)
    if inv.config.moderation == "wechat":
        from . import moderation

        with moderation.oss_errors_as_upstream():
            moderation.refuse_removed(moderation.OssCalls(inv.config, inv.moderation_credentials()), key)
    content_disposition = downloads.disposition(body, inv.config, user_id, key)
    return 200, downloads.presigned_get(inv.config, inv.credentials(), key, inv.now, content_disposition)


def wechat_push(inv):
    """WeChat's message push: GET is the server-URL check, POST a `wxa_media_check` result."""
    from . import httpio, moderation, pushes

    config = inv.config
    if config.moderation != "wechat":
        raise RequestError("not_found", "content moderation is off (MODERATION is not wechat)")
    now = inv.now.timestamp()
    if inv.request.method == "GET":
        return 200, httpio.Text(pushes.echo(config, inv.request.query, now))
    event = pushes.read_event(config, inv.request.query, inv.request.body, now)
    with moderation.oss_errors_as_upstream():
        moderation.apply_push(config, moderation.OssCalls(config, inv.moderation_credentials()), event, inv.log)
    return 200, httpio.Text("success")


def moderation_status(inv):
    from . import downloads, moderation

    user_id = inv.user_id()
    key = downloads.owned_key(inv.request.json(), inv.config, user_id)
    if inv.config.moderation != "wechat":
        raise RequestError("not_found", "content moderation is off (MODERATION is not wechat)")
    with moderation.oss_errors_as_upstream():
        state = moderation.state_of(inv.config, moderation.OssCalls(inv.config, inv.moderation_credentials()), key)
    return 200, {"key": key, "moderation": state}


def initiate_multipart(inv):
    from . import multipart

    user_id = inv.user_id()
    request, part_size = multipart.parse_initiate(inv.request.json())
    return 200, multipart.initiate(inv.config, inv.credentials(), user_id, request, part_size, inv.now,
                                   inv.app.random_id(), inv.oss,
                                   admit=lambda: charge_ticket(inv, user_id, request.profile, request.size))


def multipart_parts(inv):
    from . import multipart

    user_id = inv.user_id()
    upload, numbers, list_uploaded, after = multipart.parse_parts_request(inv.request.json(), inv.config, user_id)
    return 200, multipart.fresh_parts(inv.config, inv.credentials(), upload, numbers, list_uploaded, after, inv.now,
                                      inv.oss)


def complete_multipart(inv):
    from . import multipart

    user_id = inv.user_id()
    upload = multipart.parse_upload(inv.request.json(), inv.config, user_id)
    callback = None
    if inv.config.callback_url:
        from . import callbacks

        extra_constants = None
        if inv.config.moderation == "wechat":
            from . import moderation

            extra_constants = moderation.callback_constants_for_key(inv.config, inv.session_payload(), upload.key)
        callback = callbacks.ticket_callback_field(inv.config, upload.key, extra_constants)
    return 200, multipart.complete(inv.config, upload, inv.oss(), callback)


def abort_multipart(inv):
    from . import multipart

    user_id = inv.user_id()
    upload = multipart.parse_upload(inv.request.json(), inv.config, user_id)
    return 200, multipart.abort(upload, inv.oss())


ROUTES = {
    "/v1/uploads": {"POST": create_upload},
    "/generate_signature": {"GET": generate_signature},
    "/v1/session": {"POST": create_session},
    "/v1/oss-callback": {"POST": receive_oss_callback},
    "/v1/downloads": {"POST": create_download},
    "/v1/wechat/push": {"GET": wechat_push, "POST": wechat_push},
    "/v1/moderation/status": {"POST": moderation_status},
    "/v1/multipart/uploads": {"POST": initiate_multipart},
    "/v1/multipart/parts": {"POST": multipart_parts},
    "/v1/multipart/complete": {"POST": complete_multipart},
    "/v1/multipart/abort": {"POST": abort_multipart},
}


class App:
    def __init__(self, config_loader, credentials_provider=None, clock=utc_now,
                 random_id=None, logger=None, routes=None, callback_keys=None):
        self._config_loader = config_loader
        self._config = None
        self._config_error = None
        self._secret_values = []
        self._credentials_provider = credentials_provider
        self.clock = clock
        self.random_id = random_id or RandomIds()
        self.logger = logger or JsonLogger()
        self.routes = routes or ROUTES
        self._callback_keys = callback_keys
        self._quotas = None
        self._quotas_lock = threading.Lock()

    @property
    def credentials_provider(self):
        """(config, context) -> Credentials; by default one CredentialsSource per instance (it caches STS)."""
        if self._credentials_provider is None:
            self._credentials_provider = credentials.CredentialsSource(self.config)
        return self._credentials_provider

    @property
    def callback_keys(self):
        if self._callback_keys is None:
            from .callbacks import PublicKeyCache

            self._callback_keys = PublicKeyCache()
        return self._callback_keys

    @property
    def wechat_tokens(self):
        """WeChat's access token, cached per instance (MODERATION=wechat)."""
        if getattr(self, "_wechat_tokens", None) is None:
            from .contentsecurity import StableTokenCache

            self._wechat_tokens = StableTokenCache()
        return self._wechat_tokens

    @property
    def quotas(self):
        """One quotas.Quotas per instance (its Redis connection pool is reused across invocations)."""
        with self._quotas_lock:
            if self._quotas is None:
                from .quotas import Quotas

                self._quotas = Quotas(self.config, self.logger, self._secrets())
        return self._quotas

    def warm(self):
        """FC's initializer: connect to what the first ticket would otherwise connect to (the quota store)."""
        if self.config.quotas:
            self.quotas.warm()

    @property
    def config(self):
        """Built once per instance; a bad configuration is remembered and answered on every request."""
        if self._config is None and self._config_error is None:
            try:
                self._config = self._config_loader()
                self._secret_values = self._config.secrets()
            except ConfigError as exc:
                self._config_error = exc
        if self._config_error is not None:
            raise self._config_error
        return self._config

    def handle(self, event, context=None):
        started = time.perf_counter()
        fallback_id = getattr(context, "request_id", None) or self.random_id()[:24]
        request, route, origin_headers = None, None, {}
        try:
            request = httpio.parse_event(event, fallback_id)
            route = request.path
            status, body, headers = self._dispatch(request, context)
        except OssgateError as exc:
            status, body = exc.status, exc.to_body(request.request_id if request else fallback_id)
            headers = exc.headers
            if exc.code == "method_not_allowed" and route in self.routes:
                headers = {"Allow": ", ".join(sorted(self.routes[route]) + ["OPTIONS"])}
        except Exception as exc:  # README: anything unexpected is a 500 with the request id, logged
            request_id = request.request_id if request else fallback_id
            self.logger.exception("unhandled_exception", exc, secrets=self._secrets(), requestId=request_id)
            status, body, headers = 500, OssgateError(
                "internal_error", "an unexpected error occurred; quote the requestId when reporting it"
            ).to_body(request_id), {}
        if request is not None and self._config is not None:
            origin_headers = cors.response_headers(self._config.cors_origins, request.header("origin"))
        headers = dict(headers, **origin_headers)
        self._log_access(request, fallback_id, status, body, started)
        return httpio.response(status, body, headers)

    def _dispatch(self, request, context):
        if request.path == "/healthz" and request.method in ("GET", "HEAD"):
            return self._healthz(request)
        config = self.config
        if request.method == "OPTIONS":
            return 204, None, cors.preflight_headers(config.cors_origins, request.header("origin"))
        methods = self.routes.get(request.path)
        if methods is None:
            raise RequestError("not_found", "no route %s %s" % (request.method, request.path[:200]))
        route = methods.get(request.method)
        if route is None:
            raise RequestError("method_not_allowed", "%s is not allowed on %s" % (request.method, request.path[:200]))
        status, body = route(Invocation(self, request, context, self.clock()))
        return status, body, {}

    def _healthz(self, request):
        try:
            self.config
        except ConfigError as exc:
            body = exc.to_body(request.request_id)
            body.update(ok=False, version=__version__)
            return exc.status, body, {}
        return 200, {"ok": True, "version": __version__}, {}

    def _secrets(self):
        return self._secret_values

    def _log_access(self, request, fallback_id, status, body, started):
        code = body.get("error", {}).get("code") if isinstance(body, dict) else None
        self.logger.write(
            "info" if status < 500 else "error", "request",
            secrets=self._secrets(),
            requestId=request.request_id if request else fallback_id,
            method=request.method if request else None,
            route=request.path[:200] if request else None,
            status=status, code=code,
            latencyMs=round((time.perf_counter() - started) * 1000, 3),
        )
