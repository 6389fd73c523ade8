"""Platform settlement files (对账单) read into plain bill lines. Pure code: bytes in, lines out.

Formats (`fmt`):

* ``alipay`` — 支付宝 商家账务明细 CSV (as 淘宝/天猫 sellers download it; GBK): ``#`` comment lines
  before the table (``#支付宝账务明细查询``, ``#账号：[…]``, ``#起始日期：[2026年05月01日 00:00:00]
  终止日期：[2026年06月01日 00:00:00]``, ``#----账务明细列表----``) and after it (``#----账务明细列表结束----``,
  ``#支出合计：…``, ``#收入合计：…``, ``#导出时间：…``); columns 账务流水号, 业务流水号, 商户订单号, 商品名称,
  发生时间, 对方账号, 收入金额（+元）, 支出金额（-元）, 账户余额（元）, 交易渠道, 业务类型, 备注 (newer exports add
  业务描述, 业务基础订单号); cells often end with a tab. The Taobao order number is 商户订单号 ``T200P<tid>``, or
  业务基础订单号, or is named in 备注 (fees: ``…淘宝订单号：<tid>…``). The footer's 收入合计/支出合计 (count and
  sum) must match the rows: a file cut short or edited by hand is refused.
* ``jd`` — 京东 结算单/对账单 明细: 订单编号, 费用项 (or 费用名称: 货款, 佣金, 平台使用费, 配送费 …), 金额,
  结算时间 (or 费用结算时间), 结算状态, optional 收支方向, 备注. Rows not yet settled (结算状态 未结算) are skipped.
* ``pdd`` — 拼多多 货款账单: 商户订单号 (or 订单编号), 发生时间, 收入金额（元）, 支出金额（元）, 账务类型
  (交易收入, 优惠券结算, 退款, 技术服务费, 多多进宝佣金 …), 备注.
* ``generic`` — order_id, type (income|fee|refund|other, or 收入/费用/退款/其他), amount, date, description
  (Chinese headers 订单号/类型/金额/日期/说明 are accepted too).

Every line is classified ``income`` (the platform pays us for an order), ``fee`` (the platform
keeps a fee), ``refund`` (money back to a buyer) or ``other`` (保证金, 提现, 转账 …). Amounts are
signed from the shop's side: + money to us, − money out (a fee or refund given as a positive
number in a file that has no direction column is taken as money out).

CSV in UTF-8 (with or without BOM) or GBK/GB18030, XLSX, or the .zip 支付宝 downloads come in.
Line numbers are the physical lines of the file (in a file without a preamble the header is
line 1). A row that cannot be read (no amount, unreadable amount or date, an income or refund
without an order number) is an error naming its line; the caller decides what to do with them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.tabular import decode_text

FORMATS = ("alipay", "jd", "pdd", "generic")
KINDS = ("income", "fee", "refund", "other")
ZERO = Decimal(0)


@dataclass
class BillLine:
    line: int
    channel_order_id: str | None
    kind: str
    item: str  # the platform's name of the entry: 交易付款, 技术服务费, 货款, 佣金 …
    amount: Decimal  # + to us, − out
    occurred_at: dt.datetime | None  # naive, the platform's local time
    note: str = ""
    money_in: Decimal = ZERO  # the file's own income / expense columns (支付宝), for its footer totals
    money_out: Decimal = ZERO


@dataclass
class BillError:
    line: int
    reason: str

    def as_dict(self) -> dict:
        return {"line": self.line, "reason": self.reason}


@dataclass
class ParsedBill:
    fmt: str
    lines: list[BillLine] = field(default_factory=list)
    errors: list[BillError] = field(default_factory=list)
    skipped: int = 0  # rows deliberately left out (JD rows not yet settled)
    period_from: dt.date | None = None
    period_to: dt.date | None = None  # inclusive


# ------------------------------------------------------------------ cells
_STRIP = " \t\r\n\ufeff`'\""


def cell(value) -> str:
    """A cell as text without the tab/backquote/="…" guards exports put around numbers."""
    text = "" if value is None else str(value)
    text = text.strip(_STRIP)
    if text.startswith("="):
        text = text[1:].strip(_STRIP)
    return text


def amount(text: str) -> Decimal:
    """'1,234.50' / '¥12.00' / '-3.5' / '' → Decimal; raises ValueError when unreadable."""
    t = text.replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").replace("元", "").strip()
    if t in ("", "-", "--"):
        return ZERO
    if t.startswith("(") and t.endswith(")"):
        t = "-" + t[1:-1]
    try:
        value = Decimal(t)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d",
                 "%Y/%m/%d", "%Y%m%d%H%M%S", "%Y%m%d", "%Y-%m-%dT%H:%M:%S")
_CN_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:(\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def when(text: str) -> dt.datetime | None:
    """A platform timestamp (local time, naive) or None for an empty cell; ValueError when unreadable."""
    t = text.strip()
    if not t:
        return None
    m = _CN_DATE.fullmatch(t)
    if m:
        y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
        return dt.datetime(y, mo, d, h, mi, s)
    t = re.sub(r"\.\d+$", "", t)
    for f in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(t, f)
        except ValueError:
            continue
    raise ValueError(text)


# ------------------------------------------------------------------ tables
def _rows(data: bytes, filename: str | None) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every row of a CSV or the first sheet of an XLSX."""
    name = (filename or "").lower()
    if name.endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise ValidationFailed(_("无法读取 Excel 文件：{err}", err=str(exc)[:200]), field="file") from exc
        ws = wb.worksheets[0]
        out = []
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            out.append((i, [_xl(v) for v in row]))
        wb.close()
        return out
    text = decode_text(data)
    out = []
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        out.append((reader.line_num, row))  # the line the row ends on (= its line unless a cell spans lines)
    return out


