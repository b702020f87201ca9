"""A small warehouse inventory: items, stock movements and reorder reports."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable


class InventoryError(Exception):
    """Raised when a movement would leave the inventory inconsistent."""


@dataclass
class Item:
    sku: str
    name: str
    unit_price: float
    quantity: int = 0
    reorder_level: int = 10
    tags: set[str] = field(default_factory=set)

    def value(self) -> float:
        return self.unit_price * self.quantity

    def needs_reorder(self) -> bool:
        return self.quantity <= self.reorder_level


@dataclass
class Movement:
    sku: str
    delta: int
    reason: str
    at: dt.datetime


class Inventory:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.history: list[Movement] = []

    def add_item(self, item: Item) -> None:
        if item.sku in self.items:
            raise InventoryError(f"duplicate sku {item.sku}")
        if item.unit_price < 0:
            raise InventoryError(f"negative price for {item.sku}")
        self.items[item.sku] = item

    def remove_item(self, sku: str) -> Item:
        item = self.items.pop(sku, None)
        if item is None:
            raise InventoryError(f"unknown sku {sku}")
        return item

    def receive(self, sku: str, count: int, when: dt.datetime | None = None) -> None:
        if count <= 0:
            raise InventoryError("received count must be positive")
        self._move(sku, count, "receive", when)

    def ship(self, sku: str, count: int, when: dt.datetime | None = None) -> None:
        if count <= 0:
            raise InventoryError("shipped count must be positive")
        item = self._get(sku)
        if item.quantity < count:
            raise InventoryError(f"only {item.quantity} of {sku} in stock")
        self._move(sku, -count, "ship", when)

    def adjust(self, sku: str, counted: int, when: dt.datetime | None = None) -> int:
        item = self._get(sku)
        delta = counted - item.quantity
        if delta != 0:
            self._move(sku, delta, "adjust", when)
        return delta

    def _get(self, sku: str) -> Item:
        try:
            return self.items[sku]
        except KeyError:
            raise InventoryError(f"unknown sku {sku}") from None

    def _move(self, sku: str, delta: int, reason: str, when: dt.datetime | None) -> None:
        item = self._get(sku)
        item.quantity += delta
        stamp = when or dt.datetime.now()
        self.history.append(Movement(sku, delta, reason, stamp))

    def total_value(self) -> float:
        return sum(item.value() for item in self.items.values())

    def low_stock(self) -> list[Item]:
        low = [item for item in self.items.values() if item.needs_reorder()]
        return sorted(low, key=lambda item: item.quantity)

    def by_tag(self, tag: str) -> list[Item]:
        return [item for item in self.items.values() if tag in item.tags]

    def movements_for(self, sku: str) -> list[Movement]:
        return [m for m in self.history if m.sku == sku]

    def shipped_between(self, start: dt.datetime, end: dt.datetime) -> int:
        total = 0
        for m in self.history:
            if m.reason == "ship" and start <= m.at < end:
                total += -m.delta
        return total

    def reorder_report(self) -> list[str]:
        lines = []
        for item in self.low_stock():
            missing = item.reorder_level * 2 - item.quantity
            lines.append(f"{item.sku}\t{item.name}\torder {missing}")
        return lines


def load_items(rows: Iterable[dict[str, str]]) -> Inventory:
    inventory = Inventory()
    for row in rows:
        tags = {t.strip() for t in row.get("tags", "").split(";") if t.strip()}
        item = Item(
            sku=row["sku"],
            name=row["name"],
            unit_price=float(row["unit_price"]),
            quantity=int(row.get("quantity", 0)),
            reorder_level=int(row.get("reorder_level", 10)),
            tags=tags,
        )
        inventory.add_item(item)
    return inventory


def load_csv(path: str) -> Inventory:
    with open(path, newline="") as handle:
        return load_items(csv.DictReader(handle))


def save_csv(inventory: Inventory, path: str) -> None:
    fields = ["sku", "name", "unit_price", "quantity", "reorder_level", "tags"]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for item in inventory.items.values():
            writer.writerow(
                {
                    "sku": item.sku,
                    "name": item.name,
                    "unit_price": f"{item.unit_price:.2f}",
                    "quantity": item.quantity,
                    "reorder_level": item.reorder_level,
                    "tags": ";".join(sorted(item.tags)),
                }
            )
