#!/usr/bin/env bash
# News into the decision, in the real engine: an RSS source with an LLM
# scorer (ai_openai against tests/fake_llm) scores each new item once, the
# answer stored with the item (llm_score, impact, scorer) and published on
# NEWS; an answer that is not the format is kept in audit_log with the
# reason and the item goes out with the lexicon's score; a fresh headline
# about the trader's coin whose impact reaches its news_impact triggers an
# AI call (the trigger names the headline), and the prompt carries the
# headline with its scores within news_tokens; a calm or stale headline
# triggers nothing; an item is never scored twice (a restart reads it back),
# and after a restart the prompt shows the headlines stored before it.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"
sim_start sim.out --seed 7
WS=${URL/http:/ws:}/ws/v5
mkdir -p srv data
NOW=$(date -u +%s)
rfc() { date -u -R -d "@$1"; }
item() { # title link age_s
  printf '<item><title>%s</title><link>https://coins.example/%s</link><pubDate>%s</pubDate></item>\n' "$1" "$2" "$(rfc $((NOW - $3)))"
}
feed() { { echo '<?xml version="1.0"?><rss version="2.0"><channel><title>Coin Wire</title>'; cat; echo '</channel></rss>'; } >srv/a.xml.new; mv srv/a.xml.new srv/a.xml; }
item "Bitcoin miners meet in Austin" calm 60 | feed
python3 "$AT_SOURCE_DIR/tests/fake_feeds/fake_feeds.py" --dir srv >srv.out 2>srv.err &
RT_PIDS+=("$!")
python3 "$AT_SOURCE_DIR/tests/fake_llm/fake_llm.py" --port 0 >llm.out 2>llm.err &
RT_PIDS+=("$!")
wait_log srv.out "http://127.0.0.1:" 10
wait_log llm.out "http://127.0.0.1:" 10
FURL=$(head -1 srv.out)
LURL=$(head -1 llm.out)
score() { # sentiment impact symbols reason
  printf '{"case": "valid", "content": %s}' "$(python3 -c 'import json,sys; print(json.dumps(json.dumps({"sentiment": float(sys.argv[1]), "impact": float(sys.argv[2]), "symbols": sys.argv[3].split(",") if sys.argv[3] else [], "reason": sys.argv[4]})))' "$@")"
}
: >answers.txt
cat >engine.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
[storage.sqlite]
path = $DB
[exchange.okx_data]
module = okx
rest_url = $URL
ws_public_url = $WS/public
ws_business_url = $WS/business
instruments = BTC
[exchange.paper]
market = exchange.okx_data
rest_url = $URL
instruments = BTC
[ai.stub]
answers_file = $RT_TMP/answers.txt
requests_file = $RT_TMP/requests.txt
[ai.scorer]
module = openai
base_url = $LURL/v1
model = scorer-1
response_format = json_schema
[source.news]
module = rss
feeds = $FURL/a.xml
interval = 1s
scorer = ai.scorer
[trader.alpha]
ai = ai.stub
account = exchange.paper
symbols = BTC-USDT-SWAP
grace = 1s
cooldown = 1s
news_impact = 0.8
news_tokens = 120
[source.driver]
log_file = $RT_TMP/events.log
[ui.dashboard]
port = 0
EOF2
check "check-config accepts it" "$AITRADER" check-config -c engine.ini
engine_start
check "the source says it is scored" wait_log engine.out "source.news: 1 feed every 1 s; 0 items known from before; scored by ai.scorer" 20
check "the first start's call" wait_log engine.out "ai.stub: ai stub request 1: trader alpha id alpha:long:" 20
# a first start's backlog: the lexicon only (the scorer's budget is for what is new)
check "the first start's item is stored" wait_eq 10 1 q "SELECT count(*) FROM news"
check "with the lexicon's score only: impact half its strength" [ "$(q "SELECT llm_score IS NULL, scorer IS NULL, abs(impact - 0.5 * abs(score)) < 1e-9 FROM news")" = "1|1|1" ]
check "and the scorer was not asked" [ "$(curl -s "$LURL/_requests" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ]

# a new item: published at once with the lexicon's score, again with the LLM's
curl -s -X POST "$LURL/_script" -d "[$(score 0.1 0.2 BTC "a sale")]" >/dev/null
{ item "Bitcoin miners sell reserves" sale 10; item "Bitcoin miners meet in Austin" calm 60; } | feed
scored() { q "SELECT llm_score, impact, scorer FROM news WHERE title LIKE 'Bitcoin miners sell%'"; }
check "the new item scored by the LLM, stored with its score" wait_eq 10 "0.1|0.2|ai.scorer" scored
check "its NEWS first with the lexicon's score" wait_until 5 "its first NEWS" grep -q "^NEWS u:[0-9a-f]* feed=Coin Wire symbols=BTC score=[-0-9.]* impact=[0-9.]* llm=nan scorer= published=[0-9]* Bitcoin miners sell" events.log
check "then again with the impact, the LLM's score and the scorer" wait_until 5 "its scored NEWS" grep -q "^NEWS u:[0-9a-f]* feed=Coin Wire symbols=BTC score=[-0-9.]* impact=0.2000 llm=0.1000 scorer=ai.scorer published=[0-9]* Bitcoin miners sell" events.log
asked_schema() {
  curl -s "$LURL/_requests" | python3 -c '
import json, sys
r = json.load(sys.stdin)
b = r[0]["body"]
b = json.loads(b) if isinstance(b, str) else b
rf = b.get("response_format", {})
u = b["messages"][-1]["content"]
sys.exit(0 if rf.get("type") == "json_schema" and "impact" in json.dumps(rf) and "Headline: Bitcoin miners sell reserves" in u else 1)'
}
check "the scorer was asked with the score's JSON schema and the headline" asked_schema

# a hack, published now: scored high impact -> a salient signal -> a call
curl -s -X POST "$LURL/_script" -d "[$(score -0.9 0.95 BTC "an exchange hack"), {\"case\": \"text_around\"}]" >/dev/null
{ item "Exchange hacked, bitcoin withdrawals halted" hack 5; item "Bitcoin miners sell reserves" sale 10; item "Bitcoin miners meet in Austin" calm 60; } | feed
check "the hack's score stored" wait_eq 10 "-0.9|0.95|ai.scorer" sh -c "sqlite3 '$DB' \"SELECT llm_score, impact, scorer FROM news WHERE title LIKE 'Exchange hacked%'\""
check "it triggers a call, naming the headline" wait_until 10 "the news trigger" grep -q 'trader.alpha: trigger alpha:sig:[0-9]*: signal news down 0.95 BTC-USDT-SWAP: "Exchange hacked, bitcoin withdrawals halted"' engine.out
check "the call goes to the AI" wait_log engine.out "ai.stub: ai stub request 2: trader alpha id alpha:sig:" 10
check "the trigger is stored with the headline" qeq "SELECT count(*) FROM triggers WHERE key LIKE 'alpha:sig:%' AND indicators_json LIKE '%\"news_id\":\"u:%' AND indicators_json LIKE '%Exchange hacked%'" 1
# the prompt of that call: the headline with its scores, within news_tokens
python3 - "$RT_TMP/requests.txt" <<'PY' >prompt-news.txt
import sys
text = open(sys.argv[1]).read()
req = text.split("=== request 2 ")[1].split("=== request 3 ")[0]
user = req.split("--- user\n", 1)[1]
start = user.index("News (")
print(user[start:user.index("\n\n", start) + 1], end="")
PY
check "the prompt carries the headline with the LLM's scores" grep -qF "BTC: " prompt-news.txt
check "with its sentiment and impact" grep -qF "[Coin Wire] Exchange hacked, bitcoin withdrawals halted (sentiment -0.90, impact 0.95)" prompt-news.txt
tokens() { # prompt_tokens (core/trading/prompt.c) of a file
  python3 - "$1" <<'PY'
import sys
s = open(sys.argv[1], "rb").read()
n = i = 0
while i < len(s):
    c = s[i]
    if chr(c).isascii() and chr(c).isalpha():
        k = 0
        while i < len(s) and chr(s[i]).isascii() and chr(s[i]).isalpha(): k += 1; i += 1
        n += (k + 3) // 4
    elif 48 <= c <= 57:
        k = 0
        while i < len(s) and 48 <= s[i] <= 57: k += 1; i += 1
        n += (k + 2) // 3
    elif c in b" \n\t\r": i += 1
    elif c < 0x80: n += 1; i += 1
    else:
        n += 1; i += 1
        while i < len(s) and s[i] & 0xC0 == 0x80: i += 1
print(n)
PY
}
check "the news section within news_tokens (120)" [ "$(tokens prompt-news.txt)" -le 120 ]

# an answer that is not the format: kept with the reason, the lexicon's score used
{ item "Ether traders panic as fees spike" eth 3; item "Exchange hacked, bitcoin withdrawals halted" hack 5; item "Bitcoin miners sell reserves" sale 10; item "Bitcoin miners meet in Austin" calm 60; } | feed
check "a refused score is said" wait_log engine.out "source.news: ai.scorer's score of \"Ether traders panic as fees spike\" refused: " 10
check "kept in audit_log with the answer" qeq "SELECT count(*) FROM audit_log WHERE kind = 'news_score_rejected' AND data_json LIKE '%Here is my decision%'" 1
check "the item stored with the lexicon's score only" qeq "SELECT llm_score IS NULL, scorer IS NULL, abs(impact - 0.5 * abs(score)) < 1e-9 FROM news WHERE title LIKE 'Ether traders%'" "1|1|1"
sleep 2 # past the 1 s grace window: a trigger of the ETH item would be out by now
check "ETH news is not the trader's: no call for it" [ "$(grep -c 'ai stub request' engine.out)" = 2 ]
check "the scorer was asked 3 times (once per item)" [ "$(curl -s "$LURL/_requests" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ]
engine_stop

# a restart: every item is known; none is scored again, none triggers
engine_start
check "after a restart the items are known" wait_log engine.out "source.news: 1 feed every 1 s; 4 items known from before; scored by ai.scorer" 20
check "a fetch after the restart: 0 new" wait_log engine.out "source.news: 127.0.0.1:${FURL##*:}/a.xml: 0 new items, 4 seen before" 10
sleep 2 # past the grace window
dash_up 2
check "a manual run after the restart" [ "$(run_now)" = 200 ]
check "its call" wait_log engine.out "ai.stub: ai stub request 1: trader alpha id alpha:manual:" 10
restarted_has() { # the last request's text holds $1
  python3 -c 'import sys; t = open(sys.argv[1]).read(); sys.exit(0 if sys.argv[2] in t.split("=== request ")[-1] else 1)' "$RT_TMP/requests.txt" "$1"
}
check "its prompt shows the headlines stored before the restart" restarted_has "News (sentiment"
check "the hack among them, with its LLM scores" restarted_has "Exchange hacked, bitcoin withdrawals halted (sentiment -0.90, impact 0.95)"
check "nothing scored twice" [ "$(curl -s "$LURL/_requests" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ]
check "and no news trigger again" [ "$(q "SELECT count(*) FROM triggers WHERE key LIKE 'alpha:sig:%'")" = 1 ]
engine_stop
rt_finish
