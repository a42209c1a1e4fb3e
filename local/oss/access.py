"""Who may do what without a signature: the bucket ACL, or an object's own ACL ("default" follows the bucket).
public-read lets anyone read and list, public-read-write also write; bucket settings are the owner's alone.
https://help.aliyun.com/zh/oss/user-guide/bucket-acl"""

from .errors import OssError

NO_ACL_RIGHT = "You have no right to access this object because of bucket acl."


def effective_acl(call, meta):
    object_acl = (meta or {}).get("acl", "default")
    return call.oss.settings.acl if object_acl == "default" else object_acl


def require_read(call, meta):
    if not call.authenticated and effective_acl(call, meta) not in ("public-read", "public-read-write"):
        raise OssError("AccessDenied", NO_ACL_RIGHT)


def require_write(call):
    if not call.authenticated and call.oss.settings.acl != "public-read-write":
        raise OssError("AccessDenied", NO_ACL_RIGHT)


def require_owner(call):
    if not call.authenticated:
        raise OssError("AccessDenied", NO_ACL_RIGHT)


def require_list(call):
    if not call.authenticated and call.oss.settings.acl == "private":
        raise OssError("AccessDenied", "You have no right to access this bucket because of bucket acl.")
