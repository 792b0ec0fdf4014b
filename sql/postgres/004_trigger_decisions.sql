-- aitrader schema v4 (PostgreSQL): the decision that answered a trigger. Same
-- columns and meaning as sql/sqlite/004_trigger_decisions.sql. The scheduler
-- writes them when the DECISION with the trigger's key arrives; at start it
-- reads them back for the cooldown (from the last decision) and the daily cost
-- budget (max_cost_day).
ALTER TABLE triggers ADD COLUMN IF NOT EXISTS decided_ms BIGINT;            -- time of the answering DECISION
ALTER TABLE triggers ADD COLUMN IF NOT EXISTS decision_id TEXT;             -- decisions.id of it
ALTER TABLE triggers ADD COLUMN IF NOT EXISTS cost_usd DOUBLE PRECISION;    -- what the call cost (summed)
