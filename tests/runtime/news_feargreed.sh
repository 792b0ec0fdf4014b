#!/usr/bin/env bash
# source_feargreed in the real engine against a fake index server: the first
# start asks for `history` days and stores each reading with its label,
# oldest first, published as SENTIMENT; a reading that cannot be used is
# refused with the reason, never stored as 0; a restart asks only for what
# is new; an error of the API (metadata.error) is said and asked
# again later (its interval: the test's 2 s).
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"
source "$AT_SOURCE_DIR/tests/support/okx-lib.sh" # DB, q, engine_start/engine_stop
mkdir -p srv data
NOW=$(date +%s)
DAY=$((NOW / 86400 * 86400))
cat >srv/fng.json <<EOF2
{"name": "Fear and Greed Index", "data": [
 {"value": "71", "value_classification": "Greed", "timestamp": "$DAY", "time_until_update": "5"},
 {"value": "abc", "value_classification": "Broken", "timestamp": "$((DAY - 86400))"},
 {"value": "24", "value_classification": "Extreme Fear", "timestamp": "$((DAY - 2 * 86400))"},
 {"value": "50", "value_classification": "Neutral", "timestamp": "$((DAY - 3 * 86400))"}],
 "metadata": {"error": null}}
EOF2
python3 "$AT_SOURCE_DIR/tests/fake_feeds/fake_feeds.py" --dir srv >srv.out 2>srv.err &
RT_PIDS+=("$!")
wait_log srv.out "http://127.0.0.1:" 10
URL=$(head -1 srv.out)
cat >engine.ini <<EOF2
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
[storage.sqlite]
path = $RT_TMP/data/engine.db
[source.fng]
module = feargreed
url = $URL/fng.json
history = 7
interval = 2s
[source.driver]
log_file = $RT_TMP/events.log
EOF2

engine_start
check "the history is read: 3 readings, the broken one refused" wait_log engine.out "source.fng: 3 new readings, the latest 71 (Greed)" 15
check "the refusal names the reading" grep -q 'source.fng: a reading refused (value 0..100 and a time in seconds wanted): {"value":"abc"' engine.out
check "stored with their labels, as given" [ "$(q "SELECT group_concat(CAST(value AS INTEGER) || ':' || label, ',') FROM (SELECT * FROM sentiment WHERE feed='feargreed' ORDER BY as_of_ms)")" = "50:Neutral,24:Extreme Fear,71:Greed" ]
check "nothing stored as 0" [ "$(q "SELECT count(*) FROM sentiment WHERE value = 0")" = 0 ]
check "published oldest first" wait_until 5 "3 SENTIMENT" sh -c "[ \$(grep -c '^SENTIMENT feargreed' events.log) = 3 ]"
check "the latest last" [ "$(grep '^SENTIMENT feargreed' events.log | tail -1 | cut -d' ' -f3-4)" = "value=71 label=Greed" ]
askd() { curl -s "$URL/_log" | python3 -c 'import json,sys; print(" ".join(r["path"] for r in json.load(sys.stdin) if r["path"].startswith("/fng")))'; }
check "asked for 7 days" [ "$(askd | cut -d' ' -f1)" = "/fng.json?limit=7&format=json" ]
engine_stop

# a restart: only what is new is asked for and kept
sed -i "s/\"value\": \"71\"/\"value\": \"73\"/; s/\"timestamp\": \"$DAY\"/\"timestamp\": \"$((DAY + 86400))\"/" srv/fng.json
curl -s -X POST -d '{}' "$URL/_reset" >/dev/null
# its first answer an error of the API (metadata.error), its second a 500
curl -s -X POST -d '{"path": "/fng.json?limit=2&format=json", "status": 200, "body": "{\"data\": [], \"metadata\": {\"error\": \"Too many requests\"}}", "times": 1}' "$URL/_script" >/dev/null
engine_start
check "the API's error is said, and asked again" wait_log engine.out "source.fng: the index could not be read: the API says: Too many requests; asked again in 2 s" 15
check "the stored latest read back" wait_count engine.out "source.fng: Fear & Greed from $URL/fng.json; the latest stored reading read back" 1 15
check "one new reading" wait_log engine.out "source.fng: 1 new reading, the latest 73 (Greed)" 15
check "asked for the last 2 only, twice" [ "$(askd | cut -d' ' -f1-2)" = "/fng.json?limit=2&format=json /fng.json?limit=2&format=json" ]
check "4 readings stored" [ "$(q "SELECT count(*) FROM sentiment WHERE feed='feargreed'")" = 4 ]
engine_stop
rt_finish
