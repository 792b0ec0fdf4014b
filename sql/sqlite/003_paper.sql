-- aitrader schema v3 (SQLite): the paper venue's account state. Same table and
-- meaning as sql/postgres/003_paper.sql. One row per exchange_paper instance,
-- rewritten (upsert on account) every time the venue's state changes: an
-- order placed, filled, amended or canceled, a TP/SL armed or fired, funding
-- booked, a leverage setting. state_json is the venue state document
-- (lib/venue/persist.c, "format": 1): cash per currency, positions, open
-- orders and algo orders, the newest finished orders and fills, leverage
-- settings, position mode, the id counters; every amount an exact decimal
-- string. Read back at start, so the paper account survives a restart.
CREATE TABLE IF NOT EXISTS paper_state (
    account     TEXT PRIMARY KEY,          -- exchange instance name, e.g. exchange.paper
    format      INTEGER NOT NULL,          -- state_json format version
    seq         INTEGER NOT NULL,          -- bumps with every write of the row
    state_json  TEXT NOT NULL,
    updated_ms  INTEGER NOT NULL
);
