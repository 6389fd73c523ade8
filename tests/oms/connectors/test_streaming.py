"""iter_file streams: memory does not grow with the number of rows."""

import csv
import io
import time
import tracemalloc

from opensupply.oms.connectors import get_connector


def _big_file(path, rows):
    connector = get_connector("taobao")
    template = {"订单编号": "", "子订单编号": "", "买家会员名": "tb小王", "订单状态": "买家已付款，等待卖家发货",
                "订单创建时间": "2026-11-20 09:00:00", "订单付款时间": "2026-11-20 09:01:00",
                "宝贝标题": "西湖龙井 250g", "商家编码": "LJ-250", "价格": "168.00", "购买数量": "1",
                "实付款": "168.00", "买家实际支付金额": "336.00",
                "收货人姓名": "王伟", "收货地址": "浙江省 杭州市 余杭区 文一西路969号", "联系手机": "13800138000"}
    headers = connector.headers()
    with open(path, "w", encoding="gb18030", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        base = [template.get(h, "") for h in headers]
        at = headers.index("订单编号")
        for i in range(rows):
            base[at] = f'="{3862000000000000000 + i // 2}"'  # two rows per order
            writer.writerow(base)
    return path


def _peak(path):
    tracemalloc.start()
    orders = 0
    for item in get_connector("taobao").iter_file(path):
        orders += 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return orders, peak


def test_memory_stays_flat_as_the_file_grows(tmp_path):
    """Peak traced memory while streaming 2,000 rows and 20,000 rows is the same (tracemalloc makes
    Python several times slower, so the big file is kept at 20k rows to stay well under 10 s on a
    shared machine; holding the orders instead would peak at ~25 MB)."""
    start = time.perf_counter()
    small = _big_file(tmp_path / "small.csv", 2_000)
    big = _big_file(tmp_path / "big.csv", 20_000)
    small_orders, small_peak = _peak(small)
    big_orders, big_peak = _peak(big)
    assert (small_orders, big_orders) == (1_000, 10_000)
    assert big_peak < small_peak + 256 * 1024, (small_peak, big_peak)  # 10× the rows, not 10× the memory
    assert big_peak < 2 * 1024 * 1024
    assert time.perf_counter() - start < 30


def test_bytes_and_file_objects_are_accepted(tmp_path):
    path = _big_file(tmp_path / "s.csv", 4)
    data = path.read_bytes()
    connector = get_connector("taobao")
    assert connector.parse_file(data).orders == connector.parse_file(io.BytesIO(data)).orders == \
        connector.parse_file(path).orders == connector.parse_file(str(path)).orders


def test_a_stream_that_cannot_rewind_is_read_too(tmp_path):
    data = _big_file(tmp_path / "s.csv", 6).read_bytes()

    class Pipe(io.RawIOBase):
        def __init__(self):
            self.inner = io.BytesIO(data)

        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, buf):
            chunk = self.inner.read(len(buf))
            buf[:len(chunk)] = chunk
            return len(chunk)

    assert len(get_connector("taobao").parse_file(Pipe()).orders) == 3
