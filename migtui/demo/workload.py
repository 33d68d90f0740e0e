"""The demo's load: a handful of client sessions running a small order workload.

Each session is a thread with its own psycopg connection (application_name ``shop-api``), playing
one kind of API request in a loop and reporting it to the :class:`~migtui.demo.service.ShopService`:

- ``POST /orders``: insert an order (waits behind any lock queue on ``orders``);
- ``GET /orders/{id}``: read a recent order by primary key;
- ``GET /products/{id}``: read the catalog (never touches ``orders``, so the API keeps traffic while
  the order routes are stuck behind a lock).

Requests wait for locks instead of failing (no lock_timeout, a generous statement_timeout): the
latency histogram shows a lock queue the way users feel it.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from migtui.demo.service import ShopService
from migtui.demo.shop import ShopSize

APPLICATION_NAME = "shop-api"
CONVERSION = {"control": 0.040, "treatment": 0.056}
"""Chance that a product view converts, per A/B variant."""


@dataclass
class ABCounts:
    """Visits and conversions per A/B variant (the A/B stand-in reads these)."""

    visits: dict[str, int] = field(default_factory=lambda: {"control": 0, "treatment": 0})
    orders: dict[str, int] = field(default_factory=lambda: {"control": 0, "treatment": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def visit(self, variant: str, converted: bool) -> None:
        with self.lock:
            self.visits[variant] += 1
            if converted:
                self.orders[variant] += 1

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        with self.lock:
            return dict(self.visits), dict(self.orders)


def variant_of(customer_id: int) -> str:
    return "treatment" if customer_id % 2 else "control"


class _Session(threading.Thread):
    def __init__(self, load: "Workload", kind: str, n: int) -> None:
        super().__init__(name=f"migtui-demo-{kind}-{n}", daemon=True)
        self.load = load
        self.kind = kind
        self.conn: Any = None
        self.rng = random.Random(n * 7919 + len(kind))

    def run(self) -> None:
        import psycopg

        load = self.load
        while not load.stopping.is_set():
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = psycopg.connect(load.dsn, autocommit=True, application_name=APPLICATION_NAME,
                                                connect_timeout=5, options="-c statement_timeout=60s")
                self.one()
            except psycopg.Error as exc:
                if load.stopping.is_set():
                    break
                load.errors += 1
                load.last_error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                if self.conn is not None and self.conn.closed:
                    self.conn = None
                load.stopping.wait(0.5)
            load.stopping.wait(load.think_time * (0.5 + self.rng.random()))
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001
                pass

    def one(self) -> None:
        import psycopg

        load, rng, size = self.load, self.rng, self.load.size
        service = load.service
        if self.kind == "writer":
            route = "POST /orders"
            # The treatment converts a little better: the A/B panel has something to show.
            customer = rng.randrange(1, size.customers + 1)
            args = {"c": customer, "p": rng.randrange(1, size.products + 1), "q": rng.randrange(1, 5)}
            sql = ("INSERT INTO orders (customer_id, product_id, quantity, amount, status, created_at) "
                   "SELECT %(c)s, id, %(q)s, price * %(q)s, 'new', now() FROM products WHERE id = %(p)s")
        elif self.kind == "order_reader":
            route = "GET /orders/{id}"
            top = load.max_order_id
            args = {"id": rng.randrange(max(1, top - 50_000), top + 1)}
            sql = "SELECT id, status, amount FROM orders WHERE id = %(id)s"
        else:
            route = "GET /products/{id}"
            variant = variant_of(rng.randrange(1, size.customers + 1))
            # The experiment: the treatment's checkout button converts a little better.
            load.ab.visit(variant, rng.random() < CONVERSION[variant])
            args = {"id": rng.randrange(1, size.products + 1)}
            sql = "SELECT id, sku, name, price FROM products WHERE id = %(id)s"
        service.begin()
        started = time.perf_counter()
        ok = True
        try:
            self.conn.execute(sql, args)
        except psycopg.Error:
            ok = False
            raise
        finally:
            status = service.record(route, time.perf_counter() - started, ok)
            load.requests += 1
        if self.kind == "writer" and status == 200:
            load.orders_placed += 1
            load.max_order_id += 1


class Workload:
    """Start ``writers`` + ``readers`` sessions against ``dsn``; :meth:`stop` ends them."""

    def __init__(self, dsn: str, service: ShopService, size: ShopSize, *, writers: int = 3, readers: int = 2,
                 think_time: float = 0.03) -> None:
        self.dsn = dsn
        self.service = service
        self.size = size
        self.think_time = think_time
        self.stopping = threading.Event()
        self.ab = ABCounts()
        self.requests = 0
        self.orders_placed = 0
        self.errors = 0
        self.last_error = ""
        self.max_order_id = size.orders
        kinds = ["writer"] * writers + ["product_reader", "order_reader"] * (readers // 2) + \
            ["product_reader"] * (readers % 2)
        self.sessions = [_Session(self, kind, i) for i, kind in enumerate(kinds)]

    def start(self) -> "Workload":
        for s in self.sessions:
            s.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every session: ask, cancel what is stuck in a query, then wait a little."""
        self.stopping.set()
        for s in self.sessions:
            conn = s.conn
            if conn is not None and not conn.closed:
                try:
                    conn.cancel_safe(timeout=2.0) if hasattr(conn, "cancel_safe") else conn.cancel()
                except Exception:  # noqa: BLE001
                    pass
        deadline = time.monotonic() + timeout
        for s in self.sessions:
            s.join(max(0.0, deadline - time.monotonic()))

    @property
    def alive(self) -> int:
        return sum(1 for s in self.sessions if s.is_alive())
