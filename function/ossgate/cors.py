"""CORS for browser (H5) callers, per CORS_ALLOW_ORIGINS. Mini programs do not send Origin and need none."""

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "authorization, content-type"
MAX_AGE_SECONDS = "600"


def allowed_origin(allowed, origin):
    """The Access-Control-Allow-Origin value for this request's Origin, or None."""
    if not origin or not allowed:
        return None
    if "*" in allowed:
        return "*"
    return origin if origin.rstrip("/") in allowed else None


def response_headers(allowed, origin):
    value = allowed_origin(allowed, origin)
    if value is None:
        return {"Vary": "Origin"} if allowed and "*" not in allowed else {}
    headers = {"Access-Control-Allow-Origin": value}
    if value != "*":
        headers["Vary"] = "Origin"
    return headers


def preflight_headers(allowed, origin):
    headers = response_headers(allowed, origin)
    if "Access-Control-Allow-Origin" in headers:
        headers.update({
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": MAX_AGE_SECONDS,
        })
    return headers
