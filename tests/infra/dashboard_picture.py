"""The stage dashboard as a picture: its widgets' JSON laid out on CloudWatch's 24-column grid as
an SVG (titles, metric names, alarm lines), and the layout checks a person would make looking at it.

Write the pictures of every stage with
``WMS_DASHBOARD_PICTURES=DIR .venv/bin/pytest tests/infra/test_agent_infra.py -k picture``
(then e.g. ``convert DIR/main.svg main.png``).
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape

CELL_W, CELL_H = 50, 40


def dashboard_document(body: Any) -> dict[str, Any]:
    """The DashboardBody of a template (an ``Fn::Join`` around alarm ARNs) as the widgets' JSON."""
    if isinstance(body, dict) and "Fn::Join" in body:
        parts = body["Fn::Join"][1]
        text = "".join(p if isinstance(p, str) else "arn:aws:cloudwatch:alarm:<ref>" for p in parts)
    else:
        text = str(body)
    document: dict[str, Any] = json.loads(text)
    return document


def layout_problems(document: dict[str, Any]) -> list[str]:
    problems, cells = [], {}
    for index, widget in enumerate(document["widgets"]):
        props = widget["properties"]
        if not props.get("title"):
            problems.append(f"widget {index} has no title")
        if widget["type"] == "metric" and not props.get("metrics"):
            problems.append(f"widget {props.get('title')!r} shows no metric")
        if widget["x"] + widget["width"] > 24:
            problems.append(f"widget {props.get('title')!r} leaves the 24-column grid")
        for x in range(widget["x"], widget["x"] + widget["width"]):
            for y in range(widget["y"], widget["y"] + widget["height"]):
                if (x, y) in cells:
                    problems.append(f"widgets {cells[x, y]!r} and {props.get('title')!r} overlap")
                cells[x, y] = props.get("title")
    return sorted(set(problems))


def dashboard_svg(document: dict[str, Any], title: str) -> str:
    widgets = document["widgets"]
    height = max(w["y"] + w["height"] for w in widgets) * CELL_H + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{24 * CELL_W}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="8" y="24" font-size="18">{escape(title)}</text>',
    ]
    for widget in widgets:
        props = widget["properties"]
        x, y = widget["x"] * CELL_W, widget["y"] * CELL_H + 40
        w, h = widget["width"] * CELL_W - 6, widget["height"] * CELL_H - 6
        out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#f4f6f8" stroke="#888"/>')
        out.append(
            f'<text x="{x + 8}" y="{y + 18}" font-weight="bold">{escape(str(props.get("title")))}</text>'
        )
        lines = []
        if widget["type"] == "alarm":
            lines.append(f"{len(props.get('alarms', []))} alarms (status)")
        for metric in props.get("metrics", []):
            stat = metric[-1].get("stat", "") if isinstance(metric[-1], dict) else ""
            lines.append(f"{metric[1]} ({stat})")
        for line in props.get("annotations", {}).get("horizontal", []):
            lines.append(f"--- {line.get('label')} at {line.get('value')}")
        for row, text in enumerate(lines):
            out.append(f'<text x="{x + 12}" y="{y + 40 + 16 * row}">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out)
