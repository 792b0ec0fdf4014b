-- aitrader schema v10 (SQLite): the agent an AI provider with memory keeps
-- for each trader (plugins/ai_letta: one Letta agent per trader). Same table
-- and meaning as sql/postgres/010_ai_agents.sql. Written when the agent is
-- found by name or created, read at the trader's first call after a start
-- so the same agent (and its memory) is used again; a row of another server
-- (base_url) is ignored and replaced.
CREATE TABLE IF NOT EXISTS ai_agents (
    provider    TEXT NOT NULL,             -- the AI instance: ai.letta
    trader      TEXT NOT NULL,             -- trader name without "trader.": alpha
    agent_id    TEXT NOT NULL,             -- the server's id: agent-6f1c2d0e-…
    agent_name  TEXT NOT NULL,             -- aitrader-alpha
    base_url    TEXT NOT NULL,             -- the server it lives on
    model       TEXT,                      -- its model handle: openai/gpt-4o-mini
    created_ms  INTEGER NOT NULL,          -- core-clock time of the first row
    updated_ms  INTEGER NOT NULL,          -- of the last change
    PRIMARY KEY (provider, trader)
);
