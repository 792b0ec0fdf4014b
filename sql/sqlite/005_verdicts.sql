-- aitrader schema v5 (SQLite): what each risk verdict decided. Same columns
-- and meaning as sql/postgres/005_verdicts.sql. The executor (the one gate
-- for orders) writes one row per rule and intent, id = intent_id/rule.
ALTER TABLE risk_verdicts ADD COLUMN verdict TEXT;     -- approve | resize | reject
ALTER TABLE risk_verdicts ADD COLUMN sz TEXT;          -- contracts after this rule
ALTER TABLE risk_verdicts ADD COLUMN rule_name TEXT;   -- the plugin's own name for the rule that decided
