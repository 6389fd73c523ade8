"""Platform export files as sellers download them: every channel, every encoding, CSV and XLSX,
messy rows, and streaming."""

import csv
import io
import itertools
from decimal import Decimal

import pytest

from opensupply.oms.connectors import CHANNELS, get_connector
from opensupply.oms.connectors.base import detect_encoding
from opensupply.oms.samples import UNKNOWN_SKU, sample_orders, write_sample

FORMATS = [("gb18030", "csv"), ("utf-8-sig", "csv"), ("utf-8", "csv"), ("utf-8", "xlsx")]


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_format_of_a_sample_reads_as_the_same_orders(channel, tmp_path):
    results = []
    for encoding, fmt in FORMATS:
        path = write_sample(channel, tmp_path / f"{channel}-{encoding}.{fmt}", orders=12, seed=3,
                            encoding=encoding, fmt=fmt)
        results.append(get_connector(channel).parse_file(path))
    first = results[0]
    assert first.encoding == "gb18030"
    assert [r.encoding for r in results[1:]] == ["utf-8-sig", "utf-8", "xlsx"]
    for other in results[1:]:
        assert other.orders == first.orders
        assert other.errors == first.errors
    assert len(first.orders) == 12
    three = first.orders[1]  # index 1 of every series has three lines
    assert len(three.lines) == 3 and len(three.source_lines) == 3
    assert len({ln.source_line for ln in three.lines}) == 3
    # the documented broken rows, named by line and column
    order_col = get_connector(channel).COLUMNS["order_id"][0]
    qty_col = get_connector(channel).COLUMNS["quantity"][0]
    assert [e.reason for e in first.errors] == [f"{order_col} 为空", f"{qty_col} 不是数量：两件"]
    assert all(e.line > 1 for e in first.errors)
    # the unknown 商家编码 is kept as data
    assert UNKNOWN_SKU in {ln.channel_sku for o in first.orders for ln in o.lines}


@pytest.mark.parametrize("channel", CHANNELS)
def test_sample_file_matches_the_generated_orders(channel, tmp_path):
    path = write_sample(channel, tmp_path / "s.csv", orders=6, messy=False)
    parsed = get_connector(channel).parse_file(path)
    assert parsed.errors == []
    expected = list(sample_orders(channel, orders=6))
    assert [o.channel_order_id for o in parsed.orders] == [o.channel_order_id for o in expected]
    for got, want in zip(parsed.orders, expected, strict=True):
        assert [(ln.channel_sku, ln.quantity, ln.unit_price) for ln in got.lines] == \
            [(ln.channel_sku, ln.quantity, ln.unit_price) for ln in want.lines]
        assert got.paid_amount == want.paid_amount
        assert got.receiver_phone == want.receiver_phone
        assert got.status == "paid"


@pytest.mark.parametrize("channel", CHANNELS)
def test_headers_are_the_platform_columns(channel, tmp_path):
    path = write_sample(channel, tmp_path / "s.csv", orders=1, encoding="utf-8")
    with open(path, encoding="utf-8", newline="") as f:
        assert next(csv.reader(f)) == get_connector(channel).headers()


def test_taobao_headers_are_the_real_ones():
    headers = get_connector("taobao").headers()
    for name in ("订单编号", "子订单编号", "买家会员名", "买家支付宝账号", "收货人姓名", "联系手机", "收货地址",
                 "宝贝标题", "商家编码", "购买数量", "实付款", "订单状态", "订单创建时间", "订单付款时间", "买家留言",
                 "卖家备注"):
        assert name in headers
    jd = get_connector("jd").headers()
    assert jd[:4] == ["订单号", "商品ID", "商品名称", "订购数量"]
    for name in ("客户姓名", "客户地址", "联系电话", "订单金额", "应付金额", "下单时间", "付款确认时间"):
        assert name in jd
    pdd = get_connector("pdd").headers()
    for name in ("订单号", "商品", "商品id", "商家编码-SKU维度", "商品数量(件)", "收货人", "手机", "省", "市", "区",
                 "街道", "商家实收金额(元)", "订单状态", "支付时间"):
        assert name in pdd


