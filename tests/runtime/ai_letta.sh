#!/usr/bin/env bash
# ai_letta in the real engine against okx-sim (a demo account) and the fake
# Letta server (tests/fake_letta/fake_letta.py):
#  - its keys are described and check-config refuses bad ones at their line;
#  - the trader's agent is created once, with the memory files, the trader's
#    system prompt and an empty trade_journal as blocks, on its routed model;
#    its id is stored and a restart finds it again (no second create, even
#    from a malformed stored id);
#  - one message per trigger, carrying the trader's user prompt; the last
#    assistant_message becomes a stored, valid decision and an order filled
#    at okx-sim; its fill is written back to trade_journal (no message);
#  - a memory file edited (and one added) is PATCHed (created and attached)
#    before the next message, unchanged blocks are not sent again;
#  - a 503 and a 429 with Retry-After are retried, a 500 is not (the message
#    may have reached the agent: never sent twice); a secured server with a
#    wrong key gives invalid decisions saying why, with the right key valid
#    ones, and neither key is ever logged (nor kept in the fake's log).
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

"$AITRADER" plugins --describe letta >describe.out 2>&1 || true
for k in base_url api_key model embedding models agent_prefix memory_dir block_limit \
  journal_limit timeout price_in price_out max_retries proxy max_response max_steps queue_max; do
  check "describe lists $k" grep -q "^ *$k " describe.out
done

# --- check-config: one bad key per section, each at its line -------------------------
cat >bad.ini <<EOF
[core]
plugin_dir = $TEST_PLUGINS
[ai.a]
module = letta
model = openai/gpt-4o-mini
models = alpha:openai/gpt-4o, beta
[ai.b]
module = letta
base_url = http://localhost:8283/v1
model = openai/gpt-4o-mini
[ai.c]
module = letta
model = gpt-4o-mini
[ai.d]
module = letta
model = openai/gpt-4o-mini
models = alpha:openai/gpt-4o, alpha:deepseek/deepseek-chat
[ai.e]
module = letta
base_url = http://admin:s3cr3t-pw@localhost:8283
model = openai/gpt-4o-mini
[ai.f]
module = letta
EOF
rc=0; "$AITRADER" check-config -c bad.ini >bad.out 2>&1 || rc=$?
check "check-config refuses (exit 2)" [ "$rc" = 2 ]
check "a models entry without a handle" contains bad.out "bad.ini:6: [ai.a] models: 'beta' is not trader:handle"
check "a base_url ending in /v1" contains bad.out "bad.ini:9: [ai.b] base_url: give the API root without /v1"
check "a model that is no handle" contains bad.out "bad.ini:13: [ai.c] model: expected a Letta model handle provider/model"
check "a trader routed twice" contains bad.out "bad.ini:17: [ai.d] models: trader 'alpha' is routed twice"
check "credentials in base_url" contains bad.out "bad.ini:20: [ai.e] base_url: credentials do not go in the URL"
check "a missing model" contains bad.out "[ai.f] model:"
check "no password echoed" lacks bad.out "s3cr3t-pw"

# --- the fake Letta servers: open, and secured -----------------------------------------
fake_start() { # fake_start NAME [ARGS]: sets the variable NAME to its URL
  python3 "$AT_SOURCE_DIR/tests/fake_letta/fake_letta.py" --port 0 "${@:2}" >"$1.out" 2>"$1.err" &
  RT_PIDS+=("$!")
  wait_log "$1.out" "http://127.0.0.1:"
  printf -v "$1" '%s' "$(head -1 "$1.out")"
}
fake_start LETTA
PASS=letta-pass-0123456789
fake_start SECURE --password "$PASS"
export AT_TEST_LETTA_WRONG=wrong-key-9876543210 AT_TEST_LETTA_PASS=$PASS
# the secured server's trader only holds: no orders beside alpha's
curl -s -X POST "$SECURE/_script" -d '[{"case": "hold", "repeat": 20}]' >/dev/null
flog() { curl -s "$LETTA/_log" >flog.json; }
fagents() { curl -s "$LETTA/_agents" >fagents.json; }
freset() { curl -s -X POST "$LETTA/_reset" -d '{}' >/dev/null; }
fscript() { curl -s -X POST "$LETTA/_script" -d "$1" >/dev/null; }
# froutes: the routes the fake got for alpha's agent and by name, in order
froutes() { flog && j flog.json '" ".join(r["route"] + ("/" + r["label"] if r.get("label") else "") for r in d)'; }

