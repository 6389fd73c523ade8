"""Realistic platform export files and channel orders, for tests, the demo and `bench import`.

    write_sample("taobao", Path("淘宝订单.csv"), orders=20, seed=1, encoding="gb18030", fmt="csv")
    for order in sample_orders("pdd", orders=1_000_000, seed=7, skus=[...]): ...

Everything is deterministic for (channel, seed, index): the same call writes the same file, and the
CSV (any encoding) and XLSX versions of one sample hold the same orders on the same lines. Order
numbers look like the platform's (淘宝/天猫 19 digits, 京东 12 digits, 拼多多 "yymmdd-15 digits",
有赞 "E" + 20 digits, generic "G" + 8 digits) and depend only on the index, so `start_index` continues
a series without collisions. The order at index 1 of every series has three lines (three rows with
the same order number); about a quarter of the others have two or three. `mergeable` is the share of
orders that reuse the previous order's recipient (same buyer, phone and address).

With messy=True (default) a file also has what real exports have:
- phones with spaces, "+86-" / "86" prefixes, masked (138****8000) and landlines;
- one-line addresses without spaces, with short province names and 淘宝's "(postcode)" suffix;
- one line whose 商家编码 matches nothing ("XX-UNKNOWN-1") and one with an empty 商家编码;
- a blank line, trailing tabs and Excel-style ="…" quoting (CSV only; XLSX keeps the blank row);
- exactly two structurally broken rows, placed after the orders at index 2 and 4 (when the file has
  that many): one with an empty order number and one whose quantity reads "两件". They come out of
  `parse_file` as RowErrors naming the order-number and quantity columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from opensupply.oms.channel_order import ChannelOrder, ChannelOrderLine
from opensupply.oms.connectors import get_connector
from opensupply.oms.connectors.base import SHANGHAI

PRODUCTS = (
    ("LJ-250", "西湖龙井 明前特级 250g 罐装", "规格：250g", Decimal("168.00")),
    ("BLC-100", "碧螺春 新茶 100g 袋装", "规格：100g", Decimal("59.90")),
    ("TGY-500", "安溪铁观音 浓香型 500g 礼盒", "颜色分类：礼盒装", Decimal("238.00")),
    ("CUP-GL", "双层玻璃泡茶杯 带滤网 350ml", "颜色分类：透明", Decimal("39.00")),
    ("HZ-SET", "功夫茶具套装 陶瓷 一壶四杯", "颜色分类：青花", Decimal("129.00")),
    ("PE-357", "云南普洱 熟茶 七子饼 357g", "规格：357g", Decimal("88.00")),
    ("HC-50", "福鼎白茶 白毫银针 50g", "规格：50g", Decimal("199.00")),
    ("MJ-250", "茉莉花茶 飘雪 250g", "规格：250g", Decimal("45.50")),
    ("DHP-125", "武夷山大红袍 125g 罐装", "规格：125g", Decimal("158.00")),
    ("ZC-BAG", "冷泡茶包 组合 30 包", "口味：混合", Decimal("29.90")),
    ("TP-ELE", "电热烧水壶 1.2L 304 不锈钢", "颜色分类：白色", Decimal("99.00")),
    ("GIFT-BOX", "茶叶礼盒包装 空盒", "颜色分类：红色", Decimal("15.00")),
)

PLACES = (
    ("浙江省", "杭州市", "余杭区", "文一西路"), ("广东省", "深圳市", "南山区", "科技南路"),
    ("上海市", "上海市", "浦东新区", "张江路"), ("北京市", "北京市", "朝阳区", "建国路"),
    ("江苏省", "苏州市", "工业园区", "星湖街"), ("四川省", "成都市", "武侯区", "天府大道北段"),
    ("湖北省", "武汉市", "洪山区", "珞喻路"), ("广东省", "东莞市", "长安镇", "振安中路"),
    ("重庆市", "重庆市", "渝中区", "民族路"), ("广西壮族自治区", "南宁市", "青秀区", "民族大道"),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "解放北路"), ("山东省", "青岛市", "市南区", "香港中路"),
    ("福建省", "厦门市", "思明区", "湖滨南路"), ("河南省", "郑州市", "金水区", "花园路"),
    ("湖南省", "长沙市", "岳麓区", "麓山南路"), ("陕西省", "西安市", "雁塔区", "小寨西路"),
    ("天津市", "天津市", "和平区", "南京路"), ("辽宁省", "沈阳市", "和平区", "中山路"),
    ("安徽省", "合肥市", "蜀山区", "长江西路"), ("云南省", "昆明市", "五华区", "东风西路"),
    ("内蒙古自治区", "呼和浩特市", "新城区", "新华大街"), ("黑龙江省", "哈尔滨市", "南岗区", "西大直街"),
)
SHORT = {"浙江省": "浙江", "广东省": "广东", "上海市": "上海", "北京市": "北京", "江苏省": "江苏", "四川省": "四川",
         "湖北省": "湖北", "重庆市": "重庆", "广西壮族自治区": "广西", "新疆维吾尔自治区": "新疆", "山东省": "山东",
         "内蒙古自治区": "内蒙古"}
POSTCODES = ("311121", "518057", "201203", "100022", "215021", "610041", "430074", "523850")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
         "超", "秀兰", "霞", "平", "刚", "桂英", "子涵", "浩然", "欣怡", "梓萱", "一诺", "宇轩", "思远")
NICK_PARTS = ("tb", "小", "jd_", "momo", "茶友", "lucky", "阿", "sunny", "喵", "abc")
MESSAGES = ("", "", "", "", "请尽快发货，谢谢", "不要放快递柜", "送人的，不要放发票", "周末不在家，请工作日送达")
MEMOS = ("", "", "", "", "老客户，送试饮装", "已电话确认地址", "加急")

BASE_TIME = dt.datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
UNKNOWN_SKU = "XX-UNKNOWN-1"


def order_number(channel: str, index: int) -> str:
    if channel in ("taobao", "tmall"):
        return str(3_862_000_000_000_000_000 + index * 7_919 + (1 if channel == "tmall" else 0))
    if channel == "jd":
        return str(290_000_000_000 + index)
    if channel == "pdd":
        return f"261120-{500_000_000_000_000 + index:015d}"
    if channel == "miniapp":
        return f"E2026112009{index:012d}"
    return f"G{index:08d}"


class _Draws:
    """Cheap deterministic draws from a hash of a key (a Random per order costs ~10 µs to seed;
    recipients and merge rolls need only a few numbers)."""

    def __init__(self, key: str):
        self.value = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=32).digest(), "big")

    def below(self, n: int) -> int:
        self.value, r = divmod(self.value, n)
        return r

    def choice(self, items):
        return items[self.below(len(items))]

    def between(self, low: int, high: int) -> int:
        return low + self.below(high - low + 1)


def _recipient(d: _Draws) -> dict:
    place = d.choice(PLACES)
    detail = f"{place[3]}{d.between(1, 999)}号{d.between(1, 20)}幢{d.between(1, 6)}单元{d.between(101, 2808)}室"
    return {"receiver_name": d.choice(SURNAMES) + d.choice(GIVEN),
            "phone": f"1{d.choice('3456789')}{d.below(1_000_000_000):09d}",
            "place": place, "detail": detail,
            "buyer_nick": f"{d.choice(NICK_PARTS)}{d.between(100, 99_999)}"}


def sample_orders(channel: str, *, orders: int = 20, seed: int = 1, skus: list[str] | None = None,
                  start_index: int = 0, messy: bool = False, mergeable: float = 0.1) -> Iterator[ChannelOrder]:
    """ChannelOrders as the channel's connector would read them from a clean export (phones as
    digits, addresses as the platform gives them: one line, or parts for 拼多多/有赞)."""
    status_words = get_connector(channel).status_words("paid") or None  # unknown channel → ValidationFailed
    for index in range(start_index, start_index + orders):
        rnd = random.Random(f"{channel}:{seed}:{index}")
        who = _recipient_of(channel, seed, index, mergeable)
        n_lines = 3 if index == 1 else rnd.choices((1, 2, 3), weights=(75, 18, 7))[0]
        lines = []
        for k in range(n_lines):
            if skus:
                code = rnd.choice(skus)
                title, spec, price = f"商品 {code}", None, Decimal(rnd.randint(990, 29_900)) / 100
            else:
                code, title, spec, price = rnd.choice(PRODUCTS)
            quantity = Decimal(rnd.choices((1, 2, 3, 5), weights=(70, 20, 7, 3))[0])
            lines.append(ChannelOrderLine(
                quantity=quantity, channel_sku=code, title=title, spec=spec, unit_price=price,
                paid_amount=price * quantity, channel_line_id=f"{order_number(channel, index)}{k + 1:02d}"
                if channel in ("taobao", "tmall", "generic") else None))
        if messy and index == 2:
            lines[0].channel_sku = UNKNOWN_SKU
        if messy and index == 3 and channel != "pdd":
            lines[-1].channel_sku = None
        freight = Decimal(0) if rnd.random() < 0.7 else Decimal(rnd.choice((6, 8, 10, 12)))
        goods = sum((ln.paid_amount for ln in lines), Decimal(0))
        ordered = BASE_TIME + dt.timedelta(seconds=index * 37)
        province, city, district, _street = who["place"]
        order = ChannelOrder(
            channel=channel, channel_order_id=order_number(channel, index), lines=lines, status="paid",
            buyer_nick=who["buyer_nick"], receiver_name=who["receiver_name"], receiver_phone=who["phone"],
            goods_amount=goods, freight=freight, paid_amount=goods + freight, ordered_at=ordered,
            paid_at=ordered + dt.timedelta(seconds=rnd.randint(20, 600)), buyer_message=rnd.choice(MESSAGES) or None,
            seller_memo=rnd.choice(MEMOS) or None)
        if channel in ("pdd", "miniapp", "generic"):
            order.province, order.city, order.district, order.address_detail = province, city, district, who["detail"]
        else:
            order.address = f"{province} {city} {district} {who['detail']}"
        if channel == "pdd":
            order.promised_ship_by = ordered + dt.timedelta(hours=48)
        if messy and index == 5 and lines:
            lines[0].refund_status = "requested"
            order.refund_status = "requested"
        order.platform_status = status_words
        yield order


def _recipient_of(channel: str, seed: int, index: int, mergeable: float) -> dict:
    """Order `index`'s recipient: with probability `mergeable` the same as the previous order's.
    Depends only on (channel, seed, index), so a series started at any index agrees with the full one."""
    first = index
    while first > 0 and _Draws(f"merge:{channel}:{seed}:{first}").below(1_000_000) < mergeable * 1_000_000:
        first -= 1
    return _recipient(_Draws(f"who:{channel}:{seed}:{first}"))


# ---------------------------------------------------------------------------------------------
# files


def _time(value: dt.datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _messy_phone(phone: str, rnd: random.Random, channel: str) -> str:
    kind = rnd.random()
    if kind < 0.12:
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    if kind < 0.22:
        return f"+86-{phone}"
    if kind < 0.28:
        return f"86{phone}"
    if kind < 0.36 and channel in ("taobao", "tmall", "pdd", "jd"):
        return f"{phone[:3]}****{phone[7:]}"
    if kind < 0.40:  # a landline instead of a mobile
        return f"0{rnd.choice(('571', '21', '10', '755', '28'))}-{phone[3:11]}"
    return phone


def _one_line(order: ChannelOrder, rnd: random.Random, channel: str, messy: bool) -> str:
    parts = order.address.split(" ", 3)
    province, city, district, detail = parts if len(parts) == 4 else (None, None, None, order.address)
    if channel == "jd":  # 京东: no spaces, often the short province name
        return f"{SHORT.get(province, province)}{city}{district}{detail}"
    if not messy:
        return order.address
    roll = rnd.random()
    if roll < 0.25:
        return f"{province}{city}{district}{detail}"
    if roll < 0.4:
        return f"{SHORT.get(province, province)} {city} {district} {detail}"
    if roll < 0.6 and channel in ("taobao", "tmall"):
        return f"{order.address}({rnd.choice(POSTCODES)})"
    return order.address


def _rows(channel: str, order: ChannelOrder, rnd: random.Random, messy: bool, fmt: str) -> list[list]:
    connector = get_connector(channel)
    phone = _messy_phone(order.receiver_phone or "", rnd, channel) if messy else order.receiver_phone
    address = _one_line(order, rnd, channel, messy) if order.address else None
    detail = order.address_detail
    if messy and detail and channel == "miniapp" and rnd.random() < 0.3:  # 有赞 often repeats the whole address
        detail = f"{order.province}{order.city}{order.district}{detail}"
    excel_quote = fmt == "csv" and channel in ("taobao", "tmall")
    rows = []
    for line in order.lines:
        values = {
            "order_id": f'="{order.channel_order_id}"' if excel_quote else order.channel_order_id,
            "line_id": line.channel_line_id or "", "buyer_nick": order.buyer_nick or "",
            "status": order.platform_status or "", "ordered_at": _time(order.ordered_at),
            "paid_at": _time(order.paid_at), "title": line.title, "spec": line.spec or "",
            "sku": line.channel_sku or "", "unit_price": line.unit_price, "quantity": line.quantity,
            "line_paid": line.paid_amount, "line_refund": connector.refund_words(line.refund_status),
            "freight": order.freight, "goods_amount": order.goods_amount, "paid_amount": order.paid_amount,
            "receiver_name": order.receiver_name or "", "address": address or "", "receiver_phone": phone or "",
            "province": order.province or "", "city": order.city or "", "district": order.district or "",
            "address_detail": detail or "", "buyer_message": order.buyer_message or "",
            "seller_memo": order.seller_memo or "", "shop_name": "", "presale": "",
            "promised_ship_by": _time(order.promised_ship_by), "discount": order.discount,
        }
        extras = connector.sample_extras(order, line, rnd)
        if channel in ("jd", "pdd") and messy and fmt == "csv" and len(rows) % 2 == 0:
            values["sku"] = f"{values['sku']}\t"  # 拼多多/京东 exports leave tabs behind codes
        row = []
        for header, field_name in _layout(channel):
            value = extras[header] if header in extras else values.get(field_name, "") if field_name else ""
            if value.__class__ is Decimal:
                value = (float(value) if value != value.to_integral_value() else int(value)) if fmt == "xlsx" \
                    else (str(value) if header in _QUANTITY_HEADERS else f"{value:.2f}")
            row.append(value)
        rows.append(row)
    return rows


_QUANTITY_HEADERS = {"购买数量", "订购数量", "商品数量(件)", "商品数量", "数量"}
_LAYOUTS: dict[str, list[tuple[str, str | None]]] = {}


def _layout(channel: str) -> list[tuple[str, str | None]]:
    """(export header, ChannelOrder field written there or None) in the export's column order."""
    if channel not in _LAYOUTS:
        connector = get_connector(channel)
        field_of = {names[0]: f for f, names in connector.COLUMNS.items()}
        _LAYOUTS[channel] = [(h, field_of.get(h)) for h in connector.HEADERS]
    return _LAYOUTS[channel]


