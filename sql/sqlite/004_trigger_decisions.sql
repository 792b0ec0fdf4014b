-- aitrader schema v4 (SQLite): the decision that answered a trigger. Same
-- columns and meaning as sql/postgres/004_trigger_decisions.sql. The scheduler
-- writes them when the DECISION with the trigger's key arrives; at start it
-- reads them back for the cooldown (from the last decision) and the daily cost
-- budget (max_cost_day).
ALTER TABLE triggers ADD COLUMN decided_ms INTEGER;   -- core-clock time of the answering DECISION
ALTER TABLE triggers ADD COLUMN decision_id TEXT;     -- decisions.id of it
ALTER TABLE triggers ADD COLUMN cost_usd REAL;        -- what the call cost (summed over answers)