def _csv(rows, encoding="gb18030", delimiter=","):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    return buf.getvalue().encode(encoding)


TB_HEAD = ["订单编号", "买家会员名", "收货人姓名", "联系手机", "收货地址", "宝贝标题", "商家编码", "购买数量", "实付款",
           "订单状态", "订单付款时间", "买家留言", "卖家备注", "退款状态"]


def test_messy_taobao_cells_are_cleaned():
    data = _csv([
        TB_HEAD,
        ['="3862000000000000123"\t', "tb小王\t", "王伟", "'+86-138 0013 8000",
         "浙江 杭州市 余杭区 文一西路969号(311121)", "龙井 250g", "LJ-250\t", "2", "¥1,234.50",
         "买家已付款，等待卖家发货", "2026/11/20 09:01", "", "", ""],
        ['="3862000000000000123"', "tb小王", "王伟", "'+86-138 0013 8000",
         "浙江 杭州市 余杭区 文一西路969号(311121)", "碧螺春", "", "1", "59.90元",
         "买家已付款，等待卖家发货", "2026/11/20 09:01", "", "", "退款成功"],
        [],
        ["", "", "", "", "", "", "", "", "", "", "", "", "", ""],
        ["3862000000000000124", "tb2", "李娜", "138****8000", "上海市浦东新区张江路1号", "杯子", "CUP", "1", "12..5",
         "交易关闭", "", "", "", ""],
        ["3862000000000000125", "tb3", "赵敏", "13900139000", "北京 北京市 朝阳区 建国路88号", "杯子", "CUP", "0", "10",
         "等待买家付款", "", "不要放快递柜", "老客户", ""],
    ])
    result = get_connector("taobao").parse_file(data)
    assert result.encoding == "gb18030"
    assert [(e.line, e.reason) for e in result.errors] == [(6, "实付款 不是金额：12..5"), (7, "购买数量 必须大于 0：0")]
    assert len(result.orders) == 1
    order = result.orders[0]
    assert order.channel_order_id == "3862000000000000123"
    assert order.buyer_nick == "tb小王"
    assert order.receiver_phone == "+86-138 0013 8000"  # kept as given; normalize_phone cleans it later
    assert [ln.channel_sku for ln in order.lines] == ["LJ-250", None]
    assert [str(ln.paid_amount) for ln in order.lines] == ["1234.50", "59.90"]
    assert order.paid_amount == order.lines[0].paid_amount + order.lines[1].paid_amount
    assert [ln.refund_status for ln in order.lines] == ["none", "refunded"]
    assert order.refund_status == "none"  # partial refund: visible on the line
    assert order.paid_at.isoformat() == "2026-11-20T09:01:00+08:00"
    assert order.source_lines == [2, 3]


def test_statuses_map_to_the_common_words():
    rows = [TB_HEAD] + [[str(i), "", "", "", "", "", "", "1", "1", words, "", "", "", refund] for i, (words, refund) in
                        enumerate([("等待买家付款", ""), ("买家已付款，等待卖家发货", "买家已经申请退款，等待卖家同意"),
                                   ("卖家已发货，等待买家确认", ""), ("交易成功", ""), ("交易关闭", "退款成功")], 1)]
    orders = get_connector("taobao").parse_file(_csv(rows, "utf-8")).orders
    assert [(o.status, o.refund_status) for o in orders] == [
        ("unpaid", "none"), ("paid", "requested"), ("shipped", "none"), ("delivered", "none"), ("closed", "refunded")]
    jd = get_connector("jd")
    assert jd.map_status("(删除)等待出库")[0] == "cancelled"
    assert jd.map_status("锁定") == ("paid", "requested")
    assert get_connector("pdd").map_status("未发货，退款成功") == ("cancelled", "refunded")