def _broken_row(channel: str, kind: str, template: list) -> list:
    connector = get_connector(channel)
    row = list(template)
    if kind == "no_order_id":
        row[connector.HEADERS.index(connector.COLUMNS["order_id"][0])] = ""
    else:
        row[connector.HEADERS.index(connector.COLUMNS["quantity"][0])] = "两件"
    return row


def write_sample(channel: str, path: Path, *, orders: int = 20, seed: int = 1, encoding: str = "gb18030",
                 fmt: str = "csv", messy: bool = True, skus: list[str] | None = None, start_index: int = 0) -> Path:
    """Write a platform export file with `orders` orders (see the module docstring); returns path."""
    connector = get_connector(channel)
    path = Path(path)
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"fmt must be csv or xlsx, not {fmt!r}")
    rows_out = _iter_file_rows(channel, orders=orders, seed=seed, messy=messy, skus=skus,
                               start_index=start_index, fmt=fmt)
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("订单数据")
        sheet.append(connector.headers())
        for row in rows_out:
            sheet.append(row)
        book.save(path)
        return path
    with open(path, "w", encoding=encoding, newline="", errors="strict") as out:
        writer = csv.writer(out)
        writer.writerow(connector.headers())
        for row in rows_out:
            writer.writerow(row)
    return path


def _iter_file_rows(channel: str, *, orders: int, seed: int, messy: bool, skus: list[str] | None,
                    start_index: int, fmt: str) -> Iterator[list]:
    series = sample_orders(channel, orders=orders, seed=seed, skus=skus, start_index=start_index, messy=messy)
    for position, order in enumerate(series, start=start_index):
        rnd = random.Random(f"file:{channel}:{seed}:{order.channel_order_id}")
        rows = _rows(channel, order, rnd, messy, fmt)
        yield from rows
        if messy and position == 2:
            yield _broken_row(channel, "no_order_id", rows[0])
        if messy and position == 3:
            yield []  # a blank line
        if messy and position == 4:
            yield _broken_row(channel, "bad_quantity", rows[0])
