#!/usr/bin/env python3
"""A fake OpenAI-compatible Chat Completions server for tests (loopback only).

It speaks the real wire protocol (reference: llm-news-indicators.md §1-2, §6):
POST <any path ending in>/chat/completions answers the next scripted answer,
or a valid decision when none is queued. It records every request it got
(path, headers, body) so tests can assert what the client sent.

    fake_llm.py [--port 0] [--script FILE]

prints its base URL ("http://127.0.0.1:PORT") on the first line of stdout once
it listens, then serves until killed (SIGTERM) or its stdin closes when
--stdin-exit is given.

Control endpoints (loopback, any client):
    POST /_script    JSON array of answers, appended to the queue -> {"queued": n}
    POST /_reset     empty the queue and the records
    GET  /_requests  JSON array of {"path", "headers" (lower-case names), "body"}
    GET  /_health    "ok"

An answer is {"case": NAME, ...} where NAME is one of CASES below; any of
status, headers, content, reasoning, refusal, finish_reason, usage, delay_ms,
lead (bytes sent before the body), body (raw text or a JSON value, replaces
the whole body) overrides the case's defaults. "repeat": n queues it n times.
"""
import argparse
import json
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

DECISION = {
    "decisions": [
        {"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": 0.1, "leverage": 3,
         "take_profit": 71250.5, "stop_loss": 66800, "confidence": 0.72,
         "reason": "breakout above the 4h range", "invalidation": "close below 67000"}
    ]
}
VALID = json.dumps(DECISION)

CASES = {
    "valid": {"content": VALID},
    "fenced": {"content": "```json\n" + VALID + "\n```"},
    "think": {"content": "<think>momentum is up, funding flat</think>\n" + VALID},
    "text_around": {"content": "Here is my decision:\n" + VALID + "\nGood luck!"},
    "refusal": {"content": None, "refusal": "I can't help with trading decisions."},
    "length": {"content": VALID[:40], "finish_reason": "length",
               "usage": {"prompt_tokens": 1200, "completion_tokens": 16}},
    "wrong_types": {"content": json.dumps({"decisions": [
        {"symbol": "BTC-USDT-SWAP", "action": "open_long", "size_pct": "ten percent",
         "leverage": "3x", "confidence": "high", "reason": 42}]})},
    "unknown_symbol": {"content": json.dumps({"decisions": [
        {"symbol": "FOO-USDT-SWAP", "action": "open_short", "size_pct": 0.05, "leverage": 2,
         "confidence": 0.6, "reason": "r", "invalidation": "i"}]})},
    # DeepSeek thinking mode: reasoning apart from the content
    "reasoning": {"content": VALID, "reasoning": "We are asked to decide. BTC broke out...",
                  "usage": {"prompt_tokens": 900, "completion_tokens": 400,
                            "completion_tokens_details": {"reasoning_tokens": 350}}},
    # DeepSeek keeps a waiting connection alive with blank lines before the JSON
    "empty_lines": {"content": VALID, "lead": "\n\n\n"},
    "empty_content": {"content": ""},
    "rate_limited": {"status": 429, "headers": {"retry-after": "1"},
                     "error": ("Rate limit reached for requests", "requests",
                               "rate_limit_exceeded")},
    "rate_limited_ms": {"status": 429, "headers": {"retry-after-ms": "250"},
                        "error": ("Rate limit reached for requests", "requests",
                                  "rate_limit_exceeded")},
    "rate_limited_long": {"status": 429, "headers": {"retry-after": "600"},
                          "error": ("Rate limit reached for requests", "requests",
                                    "rate_limit_exceeded")},
    "balance": {"status": 402, "error": ("Insufficient Balance", "unknown_error",
                                         "invalid_request_error")},
    "server_error": {"status": 500, "error": ("The server had an error while processing your "
                                              "request.", "server_error", None)},
    "overloaded": {"status": 503, "error": ("Server Overloaded", "server_error", None)},
    "conflict": {"status": 409, "error": ("Conflict", "conflict", None)},
    "unauthorized": {"status": 401, "echo_key": True},
    "bad_request": {"status": 400, "error": (
        "'messages' must contain the word 'json' in some form, to use 'response_format' of "
        "type 'json_object'.", "invalid_request_error", None)},
    "garbage": {"body": "<html><body>502 Bad Gateway</body></html>", "status": 200},
    "slow": {"content": VALID, "delay_ms": 5000},
}


