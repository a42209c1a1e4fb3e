"""`make doctor`: check a deployment before users hit it.

    OSSGATE_URL=https://<function url> [settings of the function] ALIBABA_CLOUD_ACCESS_KEY_ID=... \
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=... [ALIBABA_CLOUD_SECURITY_TOKEN=...] python tools/doctor.py [--lang zh]

Reads the function's settings exactly as the function does (function/ossgate/config.py) and the operator's
credentials, then prints one line per check, `PASS|WARN|FAIL <check>: <plain words>`, followed by the domain
lists to enter in the WeChat console. Exit code 1 when any check fails. English, or Chinese when the locale
(LC_ALL / LC_MESSAGES / LANG) is zh_* or `--lang zh` is given.
"""

import argparse
import ipaddress
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "function"))

from ossgate import config as config_module  # noqa: E402
from ossgate import sessions  # noqa: E402
from ossgate.errors import ConfigError  # noqa: E402

DOCTOR_USER = "ossgatedoctor"      # the round trip writes only under <UPLOAD_PREFIX>ossgatedoctor/
TIMEOUT = 10
SKEW_FAIL_SECONDS = 15 * 60        # OSS refuses requests more than 15 minutes off (RequestTimeTooSkewed)
SKEW_WARN_SECONDS = 60
EXPOSED_HEADERS = ("etag", "x-oss-request-id")