mkdir mem && cp "$AT_SOURCE_DIR"/prompts/letta/*.md mem/
check "three memory files ship in prompts/letta" [ "$(ls mem | tr '\n' ' ')" = "output_spec.md risk_red_lines.md strategy_principles.md " ]

sim_up 31 dk:demo-secret-1:dp:long_short_mode:10000
export DK=dk DS=demo-secret-1 DP=dp
SIMAUTH=(dk demo-secret-1 dp -H "x-simulated-trading: 1")
{
  ini_core "mode = paper"
  ini_okx okx_demo demo DK DS DP "instruments = BTC-USDT-SWAP, ETH-USDT-SWAP" "candles ="
  printf '[risk.universe]\nmodule = script\nreject_instruments = SOL-USDT-SWAP\n'
  cat <<EOF
[ai.letta]
base_url = $LETTA/
model = openai/gpt-4o-mini
models = alpha:openai/gpt-4o, other:deepseek/deepseek-chat
memory_dir = $RT_TMP/mem
price_in = 2.5
price_out = 10
max_retries = 3
[ai.sec]
module = letta
base_url = $SECURE
api_key = env:AT_TEST_LETTA_WRONG
model = openai/gpt-4o-mini
memory_dir = $RT_TMP/mem
[ai.sec2]
module = letta
base_url = $SECURE
api_key = env:AT_TEST_LETTA_PASS
model = openai/gpt-4o-mini
memory_dir = $RT_TMP/mem
[trader.alpha]
ai = ai.letta
account = exchange.okx_demo
symbols = BTC-USDT-SWAP, ETH-USDT-SWAP
long_period = 60m
max_calls_hour = 0
max_calls_day = 0
max_leverage = 10
max_size_pct = 0.2
[trader.sec]
ai = ai.sec
account = exchange.okx_demo
symbols = BTC-USDT-SWAP
long_period = 60m
retry = false
[trader.sec2]
ai = ai.sec2
account = exchange.okx_demo
symbols = BTC-USDT-SWAP
long_period = 60m
retry = false
[ui.dashboard]
port = 0
EOF
} >engine.ini
RC=0; "$AITRADER" check-config -c engine.ini >check.out 2>&1 || RC=$?
check "the test's config is valid" [ "$RC" = 0 ]

RUNS=0
up() { # the engine started (its output in engine.out, the earlier ones kept), its dashboard read
  RUNS=$((RUNS + 1))
  [ -f engine.out ] && mv engine.out "engine-$RUNS.out"
  engine_start
  wait_log engine.out "ui.dashboard: state up" 20
  local line
  line=$(grep '^dashboard: http' engine.out | tail -1)
  API=$(sed -n 's|^dashboard: \(http://127.0.0.1:[0-9]*\)/#token=.*|\1|p' <<<"$line")
  TOKEN=$(sed -n 's|^dashboard: http://127.0.0.1:[0-9]*/#token=\(.*\)|\1|p' <<<"$line")
}
ndec() { q "SELECT count(*) FROM decisions WHERE trader='$1'"; }
run_asked() { [ "$(curl -s -o run.json -w '%{http_code}' -X POST "$API/api/traders/$1/run" -H "Authorization: Bearer $TOKEN")" = 200 ]; }
run() { # run TRADER: a manual run, and its decision stored
  local n; n=$(ndec "$1")
  wait_until 20 "trader $1 to take a manual run" run_asked "$1" && wait_eq 30 $((n + 1)) ndec "$1"
}
last() { q "SELECT $1 FROM decisions WHERE trader='alpha' ORDER BY created_ms DESC LIMIT 1"; }

# --- first start: the agent is created, one message, a decision, an order -------------
up
check "the provider says where and what" contains engine.out \
  "ai.letta: Letta at $LETTA, model openai/gpt-4o-mini (routed per trader: models), agents aitrader-<trader>, 3 memory files in $RT_TMP/mem"
