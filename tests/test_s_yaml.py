"""s.yaml is a valid fc3 project: rendered by Serverless Devs' own CLI (`s preview`, pinned in tools/package.json),
its function props pass the fc3 component's schema (tests/data/fc3/schema.json, the component's src/schema.json)."""

import ast
import json
import os
import re
import subprocess
import time

import jsonschema
import pytest
import yaml

from conftest import FC3_DATA, FUNCTION_DIR, ROOT, SHARED

_ENV_RE = re.compile(r"\$\{env\('([A-Z0-9_]+)'(?:,\s*'([^']*)')?\)\}")
CONTRACT_SETTINGS = {
    "OSS_BUCKET", "OSS_REGION", "OSS_UPLOAD_HOST", "OSS_ENDPOINT", "AUTH_MODE", "UPLOAD_PREFIX", "UPLOAD_PROFILES",
    "TICKET_TTL_SECONDS", "CORS_ALLOW_ORIGINS", "WECHAT_APPID", "WECHAT_SECRET", "WECHAT_API_BASE",
    "SESSION_SECRETS", "SESSION_TTL_SECONDS", "CREDENTIALS_MODE", "OSS_STS_ROLE_ARN", "STS_DURATION_SECONDS",
    "CALLBACK_URL", "OSS_CALLBACK_PUBLIC_KEY", "DOWNLOAD_TTL_SECONDS", "SEED_ROUTE"}
CONTRACT_SETTINGS |= {"MODERATION", "MODERATION_PROFILES", "MODERATION_SCENE", "MODERATION_ACTION",
                      "QUARANTINE_PREFIX", "WECHAT_PUSH_TOKEN", "WECHAT_PUSH_AES_KEY"}
CONTRACT_SETTINGS |= {"QUOTA_REDIS_URL", "QUOTAS", "QUOTA_FAIL_MODE", "QUOTA_DAY_UTC_OFFSET"}


S_CLI = ROOT / "tools" / "node_modules" / ".bin" / "s"
REALISTIC = {
    "OSSGATE_ROLE_ARN": "acs:ram::1234567890123456:role/ossgate-fc", "OSS_BUCKET": "my-bucket",
    "OSS_REGION": "cn-shanghai", "OSS_ENDPOINT": "https://oss-cn-shanghai-internal.aliyuncs.com",
    "AUTH_MODE": "wechat", "WECHAT_APPID": "wx0123456789abcdef", "WECHAT_SECRET": "app-secret",
    "SESSION_SECRETS": "0" * 64, "UPLOAD_PROFILES": '{"default": {"maxSize": 1048576}}',
}


def render(settings, tmp_home, template=None):
    """s.yaml (or `template`, a variant of it) as Serverless Devs' own CLI renders it (`s preview -o json`, offline),
    with exactly `settings` as the deployer's environment. Returns (exit code, the rendered project or None, the
    CLI's output)."""
    assert S_CLI.exists(), "Serverless Devs' CLI is missing: run `make test` (it installs tools/node_modules)"
    config = tmp_home / ".s" / "config"
    config.mkdir(parents=True, exist_ok=True)
    # A recent update check: the CLI then starts no background check against the npm registry.
    (config / "update-notifier.json").write_text(json.dumps({"lastUpdateCheck": int(time.time() * 1000)}))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_home), "LANG": "C.UTF-8"}
    env.update(settings)
    command = [str(S_CLI), "preview", "-o", "json", "-t", str(template or ROOT / "s.yaml")]
    out = subprocess.run(command, cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=120)
    text = out.stdout
    start = text.find("\n{")
    rendered = json.loads(text[start:]) if out.returncode == 0 and start >= 0 else None
    return out.returncode, rendered, text + out.stderr


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    code, project, output = render(REALISTIC, tmp_path_factory.mktemp("s-home"))
    assert code == 0 and project, output
    return project


@pytest.fixture(scope="module")
def project():
    with open(ROOT / "s.yaml") as source:
        return yaml.safe_load(source)


@pytest.fixture(scope="module")
def props(rendered):
    return rendered["resources"]["ossgate"]["props"]


