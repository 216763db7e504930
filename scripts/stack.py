"""Trains the Rasa model when its inputs changed, and runs the product's processes together.

    python -m scripts.stack model     # print the path of a model trained on the current data (cached)
    python -m scripts.stack run       # back end seeded, action server, knowledge service, Rasa server

Used by `make run` and by the tests (which start their own stack on free ports and a scratch database).
Interpreter paths come from scripts/bootstrap.sh through RASA_PY / APP_PY.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from backend.settings import SECRETS, ensure_dev_secrets, production, refuse_unsafe
from scripts.profiles import ScaleProfile

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("P95598_CACHE", Path.home() / ".cache" / "p95598"))
MODEL_INPUTS = ["config.yml", "bot/domain", "bot/data", "nlu/data", "nlu/components", "nlu/lexicon"]


def _python(var: str) -> str:
    path = os.environ.get(var)
    if not path:
        sys.exit(f"{var} is not set: run through `make run` / `make test` (scripts/bootstrap.sh sets it)")
    return path


def inputs_hash() -> str:
    h = hashlib.sha256()
    for item in MODEL_INPUTS:
        p = ROOT / item
        files = sorted(f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def ensure_model() -> Path:
    """The trained model for the current training data, config and components; trains only on a change."""
    model = CACHE / "rasa-models" / f"p95598-{inputs_hash()}.tar.gz"
    if model.exists():
        return model
    model.parent.mkdir(parents=True, exist_ok=True)
    # Two trainings at once would each take both cores: a second caller waits and then reuses the model.
    with open(model.parent / ".training.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not model.exists():
            _train(model)
    return model


def _train(model: Path) -> None:
    print(f"[stack] training the Rasa model (inputs changed) -> {model}", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [
                _python("RASA_PY"),
                "-m",
                "rasa",
                "train",
                "--domain",
                "bot/domain",
                "--data",
                "nlu/data",
                "bot/data",
                "--config",
                "config.yml",
                "--out",
                out,
                "--fixed-model-name",
                "p95598",
            ],
            cwd=ROOT,
            env=rasa_env(),
            check=True,
            stdout=sys.stderr,
        )
        shutil.move(str(Path(out) / "p95598.tar.gz"), model)


def rasa_env(extra: dict | None = None) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
        **(extra or {}),
    }
    return env


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_state(pid: int) -> str:
    """The kernel's one-letter state of a process (R running, S sleeping, T stopped...)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@dataclass
