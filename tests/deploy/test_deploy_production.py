"""What makes the stack safe to put in front of users (issue 21), checked on the template as
CloudFormation would read it: capacity that always places (the Rules evaluated over every
parameter set they could see), alarms that page and roll deployments back, Spot and scale-in
budgets, CORS from one parameter, EFS for 24-hour files. What AWS alone can run is checked in
tests/deploy/test_deploy_rollout.py and tests/unit/test_ecs.py against local stand-ins."""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

from deployfiles import ROOT, contract_metrics, environment, parameter_default, resource, template

SIZES = {"large": (2, 4096), "xlarge": (4, 8192), "2xlarge": (8, 16384)}  # vCPUs, MiB of the smallest family
# What the ECS agent registers of an instance's memory is less than the nominal size (the OS and
# the agent keep some): about 92 % on the ECS-optimized AMI. A task set fits when its sum does.
REGISTERED = 0.90


# ---------------------------------------------------------------- a small Rules evaluator
def _value(expr: Any, params: dict[str, str]) -> Any:
    if isinstance(expr, dict):
        ((fn, arg),) = expr.items()
        if fn == "Ref":
            return params[arg]
        if fn == "Fn::Equals":
            return str(_value(arg[0], params)) == str(_value(arg[1], params))
        if fn == "Fn::And":
            return all(_value(a, params) for a in arg)
        if fn == "Fn::Or":
            return any(_value(a, params) for a in arg)
        if fn == "Fn::Not":
            return not _value(arg[0], params)
        if fn == "Fn::Contains":
            return str(_value(arg[1], params)) in [str(v) for v in _value(arg[0], params)]
        if fn == "Fn::EachMemberIn":
            members = _value(arg[0], params)
            return all(m in [str(v) for v in _value(arg[1], params)] for m in members)
        raise AssertionError(f"the evaluator does not know {fn}")
    if isinstance(expr, list):
        return [_value(e, params) for e in expr]
    return expr


def refused(params: dict[str, Any]) -> list[str]:
    """The descriptions of the Rules that refuse this parameter set (CloudFormation's check)."""
    out = []
    for name, rule in template()["Rules"].items():
        condition = rule.get("RuleCondition")
        if condition is not None and not _value(condition, params):
            continue
        for assertion in rule["Assertions"]:
            if not _value(assertion["Assert"], params):
                out.append(f"{name}: {assertion['AssertDescription']}")
    return out


def _defaults() -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, p in template()["Parameters"].items():
        if "Default" in p:
            default = p["Default"]
            params[name] = default.split(",") if p["Type"].startswith(("CommaDelimitedList", "List<")) else str(default)
    return params


def _allowed(name: str) -> list[str]:
    return [str(v) for v in template()["Parameters"][name]["AllowedValues"]]


def _placement(size: str, cpu: str) -> dict[str, Any]:
    return template()["Mappings"]["Placement"][f"{size}{cpu}"]