# Every message in both languages: (English, Chinese). Placeholders are filled with str.format.
TEXT = {
    "config_ok": ("the settings load as the function loads them (bucket {bucket}, region {region}, AUTH_MODE={auth})",
                  "配置与函数加载方式一致，可以加载（Bucket {bucket}，地域 {region}，AUTH_MODE={auth}）"),
    "config_bad": ("the function would refuse to start: {error}", "函数将无法启动：{error}"),
    "creds_missing": ("set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and "
                      "ALIBABA_CLOUD_SECURITY_TOKEN for STS) to credentials with the function role's permissions",
                      "请设置 ALIBABA_CLOUD_ACCESS_KEY_ID 和 ALIBABA_CLOUD_ACCESS_KEY_SECRET（STS 凭证还需 "
                      "ALIBABA_CLOUD_SECURITY_TOKEN），权限与函数角色相同"),
    "bucket_ok": ("GetBucketInfo works with these credentials (bucket {bucket} in {location})",
                  "凭证可以调用 GetBucketInfo（Bucket {bucket}，位于 {location}）"),
    "bucket_keys": ("OSS refused the credentials ({code}): check the AccessKey pair, the STS token and its expiry",
                    "OSS 拒绝了凭证（{code}）：请检查 AccessKey、STS Token 及其有效期"),
    "bucket_denied": ("the credentials may not read the bucket's info ({code}: {message}); grant oss:GetBucketInfo "
                      "(docs/ram/) or check the bucket name",
                      "凭证无权读取 Bucket 信息（{code}：{message}）；请授予 oss:GetBucketInfo（见 docs/ram/）或检查 Bucket 名称"),
    "bucket_missing": ("bucket {bucket} does not exist at {endpoint}", "{endpoint} 上不存在 Bucket {bucket}"),
    "bucket_down": ("cannot reach OSS at {endpoint}: {error}", "无法连接 OSS {endpoint}：{error}"),
    "region_ok": ("the bucket is in {location}, as OSS_REGION={region} says",
                  "Bucket 位于 {location}，与 OSS_REGION={region} 一致"),
    "region_bad": ("the bucket is in {location} but OSS_REGION={region}: set OSS_REGION={want} (and deploy the "
                   "function in that region, with the -internal endpoint)",
                   "Bucket 位于 {location}，但 OSS_REGION={region}：请设置 OSS_REGION={want}（函数也部署在该地域，"
                   "使用 -internal 内网 Endpoint）"),
    "region_refused": ("OSS refused a request signed for region {region} ({code}: {message}): the bucket is in "
                       "another region; set OSS_REGION (and OSS_ENDPOINT) to the bucket's region",
                       "OSS 拒绝了按地域 {region} 签名的请求（{code}：{message}）：Bucket 在其他地域，"
                       "请把 OSS_REGION（及 OSS_ENDPOINT）设为 Bucket 所在地域"),
    "acl_ok": ("the bucket is private: only signed links read it", "Bucket 为私有：只有签名链接可以读取"),
    "acl_bad": ("the bucket ACL is {acl}: anyone can {what} every upload without a signed link; set it to private",
                "Bucket 的读写权限为 {acl}：任何人无需签名即可{what}所有上传的文件；请改为私有（private）"),
    "cors_ok": ("CORS lets browsers POST and PUT and exposes ETag and x-oss-request-id",
                "跨域（CORS）规则允许浏览器 POST 和 PUT，并暴露 ETag 与 x-oss-request-id"),
    "cors_none": ("the bucket has no CORS rules: browser (H5) uploads will fail; mini programs do not need CORS",
                  "Bucket 没有跨域（CORS）规则：浏览器（H5）上传会失败；小程序不需要 CORS"),
    "cors_bad": ("no CORS rule {missing}: browser (H5) uploads need it; mini programs do not",
                 "没有一条跨域规则{missing}：浏览器（H5）上传需要它，小程序不需要"),
    "lifecycle_ok": ("lifecycle rule {rule} aborts incomplete multipart uploads after {days} day(s)",
                     "生命周期规则 {rule} 会在 {days} 天后删除未完成的分片上传"),
    "lifecycle_bad": ("no lifecycle rule aborts incomplete multipart uploads under {prefix}: paused or abandoned "
                      "large uploads keep their parts (and are billed) forever; add a rule \"delete incomplete "
                      "multipart uploads after 1 day\"",
                      "没有生命周期规则删除 {prefix} 下未完成的分片上传：暂停或放弃的大文件分片会一直保留并计费；"
                      "请添加规则“未完成的分片 1 天后删除”"),
    "clock_ok": ("this machine's clock is {skew:.0f} s from OSS's", "本机时钟与 OSS 相差 {skew:.0f} 秒"),
    "clock_warn": ("this machine's clock is {skew:.0f} s from OSS's; signatures fail beyond 15 minutes",
                   "本机时钟与 OSS 相差 {skew:.0f} 秒；超过 15 分钟签名会失败"),
    "clock_bad": ("this machine's clock is {skew:.0f} s from OSS's: OSS refuses requests more than 15 minutes off "
                  "(RequestTimeTooSkewed); fix the clock (NTP)",
                  "本机时钟与 OSS 相差 {skew:.0f} 秒：超过 15 分钟 OSS 会拒绝请求（RequestTimeTooSkewed），请校准时钟（NTP）"),
    "clock_unknown": ("OSS sent no Date header to compare clocks with", "OSS 未返回 Date 头，无法比较时钟"),
    "trip_skipped": ("set OSSGATE_URL to the function's URL to try a real upload and download",
                     "设置 OSSGATE_URL 为函数的访问地址，即可试一次真实的上传和下载"),
    "trip_ok": ("ticket, 1-byte upload, presigned download and delete all worked ({key})",
                "获取上传凭证、上传 1 字节、签名下载和删除均成功（{key}）"),
    "trip_bad": ("the round trip failed at {step}: {detail}", "往返测试在“{step}”一步失败：{detail}"),
    "callback_off": ("CALLBACK_URL is not set: uploads are not confirmed to the function",
                     "未设置 CALLBACK_URL：上传结果不会回调到函数"),
    "callback_http": ("CALLBACK_URL is not HTTPS ({url}); OSS would post upload details in clear text",
                      "CALLBACK_URL 不是 HTTPS（{url}）；OSS 会以明文发送上传信息"),
    "callback_local": ("CALLBACK_URL answers, but is plain HTTP on this machine ({url}): fine for make local, never "
                       "for a deployment (OSS calls it from the internet)",
                       "CALLBACK_URL 可以访问，但它是本机的 HTTP 地址（{url}）：仅适用于 make local，不可用于正式部署"
                       "（OSS 从公网调用它）"),
    "callback_ok": ("CALLBACK_URL answers and refuses an unsigned callback (403 invalid_callback_signature)",
                    "CALLBACK_URL 可以访问，并拒绝了未签名的回调（403 invalid_callback_signature）"),
    "callback_bad": ("CALLBACK_URL did not answer as ossgate does ({detail}): OSS gets no valid answer and uploaders "
                     "see 203 CallbackFailed",
                     "CALLBACK_URL 的应答不是 ossgate 的（{detail}）：OSS 得不到有效应答，上传方会收到 203 CallbackFailed"),
    "domains_ok": ("enter these in the mini program's console (开发管理 > 开发设置 > 服务器域名):",
                   "请在小程序后台“开发管理 > 开发设置 > 服务器域名”中填写："),
    "domains_local": ("these are not HTTPS domain names, which WeChat requires; for local development tick "
                      "\"do not verify domain names\" in DevTools:",
                      "以下不是 WeChat 要求的 HTTPS 域名；本地开发时请在开发者工具中勾选“不校验合法域名”："),
}


