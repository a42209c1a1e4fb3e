"""Who is calling: `anonymous` in AUTH_MODE=anonymous, else the subject of a valid session token."""

from .errors import AuthError

ANONYMOUS_USER = "anonymous"


def bearer_token(request):
    value = request.header("authorization") or ""
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(request, config, now):
    """The caller's userId; AuthError (401) when a session is required and missing or invalid."""
    if config.auth_mode == "anonymous":
        return ANONYMOUS_USER
    token = bearer_token(request)
    if token is None:
        raise AuthError("sign in first: send Authorization: Bearer <session token> from POST /v1/session")
    from . import sessions

    return sessions.verify(token, config.session_secrets, config.wechat_appid, now)


def session_payload(request, config, now):
    """The verified session token's payload (`sub` is the userId); {"sub": "anonymous"} in anonymous mode."""
    if config.auth_mode == "anonymous":
        return {"sub": ANONYMOUS_USER}
    token = bearer_token(request)
    if token is None:
        raise AuthError("sign in first: send Authorization: Bearer <session token> from POST /v1/session")
    from . import sessions

    return sessions.verify_payload(token, config.session_secrets, config.wechat_appid, now)
