#!/usr/bin/env python3
"""A fake Letta server for tests (loopback only, Python standard library).

It speaks the routes, bodies and answers of Letta 0.16.8's REST API as the
reference gives them (llm-news-indicators.md §3): agents (create, list by
name, get, delete), messages, core memory blocks by label (get, update,
attach) and standalone blocks, each with and without the trailing slash.
It records every request so tests can assert what the client sent.

    fake_letta.py [--port 0] [--password PW] [--script FILE] [--stdin-exit]

prints its base URL ("http://127.0.0.1:PORT") on the first line of stdout
once it listens, then serves until killed or (--stdin-exit) its stdin closes.
With --password it is "secured" like `letta server --secure`: every route
but /v1/health/ wants `Authorization: Bearer PW` (or `X-BARE-PASSWORD:
password PW`), else 401 {"detail":"Unauthorized"}.

Behaviour of the real server kept here:
  - agent and block ids are "agent-<uuid4>" / "block-<uuid4>"; a malformed
    id in a path is 422 (FastAPI's validation error), an unknown one 404;
  - an empty messages list is 422 "Messages must not be empty";
  - Letta must not get concurrent requests for one agent: any request to an
    agent (a message, its blocks, the agent itself) while one of its
    messages is being answered is refused with 409 ("refused": "busy" in the
    log); a message keeps running when its client goes away, as the real
    server's turn does;
  - a block's value over its limit is refused (422).

A message is answered with a reasoning_message, a tool_call/tool_return
pair (a memory tool) and an assistant_message whose content is a valid
decision JSON for the symbols the prompt names (the first opened long, the
rest held), stop_reason end_turn and usage.

Control endpoints (no password):
    POST /_script   JSON array of answers, appended to the queue -> {"queued": n}
    POST /_reset    {"log": true, "queue": true, "agents": false}: empty them
    GET  /_log      every request: {"method", "path", "query", "route", "agent",
                    "label" (block routes), "block" (a created block's id), "headers"
                    (lower-case names; a credential's value is never kept: authorization
                    is "<scheme> ***"), "auth_ok" (the password matched; null without
                    one), "body", "status", "t0", "t1" (epoch s)}
    GET  /_agents   every agent with its blocks and how many messages it got
    POST /_drop     {"agent_id": ID}: the agent disappears (as if deleted)

An answer is {"route": R, "case": NAME, ...}: R is the route it applies to
(default "messages"; others: create, list, get, block_get, block_patch,
block_create, attach), NAME one of CASES; any of status, headers, delay_ms,
content, reasoning, stop_reason, messages (the raw list), usage, body (raw
text or JSON, replaces the whole answer) overrides the case. "repeat": n
queues it n times. A scripted status other than 2xx answers {"detail": ...}.
"""
import argparse
import json
import re
import socketserver
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
AGENT_ID = re.compile("^agent-" + UUID + "$")
BLOCK_ID = re.compile("^block-" + UUID + "$")
SYMBOL = re.compile(r"\b[A-Z0-9]{2,12}-USDT-SWAP\b")
BLOCK_LIMIT = 100000  # CORE_MEMORY_BLOCK_CHAR_LIMIT

