"""`rasa test` on the end-to-end test stories in tests/stories, with the trained model and live actions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from scripts.stack import ROOT, ensure_model
from tests.conftest import ARTIFACTS


def test_end_to_end_stories_pass(stack, tmp_path):
    out = tmp_path / "results"
    env = {**stack.env, "P95598_TRACKER_DB": str(tmp_path / "tracker.db")}
    proc = subprocess.run(
        [
            os.environ["RASA_PY"],
            "-m",
            "rasa",
            "test",
            "core",
            "--stories",
            "tests/stories",
            "-m",
            str(ensure_model()),
            "--endpoints",
            "bot/endpoints.yml",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    shutil.copytree(out, ARTIFACTS / "rasa-test-results", dirs_exist_ok=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    failed = (out / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert "None of the test stories failed" in failed, failed[:4000]
    report = json.loads((out / "story_report.json").read_text(encoding="utf-8"))
    assert report["conversation_accuracy"]["accuracy"] == 1.0
    assert report["conversation_accuracy"]["total"] >= 20
