"""The GitHub workflows and the IAM policy files agree with the stack they deploy."""

from __future__ import annotations

import json
import re
import subprocess

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


def test_one_deploy_lane_for_the_service_and_the_infrastructure():
    # A stack update never overlaps a rollout (it would apply the image it read before the rollout
    # finished), and neither cancels the other midway.
    groups = {name: workflow(name)["concurrency"] for name in ("deploy.yml", "deploy-infrastructure.yml")}
    assert groups["deploy.yml"] == groups["deploy-infrastructure.yml"], groups
    assert groups["deploy.yml"]["cancel-in-progress"] is False


def test_ci_keeps_the_image_it_tested_and_deploy_promotes_it_without_rebuilding():
    image_job = workflow("ci.yml")["jobs"]["image"]
    runs = [step.get("run", "") for step in image_job["steps"]]
    make = next(i for i, r in enumerate(runs) if r.strip() == "make image-test")
    save = next(i for i, r in enumerate(runs) if "docker save" in r)
    assert make < save and "localhost/imageconv:image-test" in runs[save] and "{{.Id}}" in runs[save]
    upload = next(s for s in image_job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == "tested-image"
    assert "refs/heads/main" in upload["if"]
    download = step_using("deploy.yml", "actions/download-artifact")
    assert download["with"]["name"] == "tested-image"
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}", "the run that tested this commit"
    assert workflow("deploy.yml")["permissions"]["actions"] == "read"
    script = _scripts("deploy.yml")
    assert "docker build" not in script, "promote, don't rebuild"
    assert "docker load" in script and "image-id" in script and "docker push" in script
    # The task definition names the image by digest.
    assert 'echo "image=$registry/$REPOSITORY@$digest"' in script


def test_deploy_registers_and_waits_for_the_rollout():
    build = _scripts("deploy.yml")
    family = resource("TaskDefinition")["Family"]["Fn::Sub"].replace("${AWS::StackName}", "$STACK")
    assert f'--task-definition "{family}"' in build, "the family the stack registers"
    assert f'select(.name == "{CONTAINER}")' in build, "only the service container's image changes"
    assert "aws ecs register-task-definition" in build and '--service "$STACK-service"' in build
    assert resource("Service")["ServiceName"] == {"Fn::Sub": "${AWS::StackName}-service"}
    # Success means this deployment's rollout completed; a circuit-breaker rollback fails the run.
    assert "rolloutState" in build and "COMPLETED)" in build and "FAILED)" in build


def test_actions_are_pinned_by_commit_with_the_version_beside_it():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text().splitlines():
            if "uses:" in line and not line.strip().startswith("#"):
                ref = line.split("uses:", 1)[1].strip()
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*", ref), f"{path.name}: {ref}"


def test_each_role_has_its_own_oidc_subject():
    # A GitHub environment per role: the deploy job cannot assume the infrastructure role and the
    # other way round, and each environment's protection rules gate its job.
    subjects = {}
    for name, secret in (("deploy.yml", "AWS_DEPLOY_ROLE_ARN"), ("deploy-infrastructure.yml", "AWS_INFRA_ROLE_ARN")):
        (job,) = workflow(name)["jobs"].values()
        subjects[secret] = job["environment"]
        creds = step_using(name, "aws-actions/configure-aws-credentials")["with"]
        assert secret in creds["role-to-assume"]
    assert subjects == {"AWS_DEPLOY_ROLE_ARN": "production", "AWS_INFRA_ROLE_ARN": "infrastructure"}
    (statement,) = resource("DeployRole")["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]["Fn::Sub"].endswith(
        ":environment:production"
    )
    trust = json.loads((IAM / "github-oidc-trust-policy.json").read_text())["Statement"][0]
    assert (
        trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
        == "repo:GITHUB_REPOSITORY:environment:infrastructure"
    )


def test_aws_credentials_come_from_oidc_roles_only():
    for name in ("deploy.yml", "deploy-infrastructure.yml"):
        data = workflow(name)
        assert data["permissions"]["id-token"] == "write", name
        creds = step_using(name, "aws-actions/configure-aws-credentials")["with"]
        assert "role-to-assume" in creds and not {"aws-access-key-id", "aws-secret-access-key"} & set(creds)
        text = (WORKFLOWS / name).read_text()
        assert "AWS_ACCESS_KEY_ID" not in text and "aws-access-key-id" not in text


