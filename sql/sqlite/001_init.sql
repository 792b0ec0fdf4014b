-- aitrader schema v1 (SQLite). Same tables and meaning as sql/postgres/001_init.sql.
-- Conventions: times are epoch milliseconds (INTEGER); prices, sizes and money
-- are exact decimal TEXT; booleans are 0/1; ids the engine makes are TEXT.
-- Nothing is deleted by the engine; audit_log is append-only.

CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_ms  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS accounts (
    id          TEXT PRIMARY KEY,          -- exchange instance name, e.g. exchange.okx_main
    exchange    TEXT NOT NULL,             -- module: okx, paper
    demo        INTEGER NOT NULL DEFAULT 0,
    pos_mode    TEXT,                      -- long_short_mode | net_mode
    td_mode     TEXT,                      -- cross | isolated
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS instruments (
    exchange    TEXT NOT NULL,
    inst_id     TEXT NOT NULL,
    inst_type   TEXT NOT NULL,
    ct_val      TEXT,
    ct_val_ccy  TEXT,
    ct_mult     TEXT,
    lot_sz      TEXT NOT NULL,
    min_sz      TEXT NOT NULL,
    tick_sz     TEXT NOT NULL,
    max_lever   TEXT,
    settle_ccy  TEXT,
    state       TEXT,
    raw_json    TEXT,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (exchange, inst_id)
);

-- One row per order intent; the row exists before anything is sent.
CREATE TABLE IF NOT EXISTS orders (
    intent_id     TEXT PRIMARY KEY,
    cl_ord_id     TEXT NOT NULL UNIQUE,
    account       TEXT NOT NULL,
    origin        TEXT NOT NULL,           -- trader name, manual, or a rule
    decision_id   TEXT,
    inst_id       TEXT NOT NULL,
    op            TEXT NOT NULL,           -- place | cancel | amend | close_position
    side          TEXT,
    pos_side      TEXT,
    td_mode       TEXT,
    ord_type      TEXT,
    sz            TEXT,                    -- contracts
    px            TEXT,
    reduce_only   INTEGER NOT NULL DEFAULT 0,
    tp_trigger_px TEXT,
    sl_trigger_px TEXT,
    shadow        INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL,           -- intent | rejected | sent | live | partially_filled | filled | canceled | failed | unknown
    ord_id        TEXT,
    acc_fill_sz   TEXT,
    avg_px        TEXT,
    fee           TEXT,
    fee_ccy       TEXT,
    code          TEXT,
    msg           TEXT,
    latency_us    INTEGER,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_account_state ON orders (account, state);
CREATE INDEX IF NOT EXISTS orders_ord_id ON orders (ord_id);

CREATE TABLE IF NOT EXISTS fills (
    account     TEXT NOT NULL,
    inst_id     TEXT NOT NULL,
    trade_id    TEXT NOT NULL,
    ord_id      TEXT,
    cl_ord_id   TEXT,
    side        TEXT,
    pos_side    TEXT,
    px          TEXT NOT NULL,
    sz          TEXT NOT NULL,
    fee         TEXT,
    fee_ccy     TEXT,
    maker       INTEGER,
    ts_ms       INTEGER NOT NULL,
    PRIMARY KEY (account, inst_id, trade_id)
);

-- Latest state per position; history lives in audit_log.
CREATE TABLE IF NOT EXISTS positions (
    account      TEXT NOT NULL,
    inst_id      TEXT NOT NULL,
    pos_side     TEXT NOT NULL,            -- net | long | short
    mgn_mode     TEXT,
    pos          TEXT NOT NULL,            -- contracts
    avg_px       TEXT,
    upl          TEXT,
    lever        TEXT,
    liq_px       TEXT,
    margin       TEXT,
    realized_pnl TEXT,
    updated_ms   INTEGER NOT NULL,
    PRIMARY KEY (account, inst_id, pos_side)
);

CREATE TABLE IF NOT EXISTS equity_snapshots (
    account     TEXT NOT NULL,
    ts_ms       INTEGER NOT NULL,
    total_eq    TEXT NOT NULL,
    avail       TEXT,
    upl         TEXT,
    PRIMARY KEY (account, ts_ms)
);

CREATE TABLE IF NOT EXISTS decisions (
    id              TEXT PRIMARY KEY,
    trader          TEXT NOT NULL,
    provider        TEXT,
    model           TEXT,
    trigger_key     TEXT,
    trigger_reason  TEXT,
    valid           INTEGER NOT NULL DEFAULT 0,
    invalid_reason  TEXT,
    actions_json    TEXT,
    prompt          TEXT,
    raw_response    TEXT,
    latency_ms      INTEGER,
    tokens_in       INTEGER,
    tokens_out      INTEGER,
    cost            REAL,
    created_ms      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_trader_created ON decisions (trader, created_ms);

CREATE TABLE IF NOT EXISTS risk_verdicts (
    id          TEXT PRIMARY KEY,
    intent_id   TEXT NOT NULL,
    rule        TEXT NOT NULL,
    allowed     INTEGER NOT NULL,
    reason      TEXT,
    created_ms  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS risk_verdicts_intent ON risk_verdicts (intent_id);

CREATE TABLE IF NOT EXISTS news (
    id            TEXT PRIMARY KEY,
    feed          TEXT NOT NULL,
    title         TEXT NOT NULL,
    url           TEXT,
    summary       TEXT,
    symbols       TEXT,
    published_ms  INTEGER,
    score         REAL,
    fetched_ms    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS sentiment (
    feed        TEXT NOT NULL,
    as_of_ms    INTEGER NOT NULL,
    value       REAL NOT NULL,
    label       TEXT,
    PRIMARY KEY (feed, as_of_ms)
);

CREATE TABLE IF NOT EXISTS audit_log (
    id          TEXT PRIMARY KEY,          -- engine-made, unique: replays are idempotent
    ts_ms       INTEGER NOT NULL,
    instance    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL,
    data_json   TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log (ts_ms);