class Report:
    """Collects `PASS|WARN|FAIL <check>: <words>` lines in one language."""

    def __init__(self, lang, out):
        self.index = 1 if lang == "zh" else 0
        self.out = out
        self.failed = False

    def say(self, status, check, message_id, **values):
        if status == "FAIL":
            self.failed = True
        text = TEXT[message_id][self.index].format(**values)
        self.out.write("%s %s: %s\n" % (status, check, text))

    def raw(self, line):
        self.out.write(line + "\n")


def language(argv_lang, env):
    if argv_lang:
        return argv_lang
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


# --- OSS ----------------------------------------------------------------------------------------------


def oss_bucket(config, env):
    import oss2

    provider = oss2.credentials.StaticCredentialsProvider(
        env["ALIBABA_CLOUD_ACCESS_KEY_ID"], env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
        env.get("ALIBABA_CLOUD_SECURITY_TOKEN") or None)
    return oss2.Bucket(oss2.ProviderAuthV4(provider), config.endpoint, config.bucket, region=config.region,
                       connect_timeout=TIMEOUT)


def check_bucket(report, config, bucket):
    """GetBucketInfo; returns (info, Date header) or (None, None) after naming what failed."""
    import oss2

    try:
        info = bucket.get_bucket_info()
    except oss2.exceptions.RequestError as exc:
        report.say("FAIL", "bucket", "bucket_down", endpoint=config.endpoint, error="no answer (%s)" % exc.status)
        return None, None
    except oss2.exceptions.OssError as exc:
        code, message = exc.code or str(exc.status), (exc.message or "")[:200]
        if "region" in message.lower() or "endpoint" in message.lower():
            report.say("FAIL", "region", "region_refused", region=config.region, code=code, message=message)
        elif exc.code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidSecurityToken", "SecurityTokenExpired"):
            report.say("FAIL", "bucket", "bucket_keys", code=exc.code)
        elif exc.code == "NoSuchBucket":
            report.say("FAIL", "bucket", "bucket_missing", bucket=config.bucket, endpoint=config.endpoint)
        else:
            report.say("FAIL", "bucket", "bucket_denied", code=code, message=message)
        return None, None
    report.say("PASS", "bucket", "bucket_ok", bucket=config.bucket, location=info.location)
    want = info.location[len("oss-"):] if info.location.startswith("oss-") else info.location
    if want == config.region:
        report.say("PASS", "region", "region_ok", location=info.location, region=config.region)
    else:
        report.say("FAIL", "region", "region_bad", location=info.location, region=config.region, want=want)
    return info, info.headers.get("date")


def check_acl(report, info, lang_zh):
    acl = info.acl.grant if info.acl is not None else "private"
    if acl == "private":
        report.say("PASS", "acl", "acl_ok")
        return
    what = ("读取和覆盖" if acl == "public-read-write" else "读取") if lang_zh else (
        "read and overwrite" if acl == "public-read-write" else "read")
    report.say("FAIL", "acl", "acl_bad", acl=acl, what=what)


def _cors_rule_gaps(rule):
    methods = {m.upper() for m in rule.allowed_methods}
    exposed = {h.lower() for h in rule.expose_headers}
    gaps = []
    if not {"POST", "PUT"} <= methods:
        gaps.append("POST+PUT")
    if not set(EXPOSED_HEADERS) <= exposed:
        gaps.append("expose ETag, x-oss-request-id")
    if "*" not in rule.allowed_headers and "content-type" not in {h.lower() for h in rule.allowed_headers}:
        gaps.append("allowed header Content-Type")
    return gaps


def check_cors(report, config, bucket):
    import oss2

    needed = "FAIL" if config.cors_origins else "WARN"  # only H5 pages need CORS on the bucket
    try:
        rules = bucket.get_bucket_cors().rules
    except oss2.exceptions.NoSuchCors:
        report.say(needed, "cors", "cors_none")
        return
    except oss2.exceptions.OssError as exc:
        report.say("WARN", "cors", "bucket_denied", code=exc.code, message=(exc.message or "")[:200])
        return
    gaps = [_cors_rule_gaps(rule) for rule in rules]
    if any(not g for g in gaps):
        report.say("PASS", "cors", "cors_ok")
        return
    missing = min(gaps, key=len) if gaps else ["POST+PUT"]
    report.say(needed, "cors", "cors_bad", missing=" (" + "; ".join(missing) + ")")


