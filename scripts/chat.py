"""Terminal chat with the running bot (start it with `make run` first).

python -m scripts.chat [--url http://127.0.0.1:5005] [--sender me] [--caller 13912340001]
"""

from __future__ import annotations

import argparse
import uuid

import requests


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m scripts.chat")
    p.add_argument("--url", default="http://127.0.0.1:5005")
    p.add_argument("--sender", default=f"cli-{uuid.uuid4().hex[:8]}")
    p.add_argument("--caller", default=None, help="pretend to write from this phone number")
    a = p.parse_args()
    print("95598 智能客服（输入 /quit 退出；按钮可输入序号）")
    buttons: list[dict] = []
    while True:
        try:
            text = input("您：").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if text == "/quit":
            break
        if text.isdigit() and 0 < int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        metadata = {"channel": "chat", **({"caller": a.caller} if a.caller else {})}
        try:
            r = requests.post(
                f"{a.url}/webhooks/rest/webhook",
                timeout=30,
                json={"sender": a.sender, "message": text, "metadata": metadata},
            )
            r.raise_for_status()
        except requests.RequestException as e:
            print(f"（连接失败：{e}。先运行 make run）")
            continue
        buttons = []
        for msg in r.json():
            if msg.get("text"):
                print(f"客服：{msg['text']}")
            for b in msg.get("buttons", []):
                buttons.append(b)
                print(f"   [{len(buttons)}] {b['title']}")


if __name__ == "__main__":
    main()
