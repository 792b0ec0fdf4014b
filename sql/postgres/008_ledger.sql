-- aitrader schema v8 (PostgreSQL): PnL per trader and account (core/trading/
-- ledger.c). Same tables and meaning as sql/sqlite/008_ledger.sql.
--
-- `ledger` is the journal the per-trader books are rebuilt from at start:
-- one row per fill (kind 'fill', attributed to the origin and decision of
-- the order by clOrdId; a TP/SL fill to the entry it protects) and one per
-- funding settlement booked on a book's lots (kind 'funding'). `seq` orders
-- the rows as they were applied. Amounts are in the settlement currency
-- (USDT), negative = paid.
CREATE TABLE IF NOT EXISTS ledger (
    seq          BIGINT PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,     -- fill/<account>/<inst>/<tradeId> | funding/<inst>/<ms>/<book>
    kind         TEXT NOT NULL,            -- fill | funding
    account      TEXT NOT NULL,
    origin       TEXT NOT NULL,            -- trader name, manual, core.keeper …, or unattributed
    decision_id  TEXT,                     -- the fill's own decision (NULL for manual and funding)
    cl_ord_id    TEXT,
    inst_id      TEXT NOT NULL,
    pos_side     TEXT NOT NULL,            -- net | long | short
    side         TEXT,                     -- buy | sell (fills)
    sz           NUMERIC,                     -- contracts (fills)
    px           NUMERIC,                     -- fill price
    fee          NUMERIC,                     -- the fill's fee
    ct_val       NUMERIC NOT NULL,
    rate         NUMERIC,                     -- funding rate (funding)
    mark         NUMERIC,                     -- mark price at settlement (funding)
    pnl          NUMERIC,                     -- realized by this fill (gross)
    funding      NUMERIC,                     -- funding booked (funding)
    ts_ms        BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_origin ON ledger (origin, account);

-- What became of a decision: its fills, the PnL of the positions it opened.
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS outcome_json TEXT;   -- {"opened","closed","open","closing","realized_pnl","fees","funding","net_pnl","fills"}
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS net_pnl NUMERIC;        -- realized + fees + funding of its lots
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS outcome_ms BIGINT;  -- when the outcome last changed

-- Per origin (trader) and account: PnL after fees and funding each minute
-- and after fills; unrealized at the mark (NULL when no mark is known).
CREATE TABLE IF NOT EXISTS pnl_snapshots (
    origin       TEXT NOT NULL,
    account      TEXT NOT NULL,
    ts_ms        BIGINT NOT NULL,
    realized     NUMERIC NOT NULL,
    fees         NUMERIC NOT NULL,
    funding      NUMERIC NOT NULL,
    unrealized   NUMERIC,
    net          NUMERIC,                     -- realized + fees + funding + unrealized
    positions    BIGINT NOT NULL,         -- books with contracts open
    PRIMARY KEY (origin, account, ts_ms)
);
