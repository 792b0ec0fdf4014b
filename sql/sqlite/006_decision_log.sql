-- aitrader schema v6 (SQLite): the decision log. Same columns and meaning as
-- sql/postgres/006_decision_log.sql. A trader writes one `decisions` row per
-- decision (id = the trigger's key), valid or not; `prompt` holds the user
-- prompt of the last attempt, `raw_response` its answer as it came. The
-- orders a decision produced are found by orders.decision_id (= decisions.id)
-- and their intent ids are listed in intents_json.
ALTER TABLE decisions ADD COLUMN prompt_hash TEXT;     -- SHA-256 hex of the system and user templates
ALTER TABLE decisions ADD COLUMN system_prompt TEXT;   -- the rendered system prompt
ALTER TABLE decisions ADD COLUMN reasoning TEXT;       -- reasoning the model gave apart (reasoning_content)
ALTER TABLE decisions ADD COLUMN validation TEXT;      -- "ok", "ok (stripped: code fence)", or why invalid
ALTER TABLE decisions ADD COLUMN prompt_tokens INTEGER; -- estimate of system + user (core/trading/prompt.h)
ALTER TABLE decisions ADD COLUMN finish_reason TEXT;   -- stop | length | …
ALTER TABLE decisions ADD COLUMN provider_error TEXT;  -- the provider's error when no answer came
ALTER TABLE decisions ADD COLUMN refusal TEXT;         -- the model's refusal, if any
ALTER TABLE decisions ADD COLUMN attempts INTEGER;     -- 1, or 2 after a retry
ALTER TABLE decisions ADD COLUMN first_response TEXT;  -- the first answer, when it was retried
ALTER TABLE decisions ADD COLUMN first_error TEXT;     -- why the first answer was invalid
ALTER TABLE decisions ADD COLUMN intents_json TEXT;    -- per item: intent id, clOrdId, size, TP/SL, or why none
ALTER TABLE decisions ADD COLUMN deadline_ms INTEGER;  -- core-clock time the answer was due