def check_lifecycle(report, config, bucket):
    import oss2

    try:
        rules = bucket.get_bucket_lifecycle().rules
    except oss2.exceptions.NoSuchLifecycle:
        rules = []
    except oss2.exceptions.OssError as exc:
        report.say("WARN", "lifecycle", "bucket_denied", code=exc.code, message=(exc.message or "")[:200])
        return
    for rule in rules:
        abort = getattr(rule, "abort_multipart_upload", None)
        days = getattr(abort, "days", None) if abort is not None else None
        covers = config.upload_prefix.startswith(rule.prefix or "")
        if days and covers and rule.status == "Enabled":
            report.say("PASS", "lifecycle", "lifecycle_ok", rule=rule.id or "(unnamed)", days=days)
            return
    report.say("FAIL", "lifecycle", "lifecycle_bad", prefix=config.upload_prefix)


def check_clock(report, date_header, now):
    if not date_header:
        report.say("WARN", "clock", "clock_unknown")
        return
    skew = abs((now - parsedate_to_datetime(date_header)).total_seconds())
    if skew > SKEW_FAIL_SECONDS:
        report.say("FAIL", "clock", "clock_bad", skew=skew)
    elif skew > SKEW_WARN_SECONDS:
        report.say("WARN", "clock", "clock_warn", skew=skew)
    else:
        report.say("PASS", "clock", "clock_ok", skew=skew)


# --- the function, over HTTP -------------------------------------------------------------------------


