"""Must show: a real-shaped export of every channel (messy phones and addresses, an unknown
商家编码, broken rows; GB18030 / UTF-8 / XLSX) imported three times leaves the same database as
importing it once."""

from __future__ import annotations

import pytest

from opensupply.core.uow import Actor
from opensupply.oms import intake
from opensupply.oms.samples import write_sample
from tests import factories as f
from tests.oms.intake.factories import dump, shop

FILES = [("taobao", "gb18030", "csv"), ("tmall", "utf-8-sig", "csv"), ("jd", "gb18030", "csv"),
         ("pdd", "utf-8", "xlsx"), ("miniapp", "utf-8", "csv"), ("generic", "utf-8", "csv")]


@pytest.mark.parametrize(("channel", "encoding", "fmt"), FILES)
def test_replaying_a_channel_export_three_times_equals_once(db, tmp_path, channel, encoding, fmt):
    c = f.company(db)
    f.product(db, c, "LJ-250")
    f.product(db, c, "CUP-GL")
    s = shop(db, c, channel)
    path = write_sample(channel, tmp_path / f"{channel}.{fmt}", orders=25, encoding=encoding, fmt=fmt)
    first = intake.import_file(db, Actor.system(c), s, path, channel, batch_size=10)
    assert first.created == 25 and first.updated == 0
    assert len(first.rejected) == 2 and all(r["line"] > 1 for r in first.rejected)
    once = dump(db)
    for _ in range(2):
        again = intake.import_file(db, Actor.system(c), s, path, channel, batch_size=10)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 25)
        assert again.rejected == first.rejected
    assert dump(db) == once
    assert once["oms_hold"]  # the unknown 商家编码 and the buyers' messages are held, not lost