def test_missing_required_column_is_one_error_on_the_header():
    data = _csv([["订单编号", "宝贝标题"], ["1", "茶"]], "utf-8-sig")
    result = get_connector("taobao").parse_file(data)
    assert result.orders == []
    assert [(e.line, e.reason) for e in result.errors] == [(1, "缺少必需的列：购买数量（这不是淘宝的订单导出文件？）")]
    assert [(e.line,) for e in get_connector("jd").parse_file(b"").errors] == [(1,)]


def test_tab_separated_export_and_old_header_names():
    head = ["订单编号", "商品标题", "外部系统编号", "宝贝数量", "买家实付金额", "收货人", "收货人手机", "订单备注"]
    data = _csv([head, ["1001", "茶", "LJ-250", "3", "300", "张三", "13800138000", "加急"]], "utf-8", "\t")
    (order,) = get_connector("tmall").parse_file(data).orders
    assert (order.channel, order.channel_order_id, order.lines[0].channel_sku, order.lines[0].quantity) == \
        ("tmall", "1001", "LJ-250", 3)
    assert (order.paid_amount, order.receiver_name, order.seller_memo) == (300, "张三", "加急")


def test_pdd_parts_and_per_row_amounts():
    pdd = get_connector("pdd")
    head = ["订单号", "商品", "商品数量(件)", "商品总价(元)", "邮费(元)", "用户实付金额(元)", "平台优惠折扣(元)",
            "收货人", "手机", "省", "市", "区", "街道", "商家编码-SKU维度", "商家编码-商品维度", "售后状态",
            "承诺发货时间"]
    data = _csv([head,
                 ["261120-1", "茶A", "2", "100.00", "6", "96.00", "10", "王五", "13800138000", "浙江省", "杭州市",
                  "余杭区", "文一西路1号", "A-1\t", "A", "无售后或售后取消", "2026-11-22 09:00:00"],
                 ["261120-1", "茶B", "1", "30.00", "0", "30.00", "0", "王五", "13800138000", "浙江省", "杭州市",
                  "余杭区", "文一西路1号", "", "B", "退款中", ""]], "utf-8")
    (order,) = pdd.parse_file(data).orders
    parts = (order.province, order.city, order.district, order.address_detail)
    assert parts == ("浙江省", "杭州市", "余杭区", "文一西路1号")
    assert [ln.channel_sku for ln in order.lines] == ["A-1", "B"]  # 商品维度 code when the SKU code is empty
    assert [ln.unit_price for ln in order.lines] == [50, 30]
    assert (order.freight, order.discount, order.paid_amount) == (6, 10, 126)
    assert order.refund_status == "requested"
    assert order.promised_ship_by.isoformat() == "2026-11-22T09:00:00+08:00"


def test_rows_of_one_order_not_next_to_each_other():
    rows = [TB_HEAD] + [[oid, "", "", "", "", "t", sku, "1", "10", "", "", "", "", ""]
                        for oid, sku in (("1", "A"), ("2", "B"), ("1", "C"))]
    data = _csv(rows, "utf-8")
    streamed = list(get_connector("taobao").iter_file(data))
    assert [(o.channel_order_id, len(o.lines)) for o in streamed] == [("1", 1), ("2", 1), ("1", 1)]
    merged = get_connector("taobao").parse_file(data).orders
    assert [(o.channel_order_id, [ln.channel_sku for ln in o.lines]) for o in merged] == \
        [("1", ["A", "C"]), ("2", ["B"])]
    assert merged[0].paid_amount == 20


def test_encoding_detection():
    text = "订单编号,收货人姓名\n1,张三\n"
    assert detect_encoding(text.encode("gbk")) == "gb18030"
    assert detect_encoding(text.encode("utf-8")) == "utf-8"
    assert detect_encoding(text.encode("utf-8-sig")) == "utf-8-sig"
    cut = text.encode("utf-8")[:-5]  # a character cut in half at the end of the sample
    assert detect_encoding(cut) == "utf-8"


