"""Fleet deliveries for shipped OMS fulfilments: dispatch puts 派送中 on the order timeline, the driver's 已送达
marks the fulfilment and the order 已签收."""

from opensupply.oms import orders as oms_orders
from opensupply.oms.models import OmsFulfilment, OmsOrder
from opensupply.tms import dispatch, planning
from tests.tms.fleet.factories import DAY, deliveries, make_fleet, shipped_fulfilments


def test_driver_delivery_marks_the_oms_order_signed_for(db):
    fl = make_fleet(db, vehicles=1, capacity_kg="500", drivers=1)
    oids, fids = shipped_fulfilments(db, fl.company, 3)
    ids = deliveries(fl, 3, fulfilments=fids)
    assert deliveries(fl, 3, fulfilments=fids) == ids  # idempotent on (fulfilment, source key)
    with fl.uow() as uow:
        plan = planning.create_plan(uow, fl.depot, DAY, time_limit_s=0.5)
        route = plan.routes[0]
        stops = [s.id for s in route.stops]
        dispatch.assign(uow, route.id, fl.drivers[0])
        dispatch.dispatch_plan(uow, plan.id)
    with fl.uow(readonly=True) as uow:
        kinds = [e.kind for e in oms_orders.timeline(uow, order_id=oids[0])]
        assert "tms_out_for_delivery" in kinds
    for sid in stops:
        with fl.uow() as uow:
            dispatch.mark_delivered(uow, sid, fl.drivers[0])
    with fl.uow(readonly=True) as uow:
        assert {uow.get(OmsFulfilment, i).status for i in fids} == {"delivered"}
        assert {uow.get(OmsOrder, i).status for i in oids} == {"delivered"}
