"""cloudformation/service.yaml agrees with the service (port, paths, variables, metric, timeouts)
and keeps the design rules the linters cannot see (capacity strategies, rollout, trust)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from deployfiles import (
    ROOT,
    autoscaling_metric,
    container,
    contract_metrics,
    contract_routes,
    contract_variables,
    default_of,
    environment,
    known_variables,
    parameter_default,
    resource,
    service_variables,
    template,
)

PORT = int(default_of("PORT"))
FARGATE = {"FARGATE", "FARGATE_SPOT"}
# Variables the stack sets for features other branches of this wave add to the service (jobs:
# STORAGE_DIR, issue 9; API keys: API_KEYS, issue 13). Until the service reads them the check
# below skips instead of failing; once it does, they are checked like every other name. Remove an
# entry when its branch has landed.
ARRIVING: set[str] = set()  # variables the stack sets before the service reads them (none now)


def branches(value: Any) -> list[Any]:
    """Both sides of an Fn::If, or the value itself."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        return [*branches(value["Fn::If"][1]), *branches(value["Fn::If"][2])]
    return [value]


# ---------------------------------------------------------------- agreement with the service
def test_the_service_port_is_used_by_every_hop():
    c = container()
    assert c["PortMappings"] == [{"ContainerPort": PORT, "Protocol": "tcp"}]
    assert environment()["PORT"] == str(PORT) and environment()["HOST"] == "0.0.0.0"
    assert resource("TargetGroup")["Port"] == PORT
    assert resource("TargetGroup")["HealthCheckPort"] == "traffic-port"
    ingress = resource("TaskFromNlb")
    assert ingress["FromPort"] == ingress["ToPort"] == PORT
    (egress,) = resource("NlbSecurityGroup")["SecurityGroupEgress"]
    assert egress["FromPort"] == egress["ToPort"] == PORT
    (lb,) = resource("Service")["LoadBalancers"]
    assert lb["ContainerPort"] == PORT and lb["ContainerName"] == c["Name"]


def test_health_checks_use_paths_the_service_serves():
    routes = contract_routes()
    assert resource("TargetGroup")["HealthCheckPath"] == "/ready" and "/ready" in routes
    assert resource("TargetGroup")["HealthCheckProtocol"] == "HTTP"
    assert resource("TargetGroup")["Matcher"] == {"HttpCode": "200"}
    assert f"127.0.0.1:{PORT}/health" in container()["HealthCheck"]["Command"][-1] and "/health" in routes


def secrets(name: str = "service") -> dict[str, Any]:
    return {e["Name"]: e["ValueFrom"] for e in container(name).get("Secrets", [])}


def test_task_environment_names_are_variables_the_service_reads():
    names = set(environment()) | set(secrets())
    unknown = names - set(service_variables() or contract_variables())
    assert unknown <= ARRIVING, f"the task sets variables the service does not read: {unknown - ARRIVING}"
    settled = names - unknown
    assert settled <= set(contract_variables()) | ARRIVING, settled - set(contract_variables())
    assert settled - ARRIVING <= set(known_variables())
    if unknown:
        pytest.skip(f"the service does not read {sorted(unknown)} yet (other branches of the wave)")
    # Pool size and limits are set from stack parameters, so they can be tuned per deployment.
    for name in (
        "WORKERS",
        "QUEUE_PER_WORKER",
        "REQUEST_DEADLINE_SECONDS",
        "MAX_UPLOAD_BYTES",
        "MAX_INPUT_PIXELS",
        "MAX_BATCH_OUTPUTS",
    ):
        assert set(environment()[name]) == {"Ref"}, name


def test_parameter_defaults_are_valid_service_values():
    known = set(service_variables() or contract_variables())
    values = {name: str(parameter_default(value)) for name, value in environment().items() if name in known}
    try:
        from service.settings import load_settings  # the service's own validation
    except ImportError:
        # The contract alone: numbers where the contract's defaults are numbers.
        for name, value in values.items():
            if re.fullmatch(r"[\d_]+(\.\d+)?", contract_variables()[name]):
                assert re.fullmatch(r"[\d_]+(\.\d+)?", value), (name, value)
    else:
        load_settings(values)  # raises SettingsError naming any value the service would refuse


