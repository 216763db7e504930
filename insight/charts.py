"""The insight charts as Vega-Lite specs: hot-spot ranking and quarterly trends for the console page (drawn by
vega-embed), and the customer profile's usage, payment and contact charts (rendered to SVG by vl-convert for the
report). Same font, configuration and empty-chart note as the KPI charts (analytics/charts.py)."""

from __future__ import annotations

from typing import Any

from analytics.charts import CONFIG, FONT, HEIGHT, SCHEMA, WIDTH, Spec, note

PAYMENT_COLOURS = {"按时缴费": "#4c9a2a", "逾期缴清": "#e0a030", "欠费": "#c8382c", "未到期": "#9aa5b1"}
TOP_TRENDS = 4
SIGNIFICANT, OTHER, EXPECTED = "显著偏高", "未显著偏高", "预期"  # the ranking's legend
PAGE_WIDTH = 420  # two charts side by side on the console page, names of lines beside the bars
PROFILE_WIDTH = 320  # two charts side by side on the profile's one A4 page
PROFILE_HEIGHT = 110
PERIOD_AXIS = {"field": "账期", "type": "ordinal", "sort": None, "title": None,
               "axis": {"labelAngle": -60, "labelFontSize": 9, "labelOverlap": "greedy"}}  # fmt: skip


def count_axis(largest: int) -> Spec:
    """Whole-number ticks: a count axis up to 1 or 2 would otherwise read 0, 0.5, 1 as 0, 1, 1."""
    return {"format": "d", "tickMinStep": 1, "tickCount": min(5, max(1, largest))}


def _chart(
    title: str | Spec, values: list[dict[str, Any]], body: Spec, height: int = HEIGHT, width: int = WIDTH
) -> Spec:
    if not values:
        return note(title if isinstance(title, str) else str(title["text"]))
    return {"$schema": SCHEMA, "title": title, "width": width, "height": height, "data": {"values": values},
            "config": CONFIG, **body}  # fmt: skip


def ranking(rows: list[dict[str, Any]], level_name: str, measure_name: str) -> Spec:
    """Observed (bar, red when significant) against what the size predicts (black tick), in rank order; one legend
    for the three."""
    values = [
        {"名称": f"{r['rank']}. {r['name']}", "实际": r["observed"], "预期": round(r["expected"], 1),
         "实际/预期（倍）": round(r["rate_ratio"], 2), "情况": SIGNIFICANT if r["significant"] else OTHER}
        for r in rows
    ]  # fmt: skip
    y = {"field": "名称", "type": "nominal", "title": None, "sort": None}
    tooltip = [{"field": "名称"}, {"field": "实际"}, {"field": "预期"}, {"field": "实际/预期（倍）", "format": ".1f"},
               {"field": "情况"}]  # fmt: skip
    colour = {"type": "nominal", "title": None,
              "scale": {"domain": [SIGNIFICANT, OTHER, EXPECTED], "range": ["#c8382c", "#8fb8de", "#222"]}}  # fmt: skip
    return _chart(
        f"{level_name}{measure_name}：实际与按规模预期",
        values,
        {
            "layer": [
                {
                    "mark": {"type": "bar"},
                    "encoding": {
                        "y": y,
                        "x": {"field": "实际", "type": "quantitative", "title": f"{measure_name}次数"},
                        "color": {"field": "情况", **colour},
                        "tooltip": tooltip,
                    },
                },
                {
                    "mark": {"type": "tick", "thickness": 2},
                    "encoding": {
                        "y": y,
                        "x": {"field": "预期", "type": "quantitative"},
                        "color": {"datum": EXPECTED, **colour},
                        "tooltip": tooltip,
                    },
                },
            ]
        },
        height=max(60, 22 * len(values)),
        width=PAGE_WIDTH,
    )


def trends(rows: list[dict[str, Any]], measure_name: str) -> Spec:
    """The top rows' counts per quarter; a quarter the window covers only partly is labelled so
    (insight.hotspot_view.quarter_label) and said under the title."""
    values = [
        {"季度": t.get("label") or t["quarter"], "名称": r["name"], "次数": t["count"]}
        for r in rows[:TOP_TRENDS]
        for t in r["trend"]
    ]
    partial = any(t.get("partial") for r in rows[:TOP_TRENDS] for t in r["trend"])
    title: str | Spec = f"排名靠前的{measure_name}按季度走势"
    if partial:
        title = {"text": title, "subtitle": "括号内的季度未满3个月，次数偏少属正常", "subtitleFont": FONT,
                 "subtitleColor": "#666"}  # fmt: skip
    return _chart(
        title,
        values,
        {
            "mark": {"type": "line", "point": True},
            "encoding": {
                "x": {"field": "季度", "type": "ordinal", "sort": None, "title": None, "axis": {"labelAngle": -30}},
                "y": {"field": "次数", "type": "quantitative", "title": f"{measure_name}次数"},
                "color": {
                    "field": "名称",
                    "type": "nominal",
                    "title": None,
                    "sort": None,
                    "legend": {"columns": 2, "labelLimit": 200},
                },
                "tooltip": [{"field": "名称"}, {"field": "季度"}, {"field": "次数"}],
            },
        },
        width=PAGE_WIDTH,
    )


