"""Barcodes for printed paper and pages, as SVG data URIs: Code128 (python-barcode) and QR (segno).
No human-readable line is drawn: the page prints the text itself, so what a person reads is what a
scanner reads (and tests can extract it from the PDF)."""

from __future__ import annotations

import base64
import io


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def code128(text: str, *, height_mm: float = 12.0, module_mm: float = 0.3) -> str:
    """A Code128 barcode of `text` as an SVG data URI."""
    import barcode
    from barcode.writer import SVGWriter

    buf = io.BytesIO()
    barcode.get("code128", text, writer=SVGWriter()).write(
        buf, options={"module_height": height_mm, "module_width": module_mm, "write_text": False, "quiet_zone": 2})
    return _data_uri(buf.getvalue().decode("utf-8"))


def qr(text: str, *, scale: int = 3) -> str:
    """A QR code of `text` as an SVG data URI."""
    import segno

    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="svg", scale=scale, border=1, xmldecl=True)
    return _data_uri(buf.getvalue().decode("utf-8"))