check "alpha decided at the start" wait_eq 30 1 ndec alpha
K=$(last id)
first3() { froutes | cut -d' ' -f1-3; }
check "looked up by name, created, one message" wait_eq 10 "list create messages" first3
flog
check "created once, named after the trader, on its routed model" \
  [ "$(j flog.json '[(r["body"]["name"], r["body"]["model"]) for r in d if r["route"] == "create"]')" = "[('aitrader-alpha', 'openai/gpt-4o')]" ]
check "found by its name first" [ "$(j flog.json 'd[0]["path"] + "?" + d[0]["query"]')" = "/v1/agents/?name=aitrader-alpha" ]
check "with the memory files, the system prompt and the journal as read-only blocks" \
  [ "$(j flog.json '[(b["label"], b["read_only"]) for r in d if r["route"] == "create" for b in r["body"]["memory_blocks"]]')" = "[('output_spec', True), ('risk_red_lines', True), ('strategy_principles', True), ('aitrader_system', True), ('trade_journal', True)]" ]
check "each file's block holds the file" python3 - "$RT_TMP" <<'PY'
import json, sys
d = json.load(open("flog.json"))
blocks = {b["label"]: b["value"] for r in d if r["route"] == "create" for b in r["body"]["memory_blocks"]}
for name in ("output_spec", "risk_red_lines", "strategy_principles"):
    assert blocks[name] == open(sys.argv[1] + "/mem/" + name + ".md").read(), name
PY
check "the system block is the trader's rendered system prompt" python3 - "$DB" "$K" <<'PY'
import json, sqlite3, sys
sysp, = sqlite3.connect(sys.argv[1]).execute("SELECT system_prompt FROM decisions WHERE id=?", (sys.argv[2],)).fetchone()
d = json.load(open("flog.json"))
b = [b for r in d if r["route"] == "create" for b in r["body"]["memory_blocks"] if b["label"] == "aitrader_system"]
assert b[0]["value"] == sysp and "Answer with one JSON object" in sysp, b
PY
check "the message is the trader's user prompt, one user message, max_steps 8" python3 - "$DB" "$K" <<'PY'
import json, sqlite3, sys
user, = sqlite3.connect(sys.argv[1]).execute("SELECT prompt FROM decisions WHERE id=?", (sys.argv[2],)).fetchone()
d = json.load(open("flog.json"))
m = [r for r in d if r["route"] == "messages"]
assert len(m) == 1 and m[0]["body"] == {"messages": [{"role": "user", "content": user}], "max_steps": 8}, m
assert "BTC-USDT-SWAP" in user
PY
check "no Authorization to a server without a password" [ "$(j flog.json '[r for r in d if "authorization" in r["headers"]]')" = "[]" ]
AGENT=$(j flog.json '[r["agent"] for r in d if r["route"] == "create"][0]')
check "the agent id is stored" qeq "SELECT agent_id, agent_name, base_url, model FROM ai_agents WHERE provider='ai.letta' AND trader='alpha'" "$AGENT|aitrader-alpha|$LETTA|openai/gpt-4o"
check "the decision is the assistant message, valid" qeq "SELECT valid, provider, model, json_extract(actions_json, '\$.decisions[0].action') FROM decisions WHERE id='$K'" "1|ai.letta|openai/gpt-4o|open_long"
check "stored as it came, with the agent's reasoning" qeq "SELECT json_extract(raw_response, '\$.decisions[0].reason'), reasoning FROM decisions WHERE id='$K'" \
  "fake letta: momentum with the memory's principles|The memory says: trade with the trend, respect the red lines."