def _xl(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v)


def _norm(h: str) -> str:
    return cell(h).replace("(", "（").replace(")", "）").replace(" ", "")


# columns by format: our key → accepted headers (normalized: full-width brackets, no spaces)
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "alipay": {
        "serial": ("账务流水号",), "biz_no": ("业务流水号",), "merchant_no": ("商户订单号",),
        "goods": ("商品名称",), "at": ("发生时间", "入账时间"), "income": ("收入金额（+元）", "收入（+元）"),
        "expense": ("支出金额（-元）", "支出（-元）"), "balance": ("账户余额（元）",),
        "biz_type": ("业务类型", "账务类型"),
        "remark": ("备注",), "base_no": ("业务基础订单号",), "biz_desc": ("业务描述",),
    },
    "jd": {
        "order": ("订单编号", "订单号"), "item": ("费用项", "费用名称", "费用项名称"),
        "amount": ("金额", "结算金额", "应结金额"),
        "at": ("结算时间", "费用结算时间", "账单日期", "费用发生时间"), "status": ("结算状态",),
        "direction": ("收支方向",), "remark": ("备注",),
    },
    "pdd": {
        "order": ("商户订单号", "订单编号", "订单号"), "at": ("发生时间", "入账时间"),
        "income": ("收入金额（元）", "收入金额"),
        "expense": ("支出金额（元）", "支出金额"), "item": ("账务类型",), "remark": ("备注", "备注信息"),
    },
    "generic": {
        "order": ("order_id", "订单号", "订单编号"), "type": ("type", "类型"), "amount": ("amount", "金额"),
        "at": ("date", "日期", "时间"), "remark": ("description", "说明", "备注"),
    },
}
REQUIRED = {"alipay": ("at", "income", "expense", "biz_type"), "jd": ("order", "item", "amount"),
            "pdd": ("order", "income", "expense", "item"), "generic": ("type", "amount")}


