"""The baseline beside the product: a bare Rasa 3.6 on the same training sentences.

jieba + count vectors + DIET (the product's DIET settings), one response per intent by rule, the SQLite
tracker store, no action server, no matcher, no patches. Trained once into the model cache (keyed by the
NLU data and this file) and served by plain `rasa run`.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from scripts.stack import CACHE, ROOT, _python, rasa_env

CONFIG = {
    "recipe": "default.v1",
    "language": "zh",
    "assistant_id": "bare-rasa-baseline",
    "pipeline": [
        {"name": "JiebaTokenizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 2, "max_features": 6000},
        {
            "name": "DIETClassifier",
            "epochs": 60,
            "number_of_transformer_layers": 1,
            "transformer_size": 128,
            "entity_recognition": False,
            "constrain_similarities": True,
            "random_seed": 95598,
        },
    ],
    "policies": [{"name": "MemoizationPolicy"}, {"name": "RulePolicy"}],
}


def intents(nlu_dir: Path) -> list[str]:
    found = []
    for path in sorted(nlu_dir.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if block.get("intent") and block["intent"] not in found:
                found.append(block["intent"])
    return found


def nlu_only(nlu_dir: Path, out: Path) -> None:
    """The intent examples alone (no lookup tables, regexes or synonyms: the bare pipeline has no use for them)."""
    blocks = []
    for path in sorted(nlu_dir.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if block.get("intent"):
                blocks.append({"intent": block["intent"], "examples": block["examples"]})
    out.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True), encoding="utf-8")


def project(folder: Path) -> None:
    names = intents(ROOT / "nlu" / "data")
    domain = {
        "version": "3.1",
        "intents": names,
        "responses": {f"utter_{n}": [{"text": f"（{n}）好的，收到。"}] for n in names},
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    }
    rules = [{"rule": f"answer {n}", "steps": [{"intent": n}, {"action": f"utter_{n}"}]} for n in names]
    (folder / "data").mkdir(parents=True)
    nlu_only(ROOT / "nlu" / "data", folder / "data" / "nlu.yml")
    (folder / "data" / "rules.yml").write_text(
        yaml.safe_dump({"version": "3.1", "rules": rules}, allow_unicode=True), encoding="utf-8"
    )
    (folder / "domain.yml").write_text(yaml.safe_dump(domain, allow_unicode=True), encoding="utf-8")
    (folder / "config.yml").write_text(yaml.safe_dump(CONFIG, allow_unicode=True), encoding="utf-8")


def inputs_hash() -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for f in sorted((ROOT / "nlu" / "data").glob("*.yml")):
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def ensure_model() -> Path:
    model = CACHE / "rasa-models" / f"bare-{inputs_hash()}.tar.gz"
    if model.exists():
        return model
    model.parent.mkdir(parents=True, exist_ok=True)
    print(f"[bare rasa] training the baseline model -> {model}", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        project(Path(tmp) / "bare")
        subprocess.run(
            [
                _python("RASA_PY"),
                "-m",
                "rasa",
                "train",
                "--domain",
                "domain.yml",
                "--data",
                "data",
                "--config",
                "config.yml",
                "--out",
                tmp,
                "--fixed-model-name",
                "bare",
            ],
            cwd=Path(tmp) / "bare",
            env=rasa_env(),
            check=True,
            stdout=sys.stderr,
        )
        shutil.move(str(Path(tmp) / "bare.tar.gz"), model)
    return model


def serve(model: Path, port: int, var: Path) -> subprocess.Popen:
    """Plain `rasa run` with the REST channel and a SQLite tracker store in `var`."""
    (var / "endpoints.yml").write_text(
        yaml.safe_dump({"tracker_store": {"type": "SQL", "dialect": "sqlite", "db": str(var / "bare_tracker.db")}}),
        encoding="utf-8",
    )
    (var / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    log = open(var / "bare_rasa.log", "ab")  # noqa: SIM115 - the server writes to it for as long as it runs
    return subprocess.Popen(
        [
            _python("RASA_PY"),
            "-m",
            "rasa",
            "run",
            "-m",
            str(model),
            "-p",
            str(port),
            "-i",
            "127.0.0.1",
            "--endpoints",
            str(var / "endpoints.yml"),
            "--credentials",
            str(var / "credentials.yml"),
        ],
        cwd=var,
        env=rasa_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
