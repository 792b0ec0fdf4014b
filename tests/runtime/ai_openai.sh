#!/usr/bin/env bash
# ai_openai through the real aitrader binary: its keys are described, check-config
# refuses what the plugin would (each at its FILE:LINE, credentials never echoed),
# and `run` loads providers for several dialects, says what each model gets,
# warns about a key over plain http to another host, never logs the key, and
# stops cleanly. (The calls themselves, against the fake server, are
# unit.test_ai_openai_engine: nothing in a bare engine calls a provider.)
source "$AT_SOURCE_DIR/tests/support/rt-lib.sh"
cd "$RT_TMP"

"$AITRADER" plugins --describe openai >describe.out 2>&1 || true
for k in base_url api_key model api thinking reasoning_effort temperature max_tokens timeout \
  response_format strict_schema price_in price_out max_retries proxy max_response; do
  check "describe lists $k" grep -q "^ *$k " describe.out
done

# check-config: one bad key per section, each reported at its line
cat >bad.ini <<EOF
[core]
plugin_dir = $TEST_PLUGINS
[ai.a]
module = openai
base_url = https://api.openai.com/v1/chat/completions
model = gpt-4o
[ai.b]
module = openai
base_url = https://user:hunter22@api.example.com/v1
model = gpt-4o
[ai.c]
module = openai
base_url = https://api.example.com/v1
model = gpt 4o
[ai.d]
module = openai
base_url = https://api.example.com/v1
model = m
proxy = http://bob:s3cr3t-pw@proxy.example.com
[ai.e]
module = openai
base_url = https://api.example.com/v1
model = m
response_format = yaml
[ai.f]
module = openai
model = m
EOF
rc=0; "$AITRADER" check-config -c bad.ini >bad.out 2>&1 || rc=$?
check "check-config refuses (exit 2)" [ "$rc" = 2 ]
check "a base_url ending in /chat/completions" contains bad.out "bad.ini:5: [ai.a] base_url: give the API root without /chat/completions"
check "credentials in base_url" contains bad.out "bad.ini:9: [ai.b] base_url: credentials do not go in the URL"
check "a model with a blank" contains bad.out "bad.ini:14: [ai.c] model: expected a model name without blanks"
check "a proxy without a port" contains bad.out "bad.ini:19: [ai.d] proxy: expected http://host:port"
check "an unknown response_format" contains bad.out "bad.ini:24: [ai.e] response_format:"
check "a missing base_url" contains bad.out "[ai.f] base_url:"
check "six errors" contains bad.out "6 configuration errors"
check "no password echoed" lacks bad.out "hunter22"
check "no proxy password echoed" lacks bad.out "s3cr3t-pw"

# run: what each provider makes of its model
export AT_TEST_OAI_KEY=sk-rt-0123456789abcdef
cat >run.ini <<EOF
[core]
plugin_dir = $TEST_PLUGINS
data_dir = $RT_TMP/data
[ai.gpt]
module = openai
base_url = https://api.openai.com/v1
api_key = env:AT_TEST_OAI_KEY
model = gpt-4o-mini
[ai.reasoner]
module = openai
base_url = https://api.deepseek.com/
api_key = env:AT_TEST_OAI_KEY
model = deepseek-reasoner
[ai.qwen]
module = openai
base_url = https://dashscope-intl.aliyuncs.com/compatible-mode/v1
api_key = env:AT_TEST_OAI_KEY
model = qwen-plus
[ai.lan]
module = openai
base_url = http://10.255.255.1:8000/v1
api_key = env:AT_TEST_OAI_KEY
model = llama-3.1-8b
timeout = 45s
EOF
"$AITRADER" run -c run.ini >run.out 2>&1 &
ENGINE=$!; RT_PIDS+=("$ENGINE")
wait_log run.out "ai.lan: state up" 20
check "gpt-4o-mini: structured outputs" contains run.out "ai.gpt: gpt-4o-mini at https://api.openai.com/v1/chat/completions (api openai, thinking no, response_format json_schema, timeout 30000 ms, retries 2)"
check "deepseek-reasoner: thinking, no response_format, a long timeout" contains run.out "ai.reasoner: deepseek-reasoner at https://api.deepseek.com/chat/completions (api deepseek, thinking yes, response_format none, timeout 120000 ms"
check "qwen-plus: json_object" contains run.out "ai.qwen: qwen-plus at https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions (api qwen, thinking no, response_format json_object"
check "a LAN server: generic, its own timeout" contains run.out "ai.lan: llama-3.1-8b at http://10.255.255.1:8000/v1/chat/completions (api generic, thinking no, response_format json_object, timeout 45000 ms"
check "a key over plain http to another host is warned about" contains run.out "ai.lan: the api_key goes in clear text over http://"
check "no warning for https" lacks run.out "ai.gpt: the api_key goes in clear text"
kill -TERM "$ENGINE"; wait_exit "$ENGINE"
check "clean stop" [ "$RT_RC" = 0 ]
check "the key is never logged" lacks run.out "$AT_TEST_OAI_KEY"
rt_finish