def test_function_props_pass_the_fc3_schema(props):
    with open(FC3_DATA / "schema.json") as source:
        schema = json.load(source)
    jsonschema.Draft7Validator(schema).validate(props)


def test_the_shape_the_design_card_fixes(project, props):
    assert project["edition"] == "3.0.0" and project["resources"]["ossgate"]["component"] == "fc3"
    assert props["runtime"] == "python3.10" and props["code"] == "./function"
    assert props["handler"] == "index.handler"
    assert props["instanceLifecycleConfig"]["initializer"]["handler"] == "index.initialize"
    trigger = props["triggers"][0]
    assert trigger["triggerType"] == "http" and trigger["triggerConfig"]["authType"] == "anonymous"
    assert set(trigger["triggerConfig"]["methods"]) == {"GET", "POST", "OPTIONS"}
    assert props["memorySize"] <= 256 and props["logConfig"]
    assert props["environmentVariables"]["PYTHONPATH"] == "/code/python"


def test_handlers_named_in_s_yaml_exist(props):
    tree = ast.parse((FUNCTION_DIR / "index.py").read_text())
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    for dotted in (props["handler"], props["instanceLifecycleConfig"]["initializer"]["handler"]):
        module, name = dotted.split(".")
        assert module == "index" and name in defined


def test_environment_is_the_contracts_and_secrets_come_from_the_deployer():
    text = (ROOT / "s.yaml").read_text()
    project = yaml.safe_load(text)
    env = project["resources"]["ossgate"]["props"]["environmentVariables"]
    assert set(env) - {"PYTHONPATH"} == CONTRACT_SETTINGS
    for name in ("WECHAT_SECRET", "SESSION_SECRETS", "OSS_BUCKET"):
        assert _ENV_RE.fullmatch(env[name]) and _ENV_RE.fullmatch(env[name]).group(1) == name
    assert "OSSGATE_ROLE_ARN" in project["resources"]["ossgate"]["props"]["role"]


def test_defaults_in_s_yaml_give_a_valid_configuration(tmp_path):
    from ossgate import config
    minimal = {"OSSGATE_ROLE_ARN": REALISTIC["OSSGATE_ROLE_ARN"], "OSS_BUCKET": "my-bucket",
               "OSS_REGION": "cn-hangzhou", "AUTH_MODE": "anonymous"}
    code, rendered, output = render(minimal, tmp_path)
    assert code == 0, output
    deployed = rendered["resources"]["ossgate"]["props"]["environmentVariables"]
    cfg = config.from_environ(deployed)
    assert cfg.upload_prefix == "uploads/" and cfg.ticket_ttl == 600 and cfg.upload_host.startswith("https://my-bucket.")


@pytest.mark.skipif(not (SHARED / "data" / "fc3").is_dir(), reason="the shared data folder is not beside this checkout")
def test_the_fc3_copies_match_shared():
    for name in ("schema.json", "http-event-template.json"):
        assert (FC3_DATA / name).read_bytes() == (SHARED / "data" / "fc3" / name).read_bytes()


def test_the_realistic_settings_reach_the_function(props):
    env = props["environmentVariables"]
    for name in ("OSS_BUCKET", "OSS_REGION", "OSS_ENDPOINT", "AUTH_MODE", "WECHAT_APPID", "UPLOAD_PROFILES"):
        assert env[name] == REALISTIC[name]
    assert props["role"] == REALISTIC["OSSGATE_ROLE_ARN"]
    assert "${" not in json.dumps(props)


def test_the_function_region_follows_oss_region(props):
    assert props["region"] == REALISTIC["OSS_REGION"] == props["environmentVariables"]["OSS_REGION"]


def test_ossgate_region_overrides_the_function_region(tmp_path):
    code, rendered, output = render(dict(REALISTIC, OSSGATE_REGION="cn-beijing"), tmp_path)
    assert code == 0, output
    props = rendered["resources"]["ossgate"]["props"]
    assert props["region"] == "cn-beijing" and props["environmentVariables"]["OSS_REGION"] == "cn-shanghai"


