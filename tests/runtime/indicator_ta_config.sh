#!/usr/bin/env bash
# indicator_ta's config checks (check_config, ABI 1.3) through the real CLI:
# what `run` would refuse, `check-config` refuses first, at the key's line,
# exit 2 — the hostile-input probe's `signals = rsi14>>70/` passed
# check-config and then failed `run` with exit 1 and no FILE:LINE.
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"

conf() { # conf FILE SIGNALS-LINE
  cat >"$1" <<INI
[core]
plugin_dir = $AT_BUILD_DIR/plugins
data_dir = $RT_TMP/data

[indicator.ta]
instruments = BTC-USDT-SWAP
bars = 1m, 5m
$2
INI
}

conf good.ini "signals = rsi14>70/65, BTC-USDT-SWAP:|chg_5m|>0.01/0.008"
rc=0; "$AITRADER" check-config -c good.ini >good.out 2>&1 || rc=$?
check "good signals pass check-config" [ "$rc" -eq 0 ]

conf bad.ini "signals = rsi14>>70/"
rc=0; "$AITRADER" check-config -c bad.ini >bad.out 2>&1 || rc=$?
check "bad signals: check-config exits 2" [ "$rc" -eq 2 ]
check "bad signals: named at their line" contains bad.out "bad.ini:8: [indicator.ta] signals: 'rsi14>>70/': expected a number after the comparison"
rc=0; timeout 20 "$AITRADER" run -c bad.ini >run.out 2>&1 || rc=$?
check "bad signals: run exits 2 with the same line" [ "$rc" -eq 2 ] && check "run names the line" contains run.out "bad.ini:8: [indicator.ta] signals:"

conf other.ini "signals = ETH-USDT-SWAP:rsi14>75/70"
rc=0; "$AITRADER" check-config -c other.ini >other.out 2>&1 || rc=$?
check "a rule for an instrument not followed is refused" [ "$rc" -eq 2 ] && check "and explained" contains other.out "other.ini:8: [indicator.ta] signals: 'ETH-USDT-SWAP:rsi14>75/70': ETH-USDT-SWAP is not in instruments"

conf bars.ini "signals = none"
sed -i 's/^bars = 1m, 5m$/bars = 1m, 7m/' bars.ini
rc=0; "$AITRADER" check-config -c bars.ini >bars.out 2>&1 || rc=$?
check "a bar size that does not divide a day is refused" [ "$rc" -eq 2 ] && check "at the bars line" contains bars.out "bars.ini:7: [indicator.ta] bars: '7m' is not a bar"
rt_finish
