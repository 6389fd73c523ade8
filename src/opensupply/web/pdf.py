"""Printable documents: a Jinja2 template rendered to PDF by WeasyPrint.

Templates extend "print/base.html" (A4, company header, CJK fonts from the system's
Noto CJK). Text stays text in the PDF, so tests read it back with pypdf."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

from opensupply.web import env


def render_pdf(template: str, **context) -> bytes:
    from weasyprint import HTML  # imported on first use: it loads Pango

    html = env.get_template(template).render(**context)
    return HTML(string=html).write_pdf()


def pdf_response(data: bytes, filename: str, *, inline: bool = True) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}"})
