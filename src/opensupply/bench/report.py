"""`bench report`: results files → a Markdown table and an SVG bar chart of the gaps (hand-written SVG, no
plotting dependency)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from opensupply.bench.common import read_results


def _fmt(v, decimals: int | None = None) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and decimals is not None:
        return f"{v:.{decimals}f}"
    return str(v)


def load_runs(paths: list[Path]) -> list[tuple[str, list[dict], dict]]:
    """[(source name, instance rows, summary)] per file."""
    runs = []
    for path in paths:
        objects = read_results(path)
        rows = [o for o in objects if "summary" not in o]
        summary = next((o["summary"] for o in objects if "summary" in o), {})
        runs.append((path.stem, rows, summary))
    return runs


def markdown(runs: list[tuple[str, list[dict], dict]]) -> str:
    out: list[str] = []
    for source, rows, summary in runs:
        bench = summary.get("benchmark") or (rows[0].get("benchmark") if rows else source)
        out.append(f"### {bench} — {source}\n")
        extra = [k for k in ("routes", "optimal") if any(k in r for r in rows)]
        out.append("| instance | BKS | cost | gap % | feasible | " + "".join(f"{k} | " for k in extra) + "seconds |")
        out.append("|---|---:|---:|---:|---|" + "---|" * len(extra) + "---:|")
        for r in rows:
            cells = [r.get("instance", "?"), _fmt(r.get("bks")), _fmt(r.get("cost")), _fmt(r.get("gap_pct"), 2)]
            cells += [
                "yes" if r.get("feasible") else "**NO**",
                *(_fmt(r.get(k)) for k in extra),
                _fmt(r.get("seconds"), 1),
            ]
            out.append("| " + " | ".join(cells) + " |")
        if summary:
            out.append("")
            out.append(
                f"Summary: {summary.get('instances')} instances, average gap {_fmt(summary.get('avg_gap_pct'), 2)} %, "
                f"max gap {_fmt(summary.get('max_gap_pct'), 2)} %, time limit {summary.get('time_limit_s')} s"
                + (f", {summary['feasible']} feasible" if "feasible" in summary else "")
                + (f", {summary['optimal']} proven optimal" if "optimal" in summary else "")
                + "."
            )
        out.append("")
    return "\n".join(out)


def svg_gaps(runs: list[tuple[str, list[dict], dict]], width: int = 720) -> str:
    """Horizontal bars of gap_pct per instance, one group per results file."""
    bars: list[tuple[str, float | None, bool]] = []
    for source, rows, summary in runs:
        bench = summary.get("benchmark") or source
        bars.append((f"{bench}", None, True))
        for r in rows:
            bars.append((str(r.get("instance", "?")), r.get("gap_pct"), False))
    gaps = [g for _, g, _ in bars if g is not None]
    top = max([1.0, *[abs(g) for g in gaps]])
    bar_h, label_w, pad = 18, 150, 10
    plot_w = width - label_w - 70
    height = pad * 2 + bar_h * len(bars) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{label_w}" y="{pad + 4}" fill="#333">gap to best-known solution (%), full bar = {top:.2f} %</text>',
    ]
    y = pad + 14
    for label, gap, heading in bars:
        if heading:
            parts.append(f'<text x="4" y="{y + 12}" font-weight="bold">{escape(label)}</text>')
        else:
            parts.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">{escape(label)}</text>')
            if gap is None:
                parts.append(f'<text x="{label_w + 4}" y="{y + 12}" fill="#999">no BKS</text>')
            else:
                w = max(1.0, plot_w * abs(gap) / top)
                color = "#2e7d32" if gap <= 1.0 else "#e65100"
                parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" fill="{color}"/>')
                parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 12}">{gap:.2f}</text>')
        y += bar_h
    parts.append(f'<line x1="{label_w}" y1="{pad + 14}" x2="{label_w}" y2="{y}" stroke="#333"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
