-- aitrader schema v11 (SQLite): an index of the ledger by trader, account and
-- time. Same index and meaning as sql/postgres/011_ledger_ts.sql. The
-- dashboard's arena (plugins/ui_dashboard/dash_arena.c) asks per trader for
-- its first ledger row (MIN(ts_ms)) and for its rows in a window; with
-- ledger_origin (origin, account) alone both scan all of the trader's rows.
-- It replaces ledger_origin, whose columns are its prefix.
CREATE INDEX IF NOT EXISTS ledger_origin_ts ON ledger (origin, account, ts_ms);
DROP INDEX IF EXISTS ledger_origin;
