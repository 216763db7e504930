"""A report's HTML printed to PDF by the chromium the product installs (Debian `chromium`, as the browser tests use),
headless. Never raises: without chromium, or when it fails or hangs, the answer is None and the reason in Chinese,
and the HTML stays archived."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

TIMEOUT_SECONDS = 90


def find_chromium() -> str | None:
    found = os.environ.get("P95598_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found if found and Path(found).exists() else None


def print_pdf(html: Path, pdf: Path, chromium: str | None = None) -> str | None:
    """Writes `pdf` from the HTML file; None when done, else why not (a short Chinese sentence)."""
    browser = chromium or find_chromium()
    if browser is None:
        return "本机没有安装 chromium，无法生成 PDF（HTML 版已存档）。"
    with tempfile.TemporaryDirectory(prefix="p95598-pdf-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            return f"chromium 超过{TIMEOUT_SECONDS}秒没有完成，PDF 未生成（HTML 版已存档）。"
        except OSError as e:
            return f"chromium 无法启动（{e.__class__.__name__}），PDF 未生成（HTML 版已存档）。"
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        return f"chromium 打印失败（退出码 {done.returncode}），PDF 未生成（HTML 版已存档）。"
    return None
