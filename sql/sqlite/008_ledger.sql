-- aitrader schema v8 (SQLite): PnL per trader and account (core/trading/
-- ledger.c). Same tables and meaning as sql/postgres/008_ledger.sql.
--
-- `ledger` is the journal the per-trader books are rebuilt from at start:
-- one row per fill (kind 'fill', attributed to the origin and decision of
-- the order by clOrdId; a TP/SL fill to the entry it protects) and one per
-- funding settlement booked on a book's lots (kind 'funding'). `seq` orders
-- the rows as they were applied. Amounts are in the settlement currency
-- (USDT), negative = paid.
CREATE TABLE IF NOT EXISTS ledger (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,     -- fill/<account>/<inst>/<tradeId> | funding/<inst>/<ms>/<book>
    kind         TEXT NOT NULL,            -- fill | funding
    account      TEXT NOT NULL,
    origin       TEXT NOT NULL,            -- trader name, manual, core.keeper …, or unattributed
    decision_id  TEXT,                     -- the fill's own decision (NULL for manual and funding)
    cl_ord_id    TEXT,
    inst_id      TEXT NOT NULL,
    pos_side     TEXT NOT NULL,            -- net | long | short
    side         TEXT,                     -- buy | sell (fills)
    sz           TEXT,                     -- contracts (fills)
    px           TEXT,                     -- fill price
    fee          TEXT,                     -- the fill's fee
    ct_val       TEXT NOT NULL,
    rate         TEXT,                     -- funding rate (funding)
    mark         TEXT,                     -- mark price at settlement (funding)
    pnl          TEXT,                     -- realized by this fill (gross)
    funding      TEXT,                     -- funding booked (funding)
    ts_ms        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_origin ON ledger (origin, account);

-- What became of a decision: its fills, the PnL of the positions it opened.
ALTER TABLE decisions ADD COLUMN outcome_json TEXT;   -- {"opened","closed","open","closing","realized_pnl","fees","funding","net_pnl","fills"}
ALTER TABLE decisions ADD COLUMN net_pnl TEXT;        -- realized + fees + funding of its lots
ALTER TABLE decisions ADD COLUMN outcome_ms INTEGER;  -- when the outcome last changed

-- Per origin (trader) and account: PnL after fees and funding each minute
-- and after fills; unrealized at the mark (NULL when no mark is known).
CREATE TABLE IF NOT EXISTS pnl_snapshots (
    origin       TEXT NOT NULL,
    account      TEXT NOT NULL,
    ts_ms        INTEGER NOT NULL,
    realized     TEXT NOT NULL,
    fees         TEXT NOT NULL,
    funding      TEXT NOT NULL,
    unrealized   TEXT,
    net          TEXT,                     -- realized + fees + funding + unrealized
    positions    INTEGER NOT NULL,         -- books with contracts open
    PRIMARY KEY (origin, account, ts_ms)
);
