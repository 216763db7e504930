"""The KPI charts as Vega-Lite specs, built once here from the KPI view (analytics/kpis_view.py): the dashboard draws
them in the browser with vega-embed (console/static/kpi.js), the reports render the same specs to SVG with
vl-convert (`to_svg`). Chinese labels; the CJK font WenQuanYi Micro Hei (fonts-wqy-microhei) in both.

Buckets are ordinal labels in data order (`sort: null`), never Vega time fields: the labels are already local
time, and a browser or the converter would otherwise re-zone them.

A chart with nothing to show (no rows, or only zero counts) is decided here, once: its spec is the chart's title
over a short note (NO_DATA, 暂无数据) drawn as a text mark, so the page and the report show the same note and never
an empty chart (an empty line chart's scales have an infinite extent: 1.8e308 px).
"""

from __future__ import annotations

from typing import Any

from analytics.kpis import KPI_NAMES

FONT = "WenQuanYi Micro Hei"
WIDTH = 560
HEIGHT = 220
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
RATES = ("containment", "transfer_rate", "fallback_rate", "abandon_rate", "service_level")
CONFIG = {
    "font": FONT,
    "axis": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 11, "titleFontSize": 12},
    "legend": {"labelFont": FONT, "titleFont": FONT, "orient": "bottom"},
    "title": {"font": FONT, "fontSize": 14, "anchor": "start"},
    "view": {"stroke": None},
}
NO_DATA = "暂无数据"
NOTE_HEIGHT = 36
Spec = dict[str, Any]


def note(title: str, text: str = NO_DATA) -> Spec:
    """The chart's title over a short note instead of a chart (`usermeta.empty` marks it for the page)."""
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": WIDTH,
        "height": NOTE_HEIGHT,
        "data": {"values": [{"note": text}]},
        "config": CONFIG,
        "mark": {"type": "text", "fontSize": 13, "color": "#888"},
        "encoding": {"text": {"field": "note", "type": "nominal"}},
        "usermeta": {"empty": True, "note": text},
    }


def is_empty(spec: Spec) -> bool:
    return bool(spec.get("usermeta", {}).get("empty"))


def _spec(
    title: str, values: list[dict[str, Any]], body: Spec, height: int = HEIGHT, amount: str | None = None
) -> Spec:
    """The chart, or its note when there is nothing to show: no values, or (`amount`) no non-zero amount."""
    if not any(amount is None or v.get(amount) for v in values):
        return note(title)
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": WIDTH,
        "height": height,
        "data": {"values": values},
        "config": CONFIG,
        **body,
    }


def _x(series: list[dict[str, Any]]) -> Spec:
    many = len(series) > 16
    return {
        "field": "label",
        "type": "ordinal",
        "sort": None,
        "title": None,
        "axis": {"labelAngle": -45 if many else 0, "labelOverlap": "greedy"},
    }


def contacts_by_channel(view: dict[str, Any]) -> Spec:
    values = [{"label": p["label"], "渠道": p["name"], "会话量": p["contacts"]} for p in view["by_channel"]]
    return _spec(
        "各渠道会话量",
        values,
        {
            "mark": {"type": "bar"},
            "encoding": {
                "x": _x(view["summary"]["series"]),
                "y": {"field": "会话量", "type": "quantitative", "title": "会话量", "stack": "zero"},
                "color": {"field": "渠道", "type": "nominal", "title": None},
                "tooltip": [{"field": "label", "title": "时段"}, {"field": "渠道"}, {"field": "会话量"}],
            },
        },
        amount="会话量",
    )


def rates(view: dict[str, Any]) -> Spec:
    values = [
        {"label": p["label"], "指标": KPI_NAMES[k], "比例": p[k]}
        for p in view["summary"]["series"]
        for k in RATES
        if p[k] is not None
    ]
    return _spec(
        "服务指标走势",
        values,
        {
            "mark": {"type": "line", "point": True},
            "encoding": {
                "x": _x(view["summary"]["series"]),
                "y": {
                    "field": "比例",
                    "type": "quantitative",
                    "axis": {"format": ".0%"},
                    "title": None,
                    "scale": {"domain": [0, 1]},
                },  # fmt: skip
                "color": {"field": "指标", "type": "nominal", "title": None, "sort": [KPI_NAMES[k] for k in RATES]},
                "tooltip": [
                    {"field": "label", "title": "时段"},
                    {"field": "指标"},
                    {"field": "比例", "format": ".1%"},
                ],  # fmt: skip
            },
        },
    )