@pytest.mark.parametrize("missing", ["OSS_BUCKET", "OSS_REGION", "OSSGATE_ROLE_ARN"])
def test_a_missing_required_setting_fails_the_render(tmp_path, missing):
    settings = {k: v for k, v in REALISTIC.items() if k != missing}
    code, rendered, output = render(settings, tmp_path)
    assert code != 0 and rendered is None
    assert "env('%s') not found" % missing in output


def test_every_ossgate_setting_of_s_yaml_is_documented_in_the_readme():
    used = set(re.findall(r"env\('(OSSGATE_[A-Z0-9_]+)'", (ROOT / "s.yaml").read_text()))
    assert {"OSSGATE_ROLE_ARN", "OSSGATE_REGION"} <= used
    readme = (ROOT / "README.md").read_text()
    assert sorted(name for name in used if "`%s`" % name not in readme) == []


def test_certificates_are_git_ignored():
    ignored = subprocess.run(["git", "check-ignore", "-q", "cert/privkey.pem"], cwd=str(ROOT))
    assert ignored.returncode == 0


def test_the_initializer_and_the_function_have_their_own_timeouts(props):
    """s.yaml once had `timeout` twice in props (YAML loaders that keep the last key hid it; `s` refuses it)."""
    assert props["timeout"] >= 60  # a multipart complete of 10,000 parts
    assert props["instanceLifecycleConfig"]["initializer"]["timeout"] <= 10


def test_the_render_refuses_a_duplicated_key(tmp_path):
    """What a YAML loader keeping the last key would hide: the CLI refuses the file."""
    text = (ROOT / "s.yaml").read_text().replace("      memorySize: 128\n", "      memorySize: 128\n      memorySize: 256\n")
    assert text.count("memorySize:") == 2
    (tmp_path / "s.yaml").write_text(text)
    code, rendered, output = render(REALISTIC, tmp_path / "home", template=tmp_path / "s.yaml")
    assert code != 0 and rendered is None
    assert "duplicated mapping key" in output


def test_the_commented_vpc_config_passes_the_fc3_schema_once_uncommented(tmp_path):
    lines = (ROOT / "s.yaml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "# vpcConfig:")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].strip().startswith("#   "))
    lines[start:end] = [line.replace("# ", "", 1) for line in lines[start:end]]
    (tmp_path / "s.yaml").write_text("\n".join(lines) + "\n")
    vpc = {"OSSGATE_VPC_ID": "vpc-bp1", "OSSGATE_VSWITCH_ID": "vsw-bp1", "OSSGATE_SECURITY_GROUP_ID": "sg-bp1"}
    code, rendered, output = render(dict(REALISTIC, **vpc), tmp_path / "home", template=tmp_path / "s.yaml")
    assert code == 0, output
    props = rendered["resources"]["ossgate"]["props"]
    with open(FC3_DATA / "schema.json") as source:
        jsonschema.Draft7Validator(json.load(source)).validate(props)
    assert props["vpcConfig"] == {"vpcId": "vpc-bp1", "vSwitchIds": ["vsw-bp1"], "securityGroupId": "sg-bp1"}


def test_quotas_are_off_with_the_s_yaml_defaults_and_on_when_set(tmp_path):
    from ossgate import config
    base = {"OSSGATE_ROLE_ARN": REALISTIC["OSSGATE_ROLE_ARN"], "OSS_BUCKET": "my-bucket", "OSS_REGION": "cn-hangzhou",
            "AUTH_MODE": "anonymous"}
    quotas = {"QUOTA_REDIS_URL": "rediss://:p@r-bp1.example:6380", "QUOTAS": '{"*": {"uploadsPerDay": 500}}'}
    deployed = {}
    for name, settings in (("off", base), ("on", dict(base, **quotas))):
        code, rendered, output = render(settings, tmp_path / name)
        assert code == 0, output
        deployed[name] = config.from_environ(rendered["resources"]["ossgate"]["props"]["environmentVariables"])
    off, on = deployed["off"], deployed["on"]
    assert off.quotas is None and off.quota_fail_mode == "closed" and off.quota_day_offset == 8 * 3600
    assert on.quotas == {"*": (None, 500, None)}
