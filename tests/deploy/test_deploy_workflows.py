"""The GitHub workflows and the IAM policy files agree with the stack they deploy."""

from __future__ import annotations

import json
import re

from deployfiles import (
    CONTAINER,
    ROOT,
    WORKFLOWS,
    resource,
    step_using,
    steps,
    template,
    workflow,
)

IAM = ROOT / "docs" / "iam"


def _scripts(name: str) -> str:
    return "\n".join(step.get("run", "") for step in steps(name))


def test_ci_runs_make_test_on_push_and_pull_request():
    ci = workflow("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    assert any(step.get("run", "").strip() == "make test" for step in steps("ci.yml"))


def test_deploy_runs_after_ci_succeeds_on_main():
    deploy = workflow("deploy.yml")
    trigger = deploy["on"]["workflow_run"]
    assert trigger["workflows"] == [workflow("ci.yml")["name"]] and trigger["branches"] == ["main"]
    assert trigger["types"] == ["completed"]
    (job,) = deploy["jobs"].values()
    assert "github.event.workflow_run.conclusion == 'success'" in job["if"]
    checkout = step_using("deploy.yml", "actions/checkout")
    assert checkout["with"]["ref"] == "${{ github.event.workflow_run.head_sha }}", "deploy what CI tested"


def test_deploy_builds_pushes_renders_and_waits_for_stability():
    build = _scripts("deploy.yml")
    assert "docker build" in build and "--platform linux/amd64" in build and "docker push" in build
    step_using("deploy.yml", "aws-actions/amazon-ecr-login")
    render = step_using("deploy.yml", "aws-actions/amazon-ecs-render-task-definition")["with"]
    assert render["container-name"] == CONTAINER
    family = resource("TaskDefinition")["Family"]["Fn::Sub"].replace("${AWS::StackName}", "$STACK")
    assert f'--task-definition "{family}"' in build, "the family the stack registers"
    deploy = step_using("deploy.yml", "aws-actions/amazon-ecs-deploy-task-definition")["with"]
    assert deploy["wait-for-service-stability"] is True
    assert deploy["service"] == "${{ env.STACK }}-service"
    assert resource("Service")["ServiceName"] == {"Fn::Sub": "${AWS::StackName}-service"}


def test_aws_credentials_come_from_oidc_roles_only():
    for name in ("deploy.yml", "deploy-infrastructure.yml"):
        data = workflow(name)
        assert data["permissions"]["id-token"] == "write", name
        creds = step_using(name, "aws-actions/configure-aws-credentials")["with"]
        assert "role-to-assume" in creds and not {"aws-access-key-id", "aws-secret-access-key"} & set(creds)
        text = (WORKFLOWS / name).read_text()
        assert "AWS_ACCESS_KEY_ID" not in text and "aws-access-key-id" not in text
        # An environment would make the OIDC subject repo:OWNER/REPO:environment:NAME, which the
        # roles (trusted for repo:OWNER/REPO:ref:refs/heads/main) refuse.
        for job_name, job in data["jobs"].items():
            assert "environment" not in job, f"{name}: job {job_name}"


def test_infrastructure_workflow_passes_only_parameters_the_template_has():
    data = workflow("deploy-infrastructure.yml")
    assert "workflow_dispatch" in data["on"]
    assert len(data["on"]["workflow_dispatch"]["inputs"]) <= 10, "GitHub's documented limit for a while"
    script = _scripts("deploy-infrastructure.yml")
    assert "aws cloudformation deploy" in script and "cloudformation/service.yaml" in (
        WORKFLOWS / "deploy-infrastructure.yml").read_text()
    assert "CAPABILITY_IAM" in script and "CAPABILITY_AUTO_EXPAND" in script  # IAM roles, LanguageExtensions
    named = set(re.findall(r"\badd (\w+) ", script)) | set(re.findall(r'params\+=\("(\w+)=', script))
    assert named and named <= set(template()["Parameters"]), named - set(template()["Parameters"])
    required = {k for k, v in template()["Parameters"].items() if "Default" not in v}
    assert required <= named, required - named


def test_deploy_role_policy_file_matches_the_role_the_stack_creates():
    def actions(statements: list[dict]) -> set[str]:
        out: set[str] = set()
        for s in statements:
            out |= {s["Action"]} if isinstance(s["Action"], str) else set(s["Action"])
        return out

    (policy,) = resource("DeployRole")["Policies"]
    in_stack = actions(policy["PolicyDocument"]["Statement"])
    in_docs = actions(json.loads((IAM / "deploy-service-policy.json").read_text())["Statement"])
    assert in_stack == in_docs


def test_infrastructure_policy_is_scoped_and_trust_is_main_only():
    policy = json.loads((IAM / "deploy-infrastructure-policy.json").read_text())
    for statement in policy["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        assert not any(a == "*" or a.endswith(":*") for a in actions), statement["Sid"]
        if statement["Resource"] == "*":
            assert "Condition" in statement or all(
                a.split(":")[1].startswith(("Validate", "GetTemplateSummary")) for a in actions), statement["Sid"]
    attach = next(s for s in policy["Statement"] if s["Action"] == "iam:AttachRolePolicy")
    used = {arn["Fn::Sub"].replace("${AWS::Partition}", "aws") for name in ("InstanceRole", "ExecutionRole")
            for arn in resource(name)["ManagedPolicyArns"]}
    assert set(attach["Condition"]["ArnEquals"]["iam:PolicyARN"]) == used
    trust = json.loads((IAM / "github-oidc-trust-policy.json").read_text())["Statement"][0]
    assert trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == \
        "repo:GITHUB_REPOSITORY:ref:refs/heads/main"
