"""Chart data embedded in pages (`<script type="application/json">{{ …|safe }}</script>`) cannot end the script
element: a supplier or product named `</script><script>alert(1)</script>` stays data."""

import json
import re
from pathlib import Path

from opensupply.web import script_json

PAYLOAD = "</script><script>alert('x')</script><!-- & -->"


def test_script_json_escapes_what_could_end_the_element_and_reads_back_the_same():
    data = {"series": [{"name": PAYLOAD, "data": [1, 2.5]}], "label": "宁波钢材 & 苏州塑料"}
    out = script_json(data)
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out) == data


def test_every_json_blob_a_template_marks_safe_is_made_by_script_json():
    """Templates mark the chart JSON `|safe`; the page code that fills those variables must use script_json."""
    root = Path(__file__).resolve().parents[2] / "src" / "opensupply"
    safe_vars = set()
    for tpl in root.rglob("templates/**/*.html"):
        safe_vars |= set(re.findall(r"\{\{\s*(\w+)\|safe\s*\}\}", tpl.read_text(encoding="utf-8")))
    assert safe_vars  # the check looks at something
    offenders = []
    for py in root.rglob("*web*.py"):
        for m in re.finditer(r"(\w+)=json\.dumps\(", py.read_text(encoding="utf-8")):
            if m.group(1) in safe_vars:
                offenders.append(f"{py.relative_to(root)}: {m.group(1)}")
    assert not offenders, offenders
