-- aitrader schema v9 (PostgreSQL): whether a trader is paused. Same table and
-- meaning as sql/sqlite/009_trader_state.sql. One row per trader, written
-- by its scheduler (core/trading/scheduler.c) when the engine control API's
-- trader.pause / trader.resume changes it, read back at start before the
-- first trigger can fire; each change is also one audit_log row (kind
-- trader.pause | trader.resume, id "trader.<name>/<kind>/<changes>").
CREATE TABLE IF NOT EXISTS trader_state (
    trader      TEXT PRIMARY KEY,          -- trader name without "trader.": alpha
    paused      BOOLEAN NOT NULL DEFAULT false,
    ts_ms       BIGINT NOT NULL,           -- core-clock time of the last change
    changed_by  TEXT,                      -- who changed it ("alice (ui.dashboard)")
    reason      TEXT,
    changes     BIGINT NOT NULL DEFAULT 0  -- changes so far
);
