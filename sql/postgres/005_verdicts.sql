-- aitrader schema v5 (PostgreSQL): what each risk verdict decided. Same
-- columns and meaning as sql/sqlite/005_verdicts.sql. The executor (the one
-- gate for orders) writes one row per rule and intent, id = intent_id/rule.
ALTER TABLE risk_verdicts ADD COLUMN IF NOT EXISTS verdict TEXT;     -- approve | resize | reject
ALTER TABLE risk_verdicts ADD COLUMN IF NOT EXISTS sz NUMERIC;       -- contracts after this rule
ALTER TABLE risk_verdicts ADD COLUMN IF NOT EXISTS rule_name TEXT;   -- the plugin's own name for the rule
