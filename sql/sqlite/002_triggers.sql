-- aitrader schema v2 (SQLite): scheduler triggers. Same table and meaning as
-- sql/postgres/002_triggers.sql. One row per TRIGGER the scheduler published;
-- key is the idempotency key (trader + window), so a window triggers at most
-- once, also across a restart (INSERT ... ON CONFLICT (key) DO NOTHING).

CREATE TABLE IF NOT EXISTS triggers (
    key              TEXT PRIMARY KEY,     -- "alpha:long:<due ms>", "alpha:sig:<grace start ms>"
    trader           TEXT NOT NULL,        -- trader name without "trader.": alpha
    ts_ms            INTEGER NOT NULL,     -- core-clock time of the trigger
    reason           TEXT NOT NULL,        -- "long period", "signal rsi14 up 0.82 BTC-USDT-SWAP"
    salience         REAL NOT NULL DEFAULT 0,
    short_mode       INTEGER NOT NULL DEFAULT 0,
    indicators_json  TEXT,                 -- latest indicator values per symbol and bar, signal
    deadline_ms      INTEGER               -- time the AI call may take
);
CREATE INDEX IF NOT EXISTS triggers_trader_ts ON triggers (trader, ts_ms);
