"""Every refusal in Chinese: one middleware turns each HTTP error of the console, the chat page, the field app
and the webhooks into a short Chinese page (a browser opening a page) or `{"error": "中文说明"}` (fetch calls,
the JSON APIs), keeping the status.

Handlers raise `web.HTTP…(text="中文说明")` (or `refuse(status, "中文说明")`); a text with no Chinese in it
(aiohttp's own "404: Not Found", a body-size error) is replaced by the status's default sentence. An
unexpected exception becomes a Chinese 500 and is logged, never shown.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import jinja2
from aiohttp import web

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CJK = re.compile(r"[\u4e00-\u9fff]")
JSON_PATHS = ("/console/api/", "/field/api/", "/chat/code", "/chat/continue", "/sms/", "/payments/", "/wechat")
KEEP_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")

SESSION_EXPIRED = "登录已过期，请重新登录。"
NOT_YOURS = "这个会话已由其他同事处理。"
DEFAULTS: dict[int, tuple[str, str]] = {  # status -> (page title, sentence)
    400: ("提交的内容不对", "提交的内容不对，请检查后再试。"),
    401: ("登录已过期", SESSION_EXPIRED),
    403: ("无法进行这个操作", "您没有权限进行这个操作。"),
    404: ("没有找到", "没有找到您要的页面或记录。"),
    405: ("无法进行这个操作", "不支持这种操作方式。"),
    409: ("情况有变化", "情况刚刚有变化，请刷新页面后再试。"),
    413: ("内容太大", "提交的内容太大了，请减少后再试。"),
    415: ("格式不对", "提交的格式不对，请刷新页面后再试。"),
    429: ("操作太频繁", "操作太频繁了，请稍后再试。"),
    500: ("系统繁忙", "系统出了点问题，请稍后再试。"),
    503: ("服务暂不可用", "服务暂时不可用，请稍后再试。"),
}
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)


def refuse(status: int, message: str) -> web.HTTPException:
    """The aiohttp exception of that status carrying a Chinese sentence (raise it)."""
    if status == 413:
        return web.HTTPRequestEntityTooLarge(max_size=0, actual_size=0, text=message)
    classes: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
        409: web.HTTPConflict,
        429: web.HTTPTooManyRequests,
        503: web.HTTPServiceUnavailable,
    }
    return classes.get(status, web.HTTPBadRequest)(text=message)


def message_of(status: int, text: str | None) -> str:
    """The exception's own sentence if it is Chinese, else the status's default."""
    if text and text.lstrip().startswith("{"):  # a handler that already wrote {"error": ...}
        try:
            said = json.loads(text)
        except ValueError:
            said = None
        text = str(said.get("error") or "") if isinstance(said, dict) else text
    if text and CJK.search(text):
        return text.strip()
    return DEFAULTS.get(status, DEFAULTS[500 if status >= 500 else 400])[1]


def wants_json(request: web.Request) -> bool:
    """A page opened in the browser gets a page; fetch calls, APIs and webhooks get JSON."""
    if request.path.startswith(JSON_PATHS):
        return True
    return "text/html" not in request.headers.get("Accept", "")


def back_link(request: web.Request, status: int) -> tuple[str, str]:
    path = request.path
    if path.startswith("/console"):
        return ("/console/login", "重新登录") if status == 401 else ("/console", "返回工作台")
    if path.startswith("/field"):
        return "/field", "返回外勤首页"
    return "/chat", "返回在线客服"


def error_response(request: web.Request, status: int, text: str | None) -> web.Response:
    message = message_of(status, text)
    headers = {"Cache-Control": "no-store"}
    if wants_json(request):
        return web.Response(
            text=json.dumps({"error": message}, ensure_ascii=False),
            status=status,
            content_type="application/json",
            headers=headers,
        )
    title = DEFAULTS.get(status, DEFAULTS[500 if status >= 500 else 400])[0]
    href, label = back_link(request, status)
    page = TEMPLATES.get_template("error.html").render(title=title, message=message, href=href, label=label)
    headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
    return web.Response(text=page, status=status, content_type="text/html", headers=headers)


def is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


@web.middleware
async def chinese_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        refused = error_response(request, e.status, e.text)
        for name in KEEP_HEADERS:
            if name in e.headers:
                refused.headers[name] = e.headers[name]
        return refused
    except Exception:
        if is_websocket(request):
            raise
        log.exception("%s %s failed", request.method, request.path)
        return error_response(request, 500, None)
    if response.status >= 400 and not response.prepared and isinstance(response, web.Response):
        body = response.text if response.body is not None and response.charset else None
        if response.content_type in ("text/plain", "application/octet-stream") and not (body and CJK.search(body)):
            return error_response(request, response.status, body)  # a handler's own English error response
    return response
