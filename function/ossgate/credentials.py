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


# --- assume_role and default_chain: alibabacloud-credentials, imported only in those modes -------------------

ROLE_SESSION_NAME = "ossgate-signer"


def session_policy(bucket, upload_prefix):
    """The inline policy for AssumeRole: it can only narrow the role, to objects under the upload prefix."""
    import json

    return json.dumps({"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": ["oss:PutObject", "oss:GetObject", "oss:ListParts", "oss:AbortMultipartUpload"],
        "Resource": ["acs:oss:*:*:%s/%s*" % (bucket, upload_prefix)]}]}, separators=(",", ":"))


class _RuntimeRelay:
    """Hands the invocation's runtime credentials to the RAM-role-ARN provider as its source."""

    def __init__(self):
        self.current = None

    def get_credentials(self):
        from alibabacloud_credentials.provider.refreshable import Credentials as SdkCredentials

        creds = self.current
        return SdkCredentials(access_key_id=creds.access_key_id, access_key_secret=creds.access_key_secret,
                              security_token=creds.security_token, provider_name="fc_runtime")

    def get_provider_name(self):
        return "fc_runtime"


def _from_sdk(sdk_credentials):
    from datetime import datetime, timezone

    expiration = getattr(sdk_credentials, "get_expiration", lambda: None)()
    return Credentials(
        sdk_credentials.get_access_key_id(), sdk_credentials.get_access_key_secret(),
        sdk_credentials.get_security_token() or None,
        datetime.fromtimestamp(expiration, timezone.utc) if isinstance(expiration, (int, float)) else None)


class CredentialsSource:
    """Per instance: the credentials each invocation signs with, per CREDENTIALS_MODE.

    assume_role: AssumeRole into OSS_STS_ROLE_ARN with the runtime credentials and an inline policy; the
    SDK provider caches the result and refreshes it before it expires, so one STS call serves many tickets.
    """

    def __init__(self, config, environ=None):
        self.config = config
        self._environ = environ
        self._relay = _RuntimeRelay()
        self._provider = None

    def __call__(self, config, context):
        return self.get(context)

    def get(self, context):
        mode = self.config.credentials_mode
        if mode == "runtime":
            return runtime_credentials(context, self._environ)
        if mode == "assume_role":
            self._relay.current = runtime_credentials(context, self._environ)
        return self._fetch(mode)

    def _make_provider(self, mode):
        if mode == "assume_role":
            from alibabacloud_credentials.provider import RamRoleArnCredentialsProvider

            return RamRoleArnCredentialsProvider(
                credentials_provider=self._relay, role_arn=self.config.sts_role_arn,
                role_session_name=ROLE_SESSION_NAME, duration_seconds=self.config.sts_duration,
                policy=session_policy(self.config.bucket, self.config.upload_prefix),
                sts_endpoint="sts.%s.aliyuncs.com" % self.config.region)
        from alibabacloud_credentials.provider import DefaultCredentialsProvider

        return DefaultCredentialsProvider()

    def _fetch(self, mode):
        try:
            if self._provider is None:
                self._provider = self._make_provider(mode)
            creds = _from_sdk(self._provider.get_credentials())
        except Exception:  # the SDK raises many types; their text may hold request details, so none is kept
            raise CredentialsError("could not obtain signing credentials (%s); retry shortly" % mode)
        if not creds.access_key_id or not creds.access_key_secret:
            raise CredentialsError("the %s credentials are incomplete" % mode)
        return creds