def _header_map(fmt: str, header: list[str]) -> dict[str, int] | None:
    normalized = [_norm(h) for h in header]
    found: dict[str, int] = {}
    for key, names in COLUMNS[fmt].items():
        for name in names:
            n = _norm(name)
            if n in normalized:
                found[key] = normalized.index(n)
                break
            lowered = [h.lower() for h in normalized]
            if n.lower() in lowered:
                found[key] = lowered.index(n.lower())
                break
    return found if all(k in found for k in REQUIRED[fmt]) else None


def _find_header(rows: list[tuple[int, list[str]]], fmt: str | None) -> tuple[str, int, dict[str, int]]:
    """(format, index of the header row, column map): the first non-comment row that names
    the required columns of a format (the given one, or the first that fits)."""
    formats = (fmt,) if fmt else ("alipay", "pdd", "jd", "generic")
    for idx, (_line, row) in enumerate(rows[:60]):
        if not row or cell(row[0]).startswith("#") or not any(cell(c) for c in row):
            continue
        for f in formats:
            cols = _header_map(f, row)
            if cols is not None:
                return f, idx, cols
    if fmt:
        raise ValidationFailed(_("文件不是{fmt}对账单：找不到表头（需要列 {cols}）", fmt=FORMAT_LABELS[fmt],
                                 cols="、".join(COLUMNS[fmt][k][0] for k in REQUIRED[fmt])), field="file")
    raise ValidationFailed(_("无法识别对账单格式：支持支付宝账务明细、京东结算单、拼多多货款账单和通用 CSV"),
                           field="file")


FORMAT_LABELS = {"alipay": "支付宝账务明细", "jd": "京东结算单", "pdd": "拼多多货款账单", "generic": "通用"}
_PERIOD = re.compile(r"起始日期[:：]\s*\[([^\]]+)\]\s*终止日期[:：]\s*\[([^\]]+)\]")


MAX_MEMBER = 200 * 1024 * 1024


def unpack(data: bytes, filename: str | None) -> tuple[bytes, str | None]:
    """支付宝 hands its bills out as a .zip holding 账务明细 and 账务汇总 CSVs: take the 明细 one.
    An XLSX (also a zip) or any other file is returned as it is."""
    if data[:2] != b"PK":
        return data, filename
    try:
        bundle = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return data, filename
    with bundle:
        names = bundle.namelist()
        if "[Content_Types].xml" in names:
            return data, filename  # an Excel workbook
        members = [i for i in bundle.infolist() if not i.is_dir() and i.filename.lower().endswith((".csv", ".txt"))]
        if not members or len(members) > 50 or any(i.file_size > MAX_MEMBER for i in members):
            raise ValidationFailed(_("压缩包里没有可读的对账单 CSV"), field="file")
        texts = [(i.filename, bundle.read(i)) for i in members]
    details = [(n, r) for n, r in texts if "汇总" not in n] or texts  # 账务汇总 is the summary, not the rows
    for name, raw in details:
        if any("账务明细" in raw[:4096].decode(enc, errors="ignore") for enc in ("utf-8", "gb18030")):
            return raw, name
    name, raw = details[0]
    return raw, name


