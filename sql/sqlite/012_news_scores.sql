-- aitrader schema v12 (SQLite): what a news item may do to prices.
-- Same columns and meaning as sql/postgres/012_news_scores.sql.
--   impact     0..1: an LLM scorer's judgement of how much the item may move
--              its coins' prices, else half the lexicon score's strength;
--              a trader's scheduler calls its AI on a fresh item about its
--              coins whose impact reaches its news_impact
--   llm_score  -1..1: the LLM scorer's sentiment (NULL: not scored by one)
--   scorer     the [ai.*] instance that scored it (NULL: the lexicon only)
--   source     the instance that stored it ("source.news")
ALTER TABLE news ADD COLUMN impact REAL;
ALTER TABLE news ADD COLUMN llm_score REAL;
ALTER TABLE news ADD COLUMN scorer TEXT;
ALTER TABLE news ADD COLUMN source TEXT;
CREATE INDEX IF NOT EXISTS news_published ON news (published_ms);
-- the sources read back what they fetched lately at start
CREATE INDEX IF NOT EXISTS news_fetched ON news (fetched_ms);
