"""The documentation stays in step: English and Chinese name the same routes, settings, error codes and tests;
the deploy guides include every RAM policy file verbatim; every setting the function reads is documented."""

import ast
import json
import re
from pathlib import Path

import pytest

from ossgate import credentials, errors

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RAM = DOCS / "ram"
PAIRS = [
    ("README.md", "README.zh-CN.md"),
    ("docs/deploy.md", "docs/deploy.zh-CN.md"),
    ("docs/threat-model.md", "docs/threat-model.zh-CN.md"),
]

FENCE_RE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
INLINE_CODE_RE = re.compile(r"`([^`\n]+)`")
ROUTE_RE = re.compile(r"/v1/[a-z0-9][a-z0-9/_*-]*[a-z0-9*]|/healthz|/generate_signature")
UPPER_RE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*\b")
SNAKE_RE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)*\b")
CAMEL_RE = re.compile(r"\b[A-Z][A-Za-z0-9]+\b")
LOWER_CAMEL_RE = re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]*)+\b")
TEST_NAME_RE = re.compile(r"\btest_[a-z0-9_]+\b")
TEST_FILE_RE = re.compile(r"\btests/[a-z0-9_/]+\.py\b")
ENV_NAME_RE = re.compile(r"""\benv(?:\s*,\s*|\.get\(\s*|\[\s*)["']([A-Z][A-Z0-9_]+)["']""")


def read(relative):
    return (ROOT / relative).read_text(encoding="utf-8")


def code_text(text):
    """Every inline code span and fenced block of a Markdown text: where identifiers live."""
    fenced = FENCE_RE.findall(text)
    prose = FENCE_RE.sub("", text)
    return fenced + INLINE_CODE_RE.findall(prose)


def normalised(text):
    return re.sub(r"\s+", " ", text).strip()


def settings_read_by_config():
    """The environment variables config.py reads: every `(env, "NAME")`, env.get("NAME") or env["NAME"]."""
    names = set(ENV_NAME_RE.findall((ROOT / "function" / "ossgate" / "config.py").read_text(encoding="utf-8")))
    assert {"OSS_BUCKET", "AUTH_MODE", "UPLOAD_PROFILES", "DOWNLOAD_TTL_SECONDS"} <= names, names
    return names


def client_error_codes():
    """The UploadErrorCode union of the client's types."""
    text = (ROOT / "miniprogram" / "ossgate" / "index.d.ts").read_text(encoding="utf-8")
    block = re.search(r"export type UploadErrorCode =(.*?)\n\n", text, re.S).group(1)
    block = re.sub(r"/\*.*?\*/", "", block, flags=re.S)
    codes = set(re.findall(r"'([a-z_]+)'", block))
    assert {"network", "oss_rejected"} <= codes, codes
    return codes