class Stack:
    """The running product: ports, scratch paths and the child processes."""

    var: Path
    rasa_port: int = 5005
    action_port: int = 5055
    knowledge_port: int = 5056
    db_url: str | None = None
    with_knowledge: bool = True
    voice_port: int | None = None  # the Twilio gateway; needs TWILIO_AUTH_TOKEN in the environment
    console_port: int | None = None  # chat page, WeChat webhook and agent console
    extra_env: dict = field(default_factory=dict)
    scale: ScaleProfile | None = None  # None: embedded (SQLite, in-memory locks, no broker)
    knowledge_url: str | None = None  # another stack's knowledge service (a second instance has none)
    seed: bool = True
    procs: list[subprocess.Popen] = field(default_factory=list)
    commands: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)  # shared tokens (backend/settings.py), filled by start()

    @classmethod
    def on_free_ports(cls, var: Path, *, console: bool = True, voice: bool = False, **options: Any) -> Stack:
        """A product of its own in `var` on free ports (tests and benchmarks, beside a running `make run`)."""
        return cls(
            var=var,
            rasa_port=free_port(),
            action_port=free_port(),
            knowledge_port=free_port(),
            console_port=free_port() if console else None,
            voice_port=free_port() if voice else None,
            **options,
        )

    @property
    def rasa_token(self) -> str:
        return self.secrets.get("P95598_RASA_TOKEN", "")

    def api(self, path: str) -> str:
        """A URL of Rasa's HTTP API (not the channels), with the token it requires."""
        return f"{self.rasa_url}{path}{'&' if '?' in path else '?'}token={self.rasa_token}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def env(self) -> dict:
        return rasa_env(
            {
                "P95598_DB_URL": self.db_url or f"sqlite:///{self.var / 'backend.db'}",
                **(self.scale.env() if self.scale else {}),
                "P95598_TRACKER_DB": str(self.var / "tracker.db"),
                "P95598_INSIGHT_HISTORY": os.environ.get("P95598_INSIGHT_HISTORY")
                or str(self.var / "insight" / "history"),  # insight refresh writes it, the console reads it
                "P95598_ACTION_URL": f"http://127.0.0.1:{self.action_port}/webhook",
                "P95598_KNOWLEDGE_URL": self.knowledge_url
                or (f"http://127.0.0.1:{self.knowledge_port}" if self.with_knowledge else ""),
                "HF_HUB_OFFLINE": "1",
                "TOKENIZERS_PARALLELISM": "false",
                "P95598_RASA_URL": self.rasa_url,
                "MALLOC_ARENA_MAX": "2",
                # two Rasa worker processes (file locks keep a conversation in one at a time): +20 % turns/s
                # on 2 cores (benchmarks/load/results_closed_loop.json); 1 saves ~0.7 GB; the scale profile has
                # 2 servers
                "SANIC_WORKERS": os.environ.get("P95598_RASA_WORKERS", "1" if self.scale else "2"),
                **({"P95598_CONSOLE_URL": self.console_url} if self.console_port else {}),
                **self.secrets,
                **self.extra_env,
            }
        )

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    def _spawn(self, name: str, cmd: list[str], env: dict | None = None) -> None:
        log = open(self.var / f"{name}.log", "ab")  # noqa: SIM115 - the process writes to it while it runs
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        proc.name = name
        self.commands[name] = (cmd, env)
        self.procs.append(proc)

    def proc(self, name: str) -> subprocess.Popen:
        return next(p for p in reversed(self.procs) if p.name == name)

    def kill(self, name: str) -> None:
        """kill -9 of one process (durability tests)."""
        proc = self.proc(name)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
        self.procs.remove(proc)

    @contextlib.contextmanager
    def paused(self, *names: str) -> Iterator[None]:
        """The named processes stopped (SIGSTOP) inside the block, then continued: a benchmark's baseline without
        the background processes beside the turns."""
        stopped = [self.proc(n) for n in names]
        for proc in stopped:
            os.kill(proc.pid, signal.SIGSTOP)
        for proc in stopped:  # a signal is delivered a moment later: measure only once they have stopped
            deadline = time.monotonic() + 5
            while process_state(proc.pid) != "T" and time.monotonic() < deadline:
                time.sleep(0.01)
        try:
            yield
        finally:
            for proc in stopped:
                os.kill(proc.pid, signal.SIGCONT)

    def restart(self, name: str, env: dict | None = None) -> None:
        cmd, old_env = self.commands[name]
        self._spawn(name, cmd, env if env is not None else old_env)

    def start(self, model: Path) -> Stack:
        self.var.mkdir(parents=True, exist_ok=True)
        ports = [
            ("Rasa", self.rasa_port),
            ("action server", self.action_port),
            ("knowledge service", self.knowledge_port),
            ("voice gateway", self.voice_port),
            ("console", self.console_port),
        ]
        for name, port in [(n, p) for n, p in ports if p]:
            if not port_is_free(port):
                raise RuntimeError(
                    f"port {port} for the {name} is in use: is the product already running? "
                    "Stop it, or choose other ports with P95598_RASA_PORT / P95598_ACTION_PORT / "
                    "P95598_KNOWLEDGE_PORT / P95598_VOICE_PORT / P95598_CONSOLE_PORT"
                )
        app = _python("APP_PY")
        env = {**os.environ, **self.extra_env}
        refuse_unsafe("stack", env)
        self.secrets = {k: env[k] for k in SECRETS} if production(env) else ensure_dev_secrets(self.var, env)
        if self.scale:
            self.scale.ensure_database()
        if self.seed:
            subprocess.run(
                [app, "-m", "backend", "seed", "--if-empty"],
                cwd=ROOT,
                env=self.env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            self._insight_refresh(app)
        # analytics: the broker's consumer (scale) or the tracker store's feed (embedded); never inside Rasa's turn
        self._spawn("analytics", [app, "-m", "analytics", "consume" if self.scale else "feed"])
        self._spawn("notices", [app, "-m", "notices", "run"])  # customer notices: triggers' scan and senders
        self._spawn("actions", [app, "-m", "actions.server", "--port", str(self.action_port)])
        if self.with_knowledge:
            self._spawn("knowledge", [app, "-m", "knowledge", "serve", "--port", str(self.knowledge_port)])
        if self.console_port:
            self._spawn("console", [app, "-m", "console", "serve", "--port", str(self.console_port)])
        if self.voice_port:
            self._spawn("voice", [app, "-m", "voice", "serve", "--port", str(self.voice_port)])
        cors = self.env.get("P95598_RASA_CORS") or (self.console_url if self.console_port else "http://127.0.0.1")
        self._spawn(
            "rasa",
            [
                _python("RASA_PY"),
                "-m",
                "scripts.rasa_server",
                "--cors",
                cors,
                "-m",
                str(model),
                "--endpoints",
                "bot/endpoints.scale.yml" if self.scale else "bot/endpoints.yml",
                "--credentials",
                "bot/credentials.yml",
                "-p",
                str(self.rasa_port),
                "-i",
                "127.0.0.1",
            ],
        )
        return self

    def _insight_refresh(self, app: str) -> None:
        """The customers' tags and arrears risk on a database without any (issue 19; seconds on DuckDB). The
        product runs without them: a failure is reported, not fatal."""
        with open(self.var / "insight.log", "ab") as log:
            done = subprocess.run(
                [app, "-m", "insight", "refresh", "--if-none"], cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        if done.returncode != 0:
            print(f"[stack] insight refresh failed (see {self.var / 'insight.log'}): no tags or risk grades yet")

    def wait_ready(self, timeout: float = 900, only: tuple[str, ...] | None = None) -> None:
        checks = {"rasa": self.api("/status"), "actions": f"http://127.0.0.1:{self.action_port}/health"}
        if self.with_knowledge:
            checks["knowledge"] = f"http://127.0.0.1:{self.knowledge_port}/health"
        if self.voice_port:
            checks["voice"] = f"http://127.0.0.1:{self.voice_port}/health"
        if self.console_port:
            checks["console"] = f"{self.console_url}/health"
        deadline = time.time() + timeout
        pending = {k: v for k, v in checks.items() if only is None or k in only}
        while pending and time.time() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"a process exited early ({proc.args[:4]}); see logs in {self.var}")
            for name, url in list(pending.items()):
                try:
                    if requests.get(url, timeout=2).ok:
                        pending.pop(name)
                except requests.RequestException:
                    pass
            time.sleep(1)
        if pending:
            raise TimeoutError(f"not ready after {timeout}s: {sorted(pending)}; see logs in {self.var}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()


def voice_line(stack: Stack) -> str:
    if not stack.voice_port:
        return "off (set TWILIO_AUTH_TOKEN and P95598_PUBLIC_URL to serve Twilio calls; see voice/README.md)"
    return (
        f"Twilio webhook POST {os.environ.get('P95598_PUBLIC_URL', '<public URL>')}/voice/incoming "
        f"-> 127.0.0.1:{stack.voice_port}"
    )


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m scripts.stack")
    p.add_argument("command", choices=["model", "run"])
    a = p.parse_args()
    refuse_unsafe("stack")
    model = ensure_model()
    if a.command == "model":
        print(model)
        return
    stack = Stack(
        var=Path(os.environ.get("P95598_VAR", ROOT / "var")),
        rasa_port=int(os.environ.get("P95598_RASA_PORT", 5005)),
        action_port=int(os.environ.get("P95598_ACTION_PORT", 5055)),
        knowledge_port=int(os.environ.get("P95598_KNOWLEDGE_PORT", 5056)),
        voice_port=int(os.environ.get("P95598_VOICE_PORT", 5058)) if os.environ.get("TWILIO_AUTH_TOKEN") else None,
        console_port=int(os.environ.get("P95598_CONSOLE_PORT", 8060)),
        scale=ScaleProfile.from_env(),
    )
    if stack.scale and stack.scale.unreachable():
        sys.exit(f"[stack] scale profile: cannot reach {', '.join(stack.scale.unreachable())}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        try:
            stack.start(model)
        except RuntimeError as e:
            sys.exit(f"[stack] {e}")
        print("[stack] starting… (the Rasa server takes about half a minute to load the model)", flush=True)
        stack.wait_ready()
        print(
            f"""
  95598 智能客服 is running.
    REST channel : POST {stack.rasa_url}/webhooks/rest/webhook  {{"sender": "u1", "message": "我家停电了"}}
    HTTP API     : {stack.rasa_url}/model/parse?token=…   (token in {stack.var}/secrets.env; intent = function id)
    Chat page    : {stack.console_url}/chat   (WeChat-style, on a phone too)
    Agent console: {stack.console_url}/console  demo logins 1001 / 1002 (agents), 9001 (supervisor),
                   password {os.environ.get("P95598_DEMO_PASSWORD", "95598demo")} (set P95598_DEMO_PASSWORD)
    WeChat OA    : {stack.console_url}/wechat  (set P95598_WECHAT_TOKEN, _APPID, _SECRET)
    Terminal chat: make chat          Logs: {stack.var}/*.log
    Hotline      : {voice_line(stack)}
  Press Ctrl-C to stop.""",
            flush=True,
        )
        while all(proc.poll() is None for proc in stack.procs):
            time.sleep(1)
        print("[stack] a process stopped; shutting down (see the logs)", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
