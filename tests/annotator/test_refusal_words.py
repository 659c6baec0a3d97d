"""Every error code the server answers with has its own lead-in in refusal.js (issue 16), so
a refusal shown on an Arabic page starts with what went wrong in Arabic rather than a generic
word: a new code added without one fails here. (That each lead-in has its Arabic is
test_language's every-marked-string check; that it is shown is tests/browser's
test_figures_and_refusals.)"""

from __future__ import annotations

import re
from pathlib import Path

from annotator.errors import OUT_OF_SPACE, STATUS_TABLE

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "annotator" / "static" / "refusal.js"
#: werkzeug's codes the app's handler passes on (its exception's name, snake-cased)
HTTP_CODES = {"not_found", "method_not_allowed", "request_entity_too_large", "too_many_requests"}
HTTP_CODES |= {"service_unavailable", "unauthorized", "forbidden", "gone"}


def server_codes() -> set[str]:
    codes = {code for _exc, _status, code in STATUS_TABLE} | {OUT_OF_SPACE[1]} | HTTP_CODES
    for package in ("annotator", "annotations", "imagery"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            codes |= set(re.findall(r"\bcode\s*=\s*\"([a-z_]+)\"", text))
    return codes


def test_every_error_code_has_its_lead_in() -> None:
    script = SCRIPT.read_text(encoding="utf-8")
    handled = set(re.findall(r'case "([a-z_]+)":', script))
    codes = server_codes()
    assert {"forbidden", "not_found", "invalid", "csrf_failed", "too_many_jobs"} <= codes
    assert 'code.indexOf("export_") === 0' in script  # export_<reason>: its budget ran out
    assert sorted(codes - handled) == []