def test_unknown_channel_is_refused():
    from opensupply.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        get_connector("amazon")


def test_title_row_above_the_header_utf16_and_excel_scientific_numbers():
    rows = [["京东商家后台 订单导出 2026-11-25"], [], ["订单号", "商品名称", "订购数量", "京东价", "客户姓名", "备注"],
            ["290000000001", "铁观音", "2", "169.00", "刘洋", ""],
            ["2.9E+11", "铁观音", "1", "169.00", "刘洋", ""]]
    data = _csv(rows, "utf-8", "\t").decode().encode("utf-16")  # Excel "Unicode 文本": UTF-16 with BOM, tabs
    result = get_connector("jd").parse_file(data)
    assert result.encoding == "utf-16"
    assert [o.channel_order_id for o in result.orders] == ["290000000001"]
    assert result.orders[0].source_lines == [4]
    assert [(e.line, e.reason) for e in result.errors] == \
        [(5, "订单号 被 Excel 改成了科学计数法：2.9E+11（请上传平台导出的原始文件）")]


def test_the_preferred_column_name_wins_over_an_alternative():
    data = _csv([["订单编号", "购买数量", "备注", "卖家备注"], ["1", "1", "旧备注列", "卖家写的"]], "utf-8")
    (order,) = get_connector("taobao").parse_file(data).orders
    assert order.seller_memo == "卖家写的"


def test_files_that_are_not_exports_give_one_clear_error():
    old_xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    (err,) = get_connector("jd").parse_file(old_xls).errors
    assert (err.line, err.reason) == (1, "不支持旧版 Excel (.xls) 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再上传")
    (err,) = get_connector("pdd").parse_file(b"PK\x03\x04 broken zip", filename="订单.xlsx").errors
    assert err.line == 1 and err.reason.startswith("无法读取 Excel 文件")


def test_presale_flags():
    data = _csv([["订单编号", "购买数量", "分阶段订单信息"], ["1", "1", "定金已付，尾款未付"], ["2", "1", ""],
                 ["3", "1", "否"]], "utf-8")
    assert [o.is_presale for o in get_connector("taobao").parse_file(data).orders] == [True, False, False]


def test_an_unpaid_order_keeps_its_zero_paid_amount():
    data = _csv([["订单编号", "购买数量", "价格", "买家实际支付金额", "订单状态"],
                 ["1", "2", "10.00", "0.00", "等待买家付款"],
                 ["2", "1", "10.00", "", "买家已付款，等待卖家发货"]], "utf-8")
    unpaid, paid = get_connector("taobao").parse_file(data).orders
    assert (unpaid.status, unpaid.paid_amount, unpaid.goods_amount) == ("unpaid", 0, 20)
    assert paid.paid_amount == 10  # empty cell: computed from the line


def test_a_series_started_later_repeats_the_same_orders():
    full = list(sample_orders("pdd", orders=40, seed=5, mergeable=0.5))
    tail = list(sample_orders("pdd", orders=20, seed=5, start_index=20, mergeable=0.5))
    assert tail == full[20:]
    pairs = sum(a.receiver_name == b.receiver_name and a.address_detail == b.address_detail
                for a, b in itertools.pairwise(full))
    assert 10 <= pairs <= 30  # about half the orders share the previous order's recipient


def test_cell_values_platforms_write_for_nothing():
    from opensupply.oms.connectors.base import parse_money, parse_time

    assert [parse_money(v, "实付款") for v in ("", "-", "--", "无", "¥1,234.50", "1234.50元", "(12.00)")] == \
        [0, 0, 0, 0, Decimal("1234.50"), Decimal("1234.50"), Decimal("-12.00")]
    assert parse_time("2026-11-20 09:00:00.0").isoformat() == "2026-11-20T09:00:00+08:00"
    assert parse_time("2026/11/20 9:05") is not None and parse_time("昨天") is None
