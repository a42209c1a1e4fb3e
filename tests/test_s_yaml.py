"""s.yaml is a valid fc3 project: its function props pass the component's own schema (shared/data/fc3)."""

import ast
import json
import re

import jsonschema
import pytest
import yaml

from conftest import FC3_DATA, FUNCTION_DIR, ROOT, SHARED

_ENV_RE = re.compile(r"\$\{env\('([A-Z0-9_]+)'(?:,\s*'([^']*)')?\)\}")
_VARS_RE = re.compile(r"\$\{vars\.([A-Za-z0-9_]+)\}")
CONTRACT_SETTINGS = {
    "OSS_BUCKET", "OSS_REGION", "OSS_UPLOAD_HOST", "OSS_ENDPOINT", "AUTH_MODE", "UPLOAD_PREFIX", "UPLOAD_PROFILES",
    "TICKET_TTL_SECONDS", "CORS_ALLOW_ORIGINS", "WECHAT_APPID", "WECHAT_SECRET", "WECHAT_API_BASE",
    "SESSION_SECRETS", "SESSION_TTL_SECONDS", "CREDENTIALS_MODE", "OSS_STS_ROLE_ARN", "STS_DURATION_SECONDS",
    "CALLBACK_URL", "OSS_CALLBACK_PUBLIC_KEY", "DOWNLOAD_TTL_SECONDS", "SEED_ROUTE"}
CONTRACT_SETTINGS |= {"MODERATION", "MODERATION_PROFILES", "MODERATION_SCENE", "MODERATION_ACTION",
                      "QUARANTINE_PREFIX", "WECHAT_PUSH_TOKEN", "WECHAT_PUSH_AES_KEY"}


def resolve(value, variables, env):
    """Serverless Devs' ${env('X', 'default')} and ${vars.x}, as `s` would with `env` set."""
    if isinstance(value, dict):
        return {k: resolve(v, variables, env) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, variables, env) for v in value]
    if isinstance(value, str):
        value = _ENV_RE.sub(lambda m: env.get(m.group(1), m.group(2) if m.group(2) is not None else "<unset>"), value)
        return _VARS_RE.sub(lambda m: str(variables[m.group(1)]), value)
    return value


@pytest.fixture(scope="module")
def project():
    with open(ROOT / "s.yaml") as source:
        return yaml.safe_load(source)


@pytest.fixture(scope="module")
def props(project):
    env = {"OSSGATE_ROLE_ARN": "acs:ram::1234567890123456:role/ossgate-fc", "OSS_BUCKET": "my-bucket"}
    variables = resolve(project["vars"], {}, env)
    return resolve(project["resources"]["ossgate"]["props"], variables, env)


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


def test_defaults_in_s_yaml_give_a_valid_configuration(project):
    from ossgate import config
    env_settings = project["resources"]["ossgate"]["props"]["environmentVariables"]
    deployed = resolve(env_settings, {}, {"OSS_BUCKET": "my-bucket", "AUTH_MODE": "anonymous"})
    cfg = config.from_environ(deployed)
    assert cfg.upload_prefix == "uploads/" and cfg.ticket_ttl == 600 and cfg.upload_host.startswith("https://my-bucket.")


@pytest.mark.skipif(not (SHARED / "data" / "fc3").is_dir(), reason="shared/ is not beside this checkout")
def test_the_fc3_copies_match_shared():
    for name in ("schema.json", "http-event-template.json"):
        assert (FC3_DATA / name).read_bytes() == (SHARED / "data" / "fc3" / name).read_bytes()