def _fits(size: str, cpu: int, memory: int) -> int:
    """Tasks of (cpu, memory) one instance of `size` holds, by CPU units and registered memory."""
    vcpus, mib = SIZES[size]
    return min(vcpus * 1024 // cpu, int(mib * REGISTERED) // memory)


# ---------------------------------------------------------------- capacity that always places
def test_every_ec2_parameter_set_the_rules_accept_places_and_every_other_is_refused():
    memories = [str(m) for m in range(2048, 8192 + 1, 512)]
    accepted = 0
    for size, cpu, memory in itertools.product(_allowed("InstanceSize"), _allowed("TaskCpu"), memories):
        params = {
            **_defaults(),
            "CapacityFamily": "EC2_SPOT",
            "InstanceSize": size,
            "TaskCpu": cpu,
            "TaskMemory": memory,
        }
        k = _fits(size, int(cpu), int(memory))
        if refused(params):
            continue
        accepted += 1
        assert k >= 1, f"accepted but no task fits: {size} {cpu} {memory}"
        # The mapping the group's size comes from says as many tasks per instance as really fit
        # (fewer would waste instances, more would leave tasks unplaced).
        assert _placement(size, cpu)["TasksPerInstance"] == k, (size, cpu, memory, k)
    assert accepted >= 20
    # Each refusal is deliberate: a task that does not fit, or 1024-unit tasks (Fargate's size).
    assert refused({**_defaults(), "InstanceSize": "large", "TaskCpu": "4096", "TaskMemory": "3072"})
    assert refused({**_defaults(), "InstanceSize": "large", "TaskCpu": "2048", "TaskMemory": "4096"})
    assert refused({**_defaults(), "InstanceSize": "xlarge", "TaskCpu": "2048", "TaskMemory": "4096"})


def test_the_group_holds_max_tasks_twice_over_so_deployments_at_max_tasks_place():
    # Rolling (100/200 %) and blue/green both run the old and the new tasks side by side.
    resource_max = resource("AutoScalingGroup")["MaxSize"]["Fn::FindInMap"]
    assert resource_max[0] == "Placement" and "MaxTasks" in json.dumps(resource_max)
    config = resource("Service")["DeploymentConfiguration"]
    headroom = config["MaximumPercent"] / 100
    for key, row in template()["Mappings"]["Placement"].items():
        for max_tasks in _allowed("MaxTasks"):
            instances = row[f"t{max_tasks}"]
            assert instances * row["TasksPerInstance"] >= headroom * int(max_tasks), (key, max_tasks)
            assert instances == math.ceil(headroom * int(max_tasks) / row["TasksPerInstance"]), "no waste either"
    assert "MaxInstances" not in template()["Parameters"], "derived: it can no longer disagree with MaxTasks"
    min_instances = template()["Parameters"]["MinInstances"]
    assert min_instances["MaxValue"] <= min(
        v for row in template()["Mappings"]["Placement"].values() for v in row.values()
    )


def test_the_defaults_place_and_so_do_the_reviewed_parameters():
    defaults = _defaults()
    assert not refused(defaults), refused(defaults)
    reviewed = json.loads((ROOT / "cloudformation" / "parameters.json").read_text())
    params = {
        **defaults,
        **{k: (v.split(",") if k == "InstanceFamilies" else v) for k, v in reviewed.items() if k != "//"},
    }
    assert not refused(params), refused(params)
    assert _fits(params["InstanceSize"], int(params["TaskCpu"]), int(params["TaskMemory"])) >= 1
    fargate = {**defaults, "CapacityFamily": "FARGATE_SPOT", "TaskMemory": "4096"}
    assert not refused(fargate) and refused({**fargate, "TaskMemory": "3072"})


def test_instance_families_are_x86_64_and_come_in_every_size():
    (rule,) = [r for r in template()["Rules"].values() if "InstanceFamilies" in json.dumps(r)]
    known = rule["Assertions"][0]["Assert"]["Fn::EachMemberIn"][1]
    assert not [f for f in known if re.fullmatch(r"[a-z]+\d+g\w*|t\d\w*", f)], "no arm64 (g) or burstable (t) family"
    assert refused({**_defaults(), "InstanceFamilies": ["c7g", "c6i"]})
    assert refused({**_defaults(), "InstanceFamilies": ["t3"]})


# ---------------------------------------------------------------- alarms
ALARMS = {
    "ErrorRateAlarm",
    "ConvertLatencyAlarm",
    "SaturationAlarm",
    "JobBacklogAgeAlarm",
    "UnhealthyTargetsAlarm",
    "SpotInterruptionsAlarm",
}


def _alarms() -> dict[str, dict[str, Any]]:
    return {
        name: r["Properties"]
        for name, r in template()["Resources"].items()
        if isinstance(r, dict) and r.get("Type") == "AWS::CloudWatch::Alarm"
    }


def test_every_alarm_notifies_the_topic_and_names_its_runbook_section():
    alarms = _alarms()
    assert set(alarms) == ALARMS
    runbook = (ROOT / "docs" / "runbook.md").read_text().lower()
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] and alarm["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["TreatMissingData"] == "notBreaching", f"{name}: no data is no alarm (and no failed deployment)"
        anchor = re.search(r"runbook\.md#(\w+)", json.dumps(alarm["AlarmDescription"])).group(1)
        assert f'<a id="{anchor}"></a>' in runbook, f"{name}: docs/runbook.md has no section #{anchor}"
    subscription = template()["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert subscription["Properties"]["Protocol"] == "email"


def test_deployments_roll_back_on_the_error_rate_and_the_convert_latency_as_well_as_the_circuit_breaker():
    config = resource("Service")["DeploymentConfiguration"]
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert config["Alarms"] == {
        "AlarmNames": [{"Ref": "ErrorRateAlarm"}, {"Ref": "ConvertLatencyAlarm"}],
        "Enable": True,
        "Rollback": True,
    }
    latency = resource("ConvertLatencyAlarm")
    assert latency["ExtendedStatistic"] == "p99" and latency["MetricName"] == "ConvertLatency"
    assert latency["Threshold"] == {"Ref": "ConvertP99Milliseconds"}
    assert template()["Parameters"]["ConvertP99Milliseconds"]["MaxValue"] < 30000, "under the gateway's cut"


def _access_log_line(**values: Any) -> dict[str, Any]:
    """One line of the gateway's access log as its Format renders it (numbers stay numbers)."""
    fmt = resource("DefaultStage")["AccessLogSettings"]["Format"]
    sample = {"status": 200, "responseLatency": 120, "httpMethod": "POST", "path": "/api/convert", **values}
    rendered = re.sub(
        r"\$context\.([\w.]+)",
        lambda m: str(sample.get(m.group(1).split(".")[-1], "-")),
        fmt,
    )
    return json.loads(rendered)


def _matches(pattern: str, line: dict[str, Any]) -> bool:
    """CloudWatch Logs JSON filter patterns of the forms the stack uses: { $.a OP v && ... }."""
    body = pattern.strip()[1:-1]
    for clause in body.split("&&"):
        field, op, value = re.fullmatch(r"\s*\$\.(\w+)\s*(>=|<=|!=|=|>|<)\s*(.+?)\s*", clause).groups()
        got = line[field]
        want: Any = json.loads(value) if value.startswith('"') else float(value)
        if isinstance(want, float) and not isinstance(got, int | float):
            return False  # a numeric comparison never matches a string
        ok = {
            "=": got == want,
            "!=": got != want,
            ">": got > want,
            ">=": got >= want,
            "<": got < want,
            "<=": got <= want,
        }[op]
        if not ok:
            return False
    return True


def test_the_metric_filters_count_what_users_see_from_the_access_log():
    filters = {
        r["Properties"]["MetricTransformations"][0]["MetricName"]: r["Properties"]
        for r in template()["Resources"].values()
        if isinstance(r, dict) and r.get("Type") == "AWS::Logs::MetricFilter"
    }
    assert set(filters) == {"Requests", "Errors5xx", "Rejected503", "ConvertLatency"}
    for f in filters.values():
        assert f["LogGroupName"] == {"Ref": "ApiAccessLogGroup"}
    ok, error, rejected = _access_log_line(), _access_log_line(status=502), _access_log_line(status=503)
    poll = _access_log_line(httpMethod="GET", path="/api/jobs/x", responseLatency=20000)
    assert isinstance(ok["status"], int) and isinstance(ok["latencyMs"], int), "numbers, or the filters never match"
    pattern = {name: f["FilterPattern"] for name, f in filters.items()}
    assert all(_matches(pattern["Requests"], line) for line in (ok, error, rejected, poll))
    assert [_matches(pattern["Errors5xx"], line) for line in (ok, error, rejected)] == [False, True, False]
    assert [_matches(pattern["Rejected503"], line) for line in (ok, error, rejected)] == [False, False, True]
    assert _matches(pattern["ConvertLatency"], ok) and not _matches(pattern["ConvertLatency"], poll), (
        "long polls of jobs must not count as slow conversions"
    )
    assert filters["ConvertLatency"]["MetricTransformations"][0]["MetricValue"] == "$.latencyMs"


def test_the_backlog_age_alarm_follows_a_metric_the_service_exports_and_the_agent_publishes():
    alarm = resource("JobBacklogAgeAlarm")
    name = alarm["MetricName"]
    assert name in contract_metrics()
    cw = json.loads(re.sub(r"\$\{[^}]+\}", "x", environment("cloudwatch-agent")["CW_CONFIG_CONTENT"]["Fn::Sub"]))
    (declaration,) = cw["logs"]["metrics_collected"]["prometheus"]["emf_processor"]["metric_declaration"]
    assert any(re.fullmatch(sel, name) for sel in declaration["metric_selectors"])
    assert [d["Name"] for d in alarm["Dimensions"]] in declaration["dimensions"]


def test_spot_interruptions_reach_the_topic_and_count_towards_an_alarm():
    ec2 = resource("Ec2SpotInterruptionRule")
    assert ec2["EventPattern"]["detail-type"] == ["EC2 Spot Instance Interruption Warning"]
    fargate = resource("FargateSpotInterruptionRule")
    assert fargate["EventPattern"]["detail"]["stopCode"] == ["SpotInterruption"]
    assert fargate["EventPattern"]["detail"]["clusterArn"] == [{"Fn::GetAtt": ["Cluster", "Arn"]}]
    for rule in (ec2, fargate):
        assert rule["Targets"][0]["Arn"] == {"Ref": "AlarmTopic"}
    metrics = json.dumps(resource("SpotInterruptionsAlarm")["Metrics"])
    assert "Ec2SpotInterruptionRule" in metrics and "FargateSpotInterruptionRule" in metrics
    # The topic admits exactly these rules (and the account's alarms).
    statements = resource("AlarmTopicPolicy")["PolicyDocument"]["Statement"]
    events = next(s for s in statements if s["Principal"] == {"Service": "events.amazonaws.com"})
    assert len(events["Condition"]["ArnEquals"]["aws:SourceArn"]) == 2


def test_blue_green_is_offered_with_its_own_target_group_and_a_role_that_can_only_shift_traffic():
    params = template()["Parameters"]["DeploymentStrategy"]
    assert params["Default"] == "ROLLING" and set(params["AllowedValues"]) == {"ROLLING", "BLUE_GREEN"}
    config = resource("Service")["DeploymentConfiguration"]
    assert config["Strategy"] == {"Ref": "DeploymentStrategy"}
    (lb,) = resource("Service")["LoadBalancers"]
    condition, advanced, _ = lb["AdvancedConfiguration"]["Fn::If"]
    assert condition == "UseBlueGreen"
    assert advanced["ProductionListenerRule"] == {"Ref": "Listener"}, "for an NLB the listener itself"
    alternate = template()["Resources"]["AlternateTargetGroup"]
    assert alternate["Condition"] == "UseBlueGreen"
    assert alternate["Properties"] == resource("TargetGroup"), "both colours are checked and drained alike"
    statements = resource("BlueGreenRole")["Policies"][0]["PolicyDocument"]["Statement"]
    writes = [s for s in statements if s["Resource"] != "*"]
    assert all(
        a.startswith("elasticloadbalancing:Describe") for s in statements if s["Resource"] == "*" for a in s["Action"]
    )
    assert {json.dumps(s["Resource"]) for s in writes} == {
        json.dumps({"Ref": "Listener"}),
        json.dumps([{"Ref": "TargetGroup"}, {"Ref": "AlternateTargetGroup"}]),
    }


# ---------------------------------------------------------------- Spot and scale-in
def test_a_task_may_protect_itself_from_scale_in_and_only_tasks_of_its_cluster():
    statements = [s for p in resource("TaskRole")["Policies"] for s in p["PolicyDocument"]["Statement"]]
    (protection,) = [s for s in statements if "ecs:UpdateTaskProtection" in s["Action"]]
    assert set(protection["Action"]) == {"ecs:UpdateTaskProtection", "ecs:GetTaskProtection"}
    assert protection["Resource"]["Fn::Sub"].endswith(":task/${Cluster}/*")


# ---------------------------------------------------------------- CORS, EFS, deploy role
def test_the_service_admits_the_same_origins_as_the_gateway():
    assert environment()["CORS_ORIGINS"] == {"Fn::Join": [",", {"Ref": "CorsAllowOrigins"}]}
    cors = resource("HttpApi")["CorsConfiguration"]["Fn::If"]
    assert cors[1]["AllowOrigins"] == {"Ref": "CorsAllowOrigins"} and cors[2] == {"Ref": "AWS::NoValue"}
    assert parameter_default(environment()["CORS_ORIGINS"]) == "", "same origin only unless origins are named"


def test_efs_keeps_24_hour_files_without_backups_or_ia_and_tasks_wait_for_every_mount_target():
    fs = resource("FileSystem")
    assert fs["BackupPolicy"] == {"Status": "DISABLED"}, "35-day recovery points of 24-hour files"
    assert not any("TransitionToIA" in p for p in fs["LifecyclePolicies"])
    assert float(environment()["JOB_TTL_SECONDS"]) <= 86400
    mount_targets = {
        name: r
        for name, r in template()["Resources"].items()
        if isinstance(r, dict) and r.get("Type") == "AWS::EFS::MountTarget"
    }
    assert len(mount_targets) == 6, "one per subnet, two to six"
    tags = json.dumps(resource("AccessPoint")["AccessPointTags"])
    for i, (name, mt) in enumerate(sorted(mount_targets.items())):
        assert mt["Properties"]["SubnetId"] == {"Fn::Select": [i, {"Ref": "SubnetIds"}]}
        assert (i < 2) == ("Condition" not in mt), name
        assert f'"Ref": "{name}"' in tags, f"the access point (and so the service) waits for {name}"
    assert "AccessPoint" in template()["Resources"]["Service"]["DependsOn"]


def test_the_deploy_role_can_read_the_api_key_for_the_smoke_test_and_nothing_else_of_secrets():
    statements = resource("DeployRole")["Policies"][0]["PolicyDocument"]["Statement"]
    (read,) = [s for s in statements if "secretsmanager" in json.dumps(s["Action"])]
    assert read["Action"] == "secretsmanager:GetSecretValue" and read["Resource"] == {"Ref": "ApiKeysSecret"}
    assert {"ApiKeysSecretArn", "AlarmTopicArn"} <= set(template()["Outputs"])