def http(method, url, body=None, headers=None):
    """(status, headers, body bytes); never raises on an HTTP status."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def form_body(fields, data, content_type):
    boundary = "ossgate-doctor-" + uuid.uuid4().hex
    chunks = []
    for name, value in fields.items():
        chunks.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                       % (boundary, name, value)).encode("utf-8"))
    chunks.append(('--%s\r\nContent-Disposition: form-data; name="file"; filename="doctor.txt"\r\n'
                   "Content-Type: %s\r\n\r\n" % (boundary, content_type)).encode("utf-8") + data + b"\r\n")
    chunks.append(("--%s--\r\n" % boundary).encode("ascii"))
    return b"".join(chunks), "multipart/form-data; boundary=" + boundary


def doctor_headers(config, now):
    headers = {"Content-Type": "application/json"}
    if config.auth_mode == "wechat":
        token, _ = sessions.mint(DOCTOR_USER, config.session_secrets[0], config.wechat_appid,
                                 int(now.timestamp()), 300)
        headers["Authorization"] = "Bearer " + token
    return headers


def probe_type(config):
    """A content type the default profile accepts, for the 1-byte test file."""
    for pattern in config.profiles["default"].content_types:
        return pattern.replace("/*", "/plain" if pattern.startswith("text/") else "/png") \
            if pattern.endswith("/*") else pattern
    return "text/plain"


class TripFailed(Exception):
    def __init__(self, step, detail):
        super().__init__(step)
        self.step, self.detail = step, detail


def _expect(step, status, body, ok=(200,)):
    if status not in ok:
        raise TripFailed(step, "HTTP %s %s" % (status, body[:300].decode("utf-8", "replace")))


def round_trip(base_url, config, bucket, now):
    """Ticket → 1-byte form upload → presigned download → delete; returns the key and the download URL."""
    status, _, body = http("GET", base_url + "/healthz")
    _expect("GET /healthz", status, body)
    headers = doctor_headers(config, now)
    content_type = probe_type(config)
    request = json.dumps({"size": 1, "contentType": content_type, "filename": "doctor.txt"}).encode()
    status, _, body = http("POST", base_url + "/v1/uploads", request, headers)
    _expect("POST /v1/uploads", status, body)
    ticket = json.loads(body)
    form, form_type = form_body(ticket["fields"], b"!", content_type)
    status, _, answer = http("POST", ticket["url"], form, {"Content-Type": form_type})
    _expect("upload to OSS", status, answer, ok=(200, 201, 204))
    try:
        status, _, body = http("POST", base_url + "/v1/downloads", json.dumps({"key": ticket["key"]}).encode(),
                               headers)
        _expect("POST /v1/downloads", status, body)
        url = json.loads(body)["url"]
        status, _, data = http("GET", url)
        _expect("presigned download", status, data)
        if data != b"!":
            raise TripFailed("presigned download", "got %d bytes back instead of the 1 byte sent" % len(data))
    finally:
        bucket.delete_object(ticket["key"])
    return ticket["key"], url


def check_round_trip(report, config, bucket, env, now):
    base_url = (env.get("OSSGATE_URL") or "").rstrip("/")
    if not base_url:
        report.say("WARN", "roundtrip", "trip_skipped")
        return None
    try:
        key, url = round_trip(base_url, config, bucket, now)
    except TripFailed as exc:
        report.say("FAIL", "roundtrip", "trip_bad", step=exc.step, detail=exc.detail)
        return None
    except (OSError, ValueError, KeyError) as exc:
        report.say("FAIL", "roundtrip", "trip_bad", step="HTTP", detail=type(exc).__name__)
        return None
    report.say("PASS", "roundtrip", "trip_ok", key=key)
    return url


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_callback(report, config):
    url = config.callback_url
    if not url:
        report.say("WARN", "callback", "callback_off")
        return
    parts = urlsplit(url)
    local_http = parts.scheme != "https" and _is_loopback(parts.hostname or "")
    if parts.scheme != "https" and not local_http:
        report.say("FAIL", "callback", "callback_http", url=url)
        return
    try:
        status, _, body = http("POST", url, b"bucket=doctor&object=doctor", {
            "Content-Type": "application/x-www-form-urlencoded"})
        code = json.loads(body).get("error", {}).get("code")
    except (OSError, ValueError, AttributeError) as exc:
        report.say("FAIL", "callback", "callback_bad", detail=type(exc).__name__)
        return
    if status != 403 or code != "invalid_callback_signature":
        report.say("FAIL", "callback", "callback_bad", detail="HTTP %s %s" % (status, code))
    elif local_http:
        report.say("WARN", "callback", "callback_local", url=url)
    else:
        report.say("PASS", "callback", "callback_ok")


def _origin(url):
    parts = urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc)


def _wechat_acceptable(origin):
    parts = urlsplit(origin)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        return parts.scheme == "https" and host != "localhost" and "." in host


def print_domains(report, config, env, download_url):
    lists = [("request", [_origin(env["OSSGATE_URL"])] if env.get("OSSGATE_URL") else ["<OSSGATE_URL>"]),
             ("uploadFile", [_origin(config.upload_host)]),
             ("downloadFile", [_origin(download_url or config.upload_host)])]
    every = [o for _, origins in lists for o in origins if not o.startswith("<")]
    good = all(_wechat_acceptable(o) for o in every)
    report.say("PASS" if good else "WARN", "wechat-domains", "domains_ok" if good else "domains_local")
    for name, origins in lists:
        report.raw("    %-13s %s" % (name, ";".join(origins)))


# --- main --------------------------------------------------------------------------------------------


def run(env, out, lang="en", now=None):
    """Every check in order; returns the exit code."""
    report = Report(lang, out)
    try:
        config = config_module.from_environ(env)
    except ConfigError as exc:
        report.say("FAIL", "config", "config_bad", error=exc.message)
        return 1
    report.say("PASS", "config", "config_ok", bucket=config.bucket, region=config.region, auth=config.auth_mode)
    if not (env.get("ALIBABA_CLOUD_ACCESS_KEY_ID") and env.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET")):
        report.say("FAIL", "credentials", "creds_missing")
        return 1
    now = now or datetime.now(timezone.utc)
    bucket = oss_bucket(config, env)
    info, date_header = check_bucket(report, config, bucket)
    if info is not None:
        check_acl(report, info, lang == "zh")
        check_cors(report, config, bucket)
        check_lifecycle(report, config, bucket)
        check_clock(report, date_header, now)
        download_url = check_round_trip(report, config, bucket, env, now)
    else:
        download_url = None
    check_callback(report, config)
    print_domains(report, config, env, download_url)
    return 1 if report.failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="make doctor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=("en", "zh"), help="language of the report (default: from the locale)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    code = run(os.environ, sys.stdout, language(args.lang, os.environ))
    sys.stdout.write("(%.1f s)\n" % (time.monotonic() - started))
    return code


if __name__ == "__main__":
    sys.exit(main())
