"""Every error the function answers with: a stable machine code mapped to one HTTP status, in one table.

Each layer raises its own subclass (config, credentials, request, auth, ticket, upstream) so that code
reading a traceback knows where it came from, but the wire format and the status come from here only.
"""

STATUS_BY_CODE = {
    "bad_request": 400,
    "unauthorized": 401,
    "invalid_code": 401,
    "forbidden": 403,
    "user_blocked": 403,
    "invalid_callback_signature": 403,
    "not_found": 404,
    "unknown_profile": 404,
    "method_not_allowed": 405,
    "file_too_large": 413,
    "request_too_large": 413,
    "unsupported_type": 415,
    "rate_limited": 429,
    "internal_error": 500,
    "config_error": 500,
    "upstream_error": 502,
    "callback_failed": 502,
    "credentials_unavailable": 503,
    "invalid_push_signature": 401,
    "removed": 410,
    "incomplete_upload": 400,
    "no_such_upload": 404,
    "already_exists": 409,
    "quota_exceeded": 429,
    "quota_unavailable": 503,
}


class OssgateError(Exception):
    """An error with a code from STATUS_BY_CODE and a message safe to show a person (never a secret)."""

    headers = {}  # response headers the error is answered with (e.g. Retry-After)

    def __init__(self, code, message):
        if code not in STATUS_BY_CODE:
            raise ValueError("unknown error code: %r" % (code,))
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self):
        return STATUS_BY_CODE[self.code]

    def to_body(self, request_id):
        return {"error": {"code": self.code, "message": self.message, "requestId": request_id}}


class ConfigError(OssgateError):
    def __init__(self, message):
        super().__init__("config_error", message)


class CredentialsError(OssgateError):
    def __init__(self, message):
        super().__init__("credentials_unavailable", message)


class RequestError(OssgateError):
    """The HTTP request itself is unusable: bad JSON, unknown route, wrong method."""


class AuthError(OssgateError):
    def __init__(self, message, code="unauthorized"):
        super().__init__(code, message)


class TicketError(OssgateError):
    """The upload asked for is not allowed: size, type, profile."""


class UpstreamError(OssgateError):
    """A service we call (WeChat, STS) failed or refused."""


class QuotaError(OssgateError):
    """A quota refused the ticket (429 quota_exceeded, with Retry-After) or could not be checked (503)."""

    def __init__(self, code, message, retry_after=None):
        super().__init__(code, message)
        self.retry_after = retry_after
        if retry_after is not None:
            self.headers = {"Retry-After": str(retry_after)}

    def to_body(self, request_id):
        body = super().to_body(request_id)
        if self.retry_after is not None:  # also in the body: browsers cannot read Retry-After cross-origin
            body["error"]["retryAfter"] = self.retry_after
        return body
