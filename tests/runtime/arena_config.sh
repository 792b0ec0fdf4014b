#!/usr/bin/env bash
# The arena example, demo/arena.ini: `aitrader check-config` accepts it (and
# with its LLM entered in the race); each of its three traders trades its own
# paper sub-account, every one priced by the same market-data feed; and run
# as its header says, on okx-sim at 60x, each trader opens and is filled on
# its own sub-account within a minute and /api/arena ranks the three.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh"
INI=$AT_SOURCE_DIR/demo/arena.ini

RC=0
"$AITRADER" check-config -c "$INI" >check.out 2>&1 || RC=$?
check "check-config accepts demo/arena.ini (exit 0)" [ "$RC" = 0 ]
check "with its three traders" grep -q "arena.ini: OK, [0-9]* plugin instances, 3 traders" check.out

layout() {
  python3 - "$INI" <<'PY'
import configparser, sys
c = configparser.ConfigParser(inline_comment_prefixes=(";",), interpolation=None)
c.read(sys.argv[1])
traders = [s for s in c.sections() if s.startswith("trader.")]
accounts = [c[t]["account"] for t in traders]
assert len(traders) == 3, traders
assert len(set(accounts)) == 3, f"traders share an account: {accounts}"
for t, a in zip(traders, accounts):
    assert c[a]["module"] == "paper", f"{t}: {a} is not a paper venue"
    assert c[a]["market"] == "exchange.okx_data", f"{a} is priced by {c[a]['market']}"
    ai = c[t]["ai"]
    assert c[ai]["module"] == "rules" and c[ai]["account"] == a, f"{t}: {ai} does not follow {a}"
assert len({tuple(sorted(c[c[t]["ai"]].items())) for t in traders}) == 3, "two traders have the same rules"
assert c["exchange.okx_data"]["module"] == "okx" and "api_key" not in c["exchange.okx_data"]
assert c["ai.llm"]["module"] == "openai" and c["ai.llm"]["enabled"] == "false"
PY
}
check "three traders, each on its own paper sub-account of exchange.okx_data, each with its own rules" layout

sed -e 's/^enabled  = false/enabled  = true/' -e 's/^ai             = ai.rules_wide$/ai             = ai.llm/' \
  "$INI" >llm.ini
RC=0
DEEPSEEK_API_KEY=sk-test "$AITRADER" check-config -c llm.ini >check-llm.out 2>&1 || RC=$?
check "with the LLM entered (enabled, named by trader.wide): accepted too" [ "$RC" = 0 ]
check "the LLM instance is loaded then" grep -q "ai.llm  *openai" check-llm.out

# --- run as its header says, on okx-sim ------------------------------------------
sim_start sim.out --seed 9 --data "$AT_SOURCE_DIR/tests/data/okx_BTC-USDT-SWAP_1m_20260109-20260111.csv" \
  --speed 60
sed -e "s|127\.0\.0\.1:8443|${URL#http://}|g" -e "s|^data_dir  = data/arena|data_dir  = $RT_TMP/data|" \
  -e "s|^path = data/arena/aitrader.db|path = $DB|" -e "s|^port   = 5621\$|port   = 0|" "$INI" >engine.ini
replaced() { ! sed 's/;.*//' engine.ini | grep -E '8443|data/arena|5621'; }
check "the addresses, data dir and port were replaced" replaced
engine_start
wait_log engine.out "ui.dashboard: state up" 30
API=$(sed -n 's|^dashboard: \(http://127.0.0.1:[0-9]*\)/#token=.*|\1|p' engine.out | tail -1)
fill_on() { [ "$(q "SELECT count(*) FROM ledger WHERE kind = 'fill' AND origin = '$1' AND account = '$2'")" -ge 1 ]; }
for t in fast:paper_fast tight:paper_tight wide:paper_wide; do
  check "trader.${t%%:*} is filled on exchange.${t#*:}" \
    wait_until 60 "a fill of ${t%%:*}" fill_on "${t%%:*}" "exchange.${t#*:}"
done
board() {
  curl -sf "$API/api/arena" >arena.json &&
    [ "$(j arena.json 'sorted((t["trader"], t["account"], t["start_equity"] is not None) for t in d["traders"])')" = \
      "[('fast', 'exchange.paper_fast', True), ('tight', 'exchange.paper_tight', True), ('wide', 'exchange.paper_wide', True)]" ]
}
check "/api/arena ranks the three, each with its curve" wait_until 20 "the board" board
engine_stop
rt_finish
