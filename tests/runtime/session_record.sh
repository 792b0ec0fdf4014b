#!/usr/bin/env bash
# Session recording ([core] record = DIR): the real engine on an okx-sim demo
# account with a stub AI; the session file names the market-frame file the
# exchange instance records, and holds every trigger, AI request (with its
# prompt hash) and answer, decision, intent and risk verdict, each equal to
# what the database stored; a directory that cannot be made refuses the start.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"

sim_up 7 hk:hedge-secret-1:hp:long_short_mode:10000
export HK=hk HS=hedge-secret-1 HP=hp
cat >ans-alpha.txt <<'EOF'
{"decisions": [
 {"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 3,
  "take_profit": 200000, "stop_loss": 10000, "confidence": 0.7, "reason": "breakout"},
 {"symbol": "ETH-USDT-SWAP", "action": "hold"}]}
EOF
ini() { # ini RECORD_DIR
  ini_core "mode = paper" "record = $1"
  ini_okx okx demo HK HS HP "instruments = BTC-USDT-SWAP, ETH-USDT-SWAP" "candles =" \
    "record = $RT_TMP/frames.rec"
  printf '[risk.universe]\nmodule = script\nreject_instruments = SOL-USDT-SWAP\n'  # approves ours
  cat <<EOF
[ai.alpha]
module = stub
answers_file = $RT_TMP/ans-alpha.txt
requests_file = $RT_TMP/req-alpha.txt
[trader.alpha]
ai = ai.alpha
account = exchange.okx
symbols = BTC-USDT-SWAP, ETH-USDT-SWAP
long_period = 60m
EOF
}

# A path under a regular file cannot be a directory: refused at start, said why.
touch notadir
ini "$RT_TMP/notadir/sessions" >engine.ini
RC=0; timeout 30 "$AITRADER" run -c engine.ini >bad.out 2>&1 || RC=$?
check "a record directory that cannot be made stops the start (exit 1)" [ "$RC" = 1 ]
check "saying which and why" contains bad.out "[core] record: cannot create $RT_TMP/notadir/sessions: Not a directory"

ini "$RT_TMP/sessions" >engine.ini
check "check-config accepts record" "$AITRADER" check-config -c engine.ini
engine_start
wait_log engine.out "core: running" 20
K() { q "SELECT id FROM decisions WHERE trader='alpha'"; }
check "the trader decided" wait_eq 30 1 q "SELECT count(*) FROM decisions"
CL=$(q "SELECT json_extract(intents_json, '\$[0].cl_ord_id') FROM decisions")
check "and its entry reached okx-sim" wait_until 10 "order $CL filled" sim_order_is BTC-USDT-SWAP "$CL" filled hk hedge-secret-1 hp -H "x-simulated-trading: 1"
check "its verdicts are stored" wait_eq 10 1 q "SELECT count(*) > 0 FROM risk_verdicts"
check "the fill was told to the provider (a feedback line)" wait_until 10 "feedback line" grep -q '"k":"feedback"' "$RT_TMP"/sessions/session-*.jsonl
check "the log names the session file" contains engine.out "core.recorder: recording this session to $RT_TMP/sessions/session-"
engine_stop

shopt -s nullglob
F=("$RT_TMP"/sessions/session-*.jsonl)
check "one session file" [ "${#F[@]}" = 1 ]
check "private to its owner (0600)" [ "$(stat -c %a "${F[0]}")" = 600 ]
check "the frame file the exchange recorded is not empty" [ -s frames.rec ]
check "the session file holds what the database holds" python3 - "${F[0]}" "$DB" "$RT_TMP" <<'PY'
import hashlib, json, sqlite3, sys
path, db, tmp = sys.argv[1:]
raw = open(path).read().splitlines()
lines = [json.loads(l) for l in raw]
for l, r in zip(lines, raw):  # canonical: sorted keys, compact, ASCII
    assert json.dumps(l, sort_keys=True, separators=(",", ":"), ensure_ascii=True) == r, r[:200]
h = lines[0]
assert h["k"] == "session" and h["format"] == 1, h
assert h["frames"] == {"exchange.okx": tmp + "/frames.rec"}, h["frames"]
assert h["config"].endswith("engine.ini"), h
by = lambda k: [l for l in lines if l["k"] == k]
c = sqlite3.connect(db)
(dec_id, trig, valid, raw_resp, sysp, user) = c.execute(
    "SELECT id, trigger_key, valid, raw_response, system_prompt, prompt FROM decisions").fetchone()
subs = [(x["instance"], x["type"]) for x in by("subscribe")]
# each instance's first subscription to a type, once; the trader's among them
assert subs and len(subs) == len(set(subs)), subs
assert any(i == "trader.alpha" for i, _ in subs), subs
assert all(x["t"] >= h["engine_start"] for x in by("subscribe")), by("subscribe")
tr = by("trigger")
assert [t["key"] for t in tr] == [trig] and tr[0]["trader"] == "alpha", tr
ai = by("ai")
assert len(ai) == 1, ai
a = ai[0]
assert a["id"] == dec_id and a["retry"] == 0 and a["system"] == sysp and a["user"] == user
want = hashlib.sha256((a["system"] + "\0" + a["user"] + "\0" + a["schema"] + "\0").encode()).hexdigest()
assert a["hash"] == want, (a["hash"], want)
assert a["reply"]["content"] == raw_resp and a["reply"]["err"] == 0, a["reply"]
assert a["asked"] <= a["t"]
# the moment its prompt read the market (the replay builds it then): after
# the trigger, before the request went out
assert tr[0]["t"] <= a["prompt_at"] <= a["asked"], (tr[0]["t"], a)
d = by("decision")
assert len(d) == 1 and d[0]["id"] == dec_id and d[0]["valid"] == bool(valid), d
assert [i["action"] for i in d[0]["items"]] == ["open_long"], d[0]["items"]  # a hold is no item
assert d[0]["items"][0]["take_profit"] == "200000", d[0]["items"][0]
rows = {r[0]: r[1:] for r in c.execute("SELECT intent_id, cl_ord_id, sz, account FROM orders")}
ins = [i for i in by("intent") if i["decision"] == dec_id]
assert ins and all(i["id"] in rows for i in ins), (ins, rows)
for i in ins:
    assert (i["cl_ord_id"], i["sz"], i["account"]) == rows[i["id"]], (i, rows[i["id"]])
res = [x for x in by("result") if x["intent"] == ins[0]["id"]]
assert len(res) == 1 and res[0]["ok"] and res[0]["account"] == "exchange.okx", res
assert res[0]["sent"] is not None and res[0]["sent"] <= res[0]["t"], res  # when okx-sim got it
fb = [f for f in by("feedback") if f["kind"] == 1]  # AT_AI_FB_FILLED
entry = ins[0]["id"]
assert any(f["intent"] == entry and f["decision"] == dec_id and "filled" in f["text"] for f in fb), by("feedback")
vs = sorted((v["intent"], v["rule"]) for v in by("verdict"))
want = sorted(c.execute("SELECT intent_id, rule FROM risk_verdicts").fetchall())
assert vs == [tuple(w) for w in want], (vs, want)
PY
rt_finish
