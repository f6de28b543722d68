"""Incident details as text for pages (pure)."""

from __future__ import annotations

from paging.details_text import CUT_NOTE, render_details


def test_nested_details_read_as_indented_lines_in_the_senders_order() -> None:
    details = {
        "source": "db-1.example",
        "custom_details": {"free_space": "2%", "ok": False, "limit": None, "n": 3},
        "links": [{"href": "https://r.example/a", "text": "Runbook"}, {"href": "https://x"}],
        "tags": ["disk", "prod"],
    }
    assert render_details(details) == (
        "source: db-1.example\n"
        "custom_details:\n"
        "  free_space: 2%\n"
        "  ok: false\n"
        "  limit: null\n"
        "  n: 3\n"
        "links:\n"
        "  - Runbook <https://r.example/a>\n"
        "  - <https://x>\n"
        "tags:\n"
        "  - disk\n"
        "  - prod"
    )


def test_alertmanager_alerts_read_as_a_list_of_label_sets() -> None:
    details = {
        "status": "firing",
        "alerts": [
            {"status": "firing", "labels": {"alertname": "DiskFull", "instance": "db-1"}},
            {"status": "firing", "labels": {"alertname": "DiskFull", "instance": "db-2"}},
        ],
        "truncatedAlerts": 0,
    }
    assert render_details(details).splitlines() == [
        "status: firing",
        "alerts:",
        "  - status: firing",
        "    labels:",
        "      alertname: DiskFull",
        "      instance: db-1",
        "  - status: firing",
        "    labels:",
        "      alertname: DiskFull",
        "      instance: db-2",
        "truncatedAlerts: 0",
    ]


def test_multi_line_values_continue_indented_and_empty_parts_are_left_out() -> None:
    details = {"description": "line one\nline two", "empty": {}, "none": [], "also": [{}]}
    assert render_details(details) == "description: line one\n  line two"
    assert render_details(None) == render_details({}) == ""


def test_long_details_are_cut_with_a_note() -> None:
    details = {"alerts": [{"instance": f"host-{n}", "value": "x" * 50} for n in range(500)]}
    text = render_details(details, limit=1000)
    assert len(text) <= 1000 + len(CUT_NOTE) + 1
    assert text.endswith(CUT_NOTE) and text.startswith("alerts:\n  - instance: host-0")
    assert len(render_details({"a": "b"}, limit=1000)) == len("a: b")
