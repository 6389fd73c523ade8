"""The "manual" connector: no carrier API; waybill numbers from the company's own sequence per carrier."""

from __future__ import annotations

import re

from opensupply.core.sequences import next_number, register_sequence

from . import TrackEvent, WaybillConnector, WaybillRequest, WaybillResult


class ManualConnector(WaybillConnector):
    code = "manual"

    def create_waybill(self, request: WaybillRequest) -> WaybillResult:
        code = (self.setting.code if self.setting else None) or self.carrier.code or f"C{self.carrier.id}"
        prefix = re.sub(r"[^A-Za-z0-9]", "", code).upper()[:8] or f"C{self.carrier.id}"
        seq = f"TMS_WAYBILL_{prefix}"
        register_sequence(seq, prefix + "{year}", 8)
        number = next_number(self.uow, seq)
        return WaybillResult(number, {"carrier": self.carrier.name, "sort_code": request.receiver.get("province")
                                      or ""})

    def cancel_waybill(self, tracking_number: str) -> None:
        return None  # nothing booked outside

    def track(self, tracking_number: str) -> list[TrackEvent]:
        return []  # events arrive by webhook or are typed in
