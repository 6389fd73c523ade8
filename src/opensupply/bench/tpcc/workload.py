"""The random inputs of each transaction, as TPC-C draws them, shared by both implementations so
they do the same work: NURand for customers and items, 5–15 lines, 1 % rolled-back New-Orders."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from .load import DISTRICTS, Setup

MIX = (("new_order", 45), ("payment", 43), ("order_status", 4), ("delivery", 4), ("stock_level", 4))


def nurand(rng: random.Random, a: int, x: int, y: int, c: int) -> int:
    """TPC-C's non-uniform random: some customers and items are hot."""
    return (((rng.randint(0, a) | rng.randint(x, y)) + c) % (y - x + 1)) + x


@dataclass
class NewOrder:
    warehouse: int  # index
    customer_id: int
    lines: list[tuple[int, int, str]]  # (product id, quantity, unit price); product id 0 = unknown item
    rollback: bool


@dataclass
class Payment:
    warehouse: int
    customer_id: int
    amount: Decimal


@dataclass
class Delivery:
    warehouse: int
    districts: tuple[int, ...] = tuple(range(1, DISTRICTS + 1))


@dataclass
class OrderStatus:
    warehouse: int
    customer_id: int


@dataclass
class StockLevel:
    warehouse: int
    district: int
    threshold: int


class Workload:
    def __init__(self, setup: Setup, home_warehouse: int, seed: int):
        self.s = setup
        self.w = home_warehouse
        self.rng = random.Random(seed)
        n_items = len(setup.product_ids)
        self.item_a = max(1, min(8191, n_items // 12))  # TPC-C: A = 8191 for 100,000 items
        self.cust_a = 1023 if len(setup.customers[(0, 1)]) >= 3000 else max(1, len(setup.customers[(0, 1)]) // 3)
        self.c_item, self.c_cust = self.rng.randint(0, self.item_a), self.rng.randint(0, self.cust_a)

    def pick(self) -> str:
        roll, acc = self.rng.randint(1, 100), 0
        for name, weight in MIX:
            acc += weight
            if roll <= acc:
                return name
        return MIX[0][0]

    def _customer(self) -> tuple[int, int]:
        d = self.rng.randint(1, DISTRICTS)
        ids = self.s.customers[(self.w, d)]
        return d, ids[nurand(self.rng, self.cust_a, 1, len(ids), self.c_cust) - 1]

    def new_order(self) -> NewOrder:
        _d, cust = self._customer()
        n = self.rng.randint(5, 15)
        items = self.s.product_ids
        chosen: list[int] = []
        while len(chosen) < n:  # distinct items: an order line per item, as our orders merge nothing
            pid = items[nurand(self.rng, self.item_a, 1, len(items), self.c_item) - 1]
            if pid not in chosen:
                chosen.append(pid)
        lines = [(pid, self.rng.randint(1, 10), self.s.prices[pid]) for pid in chosen]
        rollback = self.rng.randint(1, 100) == 1
        if rollback:
            lines[-1] = (0, lines[-1][1], lines[-1][2])
        return NewOrder(self.w, cust, lines, rollback)

    def payment(self) -> Payment:
        _d, cust = self._customer()
        return Payment(self.w, cust, Decimal(self.rng.randint(100, 500_000)) / 100)

    def delivery(self) -> Delivery:
        return Delivery(self.w)

    def order_status(self) -> OrderStatus:
        _d, cust = self._customer()
        return OrderStatus(self.w, cust)

    def stock_level(self) -> StockLevel:
        return StockLevel(self.w, self.rng.randint(1, DISTRICTS), self.rng.randint(10, 20))
