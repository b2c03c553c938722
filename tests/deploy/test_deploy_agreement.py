"""The pieces agree with the service: port, health paths, variables, entry point, autoscaling metric."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from service import metrics
from service.settings import VARIABLES, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = load_settings({})


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, ...) read as {"Ref": value}, {"Sub": value}..."""


CfnLoader.add_multi_constructor("!", lambda loader, tag, node: {tag: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node))})


@pytest.fixture(scope="module")
def template() -> dict:
    return yaml.load((ROOT / "cloudformation" / "service.yaml").read_text(), Loader=CfnLoader)


@pytest.fixture(scope="module")
def container(template) -> dict:
    defs = template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    return next(c for c in defs if c["Name"] == "service")


@pytest.fixture(scope="module")
def pm2_app() -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to load pm2/ecosystem.config.js")
    out = subprocess.run([node, "-e", 'process.stdout.write(JSON.stringify(require("./pm2/ecosystem.config.js")))'],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    apps = json.loads(out)["apps"]
    assert len(apps) == 1
    return apps[0]


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_port_is_the_same_everywhere(template, container, pm2_app):
    port = DEFAULTS.port
    assert container["PortMappings"][0]["ContainerPort"] == port
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env["PORT"] == str(port) and env["HOST"] == "0.0.0.0"
    assert template["Resources"]["TargetGroup"]["Properties"]["Port"] == port
    assert f"EXPOSE {port}" in dockerfile() and f"PORT={port}" in dockerfile()
    assert pm2_app["env"]["PORT"] == str(port)
    ingress = template["Resources"]["TaskFromNlb"]["Properties"]
    assert ingress["FromPort"] == ingress["ToPort"] == port


def test_health_paths_are_routes_the_service_serves(template, container):
    from service.api.health import health, ready

    assert template["Resources"]["TargetGroup"]["Properties"]["HealthCheckPath"] == "/ready" in ready.paths
    assert "/health" in health.paths
    assert "/health" in " ".join(container["HealthCheck"]["Command"])
    assert re.search(r"HEALTHCHECK .*\n?.*/health", dockerfile())


def test_task_environment_names_are_settings_the_service_reads(container):
    names = {e["Name"] for e in container["Environment"]}
    known = {v.name for v in VARIABLES}
    assert names <= known, names - known
    contract = (ROOT / "docs" / "contract.md").read_text()
    for name in known:
        assert f"| {name} |" in contract, name


def test_autoscaling_follows_the_metric_the_service_exports(template, container):
    name = "imageconv_pool_saturation_ratio"
    assert metrics.POOL_SATURATION._name == name
    assert name in metrics.exposition()[0].decode()
    spec = template["Resources"]["SaturationScaling"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    custom = spec["CustomizedMetricSpecification"]
    assert custom["MetricName"] == name and custom["Namespace"] == "ImageConv"
    agent = next(c for c in template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
                 if c["Name"] == "cloudwatch-agent")
    env = {e["Name"]: e["Value"] for e in agent["Environment"]}
    cw_config = env["CW_CONFIG_CONTENT"]["Sub"]
    scrape = env["PROMETHEUS_CONFIG_CONTENT"]["Sub"]
    assert f"^{name}$" in cw_config and '"metric_namespace": "ImageConv"' in cw_config
    assert f"127.0.0.1:{DEFAULTS.port}" in scrape and "/metrics" in scrape
    assert {d["Name"] for d in custom["Dimensions"]} == {"ClusterName", "ServiceName"}
    assert "ClusterName:" in scrape and "ServiceName:" in scrape
    assert name in (ROOT / "docs" / "contract.md").read_text()


def test_shutdown_timeouts_nest(template, container, pm2_app):
    drain = DEFAULTS.shutdown_timeout_seconds
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert float(env["SHUTDOWN_TIMEOUT_SECONDS"]) == drain
    assert drain < pm2_app["kill_timeout"] / 1000 < container["StopTimeout"] <= 120
    assert "ECS_CONTAINER_STOP_TIMEOUT=120s" in str(template["Resources"]["LaunchTemplate"])
    assert env["REQUEST_DEADLINE_SECONDS"] == {"Ref": "RequestDeadlineSeconds"}
    param = template["Parameters"]["RequestDeadlineSeconds"]
    assert param["Default"] == DEFAULTS.request_deadline_seconds and param["MaxValue"] < 30  # API Gateway's limit
    assert template["Resources"]["Integration"]["Properties"]["TimeoutInMillis"] == 30000


def test_pm2_runs_one_forked_service_process(pm2_app):
    assert (pm2_app["script"], pm2_app["args"], pm2_app["interpreter"]) == ("python3", "-m service", "none")
    assert pm2_app["exec_mode"] == "fork" and pm2_app["instances"] == 1
    assert pm2_app["treekill"] is False and pm2_app["max_memory_restart"]
    assert pm2_app["exp_backoff_restart_delay"] > 0


def test_the_command_pm2_starts_serves_and_stops_cleanly_on_sigint(pm2_app, tmp_path):
    """Run exactly what PM2 would (python -m service, with its env), then send SIGINT as
    pm2-runtime does on SIGTERM: the service answers, then exits 0."""
    sys.path.insert(0, str(ROOT / "tests" / "api"))
    from apihelpers import free_port

    port = free_port()
    args = pm2_app["args"].split()
    env = {**os.environ, **pm2_app["env"], "PORT": str(port), "HOST": "127.0.0.1", "WORKERS": "1"}
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=(tmp_path / "log").open("wb"))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the pm2 command did not start the service: " + (tmp_path / "log").read_text()[-2000:])
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_dockerfile_runs_pm2_runtime_as_non_root_with_jemalloc():
    text = dockerfile()
    assert 'CMD ["pm2-runtime", "pm2/ecosystem.config.js"]' in text
    assert re.search(r"^USER 10001", text, re.M)
    assert "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2" in text and "libjemalloc2" in text
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2  # multi-stage
    assert "COPY pm2/ecosystem.config.js" in text and (ROOT / ".dockerignore").exists()


def test_workflows_use_oidc_and_the_ecs_actions():
    deploy = (ROOT / ".github" / "workflows" / "deploy.yml").read_text()
    for action in ("aws-actions/configure-aws-credentials", "aws-actions/amazon-ecr-login",
                   "aws-actions/amazon-ecs-render-task-definition", "aws-actions/amazon-ecs-deploy-task-definition"):
        assert action in deploy
    assert "role-to-assume" in deploy and "id-token: write" in deploy and "aws-access-key-id" not in deploy
    assert "wait-for-service-stability: true" in deploy
    assert "make test" in (ROOT / ".github" / "workflows" / "ci.yml").read_text()


def test_deploy_role_trusts_only_main_of_this_repository(template):
    trust = template["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    sub = trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert sub == {"Sub": "repo:${GitHubRepository}:ref:refs/heads/main"}
    for name in ("deploy-service-policy.json", "deploy-infrastructure-policy.json"):
        json.loads((ROOT / "docs" / "iam" / name).read_text())