def oss_error_codes():
    """OSS's own error codes, as the local OSS's status table lists them."""
    tree = ast.parse((ROOT / "local" / "oss" / "errors.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "STATUS_BY_CODE" for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError("local/oss/errors.py has no STATUS_BY_CODE")


def routes(text):
    return set(ROUTE_RE.findall(text))


def settings(text, known):
    found = set()
    for span in code_text(text):
        found |= {name for name in UPPER_RE.findall(span) if "_" in name or name in known}
    return found


def codes(text, known):
    found = set()
    for span in code_text(text):
        found |= {word for word in SNAKE_RE.findall(span) if word in known}
    return found


def oss_codes(text, known):
    found = set()
    for span in code_text(text):
        found |= {word for word in CAMEL_RE.findall(span) if word in known}
    return found


def identifiers(text):
    """camelCase names in code (client options, functions, JSON fields): a translation keeps them verbatim."""
    found = set()
    for span in code_text(text):
        found |= set(LOWER_CAMEL_RE.findall(span))
    return found


def named_tests(text):
    return set(TEST_NAME_RE.findall(text)) | set(TEST_FILE_RE.findall(text))


def assert_same(kind, english_name, english, chinese_name, chinese):
    only_english = sorted(english - chinese)
    only_chinese = sorted(chinese - english)
    assert not only_english and not only_chinese, (
        "%s differ: only in %s: %s; only in %s: %s" % (kind, english_name, only_english, chinese_name, only_chinese))


@pytest.mark.parametrize("english_name, chinese_name", PAIRS)
def test_each_translation_names_the_same_routes_settings_and_codes(english_name, chinese_name):
    english, chinese = read(english_name), read(chinese_name)
    known_settings = settings_read_by_config()
    known_codes = set(errors.STATUS_BY_CODE) | client_error_codes()
    known_oss_codes = oss_error_codes()
    assert_same("routes", english_name, routes(english), chinese_name, routes(chinese))
    assert_same("settings", english_name, settings(english, known_settings),
                chinese_name, settings(chinese, known_settings))
    assert_same("error codes", english_name, codes(english, known_codes), chinese_name, codes(chinese, known_codes))
    assert_same("OSS error codes", english_name, oss_codes(english, known_oss_codes),
                chinese_name, oss_codes(chinese, known_oss_codes))
    assert_same("tests", english_name, named_tests(english), chinese_name, named_tests(chinese))
    assert_same("identifiers", english_name, identifiers(english), chinese_name, identifiers(chinese))


@pytest.mark.parametrize("english_name, chinese_name", PAIRS)
def test_each_translation_links_to_the_other(english_name, chinese_name):
    english, chinese = read(english_name), read(chinese_name)
    assert "](%s)" % Path(chinese_name).name in english.split("\n## ", 1)[0], english_name
    assert "](%s)" % Path(english_name).name in chinese.split("\n## ", 1)[0], chinese_name


def test_the_translation_pairs_are_not_trivially_equal():
    for english_name, chinese_name in PAIRS:
        chinese = read(chinese_name)
        han = len(re.findall(r"[\u4e00-\u9fff]", chinese))
        assert han > 300, "%s has only %d Chinese characters" % (chinese_name, han)


@pytest.mark.parametrize("readme", ["README.md", "README.zh-CN.md"])
def test_every_setting_the_function_reads_is_documented(readme):
    text = read(readme)
    documented = settings(text, settings_read_by_config())
    missing = sorted(settings_read_by_config() - documented)
    assert not missing, "%s does not document %s" % (readme, missing)


@pytest.mark.parametrize("readme", ["README.md", "README.zh-CN.md"])
def test_every_route_of_the_app_is_documented(readme):
    app = (ROOT / "function" / "ossgate" / "app.py").read_text(encoding="utf-8")
    served = set(re.findall(r"""["'](/v1/[a-z0-9/_-]+|/healthz|/generate_signature)["']""", app))
    assert "/v1/uploads" in served, served
    missing = sorted(served - routes(read(readme)))
    assert not missing, "%s does not document %s" % (readme, missing)


def ram_files():
    files = sorted(RAM.glob("*.json"))
    assert len(files) >= 7, files
    return files


@pytest.mark.parametrize("path", ram_files(), ids=lambda p: p.name)
def test_each_ram_policy_parses(path):
    policy = json.loads(path.read_text(encoding="utf-8"))
    assert policy["Version"] == "1"
    assert policy["Statement"] and all(s["Effect"] == "Allow" for s in policy["Statement"])


@pytest.mark.parametrize("guide", ["docs/deploy.md", "docs/deploy.zh-CN.md"])
def test_the_deploy_guides_include_every_ram_policy_verbatim(guide):
    text = read(guide)
    blocks = [normalised(b) for b in re.findall(r"^```json\n(.*?)^```", text, re.S | re.M)]
    for path in ram_files():
        assert normalised(path.read_text(encoding="utf-8")) in blocks, "%s lacks %s as a ```json block" % (
            guide, path.name)
        assert "ram/%s" % path.name in text, "%s does not name %s" % (guide, path.name)


def actions(policy):
    found = set()
    for statement in policy["Statement"]:
        action = statement["Action"]
        found |= {action} if isinstance(action, str) else set(action)
    return found


def test_the_assume_role_session_policy_allows_what_the_features_need():
    needed = set()
    for name in ("upload.json", "download.json", "multipart.json"):
        needed |= actions(json.loads((RAM / name).read_text(encoding="utf-8")))
    policy = json.loads(credentials.session_policy("bucket-a", "uploads/"))
    assert needed <= actions(policy), sorted(needed - actions(policy))
    assert all(r == "acs:oss:*:*:bucket-a/uploads/*" for s in policy["Statement"] for r in s["Resource"])


def test_the_helpers_find_what_they_look_for():
    sample = ("Set `AUTH_MODE=wechat` and `MODERATION`; call `POST /v1/uploads` or /healthz; "
              "errors `file_too_large`, `network`, `AccessDenied`; see `tests/test_a.py::test_b`.\n"
              "```bash\nexport OSS_BUCKET=b\n```\n")
    assert routes(sample) == {"/v1/uploads", "/healthz"}
    assert settings(sample, {"MODERATION"}) == {"AUTH_MODE", "MODERATION", "OSS_BUCKET"}
    assert codes(sample, {"file_too_large", "network", "bad_request"}) == {"file_too_large", "network"}
    assert oss_codes(sample, {"AccessDenied", "NoSuchKey"}) == {"AccessDenied"}
    assert identifiers(sample + "`uploader.upload({ onProgress })` `maxSize`") == {"onProgress", "maxSize"}
    assert named_tests(sample) == {"tests/test_a.py", "test_a", "test_b"}
    assert ENV_NAME_RE.findall('_int(env, "A_B", 1) _get(env,"CC") env.get("DD") env["E_F"]') == ["A_B", "CC", "DD", "E_F"]
