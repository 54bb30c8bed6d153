"""A report as CSV, in long form: one figure a row (``section,key,metric,value``), so every
part of the report (totals, volumes, reasons, the funnel, per queue, per agent) fits one
file that a spreadsheet can pivot."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from .figures import Report


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cell(value: Any) -> Any:
    # A cell a spreadsheet would run as a formula (=, +, -, @ first) is quoted as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section", "key", "metric", "value"])

    def row(section: str, key: str, metric: str, value: Any) -> None:
        writer.writerow([section, _cell(key), metric, _cell(value)])

    row("period", "", "since", _iso(report.since))
    row("period", "", "until", _iso(report.until))
    row("period", "", "queue", report.queue or "")
    row("period", "", "agent_id", report.agent_id or "")
    for metric, value in report.totals.model_dump().items():
        row("totals", "", metric, value)
    for name, figure in (
        ("wait", report.wait),
        ("first_response", report.first_response),
        ("handle", report.handle),
    ):
        for metric, value in figure.model_dump().items():
            row(name, "", metric, value)
    for point in report.volumes:
        for metric in ("sessions", "contained", "escalated", "abandoned"):
            row("volumes", _iso(point.start), metric, getattr(point, metric))
    for reason in report.escalation_reasons:
        row("escalation_reasons", reason.reason, "count", reason.count)
    for bucket in report.abandonment:
        row("abandonment", bucket.label, "count", bucket.count)
    for step in report.funnel:
        row("funnel", step.step, "count", step.count)
        row("funnel", step.step, "drop", step.drop)
    row("csat", "", "count", report.csat.count)
    row("csat", "", "average", report.csat.average)
    for score, count in report.csat.distribution.items():
        row("csat", score, "count", count)
    for comment in report.csat.comments:
        row("csat_comments", comment.session_id, str(comment.score), comment.comment)
    for q in report.by_queue:
        for metric, value in q.model_dump(exclude={"queue"}).items():
            row("by_queue", q.queue, metric, value)
    for a in report.by_agent:
        for metric, value in a.model_dump(exclude={"agent_id"}).items():
            row("by_agent", a.agent_id, metric, value)
    return out.getvalue()