def test_infrastructure_workflow_takes_no_inputs_and_passes_only_parameters_the_template_has():
    data = workflow("deploy-infrastructure.yml")
    # CKV_GHA_7: whoever starts a run must not be able to change what it deploys.
    assert "workflow_dispatch" in data["on"] and not (data["on"]["workflow_dispatch"] or {}).get("inputs")
    script = _scripts("deploy-infrastructure.yml")
    assert (
        "aws cloudformation deploy" in script
        and "cloudformation/service.yaml" in (WORKFLOWS / "deploy-infrastructure.yml").read_text()
    )
    assert "CAPABILITY_IAM" in script and "CAPABILITY_AUTO_EXPAND" in script  # IAM roles, LanguageExtensions
    assert '--role-arn "$CFN_SERVICE_ROLE_ARN"' in script, "the stack is changed by the CloudFormation service role"
    from_file = {
        k for k in json.loads((ROOT / "cloudformation" / "parameters.json").read_text()) if not k.startswith("//")
    }
    named = set(re.findall(r'"([A-Z]\w+)=\$', script)) | from_file
    assert named <= set(template()["Parameters"]), named - set(template()["Parameters"])
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


def _statements(name: str) -> list[dict]:
    return json.loads((IAM / name).read_text())["Statement"]


def _actions(statement: dict) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]


def test_the_github_infrastructure_role_can_only_pass_the_cloudformation_service_role():
    statements = _statements("deploy-infrastructure-policy.json")
    actions = {a for s in statements for a in _actions(s)}
    assert not any(a.startswith(("iam:Create", "iam:Put", "iam:Attach", "iam:Delete")) for a in actions)
    assert not any(
        a.split(":")[1].startswith(("Delete", "Create", "Put", "Modify", "Update"))
        for a in actions
        if not a.startswith("cloudformation:")
    ), "changes go through CloudFormation only"
    (passing,) = [s for s in statements if "iam:PassRole" in _actions(s)]
    assert passing["Resource"].endswith(":role/STACK_NAME-cloudformation")
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}
    for statement in statements:
        assert not any(a == "*" or a.endswith(":*") for a in _actions(statement)), statement["Sid"]
        if statement["Resource"] == "*":
            assert "Condition" in statement or all(
                a.split(":")[1].startswith(("Validate", "GetTemplateSummary")) for a in _actions(statement)
            ), statement["Sid"]


def test_the_cloudformation_service_role_creates_roles_only_within_the_boundary_and_deletes_only_its_own():
    statements = _statements("cloudformation-service-role-policy.json")
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    for statement in allowed:
        assert not any(a == "*" or a.endswith(":*") for a in _actions(statement)), statement["Sid"]
    # Writing role permissions requires the boundary, which cannot be removed afterwards.
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"):
        (grant,) = [s for s in allowed if action in _actions(s)]
        assert "iam:PermissionsBoundary" in grant["Condition"]["StringEquals"], action
        assert grant["Resource"].endswith(":role/STACK_NAME-*"), action
    denied = {a for s in statements if s["Effect"] == "Deny" for a in _actions(s)}
    assert {"iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"} <= denied
    # Every delete is limited to resources this stack made (their aws:cloudformation:stack-name tag)
    # or to ARNs of this stack; API Gateway ARNs cannot carry the tag, so they are scoped by region.
    for statement in allowed:
        deletes = [
            a
            for a in _actions(statement)
            if a.split(":")[1].startswith(("Delete", "Deregister", "Remove")) and not a.startswith("apigateway:")
        ]
        if deletes and statement["Resource"] == "*":
            assert (
                statement["Condition"]["StringEquals"]["aws:ResourceTag/aws:cloudformation:stack-name"] == "STACK_NAME"
            ), (statement["Sid"], deletes)
    # What CloudFormation's handlers call besides the obvious (a first deployment failed without them).
    granted = {a for s in allowed for a in _actions(s)}
    needed = {
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeScalingActivities",
        "ecs:DescribeServiceDeployments",
        "iam:UpdateAssumeRolePolicy",
        "elasticfilesystem:PutFileSystemPolicy",
        "secretsmanager:CreateSecret",
        "secretsmanager:GetRandomPassword",
        "autoscaling:SetInstanceProtection",
    }
    assert needed <= granted, needed - granted
    # Only the managed policies the stack attaches.
    (attach,) = [s for s in statements if s["Effect"] == "Deny" and "iam:AttachRolePolicy" in _actions(s)]
    used = {
        arn["Fn::Sub"].replace("${AWS::Partition}", "aws")
        for name in ("InstanceRole", "ExecutionRole")
        for arn in resource(name)["ManagedPolicyArns"]
    }
    assert set(attach["Condition"]["ArnNotEquals"]["iam:PolicyARN"]) == used
    trust = _statements("cloudformation-service-role-trust-policy.json")[0]
    assert trust["Principal"] == {"Service": "cloudformation.amazonaws.com"}


def test_the_boundary_allows_what_the_stack_s_roles_are_granted():
    ceiling = {a for s in _statements("workload-permissions-boundary.json") for a in _actions(s)}
    for name, r in template()["Resources"].items():
        if not isinstance(r, dict) or r.get("Type") not in ("AWS::IAM::Role", "AWS::IAM::RolePolicy"):
            continue
        policies = r["Properties"].get("Policies", []) if r["Type"] == "AWS::IAM::Role" else [r["Properties"]]
        for policy in policies:
            for statement in policy["PolicyDocument"]["Statement"]:
                for action in _actions(statement):
                    assert action in ceiling, f"{name}: {action} is outside the permissions boundary"