def handling(view: dict[str, Any]) -> Spec:
    values = []
    for p in view["summary"]["series"]:
        if p["handle_seconds"] is not None:
            values.append({"label": p["label"], "指标": "平均处理时长", "分钟": round(p["handle_seconds"] / 60, 2)})
        if p["wait_seconds"] is not None:
            values.append({"label": p["label"], "指标": "平均应答等待", "分钟": round(p["wait_seconds"] / 60, 2)})
    return _spec(
        "人工处理与等待（分钟）",
        values,
        {
            "mark": {"type": "line", "point": True},
            "encoding": {
                "x": _x(view["summary"]["series"]),
                "y": {"field": "分钟", "type": "quantitative", "title": "分钟"},
                "color": {"field": "指标", "type": "nominal", "title": None},
                "tooltip": [{"field": "label", "title": "时段"}, {"field": "指标"}, {"field": "分钟"}],
            },
        },
    )


def satisfaction(view: dict[str, Any]) -> Spec:
    values = [{"评分": s["name"], "会话数": s["contacts"]} for s in view["satisfaction"]]
    return _hbar("满意度评价分布", values, "评分", "会话数", sort=[s["name"] for s in view["satisfaction"]])


def _hbar(title: str, values: list[dict[str, Any]], category: str, amount: str, sort: Any = "-x") -> Spec:
    return _spec(
        title,
        values,
        {
            "mark": {"type": "bar"},
            "encoding": {
                "y": {"field": category, "type": "nominal", "title": None, "sort": sort},
                "x": {"field": amount, "type": "quantitative", "title": amount},
                "tooltip": [{"field": category}, {"field": amount}],
            },
        },
        height=max(60, 22 * max(1, len(values))),
        amount=amount,
    )


def transfer_reasons(view: dict[str, Any]) -> Spec:
    values = [{"原因": r["name"], "转人工": r["contacts"]} for r in view["reasons"]]
    return _hbar("转人工原因", values, "原因", "转人工")


def top_functions(view: dict[str, Any]) -> Spec:
    values = [{"业务": f["name"], "会话量": f["contacts"]} for f in view["top_functions"]]
    return _hbar("热点业务", values, "业务", "会话量")


def top_areas(view: dict[str, Any]) -> Spec:
    values = [{"区域": a["name"], "会话量": a["contacts"]} for a in view["top_areas"]]
    return _hbar("热点区域", values, "区域", "会话量")


def forecast(f: dict[str, Any]) -> Spec:
    title = "未来24小时话务预测与所需坐席"
    if not f.get("available", True) or not f["hours"]:
        return note(title, f.get("note") or NO_DATA)
    values = [
        {"label": h["label"], "预测话务量": h["forecast"], "其中停电事件": h["excess"], "所需坐席": h["agents"]}
        for h in f["hours"]
    ]
    x = {"field": "label", "type": "ordinal", "sort": None, "title": None, "axis": {"labelAngle": -45}}
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "data": {"values": values},
        "config": CONFIG,
        "layer": [
            {
                "mark": {"type": "bar", "color": "#8fb8de"},
                "encoding": {
                    "x": x,
                    "y": {"field": "预测话务量", "type": "quantitative", "title": "预测话务量（每小时）"},
                    "tooltip": [
                        {"field": "label", "title": "时段"},
                        {"field": "预测话务量"},
                        {"field": "其中停电事件"},
                        {"field": "所需坐席"},
                    ],  # fmt: skip
                },
            },
            {
                "mark": {"type": "line", "color": "#d9534f", "point": True},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "所需坐席",
                        "type": "quantitative",
                        "title": "所需坐席",
                        "axis": {"orient": "right"},
                    },  # fmt: skip
                },
            },
        ],
        "resolve": {"scale": {"y": "independent"}},
    }


def dashboard_charts(view: dict[str, Any]) -> dict[str, Spec]:
    """Every chart of a KPI view, by its element name on the page and in the report."""
    return {
        "channels": contacts_by_channel(view),
        "rates": rates(view),
        "handling": handling(view),
        "reasons": transfer_reasons(view),
        "functions": top_functions(view),
        "areas": top_areas(view),
        "satisfaction": satisfaction(view),
    }


def to_svg(spec: Spec) -> str:
    """The chart as a standalone SVG (vl-convert, no browser)."""
    import vl_convert

    return str(vl_convert.vegalite_to_svg(spec))
