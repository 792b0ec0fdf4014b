-- aitrader schema v1 (PostgreSQL). Same tables and meaning as sql/sqlite/001_init.sql.
-- Conventions: times are epoch milliseconds (INTEGER); prices, sizes and money
-- are exact NUMERIC; booleans are BOOLEAN; ids the engine makes are TEXT.
-- Nothing is deleted by the engine; audit_log is append-only.

CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_ms  BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS accounts (
    id          TEXT PRIMARY KEY,          -- exchange instance name, e.g. exchange.okx_main
    exchange    TEXT NOT NULL,             -- module: okx, paper
    demo        BOOLEAN NOT NULL DEFAULT false,
    pos_mode    TEXT,                      -- long_short_mode | net_mode
    td_mode     TEXT,                      -- cross | isolated
    created_ms  BIGINT NOT NULL,
    updated_ms  BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS instruments (
    exchange    TEXT NOT NULL,
    inst_id     TEXT NOT NULL,
    inst_type   TEXT NOT NULL,
    ct_val      NUMERIC,
    ct_val_ccy  TEXT,
    ct_mult     NUMERIC,
    lot_sz      NUMERIC NOT NULL,
    min_sz      NUMERIC NOT NULL,
    tick_sz     NUMERIC NOT NULL,
    max_lever   NUMERIC,
    settle_ccy  TEXT,
    state       TEXT,
    raw_json    TEXT,
    updated_ms  BIGINT NOT NULL,
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
    sz            NUMERIC,                    -- contracts
    px            NUMERIC,
    reduce_only   BOOLEAN NOT NULL DEFAULT false,
    tp_trigger_px NUMERIC,
    sl_trigger_px NUMERIC,
    shadow        BOOLEAN NOT NULL DEFAULT false,
    state         TEXT NOT NULL,           -- intent | rejected | sent | live | partially_filled | filled | canceled | failed | unknown
    ord_id        TEXT,
    acc_fill_sz   NUMERIC,
    avg_px        NUMERIC,
    fee           NUMERIC,
    fee_ccy       TEXT,
    code          TEXT,
    msg           TEXT,
    latency_us    BIGINT,
    created_ms    BIGINT NOT NULL,
    updated_ms    BIGINT NOT NULL
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
    px          NUMERIC NOT NULL,
    sz          NUMERIC NOT NULL,
    fee         NUMERIC,
    fee_ccy     TEXT,
    maker       BOOLEAN,
    ts_ms       BIGINT NOT NULL,
    PRIMARY KEY (account, inst_id, trade_id)
);

-- Latest state per position; history lives in audit_log.
CREATE TABLE IF NOT EXISTS positions (
    account      TEXT NOT NULL,
    inst_id      TEXT NOT NULL,
    pos_side     TEXT NOT NULL,            -- net | long | short
    mgn_mode     TEXT,
    pos          NUMERIC NOT NULL,            -- contracts
    avg_px       NUMERIC,
    upl          NUMERIC,
    lever        NUMERIC,
    liq_px       NUMERIC,
    margin       NUMERIC,
    realized_pnl NUMERIC,
    updated_ms   BIGINT NOT NULL,
    PRIMARY KEY (account, inst_id, pos_side)
);

CREATE TABLE IF NOT EXISTS equity_snapshots (
    account     TEXT NOT NULL,
    ts_ms       BIGINT NOT NULL,
    total_eq    NUMERIC NOT NULL,
    avail       NUMERIC,
    upl         NUMERIC,
    PRIMARY KEY (account, ts_ms)
);

CREATE TABLE IF NOT EXISTS decisions (
    id              TEXT PRIMARY KEY,
    trader          TEXT NOT NULL,
    provider        TEXT,
    model           TEXT,
    trigger_key     TEXT,
    trigger_reason  TEXT,
    valid           BOOLEAN NOT NULL DEFAULT false,
    invalid_reason  TEXT,
    actions_json    TEXT,
    prompt          TEXT,
    raw_response    TEXT,
    latency_ms      BIGINT,
    tokens_in       BIGINT,
    tokens_out      BIGINT,
    cost            DOUBLE PRECISION,
    created_ms      BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_trader_created ON decisions (trader, created_ms);

CREATE TABLE IF NOT EXISTS risk_verdicts (
    id          TEXT PRIMARY KEY,
    intent_id   TEXT NOT NULL,
    rule        TEXT NOT NULL,
    allowed     BOOLEAN NOT NULL,
    reason      TEXT,
    created_ms  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS risk_verdicts_intent ON risk_verdicts (intent_id);

CREATE TABLE IF NOT EXISTS news (
    id            TEXT PRIMARY KEY,
    feed          TEXT NOT NULL,
    title         TEXT NOT NULL,
    url           TEXT,
    summary       TEXT,
    symbols       TEXT,
    published_ms  BIGINT,
    score         DOUBLE PRECISION,
    fetched_ms    BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS sentiment (
    feed        TEXT NOT NULL,
    as_of_ms    BIGINT NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    label       TEXT,
    PRIMARY KEY (feed, as_of_ms)
);

CREATE TABLE IF NOT EXISTS audit_log (
    id          TEXT PRIMARY KEY,          -- engine-made, unique: replays are idempotent
    ts_ms       BIGINT NOT NULL,
    instance    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL,
    data_json   TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log (ts_ms);