# ---------------------------------------------------------------- the infrastructure run, for real
# The "Create or update the stack" script run by bash against a stand-in `aws` that answers as an
# account in a given state would, and records every call.
DIGEST = "sha256:" + "ab" * 32
FAKE_AWS = r"""#!/bin/bash
echo "$*" >> "$AWS_CALLS"
case "$*" in
  "cloudformation describe-stacks --stack-name imageconv")
    [ "$STACK_EXISTS" = yes ] && exit 0
    echo "An error occurred (ValidationError): Stack with id imageconv does not exist" >&2; exit 254 ;;
  "cloudformation describe-stacks --stack-name imageconv --query"*) echo imageconv-Cluster-abc ;;
  "ecs describe-services"*)
    [ "$ECS" = down ] && { echo "An error occurred (ThrottlingException)" >&2; exit 254; }
    echo "arn:aws:ecs:eu-west-1:123456789012:task-definition/imageconv-service:7" ;;
  "ecs describe-task-definition"*) echo "123456789012.dkr.ecr.eu-west-1.amazonaws.com/imageconv-repo$RUNNING" ;;
  "ecr describe-images"*) [ "$IN_ECR" = yes ] || { echo "ImageNotFoundException" >&2; exit 254; } ;;
  "cloudformation deploy"*) ;;
  *) echo "unexpected call: $*" >&2; exit 99 ;;
esac
"""


def _infrastructure_run(tmp_path, **state: str) -> tuple[int, list[str], str]:
    step = next(s for s in steps("deploy-infrastructure.yml") if s.get("name") == "Create or update the stack")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "aws").chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "AWS_CALLS": str(calls),
        "STACK": "imageconv",
        "TEMPLATE": "cloudformation/service.yaml",
        "PARAMETERS": str(ROOT / "cloudformation" / "parameters.json"),
        "GITHUB_REPOSITORY": "owner/repo",
        "VPC_ID": "vpc-1",
        "SUBNET_IDS": "subnet-1,subnet-2",
        "PERMISSIONS_BOUNDARY_ARN": "",
        "CFN_SERVICE_ROLE_ARN": "arn:aws:iam::123456789012:role/imageconv-cloudformation",
        "STACK_EXISTS": "yes",
        "ECS": "up",
        "RUNNING": "@" + DIGEST,
        "IN_ECR": "yes",
        **state,
    }
    r = subprocess.run(
        ["bash", "-c", step["run"]],
        cwd=tmp_path,
        env={**env, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return r.returncode, calls.read_text().splitlines(), r.stdout + r.stderr


def _deployed_image_digest(calls: list[str]) -> str | None:
    deploys = [c for c in calls if c.startswith("cloudformation deploy")]
    if not deploys:
        return None
    (deploy,) = deploys
    return re.search(r"ImageDigest=(\S*)", deploy).group(1)


def test_an_update_keeps_the_running_image(tmp_path):
    code, calls, out = _infrastructure_run(tmp_path)
    assert code == 0, out
    assert _deployed_image_digest(calls) == DIGEST
    assert f"ecr describe-images --repository-name imageconv-repo --image-ids imageDigest={DIGEST}" in calls
    assert "--role-arn arn:aws:iam::123456789012:role/imageconv-cloudformation" in calls[-1]


def test_an_image_not_named_by_digest_stops_the_run(tmp_path):
    # A tag can point elsewhere by the time the stack applies it: the run never guesses.
    code, calls, out = _infrastructure_run(tmp_path, RUNNING=":0123abcd")
    assert code != 0 and _deployed_image_digest(calls) is None, out
    assert "Could not read the image digest" in out


def test_a_failed_look_up_stops_the_run_instead_of_scaling_to_zero(tmp_path):
    code, calls, out = _infrastructure_run(tmp_path, ECS="down")
    assert code != 0 and _deployed_image_digest(calls) is None, out


def test_a_running_image_missing_from_ecr_stops_the_run(tmp_path):
    code, calls, out = _infrastructure_run(tmp_path, IN_ECR="no")
    assert code != 0 and _deployed_image_digest(calls) is None, out
    assert "ECR no longer has" in out


def test_only_a_stack_that_never_ran_an_image_gets_an_empty_tag(tmp_path):
    for name, state in (("first-create", {"STACK_EXISTS": "no"}), ("never-deployed", {"RUNNING": ":no-image-yet"})):
        (tmp_path / name).mkdir()
        code, calls, out = _infrastructure_run(tmp_path / name, **state)
        assert code == 0 and _deployed_image_digest(calls) == "", (name, out)
