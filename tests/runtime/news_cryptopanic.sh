#!/usr/bin/env bash
# source_cryptopanic in the real engine against a fake CryptoPanic (the posts
# answer as the developer v2 API gives it, served by tests/fake_feeds): the
# token goes in the query and never into the log; posts are stored once,
# with their source's name, their currencies and the article's own URL
# (original_url), oldest first, published as NEWS; a story an RSS feed of
# the same engine carried first is not stored again (cross-source dedup,
# live); a restart publishes nothing twice; 429 honours Retry-After; a
# refused token (401) is said and asked again an hour later; an error
# answer ({"status": …, "info": …}) is refused with its text.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh" # DB, q, engine_start/engine_stop
mkdir -p srv data
NOW=$(date -u +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
cat >posts.json <<EOF2
{"count": 4, "next": null, "previous": null, "results": [
 {"kind": "news", "domain": "coindesk.com",
  "source": {"title": "CoinDesk", "region": "en", "domain": "coindesk.com", "path": null},
  "title": "Exchange hacked, withdrawals halted", "published_at": "$(iso $((NOW - 60)))",
  "slug": "exchange-hacked", "id": 4,
  "instruments": [{"code": "BTC", "title": "Bitcoin"}, {"code": "ETH", "title": "Ethereum"}],
  "votes": {"negative": 12, "positive": 0, "important": 9, "liked": 0, "disliked": 3, "lol": 0,
            "toxic": 0, "saved": 1, "comments": 2},
  "url": "https://cryptopanic.com/news/4/exchange-hacked",
  "original_url": "https://www.coindesk.com/markets/exchange-hacked/?utm_source=cp"},
 {"kind": "news", "domain": "decrypt.co", "source": {"title": "Decrypt", "domain": "decrypt.co"},
  "title": "Solana <b>rallies</b> &amp; leads", "description": "SOL up 12% on the week.",
  "published_at": "$(iso $((NOW - 120)))", "id": 3,
  "currencies": [{"code": "SOL", "title": "Solana"}, {"code": "bad code"}],
  "url": "https://cryptopanic.com/news/3/solana"},
 {"kind": "news", "source": {"title": "Feed One"}, "title": "Bitcoin surges to a record high",
  "published_at": "$(iso $((NOW - 180)))", "id": 2,
  "original_url": "@FURL@/story/btc-record"},
 {"kind": "news", "title": "", "id": 1},
 "not a post"]}
EOF2
python3 "$AT_SOURCE_DIR/tests/fake_feeds/fake_feeds.py" --dir srv >srv.out 2>srv.err &
RT_PIDS+=("$!")
wait_log srv.out "http://127.0.0.1:" 10
FURL=$(head -1 srv.out)
sed -i "s|@FURL@|$FURL|" posts.json
# the RSS feed carries the "record high" story first, under the same URL
# (the posts are served only once the RSS feed's item is stored)
cat >srv/a.xml <<EOF2
<?xml version="1.0"?><rss version="2.0"><channel><title>Feed One</title>
<item><title>Bitcoin surges to a record high</title><link>$FURL/story/btc-record</link>
<pubDate>$(date -u -R -d "@$((NOW - 200))")</pubDate></item></channel></rss>
EOF2
export CP_TOKEN=cp0123456789abcdef0123456789secret
cat >engine.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
[storage.sqlite]
path = $RT_TMP/data/engine.db
[source.news]
module = rss
feeds = $FURL/a.xml
interval = 60s
[source.panic]
module = cryptopanic
token = env:CP_TOKEN
url = $FURL/posts.json
currencies = BTC, ETH, SOL
interval = 2s
[source.driver]
log_file = $RT_TMP/events.log
EOF2

check "check-config accepts it" "$AITRADER" check-config -c engine.ini
engine_start
check "it says what it asks for" wait_log engine.out "source.panic: asking for news posts (regions en, currencies BTC …) every 2 s" 20
check "a 404 (no posts yet) is backed off" wait_log engine.out "source.panic: HTTP 404; asked again in 2 s" 10
check "the RSS story is stored first" wait_log engine.out "source.news: 127.0.0.1:${FURL##*:}/a.xml: 1 new item" 10
mv posts.json srv/posts.json
check "two new posts, one seen in the RSS feed" wait_log engine.out "source.panic: 2 new posts, 1 seen before, 0 older than max_age; some left out (no title)" 15
asked() {
  curl -s "$FURL/_log" | python3 -c '
import json, sys
l = [r["path"] for r in json.load(sys.stdin) if r["path"].startswith("/posts.json")]
q = l[0].split("?", 1)[1].split("&") if l else []
sys.exit(0 if "auth_token=cp0123456789abcdef0123456789secret" in q and "public=true" in q
         and "kind=news" in q and "regions=en" in q and "currencies=BTC,ETH,SOL" in q else 1)'
}
check "the request carries the token, public, kind, regions, currencies" asked
nnews() { q "SELECT count(*) FROM news"; }
check "3 stories stored, each once" wait_eq 10 3 nnews
check "the hack under its source's name, its currencies, the article's URL" [ "$(q "SELECT feed, symbols, url FROM news WHERE title = 'Exchange hacked, withdrawals halted'")" = "CoinDesk|BTC,ETH|https://www.coindesk.com/markets/exchange-hacked/?utm_source=cp" ]
check "the Solana post made plain, its bad code left out, summary kept" [ "$(q "SELECT title, symbols, summary FROM news WHERE feed = 'Decrypt'")" = "Solana rallies & leads|SOL|SOL up 12% on the week." ]
check "stored by the source that read it" [ "$(q "SELECT group_concat(source) FROM (SELECT source FROM news ORDER BY published_ms)")" = "source.news,source.panic,source.panic" ]
check "the hack scores negative, its impact half its strength (no LLM judged it)" [ "$(q "SELECT score < -0.3 AND abs(impact - 0.5 * abs(score)) < 1e-9 FROM news WHERE feed = 'CoinDesk'")" = 1 ]
check "NEWS published oldest first" wait_until 5 "3 NEWS" sh -c "[ \$(grep -c '^NEWS ' events.log) = 3 ]"
check "the token is never in the log" lacks engine.out "$CP_TOKEN"

# 429 with Retry-After, then a refused token, then an error answer
curl -s -X POST "$FURL/_script" -d '{"path": "/posts.json", "status": 429, "headers": {"Retry-After": "5"}, "times": 1}' >/dev/null
check "a 429 waits as the server asks" wait_log engine.out "source.panic: HTTP 429 (rate limited: the plan's limit or quota); asked again in 5 s" 10
check "then answers again" wait_log engine.out "source.panic: answers again after 1 failed attempt" 15
curl -s -X POST "$FURL/_script" -d '{"path": "/posts.json", "status": 401, "body": "{\"status\": \"Incomplete\", \"info\": \"Token not found\"}", "times": 1}' >/dev/null
check "a refused token is said, asked again in an hour" wait_log engine.out "source.panic: HTTP 401: the token is refused (the API says: Token not found); asked again in 3600 s" 10
engine_stop

# restart: nothing twice; an error answer refused with its text
curl -s -X POST "$FURL/_reset" -d '{}' >/dev/null
curl -s -X POST "$FURL/_script" -d '{"path": "/posts.json", "status": 200, "body": "{\"status\": \"Incomplete\", \"info\": \"API quota exceeded\"}", "times": 1}' >/dev/null
: >events.log
engine_start
check "an error answer is refused with its text" wait_log engine.out "source.panic: an answer that cannot be read: the API says: API quota exceeded" 15
check "after a restart: 0 new posts, all seen before" wait_log engine.out "source.panic: 0 new posts, 3 seen before" 20
check "still 3 stories" [ "$(nnews)" = 3 ]
check "no NEWS again" [ "$(grep -c '^NEWS ' events.log || true)" = 0 ]
check "the token never in the log" lacks engine.out "$CP_TOKEN"
engine_stop
rt_finish