CASES = {
    "valid": {},
    # content as a list of text parts
    "parts": {"parts": True},
    # every item "hold"
    "hold": {"hold": True},
    # message types the client does not know must be ignored
    "unknown_types": {"extra": [
        {"message_type": "approval_request_message", "tool_call": {"name": "x"}},
        {"message_type": "event_message", "event_type": "compaction", "event_data": {}},
        {"message_type": "hidden_reasoning_message", "state": "redacted",
         "hidden_reasoning": None}]},
    # the agent ran out of steps before it answered
    "no_assistant": {"no_assistant": True, "stop_reason": "max_steps"},
    "not_json": {"content": "I would rather wait for a clearer signal."},
    "server_error": {"status": 500, "detail": "Internal Server Error"},
    "rate_limited": {"status": 429, "headers": {"Retry-After": "1"},
                     "detail": "Rate limit exceeded"},
    "overloaded": {"status": 503, "detail": "Service Unavailable"},
    "not_found": {"status": 404, "detail": "Agent not found"},
    "garbage": {"status": 200, "body": "<html><body>502 Bad Gateway</body></html>"},
    "slow": {"delay_ms": 5000},
}


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def decision_for(text, hold=False):
    syms = []
    for s in SYMBOL.findall(text or ""):
        if s not in syms:
            syms.append(s)
    if not syms:
        syms = ["BTC-USDT-SWAP"]
    items = []
    for i, s in enumerate(syms):
        if i == 0 and not hold:
            items.append({"symbol": s, "action": "open_long", "size_pct": 0.05, "leverage": 2,
                          "take_profit": None, "stop_loss": None, "confidence": 0.6,
                          "reason": "fake letta: momentum with the memory's principles",
                          "invalidation": "a close below the last swing low"})
        else:
            items.append({"symbol": s, "action": "hold", "size_pct": None, "leverage": None,
                          "take_profit": None, "stop_loss": None, "confidence": 0.5,
                          "reason": "no edge", "invalidation": None})
    return json.dumps({"decisions": items})


class Agent:
    def __init__(self, body):
        self.id = "agent-" + str(uuid.uuid4())
        self.name = body.get("name") or ("agent-" + uuid.uuid4().hex[:8])
        self.model = body.get("model")
        self.embedding = body.get("embedding")
        self.tags = body.get("tags") or []
        self.metadata = body.get("metadata") or {}
        self.blocks = []  # ids, in order
        self.messages = 0
        self.busy = False
        self.created = now_iso()


class State:
    def __init__(self, password):
        self.lock = threading.Lock()
        self.password = password
        self.queue = []
        self.log = []
        self.agents = {}
        self.blocks = {}

    def push(self, answers):
        with self.lock:
            for a in answers:
                self.queue.extend([dict(a)] * int(a.get("repeat", 1)))

    def pop(self, route):
        with self.lock:
            for i, a in enumerate(self.queue):
                if a.get("route", "messages") == route:
                    return self.queue.pop(i)
        return None

    def new_block(self, b):
        bid = "block-" + str(uuid.uuid4())
        self.blocks[bid] = {
            "id": bid, "label": b["label"], "value": b["value"],
            "limit": int(b.get("limit") or BLOCK_LIMIT), "description": b.get("description"),
            "metadata": b.get("metadata") or {}, "tags": b.get("tags") or [],
            "read_only": bool(b.get("read_only", False)), "created_by_id": None,
            "last_updated_by_id": None, "project_id": None, "is_template": False,
            "template_name": None}
        return self.blocks[bid]

    def agent_state(self, a):
        blocks = [self.blocks[b] for b in a.blocks if b in self.blocks]
        return {"id": a.id, "name": a.name, "system": "You are Letta.",
                "agent_type": "letta_v1_agent", "llm_config": {"handle": a.model},
                "embedding_config": {"handle": a.embedding}, "model": a.model,
                "embedding": a.embedding, "memory": {"blocks": blocks}, "blocks": blocks,
                "tools": [], "sources": [], "tags": a.tags, "metadata": a.metadata,
                "message_ids": [], "created_at": a.created}

    def block_of(self, a, label):
        for b in a.blocks:
            if b in self.blocks and self.blocks[b]["label"] == label:
                return self.blocks[b]
        return None


class Answer(Exception):
    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def detail(status, text):
    return Answer(status, {"detail": text})


def invalid_id(kind, value):
    return Answer(422, {"detail": [{
        "type": "string_pattern_mismatch", "loc": ["path", kind + "_id"],
        "msg": "String should match pattern '^%s-[a-fA-F0-9]{8}'" % kind, "input": value}]})


def masked(headers):
    """The request's headers, lower-case, without a credential's value."""
    out = {}
    for k, v in headers.items():
        k = k.lower()
        if k in ("authorization", "x-bare-password"):
            v = (v.split(" ", 1)[0] + " ***") if " " in v else "***"
        out[k] = v
    return out