check "tokens from usage, cost from the prices" python3 - "$DB" "$K" <<'PY'
import sqlite3, sys
tin, tout, cost, fin = sqlite3.connect(sys.argv[1]).execute("SELECT tokens_in, tokens_out, cost, finish_reason FROM decisions WHERE id=?", (sys.argv[2],)).fetchone()
assert tin > 10 and tout == 120 and fin == "stop", (tin, tout, fin)
assert abs(cost - (tin * 2.5 + tout * 10) / 1e6) < 1e-12, cost
PY
CL=$(q "SELECT json_extract(intents_json, '\$[0].cl_ord_id') FROM decisions WHERE id='$K'")
check "its entry became an order" qeq "SELECT origin, decision_id FROM orders WHERE cl_ord_id='$CL'" "alpha|$K"
check "filled at okx-sim" wait_until 10 "order $CL filled" sim_order_is BTC-USDT-SWAP "$CL" filled "${SIMAUTH[@]}"
journal() { fagents && j fagents.json '[b["value"] for a in d if a["name"] == "aitrader-alpha" for b in a["blocks"] if b["label"] == "trade_journal"][0]'; }
has_fill() { journal | grep -qE "decision $K: open_long BTC-USDT-SWAP 0.05 x2: filled [0-9.]+ contracts @ [0-9.]+, fee -[0-9.]+ USDT"; }
check "the fill is written back to trade_journal, with price and fee" wait_until 10 "the journal entry" has_fill
no_placeholder() { ! journal | grep -q "no outcomes yet"; }
check "replacing the empty journal's placeholder" no_placeholder
check "the journal was read, then PATCHed, after the message and without another" \
  wait_eq 10 "list create messages block_get/trade_journal block_patch/trade_journal" froutes
check "no request to the agent overlapped another" python3 - <<'PY'
import json
d = sorted((r for r in json.load(open("flog.json")) if r["agent"]), key=lambda r: r["t0"])
for a, b in zip(d, d[1:]):
    assert a["t1"] <= b["t0"], (a["route"], b["route"])
assert all(r["status"] != 409 for r in d)
PY
SK=$(q "SELECT id FROM decisions WHERE trader='sec'")
check "secured server, wrong key: the decision is invalid, saying why" \
  qeq "SELECT valid, invalid_reason FROM decisions WHERE trader='sec'" "0|provider error: finding the agent: HTTP 401: Unauthorized"
check "secured server, right key: the decision is valid" wait_eq 30 1 q "SELECT valid FROM decisions WHERE trader='sec2'"
curl -s "$SECURE/_log" >slog.json
check "each key was sent as a bearer, the wrong one refused, the right one taken" \
  [ "$(j slog.json 'sorted(set((r["headers"].get("authorization"), r["auth_ok"]) for r in d))')" = "[('Bearer ***', False), ('Bearer ***', True)]" ]
check "the fake keeps neither key in its log" lacks slog.json "$PASS"
check "nor the wrong one" lacks slog.json "$AT_TEST_LETTA_WRONG"

# --- an edited memory file is PATCHed before the next message ---------------------------
freset
echo "- Never hold a position through a funding payment against it above 0.1 %." >>mem/risk_red_lines.md
printf 'BTC: range-bound between 88k and 95k.\n' >mem/market_regime.md
fscript '[{"case": "hold"}]'
check "a manual run decides" run alpha
check "the new file's block created and attached, the edited one PATCHed, then one message" \
  wait_eq 10 "block_create attach block_patch/risk_red_lines messages" froutes
check "the PATCH holds the file as it is now" python3 - "$RT_TMP" <<'PY'
import json, sys
d = json.load(open("flog.json"))
assert d[0]["body"]["label"] == "market_regime" and d[0]["body"]["value"].startswith("BTC: range"), d[0]
assert d[0]["body"]["read_only"] is True, d[0]
assert d[1]["path"] == "/v1/agents/%s/core-memory/blocks/attach/%s" % (d[1]["agent"], d[0]["block"]), d[1]["path"]
assert d[2]["body"] == {"value": open(sys.argv[1] + "/mem/risk_red_lines.md").read(), "limit": 20000}, d[2]["body"]
assert d[2]["path"] == "/v1/agents/%s/core-memory/blocks/risk_red_lines" % d[2]["agent"], d[2]["path"]
PY
check "the agent has the new block" [ "$(fagents && j fagents.json '[b["value"] for a in d for b in a["blocks"] if b["label"] == "market_regime"]')" = "['BTC: range-bound between 88k and 95k.\n']" ]
check "the hold is a valid decision" qeq "SELECT valid, json_extract(actions_json, '\$.decisions[0].action') FROM decisions WHERE id='$(last id)'" "1|hold"

