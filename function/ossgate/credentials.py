"""Where the signing credentials come from, read per invocation (FC may rotate them inside an instance).

`runtime`: the function role's STS credentials from `context.credentials` (python3.9/3.10), else the
`ALIBABA_CLOUD_*` variables (python3.12). Nothing heavy is imported on this path.
"""

import os

from .errors import CredentialsError
from .record import REQUIRED, Record

ENV_ACCESS_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_SECURITY_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"


class Credentials(Record):
    """An access key (STS when it has a token). `expiration`: aware UTC datetime, None when unknown."""

    __slots__ = ("access_key_id", "access_key_secret", "security_token", "expiration")
    _fields = (("access_key_id", REQUIRED), ("access_key_secret", REQUIRED), ("security_token", None),
               ("expiration", None))
    _hidden = ("access_key_secret", "security_token")

    def secrets(self):
        return [v for v in (self.access_key_secret, self.security_token) if v]


def _attr(obj, *names):
    for name in names:
        value = getattr(obj, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def from_context(context):
    """The credentials FC hands to python3.9/3.10 handlers, or None."""
    creds = getattr(context, "credentials", None) if context is not None else None
    if creds is None:
        return None
    key_id = _attr(creds, "access_key_id", "accessKeyId")
    secret = _attr(creds, "access_key_secret", "accessKeySecret")
    if not key_id or not secret:
        return None
    return Credentials(key_id, secret, _attr(creds, "security_token", "securityToken"))


def from_environ(env):
    key_id = (env.get(ENV_ACCESS_KEY_ID) or "").strip()
    secret = (env.get(ENV_ACCESS_KEY_SECRET) or "").strip()
    if not key_id or not secret:
        return None
    token = (env.get(ENV_SECURITY_TOKEN) or "").strip() or None
    return Credentials(key_id, secret, token)


def runtime_credentials(context, env=None):
    """The function role's credentials for this invocation; CredentialsError (503) when there are none."""
    creds = from_context(context) or from_environ(os.environ if env is None else env)
    if creds is None:
        raise CredentialsError(
            "no credentials: give the function a role (s.yaml `role`) or set ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET")
    return creds