def scripted(spec):
    """A scripted answer that replaces the route's own, or None."""
    if spec is None:
        return None
    case = dict(CASES.get(spec.get("case", "valid"), {}))
    case.update({k: v for k, v in spec.items() if k not in ("case", "route", "repeat")})
    return case


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-letta/0.16.8"

    def log_message(self, fmt, *args):  # quiet: tests read /_log instead
        pass

    def _send(self, status, body, headers=None, ctype="application/json"):
        data = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    # ---------------------------------------------------------------- control

    def _control(self, method, path, body):
        st = self.server.state
        if path == "/_log" and method == "GET":
            with st.lock:
                return 200, list(st.log)
        if path == "/_agents" and method == "GET":
            with st.lock:
                out = []
                for a in st.agents.values():
                    s = st.agent_state(a)
                    s["messages_received"] = a.messages
                    out.append(s)
                return 200, out
        if path == "/_script" and method == "POST":
            answers = body if isinstance(body, list) else [body or {}]
            st.push(answers)
            return 200, {"queued": len(answers)}
        if path == "/_reset" and method == "POST":
            what = body if isinstance(body, dict) else {}
            with st.lock:
                if what.get("log", True):
                    st.log.clear()
                if what.get("queue", True):
                    st.queue.clear()
                if what.get("agents", False):
                    st.agents.clear()
                    st.blocks.clear()
            return 200, {}
        if path == "/_drop" and method == "POST":
            with st.lock:
                gone = st.agents.pop((body or {}).get("agent_id", ""), None)
            return (200, {"dropped": True}) if gone else (404, {"detail": "no such agent"})
        return 404, {"detail": "Not Found"}

    # ---------------------------------------------------------------- the API

    def _handle(self, method):
        st = self.server.state
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        body = self._body()
        if path.startswith("/_"):
            status, out = self._control(method, path, body)
            self._send(status, out)
            return
        rec = {"method": method, "path": path, "query": url.query, "route": None,
               "agent": None, "headers": masked(self.headers), "auth_ok": self._auth_ok(),
               "body": body, "status": None, "t0": time.time(), "t1": None}
        self.rec = rec
        with st.lock:
            st.log.append(rec)
        status, out, headers = 500, {"detail": "fake-letta: unhandled"}, {}
        try:
            self._route(method, path, query, body, rec)
        except Answer as a:
            status, out, headers = a.status, a.body, a.headers
        rec["status"] = status
        rec["t1"] = time.time()
        try:
            self._send(status, out, headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout, cancel)

    def _auth_ok(self):
        pw = self.server.state.password
        if pw is None:
            return None
        return (self.headers.get("Authorization", "") == "Bearer " + pw or
                self.headers.get("X-BARE-PASSWORD", "") == "password " + pw)

    def _auth(self, path):
        if re.match(r"^/v1/(health|ready)/?$", path) or self._auth_ok() is not False:
            return
        raise detail(401, "Unauthorized")

    def _agent(self, aid):
        """The agent of a path (under st.lock); 409 while it runs a message."""
        if not AGENT_ID.match(aid):
            raise invalid_id("agent", aid)
        a = self.server.state.agents.get(aid)
        if not a:
            raise detail(404, "Agent with id %s not found" % aid)
        if a.busy:
            self.rec["refused"] = "busy"
            raise detail(409, "Agent %s is already processing a request" % aid)
        return a

    def _fault(self, route, rec):
        """A scripted answer of this route: its delay, then raised unless 2xx."""
        spec = scripted(self.server.state.pop(route))
        if spec is None:
            return None
        rec["scripted"] = spec.get("case", "custom")
        if spec.get("delay_ms"):
            time.sleep(spec["delay_ms"] / 1000.0)
        status = spec.get("status", 200)
        if "body" in spec:
            b = spec["body"]
            raise Answer(status, b if isinstance(b, str) else json.dumps(b),
                         spec.get("headers"))
        if not 200 <= status < 300:
            raise Answer(status, {"detail": spec.get("detail", "error")}, spec.get("headers"))
        return spec

    def _route(self, method, path, query, body, rec):
        st = self.server.state
        self._auth(path)
        m = re.match(r"^/v1/health/?$", path)
        if m and method == "GET":
            raise Answer(200, {"version": "0.16.8", "status": "ok"})
        m = re.match(r"^/v1/agents/?$", path)
        if m and method == "POST":
            rec["route"] = "create"
            self._fault("create", rec)
            if not isinstance(body, dict):
                raise detail(422, "body must be a CreateAgent object")
            with st.lock:
                a = Agent(body)
                for b in body.get("memory_blocks") or []:
                    if not isinstance(b, dict) or "label" not in b or "value" not in b:
                        raise detail(422, "memory_blocks: label and value are required")
                    a.blocks.append(st.new_block(b)["id"])
                st.agents[a.id] = a
                rec["agent"] = a.id
                raise Answer(200, st.agent_state(a))
        if m and method == "GET":
            rec["route"] = "list"
            self._fault("list", rec)
            name = (query.get("name") or [None])[0]
            with st.lock:
                out = [st.agent_state(a) for a in st.agents.values()
                       if name is None or a.name == name]
            raise Answer(200, out)
        m = re.match(r"^/v1/agents/([^/]+)/?$", path)
        if m:
            rec["route"] = "get" if method == "GET" else method.lower()
            rec["agent"] = m.group(1)
            if method == "GET":
                self._fault("get", rec)
                with st.lock:
                    raise Answer(200, st.agent_state(self._agent(m.group(1))))
            if method == "DELETE":
                with st.lock:
                    self._agent(m.group(1))
                    del st.agents[m.group(1)]
                raise Answer(200, {})
        m = re.match(r"^/v1/agents/([^/]+)/messages/?$", path)
        if m and method == "POST":
            rec["route"] = "messages"
            rec["agent"] = m.group(1)
            self._message(m.group(1), body, rec)
        m = re.match(r"^/v1/agents/([^/]+)/core-memory/blocks/?$", path)
        if m and method == "GET":
            rec["route"] = "block_list"
            rec["agent"] = m.group(1)
            with st.lock:
                a = self._agent(m.group(1))
                raise Answer(200, [st.blocks[b] for b in a.blocks if b in st.blocks])
        m = re.match(r"^/v1/agents/([^/]+)/core-memory/blocks/attach/([^/]+)/?$", path)
        if m and method == "PATCH":
            rec["route"] = "attach"
            rec["agent"] = m.group(1)
            self._fault("attach", rec)
            with st.lock:
                a = self._agent(m.group(1))
                if not BLOCK_ID.match(m.group(2)):
                    raise invalid_id("block", m.group(2))
                if m.group(2) not in st.blocks:
                    raise detail(404, "Block not found")
                if m.group(2) not in a.blocks:
                    a.blocks.append(m.group(2))
                raise Answer(200, st.agent_state(a))
        m = re.match(r"^/v1/agents/([^/]+)/core-memory/blocks/([^/]+)/?$", path)
        if m and method in ("GET", "PATCH"):
            rec["route"] = "block_get" if method == "GET" else "block_patch"
            rec["agent"] = m.group(1)
            rec["label"] = m.group(2)
            self._fault(rec["route"], rec)
            with st.lock:
                a = self._agent(m.group(1))
                b = st.block_of(a, m.group(2))
                if b is None:
                    raise detail(404, "Block with label %s not found" % m.group(2))
                if method == "PATCH":
                    self._update(b, body)
                raise Answer(200, b)
        m = re.match(r"^/v1/blocks/?$", path)
        if m and method == "POST":
            rec["route"] = "block_create"
            self._fault("block_create", rec)
            if not isinstance(body, dict) or "label" not in body or "value" not in body:
                raise detail(422, "label and value are required")
            if len(body["value"]) > int(body.get("limit") or BLOCK_LIMIT):
                raise detail(422, "value exceeds the block's limit")
            with st.lock:
                b = st.new_block(body)
                rec["block"] = b["id"]
                raise Answer(200, b)
        m = re.match(r"^/v1/blocks/([^/]+)/?$", path)
        if m and method in ("GET", "PATCH"):
            rec["route"] = "block"
            with st.lock:
                if not BLOCK_ID.match(m.group(1)):
                    raise invalid_id("block", m.group(1))
                b = st.blocks.get(m.group(1))
                if b is None:
                    raise detail(404, "Block not found")
                if method == "PATCH":
                    self._update(b, body)
                raise Answer(200, b)
        raise detail(404 if method in ("GET", "DELETE") else 405, "Not Found")

    def _update(self, b, body):
        if not isinstance(body, dict):
            raise detail(422, "body must be a BlockUpdate object")
        if "limit" in body:
            b["limit"] = int(body["limit"])
        if "value" in body:
            if not isinstance(body["value"], str):
                raise detail(422, "value must be a string")
            if len(body["value"]) > b["limit"]:
                raise detail(422, "Edit failed: Exceeds %d character limit (requested %d)"
                             % (b["limit"], len(body["value"])))
            b["value"] = body["value"]
        for k in ("description", "label", "metadata", "read_only", "tags"):
            if k in body:
                b[k] = body[k]

    def _message(self, aid, body, rec):
        st = self.server.state
        with st.lock:
            a = self._agent(aid)
            a.busy = True
        try:
            spec = self._fault("messages", rec) or scripted({"case": "valid"})
            msgs = (body or {}).get("messages") if isinstance(body, dict) else None
            if not msgs:
                raise detail(422, "Messages must not be empty")
            user = msgs[-1].get("content", "") if isinstance(msgs[-1], dict) else ""
            if isinstance(user, list):
                user = "".join(p.get("text", "") for p in user if isinstance(p, dict))
            with st.lock:
                system = st.block_of(a, "aitrader_system")
                system = system["value"] if system else ""
                a.messages += 1
            raise Answer(200, self._response(spec, user, system))
        finally:
            with st.lock:
                a.busy = False

    def _response(self, spec, user, system):
        if "messages" in spec:
            out = spec["messages"]
        else:
            content = spec.get("content")
            if content is None:
                content = decision_for(user + "\n" + system, spec.get("hold", False))
            if spec.get("parts"):
                half = len(content) // 2
                content = [{"type": "text", "text": content[:half]},
                           {"type": "text", "text": content[half:]}]
            base = {"date": now_iso(), "name": None, "otid": None, "sender_id": None,
                    "step_id": "step-" + str(uuid.uuid4()), "is_err": None, "seq_id": None,
                    "run_id": "run-" + str(uuid.uuid4())}

            def msg(kind, **kw):
                m = dict(base, id="message-" + str(uuid.uuid4()), message_type=kind)
                m.update(kw)
                return m
            call_id = "call_" + uuid.uuid4().hex[:12]
            args = json.dumps({"label": "human", "content": "checked the market"})
            out = [msg("reasoning_message", source="non_reasoner_model",
                       reasoning=spec.get("reasoning", "The memory says: trade with the "
                                          "trend, respect the red lines."), signature=None),
                   msg("tool_call_message",
                       tool_call={"name": "core_memory_append", "arguments": args,
                                  "tool_call_id": call_id},
                       tool_calls=[{"name": "core_memory_append", "arguments": args,
                                    "tool_call_id": call_id}]),
                   msg("tool_return_message", tool_return="None", status="success",
                       tool_call_id=call_id, stdout=None, stderr=None)]
            out += [dict(base, id="message-" + str(uuid.uuid4()), **x)
                    for x in spec.get("extra", [])]
            if not spec.get("no_assistant"):
                out.append(msg("assistant_message", content=content))
        usage = {"message_type": "usage_statistics", "completion_tokens": 120,
                 "prompt_tokens": max(1, len(user) // 4), "step_count": 2}
        usage.update(spec.get("usage", {}))
        usage["total_tokens"] = usage["completion_tokens"] + usage["prompt_tokens"]
        return {"messages": out,
                "stop_reason": {"message_type": "stop_reason",
                                "stop_reason": spec.get("stop_reason", "end_turn")},
                "usage": usage}


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--password", help="secured: every route but health wants this bearer")
    ap.add_argument("--script", help="JSON file with an array of answers to queue")
    ap.add_argument("--stdin-exit", action="store_true", help="exit when stdin closes")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(a.password)
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
