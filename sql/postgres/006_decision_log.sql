-- aitrader schema v6 (PostgreSQL): the decision log. Same columns and meaning as
-- sql/sqlite/006_decision_log.sql. A trader writes one `decisions` row per
-- decision (id = the trigger's key), valid or not; `prompt` holds the user
-- prompt of the last attempt, `raw_response` its answer as it came. The
-- orders a decision produced are found by orders.decision_id (= decisions.id)
-- and their intent ids are listed in intents_json.
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS prompt_hash TEXT;     -- SHA-256 hex of the system and user templates
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS system_prompt TEXT;   -- the rendered system prompt
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS reasoning TEXT;       -- reasoning the model gave apart (reasoning_content)
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS validation TEXT;      -- "ok", "ok (stripped: code fence)", or why invalid
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS prompt_tokens BIGINT; -- estimate of system + user (core/trading/prompt.h)
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS finish_reason TEXT;   -- stop | length | …
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS provider_error TEXT;  -- the provider's error when no answer came
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS refusal TEXT;         -- the model's refusal, if any
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS attempts BIGINT;     -- 1, or 2 after a retry
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS first_response TEXT;  -- the first answer, when it was retried
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS first_error TEXT;     -- why the first answer was invalid
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS intents_json TEXT;    -- per item: intent id, clOrdId, size, TP/SL, or why none
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS deadline_ms BIGINT;  -- core-clock time the answer was due