def usage(bills: list[dict[str, Any]]) -> Spec:
    values = [{"账期": b["period"], "用电量": b["kwh"]} for b in bills]
    return _chart(
        "月度用电量（千瓦时）",
        values,
        {
            "mark": {"type": "line", "point": True},
            "encoding": {
                "x": PERIOD_AXIS,
                "y": {"field": "用电量", "type": "quantitative", "title": "千瓦时"},
                "tooltip": [{"field": "账期"}, {"field": "用电量"}],
            },
        },
        height=PROFILE_HEIGHT,
        width=PROFILE_WIDTH,
    )


def payments(rows: list[dict[str, Any]]) -> Spec:
    """Each period's bill amount, coloured by how it was paid."""
    values = [{"账期": p["period"], "金额": p["amount"], "缴费情况": p["status"]} for p in rows]
    return _chart(
        "每期电费缴纳情况（元）",
        values,
        {
            "mark": {"type": "bar"},
            "encoding": {
                "x": PERIOD_AXIS,
                "y": {"field": "金额", "type": "quantitative", "title": "元"},
                "color": {
                    "field": "缴费情况",
                    "type": "nominal",
                    "title": None,
                    "scale": {"domain": list(PAYMENT_COLOURS), "range": list(PAYMENT_COLOURS.values())},
                },
                "tooltip": [{"field": "账期"}, {"field": "金额"}, {"field": "缴费情况"}],
            },  # fmt: skip
        },
        height=PROFILE_HEIGHT,
        width=PROFILE_WIDTH,
    )


def contacts_over_time(per_quarter: list[dict[str, Any]], quarters: list[str] | None = None) -> Spec:
    """Contacts per quarter, stacked by channel, with each quarter's total above it: every one of `quarters` (a
    quarter without contacts shows 0 rather than being left out)."""
    values = [{"季度": q["quarter"], "渠道": q["channel"], "次数": q["count"]} for q in per_quarter]
    totals: dict[str, int] = dict.fromkeys(quarters or [], 0)
    for q in per_quarter:
        totals[q["quarter"]] = totals.get(q["quarter"], 0) + int(q["count"])
    x = {"field": "季度", "type": "ordinal", "title": None, "scale": {"domain": sorted(totals)},
         "axis": {"labelAngle": -60, "labelFontSize": 9, "labelOverlap": "greedy"}}  # fmt: skip
    return _chart(
        "各季度联系次数（按渠道）",
        values,
        {
            "layer": [
                {
                    "mark": {"type": "bar"},
                    "encoding": {
                        "x": x,
                        "y": {
                            "field": "次数",
                            "type": "quantitative",
                            "title": "次数",
                            "stack": "zero",
                            "axis": count_axis(max(totals.values(), default=0)),
                        },
                        "color": {"field": "渠道", "type": "nominal", "title": None},
                        "tooltip": [{"field": "季度"}, {"field": "渠道"}, {"field": "次数"}],
                    },
                },
                {
                    "data": {"values": [{"季度": q, "合计": n} for q, n in totals.items()]},
                    "mark": {"type": "text", "dy": -5, "fontSize": 9, "color": "#555"},
                    "encoding": {
                        "x": x,
                        "y": {"field": "合计", "type": "quantitative"},
                        "text": {"field": "合计", "type": "quantitative"},
                    },
                },
            ]
        },
        height=PROFILE_HEIGHT - 10,
        width=PROFILE_WIDTH,
    )


def contacts_by_function(counts: list[dict[str, Any]]) -> Spec:
    values = [{"业务": c["name"], "次数": c["count"]} for c in counts]
    return _chart(
        "联系事由",
        values,
        {
            "mark": {"type": "bar"},
            "encoding": {
                "y": {"field": "业务", "type": "nominal", "title": None, "sort": "-x"},
                "x": {
                    "field": "次数",
                    "type": "quantitative",
                    "title": "次数",
                    "axis": count_axis(max((c["count"] for c in counts), default=0)),
                },  # fmt: skip
                "tooltip": [{"field": "业务"}, {"field": "次数"}],
            },
        },
        height=max(40, min(PROFILE_HEIGHT - 10, 14 * len(values))),
        width=PROFILE_WIDTH - 60,
    )