def parse_bill(data: bytes, filename: str | None = None, *, fmt: str | None = None) -> ParsedBill:
    """Read a settlement file into bill lines and row errors (see the module docstring)."""
    if fmt is not None and fmt not in FORMATS:
        raise ValidationFailed(_("对账单格式只能是：{v}", v=" / ".join(FORMATS)), field="fmt")
    if not data:
        raise ValidationFailed(_("文件为空"), field="file")
    data, filename = unpack(data, filename)
    rows = _rows(data, filename)
    fmt, idx, cols = _find_header(rows, fmt)
    bill = ParsedBill(fmt=fmt)
    for _line, row in rows:
        text = ",".join(row)
        m = _PERIOD.search(text)
        if m:
            try:
                start, end = when(m.group(1)), when(m.group(2))
                bill.period_from = start.date() if start else None
                if end:  # 支付宝: the end is the exclusive midnight after the last day
                    bill.period_to = (end - dt.timedelta(seconds=1)).date() if end.time() == dt.time() else end.date()
            except ValueError:
                pass
            break
    reader = {"alipay": _alipay, "jd": _jd, "pdd": _pdd, "generic": _generic}[fmt]
    for line, row in rows[idx + 1:]:
        if not row or not any(cell(c) for c in row) or cell(row[0]).startswith("#"):
            continue
        get = _getter(row, cols)
        try:
            out = reader(get)
        except _RowError as exc:
            bill.errors.append(BillError(line, str(exc)))
            continue
        if out is None:
            bill.skipped += 1
            continue
        order_id, kind, item, amt, at, note = out
        if kind in ("income", "refund") and not order_id:
            bill.errors.append(BillError(line, _("{item}缺少订单号", item=item or kind)))
            continue
        bill.lines.append(BillLine(line, order_id, kind, item[:200], amt, at, note[:1000],
                                   money_in=max(amt, ZERO), money_out=max(-amt, ZERO)))
    if fmt == "alipay" and not bill.errors:
        _check_footer(rows, bill)
    dates = [ln.occurred_at.date() for ln in bill.lines if ln.occurred_at]
    if dates and bill.period_from is None:
        bill.period_from, bill.period_to = min(dates), max(dates)
    return bill


_FOOTER = re.compile(r"#\s*(收入|支出)合计[:：]\s*(\d+)\s*笔\s*[,，]\s*共\s*([-\d,.]+)\s*元")


def _check_footer(rows: list[tuple[int, list[str]]], bill: ParsedBill) -> None:
    """支付宝 closes the table with #收入合计 / #支出合计 (count and sum): a file cut short or edited
    by hand no longer adds up, and is refused rather than reconciled with holes."""
    got = {"收入": (sum(1 for ln in bill.lines if ln.money_in > 0), sum((ln.money_in for ln in bill.lines), ZERO)),
           "支出": (sum(1 for ln in bill.lines if ln.money_out > 0), sum((ln.money_out for ln in bill.lines), ZERO))}
    for line, row in rows:
        m = _FOOTER.search(",".join(row))
        if not m:
            continue
        side, n, total = m.group(1), int(m.group(2)), amount(m.group(3))
        count, value = got[side]
        if abs(value) != abs(total) or (count != n and n):
            msg = _("文件{side}合计 {n} 笔 {t} 元，明细为 {c} 笔 {v} 元：文件不完整或被修改", side=side, n=n,
                    t=abs(total), c=count, v=value)
            bill.errors.append(BillError(line, msg))


class _RowError(Exception):
    pass


def _getter(row: list[str], cols: dict[str, int]):
    def get(key: str) -> str:
        i = cols.get(key)
        return cell(row[i]) if i is not None and i < len(row) else ""
    return get


def _amount(get, key: str, label: str) -> Decimal:
    try:
        return amount(get(key))
    except ValueError:
        raise _RowError(_("{col}无法识别：{v}", col=label, v=get(key))) from None


def _when(get, key: str = "at") -> dt.datetime | None:
    try:
        return when(get(key))
    except ValueError:
        raise _RowError(_("时间无法识别：{v}", v=get(key))) from None


_ORDER_IN_TEXT = re.compile(r"(?:T200P|订单号[:：]?\s*|订单编号[:：]?\s*|交易号[:：]?\s*)(\d{8,})")
_LONG_NUMBER = re.compile(r"(?<!\d)(\d{15,20})(?!\d)")

