"""The five transactions through OpenSupply's services: what a clerk's click does."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from opensupply.core.db import Database
from opensupply.core.errors import NotFound, ValidationFailed
from opensupply.core.uow import Actor, UnitOfWork, atomic

from .load import Setup, customer_code
from .workload import Delivery, NewOrder, OrderStatus, Payment, StockLevel


class ServiceTransactions:
    def __init__(self, db: Database, setup: Setup):
        self.db, self.s = db, setup
        self.actor = Actor.system(setup.company_id)

    def new_order(self, t: NewOrder) -> bool:
        from opensupply.erp.sales import service as sal

        def work(uow):
            sal.create_sales_order(uow, customer_id=t.customer_id, warehouse_id=self.s.warehouse_ids[t.warehouse],
                                   lines=[sal.SalesLineIn(pid, q, price) for pid, q, price in t.lines],
                                   confirm=True)
        try:
            self._atomic(work)
        except (NotFound, ValidationFailed):
            if t.rollback:
                return False
            raise
        return True

    def payment(self, t: Payment) -> bool:
        from opensupply.erp.sales import service as sal

        self._atomic(lambda uow: sal.register_receipt(uow, t.customer_id, t.amount))
        return True

    def delivery(self, t: Delivery) -> bool:
        from opensupply.erp.sales import service as sal
        from opensupply.erp.sales.models import SalesDelivery, SalesOrder
        from opensupply.masterdata.models import Partner

        def work(uow):
            wid = self.s.warehouse_ids[t.warehouse]
            for d in t.districts:
                lo, hi = customer_code(t.warehouse, d, 0), customer_code(t.warehouse, d, 99999)
                oid = uow.session.scalar(
                    select(SalesOrder.id).join(SalesDelivery, SalesDelivery.order_id == SalesOrder.id)
                    .join(Partner, Partner.id == SalesOrder.customer_id)
                    .where(SalesOrder.company_id == uow.company_id, SalesOrder.warehouse_id == wid,
                           SalesOrder.state == "confirmed", SalesDelivery.state == "waiting",
                           Partner.code > lo, Partner.code <= hi)
                    .order_by(SalesOrder.id).limit(1))
                if oid is None:
                    continue  # TPC-C: a district with nothing to deliver is skipped
                sal.deliver(uow, oid)
                sal.invoice_order(uow, oid)
        self._atomic(work)
        return True

    def order_status(self, t: OrderStatus) -> bool:
        from opensupply.erp.sales.models import SalesDelivery, SalesOrder, SalesOrderLine

        with UnitOfWork(self.actor, db=self.db, readonly=True) as uow:
            order = uow.session.scalar(select(SalesOrder).where(
                SalesOrder.company_id == uow.company_id, SalesOrder.customer_id == t.customer_id)
                .order_by(SalesOrder.id.desc()).limit(1))
            if order is not None:
                list(uow.session.execute(select(SalesOrderLine.product_id, SalesOrderLine.quantity,
                                                SalesOrderLine.qty_delivered, SalesOrderLine.amount_total)
                                         .where(SalesOrderLine.order_id == order.id)))
                uow.session.scalar(select(SalesDelivery.date_done).where(SalesDelivery.order_id == order.id)
                                   .order_by(SalesDelivery.id.desc()).limit(1))
        return True

    def stock_level(self, t: StockLevel) -> bool:
        stock_level(self.db, self.actor, self.s, t)
        return True

    def _atomic(self, work):
        return atomic(self.actor, work, db=self.db)


def stock_level(db: Database, actor: Actor, s: Setup, t: StockLevel) -> int:
    """Read only, the same query for both implementations (TPC-C's is one join)."""
    from opensupply.erp.sales.models import SalesOrder, SalesOrderLine
    from opensupply.inventory.models import StockQuant, StockReservation
    from opensupply.masterdata.models import Partner

    lo, hi = customer_code(t.warehouse, t.district, 0), customer_code(t.warehouse, t.district, 99999)
    loc = s.stock_location_ids[t.warehouse]
    with UnitOfWork(actor, db=db, readonly=True) as uow:
        recent = (select(SalesOrder.id).join(Partner, Partner.id == SalesOrder.customer_id)
                  .where(SalesOrder.company_id == uow.company_id,
                         SalesOrder.warehouse_id == s.warehouse_ids[t.warehouse], Partner.code > lo, Partner.code <= hi)
                  .order_by(SalesOrder.id.desc()).limit(20).subquery())
        items = select(SalesOrderLine.product_id).where(SalesOrderLine.order_id.in_(select(recent.c.id))).distinct()
        reserved = (select(func.coalesce(func.sum(StockReservation.quantity), 0))
                    .where(StockReservation.product_id == StockQuant.product_id,
                           StockReservation.location_id == loc, StockReservation.state == "active")
                    .scalar_subquery())
        return uow.session.scalar(select(func.count()).select_from(StockQuant).where(
            StockQuant.company_id == uow.company_id, StockQuant.location_id == loc,
            StockQuant.product_id.in_(items), StockQuant.quantity - reserved < Decimal(t.threshold))) or 0