def test_autoscaling_follows_the_metric_the_service_exports():
    name = autoscaling_metric()
    assert name in contract_metrics()
    custom = resource("SaturationScaling")["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]
    assert custom["MetricName"] == name and custom["Statistic"] == "Average"
    agent_env = environment("cloudwatch-agent")
    cw_config = agent_env["CW_CONFIG_CONTENT"]["Fn::Sub"]
    scrape = agent_env["PROMETHEUS_CONFIG_CONTENT"]["Fn::Sub"]
    # The agent publishes exactly that metric, in that namespace, with those dimensions...
    emf = json.loads(re.sub(r"\$\{[^}]+\}", "x", cw_config))["logs"]["metrics_collected"]["prometheus"]["emf_processor"]
    assert emf["metric_namespace"] == custom["Namespace"]
    (declaration,) = emf["metric_declaration"]
    assert any(re.fullmatch(sel, name) for sel in declaration["metric_selectors"])
    assert [d["Name"] for d in custom["Dimensions"]] in declaration["dimensions"]
    # ...scraped from the service's /metrics, labelled with the values the policy asks for.
    # From METRICS_PORT when the task sets it: with API_KEYS on, the main port's /metrics needs a key.
    metrics_port = environment("service").get("METRICS_PORT", PORT)
    assert f"127.0.0.1:{metrics_port}" in scrape and "metrics_path: /metrics" in scrape
    if "API_KEYS" in secrets("service"):
        assert metrics_port != PORT, "the agent would scrape a /metrics that needs an API key"
    for dim in custom["Dimensions"]:
        assert f"{dim['Name']}:" in scrape
    assert "ServiceName: ${AWS::StackName}-service" in scrape
    assert resource("Service")["ServiceName"] == {"Fn::Sub": "${AWS::StackName}-service"}
    # The task role may write the agent's embedded-metric log lines.
    assert "logs:PutLogEvents" in json.dumps(resource("TaskRole"))


def test_a_backlog_of_job_items_scales_out():
    name = "imageconv_job_items_pending"  # the wave's contract: a Gauge, each replica's view of the shared backlog
    config = resource("JobBacklogScaling")["TargetTrackingScalingPolicyConfiguration"]
    queries = {q["Id"]: q for q in config["CustomizedMetricSpecification"]["Metrics"]}
    (returned,) = [q for q in queries.values() if q.get("ReturnData")]
    pending = next(
        q["MetricStat"]
        for q in queries.values()
        if "MetricStat" in q and q["MetricStat"]["Metric"]["MetricName"] == name
    )
    tasks = next(
        q
        for q in queries.values()
        if "MetricStat" in q and q["MetricStat"]["Metric"]["MetricName"] == "RunningTaskCount"
    )
    # Per running task, so that adding tasks lowers it (target tracking needs that).
    pending_id = next(i for i, q in queries.items() if q.get("MetricStat") is pending)
    assert f"{pending_id} / {tasks['Id']}" in returned["Expression"]
    # Published by the agent, in the policy's namespace, with the dimensions the policy asks for.
    saturation = resource("SaturationScaling")["TargetTrackingScalingPolicyConfiguration"][
        "CustomizedMetricSpecification"
    ]
    assert pending["Metric"]["Namespace"] == saturation["Namespace"]
    assert pending["Metric"]["Dimensions"] == saturation["Dimensions"] == tasks["MetricStat"]["Metric"]["Dimensions"]
    cw_config = environment("cloudwatch-agent")["CW_CONFIG_CONTENT"]["Fn::Sub"]
    emf = json.loads(re.sub(r"\$\{[^}]+\}", "x", cw_config))["logs"]["metrics_collected"]["prometheus"]["emf_processor"]
    (declaration,) = emf["metric_declaration"]
    assert any(re.fullmatch(sel, name) for sel in declaration["metric_selectors"])
    assert config["TargetValue"] == {"Ref": "JobItemsPerTaskTarget"}
    # RunningTaskCount comes from Container Insights.
    assert {"Name": "containerInsights", "Value": "enabled"} in resource("Cluster")["ClusterSettings"]


def test_scaling_policies_track_cpu_and_saturation_within_a_floor_of_one():
    target = resource("ScalableTarget")
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"
    assert template()["Parameters"]["MinTasks"]["MinValue"] >= 1
    assert "MinTasks" in json.dumps(target["MinCapacity"])
    cpu = resource("CpuScaling")["TargetTrackingScalingPolicyConfiguration"]
    assert cpu["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    for policy in ("CpuScaling", "SaturationScaling", "JobBacklogScaling"):
        config = resource(policy)["TargetTrackingScalingPolicyConfiguration"]
        assert 0 < config["ScaleOutCooldown"] < config["ScaleInCooldown"], policy


def test_timeouts_fit_api_gateway_and_ecs():
    env = environment()
    deadline = template()["Parameters"]["RequestDeadlineSeconds"]
    assert str(deadline["Default"]) == default_of("REQUEST_DEADLINE_SECONDS")
    assert deadline["MaxValue"] < 30, "answer before API Gateway's 30 s integration timeout"
    assert resource("Integration")["TimeoutInMillis"] == 30000
    upload = template()["Parameters"]["MaxUploadBytes"]
    assert upload["Default"] <= upload["MaxValue"] <= 10 * 1024 * 1024, "API Gateway's 10 MB payload limit"
    assert 0 < float(env["PRESTOP_SECONDS"]) <= 15, "long enough for the NLB to stop sending, no longer"
    # In-flight requests (deadline) finish within the drain, which fits the container's stop timeout.
    drain = float(env["SHUTDOWN_TIMEOUT_SECONDS"])
    assert float(env["PRESTOP_SECONDS"]) + drain < container()["StopTimeout"]
    assert drain > float(deadline["Default"]), "a request accepted just before the drain still finishes"


def test_spot_notice_covers_deregistration_and_the_whole_stop_with_margin():
    # EC2 Spot (ECS Spot draining): the agent sees the notice (allow 10 s), the task is deregistered
    # and ECS waits the deregistration delay, then SIGTERM, then SIGKILL after StopTimeout. All of it
    # must end before the instance goes, two minutes after the notice, with margin.
    notice, detection, margin = 120, 10, 15
    delay = {a["Key"]: a["Value"] for a in resource("TargetGroup")["TargetGroupAttributes"]}
    deregistration = int(delay["deregistration_delay.timeout_seconds"])
    stop = container()["StopTimeout"]
    assert detection + deregistration + stop + margin <= notice, (deregistration, stop)
    assert deregistration >= float(template()["Parameters"]["RequestDeadlineSeconds"]["Default"])
    # On EC2 the agent's own default applies to containers without a stopTimeout: the same.
    assert f"ECS_CONTAINER_STOP_TIMEOUT={stop}s" in json.dumps(resource("LaunchTemplate"))
    # Fargate Spot sends SIGTERM with the notice: the same stop timeout, within Fargate's 120 s.
    assert stop <= 120


# ---------------------------------------------------------------- capacity
def test_no_capacity_strategy_mixes_fargate_and_auto_scaling_group_providers():
    strategies = [
        *branches(resource("Service")["CapacityProviderStrategy"]),
        resource("ClusterCapacity")["DefaultCapacityProviderStrategy"],
    ]
    for strategy in strategies:
        providers = [item["CapacityProvider"] for item in strategy]
        fargate = [p for p in providers if isinstance(p, str) and p in FARGATE]
        assert not fargate or len(fargate) == len(providers), f"mixed strategy: {providers}"
        assert len(providers) <= 6 and sum("Base" in item for item in strategy) <= 1
    assert "LaunchType" not in resource("Service"), "a strategy and a launch type cannot both be set"
    # The Fargate family prefers Spot with an on-demand base.
    fargate = resource("ClusterCapacity")["DefaultCapacityProviderStrategy"]
    assert {i["CapacityProvider"]: "Base" in i for i in fargate} == {"FARGATE": True, "FARGATE_SPOT": False}


def test_ec2_capacity_is_x86_64_spot_with_draining_and_managed_scaling():
    policy = resource("AutoScalingGroup")["MixedInstancesPolicy"]
    assert policy["InstancesDistribution"]["SpotAllocationStrategy"] == "price-capacity-optimized"
    assert policy["InstancesDistribution"]["OnDemandPercentageAboveBaseCapacity"] == 0
    (override,) = policy["LaunchTemplate"]["Overrides"]
    requirements = override["InstanceRequirements"]
    assert "InstanceFamilies" in json.dumps(requirements["AllowedInstanceTypes"])
    assert set(requirements["CpuManufacturers"]) == {"intel", "amd"}, "x86_64 only"
    # Exactly InstanceSize's vCPUs: tasks per instance are known.
    vcpus = requirements["VCpuCount"]
    assert vcpus["Min"] == vcpus["Max"] == {"Fn::FindInMap": ["InstanceMinimums", {"Ref": "InstanceSize"}, "VCpus"]}
    families = template()["Parameters"]["InstanceFamilies"]["Default"].split(",")
    arm64 = [f for f in families if re.fullmatch(r"[a-z]+\d+g\w*", f)]
    assert len(families) >= 4 and not arm64, "several x86_64 families"
    assert resource("AutoScalingGroup")["NewInstancesProtectedFromScaleIn"] is True
    launch = json.dumps(resource("LaunchTemplate"))
    assert "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true" in launch and '"HttpTokens": "required"' in launch
    # Tasks (awsvpc) cannot reach the instance metadata service, so they cannot take the instance role.
    assert "ECS_AWSVPC_BLOCK_IMDS=true" in launch
    ami = template()["Parameters"]["LatestEcsAmi"]
    assert ami["Default"] == "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    provider = resource("Ec2SpotCapacityProvider")["AutoScalingGroupProvider"]
    assert provider["ManagedScaling"]["Status"] == "ENABLED"
    assert provider["ManagedTerminationProtection"] == provider["ManagedDraining"] == "ENABLED"
    assert resource("TaskDefinition")["RuntimePlatform"]["CpuArchitecture"] == "X86_64"


def test_switching_capacity_family_never_drops_a_provider_the_service_uses():
    # CloudFormation updates the cluster's providers before the service (which depends on them):
    # the list must hold every provider either family's strategy names, in both families.
    providers = resource("ClusterCapacity")["CapacityProviders"]
    assert isinstance(providers, list), "one list for both families, not an Fn::If"
    for strategy in branches(resource("Service")["CapacityProviderStrategy"]):
        for item in strategy:
            assert item["CapacityProvider"] in providers, item
    resources = template()["Resources"]
    for name in ("Ec2SpotCapacityProvider", "AutoScalingGroup", "LaunchTemplate", "InstanceProfile", "InstanceRole"):
        assert "Condition" not in resources[name], f"{name} would be deleted when switching to Fargate"
    # Under the Fargate family the group holds no instance.
    assert resource("AutoScalingGroup")["MinSize"] == {"Fn::If": ["UseEc2Spot", {"Ref": "MinInstances"}, 0]}


def test_task_definition_compatibility_follows_the_capacity_family():
    compat = resource("TaskDefinition")["RequiresCompatibilities"]
    assert branches(compat) == [["EC2"], ["FARGATE"]], "Fargate validates sizes EC2 tasks need not follow"
    assert "FargateTaskSize" in template()["Rules"]


# ---------------------------------------------------------------- rollout and first deployment
def test_rolling_deployment_keeps_full_capacity_and_rolls_back_on_failure():
    service = resource("Service")
    assert service["DeploymentController"] == {"Type": "ECS"}
    config = service["DeploymentConfiguration"]
    assert (config["MinimumHealthyPercent"], config["MaximumPercent"]) == (100, 200)
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert service["HealthCheckGracePeriodSeconds"] > 0
    tg = resource("TargetGroup")
    assert tg["TargetType"] == "ip" and resource("TaskDefinition")["NetworkMode"] == "awsvpc"


def test_first_deployment_starts_no_task_until_an_image_exists():
    assert template()["Parameters"]["ImageDigest"]["Default"] == ""
    assert resource("Service")["DesiredCount"] == {"Fn::If": ["HasImage", {"Ref": "AWS::NoValue"}, 0]}
    target = resource("ScalableTarget")
    assert target["MinCapacity"] == {"Fn::If": ["HasImage", {"Ref": "MinTasks"}, 0]}


# ---------------------------------------------------------------- network, storage, API, trust
def test_security_groups_admit_only_the_previous_hop():
    for rule, source in (
        ("NlbFromVpcLink", "VpcLinkSecurityGroup"),
        ("TaskFromNlb", "NlbSecurityGroup"),
        ("EfsFromTasks", "TaskSecurityGroup"),
    ):
        assert resource(rule)["SourceSecurityGroupId"] == {"Fn::GetAtt": [source, "GroupId"]}, rule
    ingress_rules = [
        name
        for name, r in template()["Resources"].items()
        if isinstance(r, dict) and r.get("Type") == "AWS::EC2::SecurityGroupIngress"
    ]
    assert sorted(ingress_rules) == ["EfsFromTasks", "NlbFromVpcLink", "TaskFromNlb"]
    for name, r in template()["Resources"].items():
        if isinstance(r, dict) and r.get("Type") == "AWS::EC2::SecurityGroup":
            assert "SecurityGroupIngress" not in r["Properties"], name
    assert resource("LoadBalancer")["Scheme"] == "internal"
    assert resource("Service")["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"


def test_efs_is_mounted_at_storage_dir_and_kept():
    (volume,) = resource("TaskDefinition")["Volumes"]
    (mount,) = container()["MountPoints"]
    assert mount["SourceVolume"] == volume["Name"] and mount["ReadOnly"] is False
    assert environment()["STORAGE_DIR"] == mount["ContainerPath"]
    assert resource("AccessPoint")["RootDirectory"]["Path"] == "/jobs"
    # The access point's user is the image's user, so files on EFS are the service's.
    posix = resource("AccessPoint")["PosixUser"]
    from deployfiles import dockerfile

    (user,) = dockerfile("USER")
    assert f"{posix['Uid']}:{posix['Gid']}" == user
    fs = template()["Resources"]["FileSystem"]
    assert fs["DeletionPolicy"] == fs["UpdateReplacePolicy"] == "Retain", "jobs' files outlive the stack"


def test_efs_policy_enforces_tls_and_iam_and_the_task_role_holds_only_client_access():
    statements = resource("FileSystem")["FileSystemPolicy"]["Statement"]
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Principal"] == {"AWS": "*"} and deny["Action"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows and all(s["Principal"] == {"AWS": {"Fn::GetAtt": ["TaskRole", "Arn"]}} for s in allows), (
        "only the task role: anonymous and other principals are refused"
    )
    assert {a for s in allows for a in s["Action"]} == {
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientWrite",
    }
    # The task role: exactly mount + write, on this file system, through this access point.
    (statement,) = resource("TaskEfsAccess")["PolicyDocument"]["Statement"]
    assert resource("TaskEfsAccess")["RoleName"] == {"Ref": "TaskRole"}
    assert sorted(statement["Action"]) == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    assert statement["Resource"] == {"Fn::GetAtt": ["FileSystem", "Arn"]}
    assert statement["Condition"] == {
        "StringEquals": {"elasticfilesystem:AccessPointArn": {"Fn::GetAtt": ["AccessPoint", "Arn"]}}
    }
    everything = json.dumps(template()["Resources"])
    assert "ClientRootAccess" not in everything
    # No other role or policy of the stack grants EFS client access.
    for name, r in template()["Resources"].items():
        if name not in ("TaskEfsAccess", "FileSystem") and isinstance(r, dict):
            assert "elasticfilesystem:Client" not in json.dumps(r), name


def test_api_keys_come_from_a_secret_only_the_execution_role_reads():
    assert secrets() == {"API_KEYS": {"Ref": "ApiKeysSecret"}}
    assert "API_KEYS" not in environment(), "never a plain environment value"
    generated = resource("ApiKeysSecret")["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32 and generated["ExcludePunctuation"] is True  # no comma in a key
    grants = [s for p in resource("ExecutionRole")["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert grants == [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "ApiKeysSecret"}}
    ]
    assert "secretsmanager" not in json.dumps(resource("TaskRole")), "the running service needs no secret access"
    cors = resource("HttpApi")["CorsConfiguration"]["Fn::If"][1]
    assert "x-api-key" in cors["AllowHeaders"]


def test_every_role_carries_the_permissions_boundary_when_given():
    roles = [n for n, r in template()["Resources"].items() if isinstance(r, dict) and r.get("Type") == "AWS::IAM::Role"]
    assert roles
    for name in roles:
        assert resource(name)["PermissionsBoundary"] == {
            "Fn::If": ["HasBoundary", {"Ref": "PermissionsBoundaryArn"}, {"Ref": "AWS::NoValue"}]
        }, name


def test_a_failed_first_create_can_roll_back():
    attributes = {a["Key"]: a["Value"] for a in resource("LoadBalancer")["LoadBalancerAttributes"]}
    assert attributes["deletion_protection.enabled"] == "false", "ROLLBACK_FAILED otherwise"


def test_efs_is_mounted_through_an_access_point_with_tls_in_every_subnet():
    (volume,) = resource("TaskDefinition")["Volumes"]
    efs = volume["EFSVolumeConfiguration"]
    assert efs["TransitEncryption"] == "ENABLED" and efs["AuthorizationConfig"]["IAM"] == "ENABLED"
    assert efs["AuthorizationConfig"]["AccessPointId"] == {"Ref": "AccessPoint"}
    assert resource("FileSystem")["Encrypted"] is True
    (mount,) = container()["MountPoints"]
    assert mount["SourceVolume"] == volume["Name"]


def test_http_api_reaches_the_nlb_listener_through_the_vpc_link():
    integration = resource("Integration")
    assert (integration["IntegrationType"], integration["ConnectionType"]) == ("HTTP_PROXY", "VPC_LINK")
    assert integration["IntegrationUri"] == {"Ref": "Listener"}, "a VPC Link integration targets the listener ARN"
    stage = resource("DefaultStage")
    assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True
    assert "DestinationArn" in stage["AccessLogSettings"]
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(stage["DefaultRouteSettings"])
    cors = resource("HttpApi")["CorsConfiguration"]
    assert cors["Fn::If"][0] == "HasCors" and cors["Fn::If"][1]["AllowOrigins"] == {"Ref": "CorsAllowOrigins"}
    for name in ("DomainNameResource", "ApiMapping"):
        assert template()["Resources"][name]["Condition"] == "HasCustomDomain"


def test_ecr_scans_on_push_and_expires_old_images():
    repo = resource("Repository")
    assert repo["ImageScanningConfiguration"] == {"ScanOnPush": True}
    rules = json.loads(repo["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert {r["selection"]["tagStatus"] for r in rules} >= {"untagged"}


def test_the_running_image_is_never_expired():
    # deploy.yml tags every image it deploys deployed-*; a rule keeping the latest of those comes
    # before any count rule over all images, and ECR never lets a lower rule expire an image a
    # higher rule matched. So the running image (and the one before it) cannot be expired.
    rules = sorted(
        json.loads(resource("Repository")["LifecyclePolicy"]["LifecyclePolicyText"])["rules"],
        key=lambda r: r["rulePriority"],
    )
    deployed = next(i for i, r in enumerate(rules) if r["selection"].get("tagPrefixList") == ["deployed-"])
    assert rules[deployed]["selection"]["countType"] == "imageCountMoreThan"
    assert rules[deployed]["selection"]["countNumber"] >= 2, "the running image and the previous one"
    for later in rules[deployed + 1 :]:
        assert later["selection"]["tagStatus"] in ("any", "tagged")
    for earlier in rules[:deployed]:
        assert earlier["selection"]["tagStatus"] == "untagged"
    text = (ROOT / ".github" / "workflows" / "deploy.yml").read_text()
    assert "deployed-" in text and "aws ecr put-image" in text


def test_logs_have_retention():
    for name in ("LogGroup", "ApiAccessLogGroup"):
        assert resource(name)["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    options = container()["LogConfiguration"]
    assert options["LogDriver"] == "awslogs" and options["Options"]["awslogs-group"] == {"Ref": "LogGroup"}


def test_deploy_role_trusts_only_the_production_environment_of_this_repository():
    (statement,) = resource("DeployRole")["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert set(statement["Condition"]) == {"StringEquals"}, "no wildcards (StringLike)"
    claims = statement["Condition"]["StringEquals"]
    # An environment of its own: the infrastructure role trusts another, so neither workflow can
    # assume the other's role (docs/iam/github-oidc-trust-policy.json).
    assert claims["token.actions.githubusercontent.com:sub"] == {
        "Fn::Sub": "repo:${GitHubRepository}:environment:production"
    }
    assert claims["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"


def test_outputs_name_what_the_workflows_and_docs_need():
    assert {"ApiUrl", "LoadBalancerDns", "ClusterName", "ServiceName", "RepositoryUri", "DeployRoleArn"} <= set(
        template()["Outputs"]
    )


def test_subnets_are_one_per_zone_and_the_docs_say_what_endpoints_instead_of_nat_need():
    description = " ".join(template()["Parameters"]["SubnetIds"]["Description"].split())
    assert "exactly one per Availability Zone" in description
    docs = " ".join((ROOT / "docs" / "deploy.md").read_text().split())
    assert "exactly one per Availability Zone" in docs and "at least two AZs" in docs
    # Without these the ECS agent on the instances cannot register or report, and the agent
    # sidecar's image (public.ecr.aws) has no endpoint at all.
    for endpoint in ("`ecs`", "`ecs-agent`", "`ecs-telemetry`", "`secretsmanager`", "`monitoring`", "`s3`"):
        assert endpoint in docs, endpoint
    assert "public.ecr.aws" in docs and "CloudWatchAgentImage" in docs