INCOME_WORDS = ("交易付款", "在线支付", "交易收款", "交易收入", "货款", "订单收款", "优惠券结算", "确认收货", "交易")
REFUND_WORDS = ("退款", "售后", "赔付", "退货")
OTHER_WORDS = ("保证金", "提现", "转账", "充值", "备用金", "冻结", "解冻")
FEE_WORDS = ("费", "佣金", "扣款", "罚", "代扣", "分账")  # 交易分账: the 淘宝客 commission split off a payment


def classify(item: str) -> str:
    """income / fee / refund / other from the platform's name of an entry."""
    t = item or ""
    if "保证金" in t:
        return "other"  # a deposit, not a cost
    if any(w in t for w in FEE_WORDS):
        return "fee"  # 技术服务费退款 is a fee coming back, still a fee; 提现手续费 is a fee too
    if any(w in t for w in OTHER_WORDS):
        return "other"
    if any(w in t for w in REFUND_WORDS):
        return "refund"
    if any(w in t for w in INCOME_WORDS):
        return "income"
    return "other"


def _order_from_text(*texts: str) -> str | None:
    for t in texts:
        m = _ORDER_IN_TEXT.search(t or "")
        if m:
            return m.group(1)
    for t in texts:
        m = _LONG_NUMBER.search(t or "")
        if m:
            return m.group(1)
    return None


def _alipay(get):
    income = _amount(get, "income", "收入金额")
    expense = _amount(get, "expense", "支出金额")
    if not get("income") and not get("expense"):
        raise _RowError(_("缺少金额"))
    amt = abs(income) - abs(expense)
    item = get("biz_type") or get("biz_desc")
    desc = get("biz_desc")
    kind = classify(item)
    if kind == "other" and desc:
        kind = classify(desc.split("|")[-1])
    if kind == "income" and amt < 0:
        kind = "refund"  # 交易付款 paid out again: a refund to the buyer
    merchant = get("merchant_no")
    if merchant.upper().startswith("T200P"):
        order_id = merchant[5:]
    elif get("base_no"):
        order_id = get("base_no")
    elif merchant.isdigit() and kind in ("income", "refund"):
        order_id = merchant
    else:
        order_id = _order_from_text(get("remark"), merchant, desc)
    note = " ".join(x for x in (get("remark"), get("goods"), get("serial")) if x)
    return order_id, kind, item, amt, _when(get), note


def _jd(get):
    status = get("status")
    if status and "未" in status:
        return None  # not settled yet: not money
    item = get("item")
    amt = _amount(get, "amount", "金额")
    if not get("amount"):
        raise _RowError(_("缺少金额"))
    kind = classify(item)
    direction = get("direction")
    if direction:
        amt = -abs(amt) if "支" in direction else abs(amt)
    elif kind in ("fee", "refund") and amt > 0:
        amt = -amt
    return get("order") or None, kind, item, amt, _when(get), get("remark")


def _pdd(get):
    income = _amount(get, "income", "收入金额")
    expense = _amount(get, "expense", "支出金额")
    if not get("income") and not get("expense"):
        raise _RowError(_("缺少金额"))
    item = get("item")
    amt = abs(income) - abs(expense)
    kind = classify(item)
    order_id = get("order") or _order_from_text(get("remark"))
    return order_id or None, kind, item, amt, _when(get), get("remark")


GENERIC_TYPES = {"income": "income", "收入": "income", "货款": "income", "fee": "fee", "费用": "fee",
                 "手续费": "fee", "refund": "refund", "退款": "refund", "other": "other", "其他": "other"}


def _generic(get):
    raw = get("type")
    kind = GENERIC_TYPES.get(raw.lower()) or GENERIC_TYPES.get(raw)
    if kind is None:
        raise _RowError(_("类型只能是 income / fee / refund / other：{v}", v=raw))
    if not get("amount"):
        raise _RowError(_("缺少金额"))
    amt = _amount(get, "amount", "金额")
    if kind in ("fee", "refund") and amt > 0:
        amt = -amt
    desc = get("remark")
    return get("order") or None, kind, desc or raw, amt, _when(get), desc
