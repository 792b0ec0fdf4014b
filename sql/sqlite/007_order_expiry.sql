-- aitrader schema v7 (SQLite): the deadline of a resting order with a TTL.
-- Same column and meaning as sql/postgres/007_order_expiry.sql. The order
-- keeper (core/trading/keeper.c) sets expire_ms (core clock, ms) once, right
-- after the venue's own orders row of a place whose intent had ttl_ms > 0,
-- and at start follows the open rows that have one again: still open at
-- expire_ms, the order is cancelled. NULL = the order rests.
ALTER TABLE orders ADD COLUMN expire_ms INTEGER;
CREATE INDEX IF NOT EXISTS orders_expire ON orders (expire_ms) WHERE expire_ms IS NOT NULL;
