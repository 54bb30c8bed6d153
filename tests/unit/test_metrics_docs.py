"""docs/deployment.md's metrics table lists exactly the metrics the server exports."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from signaling_server.metrics import LiveCollector, Metrics
from signaling_server.routing import Router

DOCS = Path(__file__).parents[2] / "docs" / "deployment.md"


def test_the_docs_table_names_every_metric_and_no_other() -> None:
    metrics = Metrics()
    metrics.registry.register(LiveCollector(Router(), lambda: [], lambda: {}))
    exported = set()
    for family in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
        if family.name.startswith("dcs_"):
            exported.add(family.name + "_total" if family.type == "counter" else family.name)
    section = DOCS.read_text().split("## Metrics", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(dcs_[a-z_]+)` \|", section, re.M))
    assert documented == exported
