"""Readers for the deployment files, and the service facts they must agree with.

The service facts come from the service itself when it imports (service.settings.VARIABLES), and
from docs/contract.md always: the deployment is checked against both, so it cannot drift from the
code, and the contract cannot drift from either.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "cloudformation" / "service.yaml"
WORKFLOWS = ROOT / ".github" / "workflows"
CONTAINER = "service"  # the task definition's container the deploy workflow renders


# ---------------------------------------------------------------- the service's side
@cache
def contract_text() -> str:
    return (ROOT / "docs" / "contract.md").read_text()


@cache
def contract_variables() -> dict[str, str]:
    """The environment table of docs/contract.md: {name: default}."""
    section = contract_text().split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\|\s*`?([A-Z][A-Z0-9_]*)`?\s*\|\s*`?([^|`]*?)`?\s*\|", section, re.M)
    assert rows, "docs/contract.md has no environment table"
    return dict(rows)


@cache
def service_variables() -> dict[str, str] | None:
    """{name: default} from service.settings.VARIABLES, or None if the service does not import."""
    try:
        from service.settings import VARIABLES
    except Exception:
        return None
    out: dict[str, str] = {}
    for var in VARIABLES:
        if isinstance(var, str):
            out[var] = contract_variables().get(var, "")
        else:
            out[var.name] = str(getattr(var, "default", contract_variables().get(var.name, "")))
    return out


def known_variables() -> dict[str, str]:
    """Names both sides agree on (the contract alone when the service does not import)."""
    contract = contract_variables()
    service = service_variables()
    if service is None:
        return contract
    return {name: default for name, default in contract.items() if name in service}


def default_of(name: str) -> str:
    service = service_variables()
    return (service or contract_variables())[name]


def contract_routes() -> set[str]:
    return set(re.findall(r"`(?:GET|POST) (/[a-z/._]*)`", contract_text()))


def contract_metrics() -> set[str]:
    section = contract_text().split("## Metrics", 1)[1]
    return set(re.findall(r"`(imageconv_[a-z_]+)", section))


def autoscaling_metric() -> str:
    """The metric the contract names as the autoscaling signal."""
    for line in contract_text().splitlines():
        if "autoscaling signal" in line:
            names = re.findall(r"`(imageconv_[a-z_]+)", line)
            assert len(names) == 1, line
            return names[0]
    raise AssertionError("docs/contract.md names no autoscaling signal")


# ---------------------------------------------------------------- CloudFormation
class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags read as their long form: !Ref X -> {"Ref": X}."""


def _construct(loader: yaml.SafeLoader, tag: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag == "Ref" else f"Fn::{tag}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: _construct(loader, suffix, node))


@cache
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)


def resource(name: str) -> dict[str, Any]:
    return template()["Resources"][name]["Properties"]


def container(name: str = CONTAINER) -> dict[str, Any]:
    return next(c for c in resource("TaskDefinition")["ContainerDefinitions"] if c["Name"] == name)


def environment(name: str = CONTAINER) -> dict[str, Any]:
    return {e["Name"]: e["Value"] for e in container(name)["Environment"]}


def parameter_default(value: Any) -> Any:
    """A literal, the default of the parameter a {"Ref": ...} names, or a list parameter's default
    joined ({"Fn::Join": [",", {"Ref": ...}]}, as CORS_ORIGINS is set)."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return template()["Parameters"][value["Ref"]]["Default"]
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, items = value["Fn::Join"]
        items = parameter_default(items)
        return separator.join(items.split(",") if isinstance(items, str) else map(str, items))
    return value


# ---------------------------------------------------------------- Dockerfile
@cache
def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def dockerfile(instruction: str) -> list[str]:
    return [args for word, args in dockerfile_instructions() if word == instruction]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in dockerfile("ENV"):
        for item in shlex.split(args):
            key, _, value = item.partition("=")
            env[key] = value
    return env


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form CMD/ENTRYPOINT/HEALTHCHECK CMD."""
    return json.loads(args[args.index("[") :])


# ---------------------------------------------------------------- PM2
@cache
def pm2_apps() -> list[dict[str, Any]]:
    """pm2/ecosystem.config.js as PM2 reads it: required by Node, with an empty environment."""
    node = shutil.which("node")
    assert node, "node is needed to load pm2/ecosystem.config.js (it is JavaScript): install nodejs"
    script = 'process.stdout.write(JSON.stringify(require("./pm2/ecosystem.config.js")))'
    out = subprocess.run(
        [node, "-e", script], cwd=ROOT, capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}
    ).stdout
    return json.loads(out)["apps"]


# ---------------------------------------------------------------- GitHub Actions
@cache
def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(name: str) -> list[dict[str, Any]]:
    return [step for job in workflow(name)["jobs"].values() for step in job.get("steps", [])]


def step_using(name: str, action: str) -> dict[str, Any]:
    found = [s for s in steps(name) if s.get("uses", "").split("@")[0] == action]
    assert len(found) == 1, f"{name}: expected one step using {action}, found {len(found)}"
    return found[0]