def build(spec, req_body, auth):
    """(status, headers, body bytes, lead bytes, delay_ms) of one answer."""
    case = dict(CASES.get(spec.get("case", "valid"), {}))
    case.update({k: v for k, v in spec.items() if k != "case"})
    status = case.get("status", 200)
    headers = dict(case.get("headers", {}))
    model = (req_body or {}).get("model", "fake-model") if isinstance(req_body, dict) else "x"
    if "body" in case:
        body = case["body"]
        body = body if isinstance(body, str) else json.dumps(body)
    elif case.get("echo_key"):
        # a careless server quoting the key it was sent: the client must not pass it on
        key = auth[7:] if auth.startswith("Bearer ") else auth
        body = json.dumps({"error": {"message": "Incorrect API key provided: " + key + ".",
                                     "type": "invalid_request_error", "param": None,
                                     "code": "invalid_api_key"}})
    elif status != 200:
        msg, typ, code = case.get("error", ("error", "error", None))
        body = json.dumps({"error": {"message": msg, "type": typ, "param": None, "code": code}})
    else:
        message = {"role": "assistant", "content": case.get("content", VALID),
                   "refusal": case.get("refusal")}
        if case.get("reasoning") is not None:
            message["reasoning_content"] = case["reasoning"]
        usage = {"prompt_tokens": 1117, "completion_tokens": 46}
        usage.update(case.get("usage", {}))
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        body = json.dumps({
            "id": "chatcmpl-fake%d" % int(time.time() * 1000), "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": case.get("finish_reason", "stop")}],
            "usage": usage, "system_fingerprint": "fp_fake"})
    return (status, headers, body.encode(), case.get("lead", "").encode(),
            int(case.get("delay_ms", 0)))


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.queue = []
        self.requests = []

    def push(self, answers):
        with self.lock:
            for a in answers:
                self.queue.extend([a] * int(a.get("repeat", 1)))

    def pop(self):
        with self.lock:
            return self.queue.pop(0) if self.queue else {"case": "valid"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-llm/1.0"

    def log_message(self, fmt, *args):  # quiet: tests read the records instead
        pass

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body, ctype="application/json", headers=None, lead=b""):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(lead) + len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(lead + body)

    def do_GET(self):
        st = self.server.state
        if self.path == "/_requests":
            with st.lock:
                data = json.dumps(st.requests).encode()
            self._send(200, data)
        elif self.path == "/_health":
            self._send(200, b"ok", "text/plain")
        else:
            self._send(404, b'{"error":{"message":"not found","type":"invalid_request_error",'
                            b'"param":null,"code":null}}')

    def do_POST(self):
        st = self.server.state
        raw = self._read_body()
        if self.path == "/_script":
            answers = json.loads(raw or b"[]")
            st.push(answers if isinstance(answers, list) else [answers])
            self._send(200, json.dumps({"queued": len(answers)}).encode())
            return
        if self.path == "/_reset":
            with st.lock:
                st.queue.clear()
                st.requests.clear()
            self._send(200, b"{}")
            return
        if not self.path.split("?")[0].endswith("/chat/completions"):
            self._send(404, b'{"error":{"message":"unknown path","type":"invalid_request_error",'
                            b'"param":null,"code":null}}')
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        rec = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body, "t": time.time()}
        with st.lock:
            st.requests.append(rec)
        status, headers, out, lead, delay = build(st.pop(), body,
                                                  self.headers.get("Authorization", ""))
        if delay:
            time.sleep(delay / 1000.0)
        try:
            self._send(status, out, headers=headers, lead=lead)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to answer


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--script", help="JSON file with an array of answers to queue")
    ap.add_argument("--stdin-exit", action="store_true", help="exit when stdin closes")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State()
    if a.script:
        with open(a.script) as f:
            srv.state.push(json.load(f))
    print("http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    if a.stdin_exit:
        threading.Thread(target=lambda: (sys.stdin.read(), srv.shutdown()), daemon=True).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