# --- 503 and 429 with Retry-After: retried; a 500: not (a message is never sent twice) ---
freset
fscript '[{"case": "overloaded", "headers": {"Retry-After": "1"}}, {"case": "rate_limited"}, {"case": "hold"}]'
check "a manual run decides through a 503 and a 429, each with Retry-After" run alpha
check "the message was sent three times, nothing else" wait_eq 10 "messages messages messages" froutes
check "answered 503, 429, 200" [ "$(j flog.json '[r["status"] for r in d]')" = "[503, 429, 200]" ]
check "each retry waited the Retry-After (1 s)" python3 -c "import json; d=json.load(open('flog.json')); assert d[1]['t0'] - d[0]['t1'] >= 0.95 and d[2]['t0'] - d[1]['t1'] >= 0.95, d"
check "valid" qeq "SELECT valid FROM decisions WHERE id='$(last id)'" 1
check "the retries are logged" grep -qE "ai.letta: .*: attempt 1 failed \(HTTP 503: Service Unavailable\), retrying in 1000 ms" engine.out
check "with the wait asked" grep -qE "ai.letta: .*: attempt 2 failed \(HTTP 429: Rate limit exceeded\), retrying in 1000 ms" engine.out
check "one message per trigger: messages = decisions of alpha" [ "$(curl -s "$LETTA/_agents" | j /dev/stdin '[a["messages_received"] for a in d]')" = "[$(ndec alpha)]" ]
freset
fscript '[{"case": "server_error"}]'
check "a manual run after a 500 decides" run alpha
check "the message was sent once" wait_eq 10 "messages" froutes
check "the decision is invalid, saying why it was not sent again" \
  qeq "SELECT valid, invalid_reason FROM decisions WHERE id='$(last id)'" "0|provider error: sending the message: HTTP 500: Internal Server Error; not retried: it may have reached the server"
engine_stop

# --- a restart finds the stored agent -----------------------------------------------------
freset
fscript '[{"case": "hold"}]'
up
check "a manual run after the restart" run alpha
# after_restart FIRST: the routes start with FIRST, one message, no agent
# created, no block PATCHed (the venue's replayed fill is in the journal already)
after_restart() {
  froutes >routes.txt && grep -q "^$1 " routes.txt && [ "$(grep -o messages routes.txt | wc -l)" = 1 ] &&
    ! grep -qE "create|block_patch" routes.txt && ! grep -q "^$1 .*list" routes.txt
}
wait_restart() { wait_until 10 "the routes after the restart" after_restart "$1" || { echo "routes: $(cat routes.txt)" >&2; false; }; }
check "the stored agent is checked, not created again; nothing changed, nothing PATCHed" \
  wait_restart get
check "by its id" [ "$(j flog.json 'd[0]["path"]')" = "/v1/agents/$AGENT" ]
check "the fill is in the journal once" [ "$(journal | grep -c "decision $K: open_long")" = 1 ]
engine_stop
freset
sqlite3 "$DB" "UPDATE ai_agents SET agent_id = 'agent-not-a-uuid' WHERE trader = 'alpha'"
fscript '[{"case": "hold"}]'
up
check "a malformed stored id (422) is found again by name" run alpha
check "not created" wait_restart "get list"
check "the right id is stored again" qeq "SELECT agent_id FROM ai_agents WHERE trader='alpha'" "$AGENT"
check "one agent on the server" [ "$(fagents && j fagents.json 'len(d)')" = 1 ]
engine_stop
cat engine-*.out engine.out LETTA.out LETTA.err SECURE.out SECURE.err >all.out
curl -s "$SECURE/_log" >>all.out
check "the keys are never logged" lacks all.out "$AT_TEST_LETTA_WRONG"
check "nor the server's password, which was used" lacks all.out "$PASS"
check "(the right key's calls were answered)" [ "$(q "SELECT count(*) FROM decisions WHERE trader='sec2' AND valid=1")" -ge 1 ]
rt_finish
