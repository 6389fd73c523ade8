"""Reading and writing the spreadsheets users bring and take away: CSV in any of the
encodings Chinese software writes (UTF-8 with or without BOM, GBK, GB18030) and XLSX;
exports neutralise cells that a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from charset_normalizer import from_bytes

from .errors import ValidationFailed
from .i18n import _

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]  # data rows; file line number of rows[i] is i + 2

    def records(self) -> Iterator[tuple[int, dict[str, str]]]:
        for i, row in enumerate(self.rows):
            if not any(cell.strip() for cell in row):
                continue
            padded = row + [""] * (len(self.header) - len(row))
            yield i + 2, {h: unescape_cell(padded[j].strip()) for j, h in enumerate(self.header) if h}


def unescape_cell(value: str) -> str:
    """Undo `safe_cell`: an exported `'=…` / `'+86…` comes back as the original text, so an
    export re-imported (phone numbers, formulas typed as names) changes nothing."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        return value[1:]
    return value


def decode_text(data: bytes) -> str:
    """Decode bytes of a CSV file; tries the likely encodings strictly before guessing."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is None:
        raise ValidationFailed(_("无法识别文件编码"), field="file")
    return str(best)


def read_table(filename: str, data: bytes) -> Table:
    name = (filename or "").lower()
    if name.endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return _read_xlsx(data)
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise ValidationFailed(_("文件为空"), field="file")
    header = [h.strip().lstrip("\ufeff") for h in rows[0]]
    return Table(header, rows[1:])


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationFailed(_("无法读取 Excel 文件：{err}", err=str(exc)[:200]), field="file") from exc
    ws = wb.worksheets[0]
    rows = [["" if v is None else _cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    wb.close()
    if not rows:
        raise ValidationFailed(_("文件为空"), field="file")
    return Table([h.strip() for h in rows[0]], rows[1:])


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def safe_cell(value) -> object:
    """Prefix text a spreadsheet would evaluate (=, +, -, @) so it stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(header: list[str], rows: Iterable[list]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for row in rows:
        w.writerow(["" if v is None else safe_cell(v) if isinstance(v, str) else str(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens Chinese text correctly


def write_xlsx(header: list[str], rows: Iterable[list], title: str = "Sheet1") -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append(header)
    for row in rows:
        ws.append([safe_cell(v) if isinstance(v, str) else (str(v) if v is not None and not isinstance(
            v, int | float) else v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def table_response(header: list, rows: Iterable[list], fmt: str, name: str):
    """An export download: `.xlsx` when fmt is "xlsx", else `.csv` (UTF-8 with BOM); cells formula-safe."""
    from starlette.responses import Response

    header = [str(h) for h in header]
    if fmt == "xlsx":
        return Response(write_xlsx(header, rows, name),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
