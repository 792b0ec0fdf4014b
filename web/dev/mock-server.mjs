#!/usr/bin/env node
// A tiny stand-in for the engine's dashboard API (CONTRACTS §3 + GET /api/pnl)
// and its /ws stream, with the same JSON shapes, for developing the page
// without the engine and for the web app's own tests. Not a venue model:
// market orders fill at the touch, limits when the price crosses them.
//
//   node dev/mock-server.mjs [--host 127.0.0.1] [--port 5622] [--token T]
//        [--dist DIR] [--decision-every MS] [--news-every MS] [--tick-ms MS]
//        [--seed N]
//
// Prints "mock listening on http://HOST:PORT token=T" when ready (port 0
// picks a free one). Changes need "Authorization: Bearer T" (default
// "mock-token"); a foreign Origin on a change or /ws is refused.
import crypto from "node:crypto";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const HOST = opt("host", "127.0.0.1");
const PORT = Number(opt("port", "5622"));
const TOKEN = opt("token", process.env.MOCK_TOKEN || "mock-token");
const DIST = path.resolve(opt("dist", path.join(here, "..", "dist")));
const DECISION_EVERY = Number(opt("decision-every", "15000"));
// a news item pushed on /ws (and stored) this often; 0: never
const NEWS_EVERY = Number(opt("news-every", "30000"));
const TICK_MS = Number(opt("tick-ms", "1000"));
let seed = Number(opt("seed", "42")) >>> 0;
const MAX_BODY = 64 * 1024;
// Vite's dev server (npm run dev) proxies here from its own origin.
const ALLOWED_ORIGIN_PORTS = new Set(["5173"]);

// ------------------------------------------------------------ exact decimals
// Fixed point with 8 decimals on BigInt: money and sizes never go through a float.
const SCALE = 100000000n;
function D(text) {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(String(text).trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw new Error(`bad decimal ${text}`);
  const frac = ((m[3] ?? "") + "00000000").slice(0, 8);
  const v = BigInt(m[2] || "0") * SCALE + BigInt(frac);
  return m[1] === "-" ? -v : v;
}
function S(v) {
  const neg = v < 0n;
  const a = neg ? -v : v;
  let frac = (a % SCALE).toString().padStart(8, "0").replace(/0+$/, "");
  const s = (a / SCALE).toString() + (frac ? `.${frac}` : "");
  return neg && s !== "0" ? `-${s}` : s;
}
const mul = (a, b) => (a * b) / SCALE;
const div = (a, b) => (a * SCALE) / b;
const absB = (a) => (a < 0n ? -a : a);
const isDecText = (t) => typeof t === "string" && /^-?\d+(\.\d+)?$/.test(t.trim());
function onStep(v, step) {
  return v % step === 0n;
}

// ------------------------------------------------------------ randomness
function rand() {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
}

// ------------------------------------------------------------ state
const now = () => Date.now();
const started = now();
const INSTRUMENTS = [
  { instId: "BTC-USDT-SWAP", ctVal: "0.01", ctValCcy: "BTC", lotSz: "0.01", minSz: "0.01", tickSz: "0.1", maxLever: "100", px: "90000" },
  { instId: "ETH-USDT-SWAP", ctVal: "0.1", ctValCcy: "ETH", lotSz: "0.01", minSz: "0.01", tickSz: "0.01", maxLever: "100", px: "3100" },
  { instId: "SOL-USDT-SWAP", ctVal: "1", ctValCcy: "SOL", lotSz: "0.01", minSz: "0.01", tickSz: "0.001", maxLever: "50", px: "140" },
  { instId: "DOGE-USDT-SWAP", ctVal: "1000", ctValCcy: "DOGE", lotSz: "0.01", minSz: "0.01", tickSz: "0.00001", maxLever: "50", px: "0.18" },
];
const spec = new Map(INSTRUMENTS.map((i) => [i.instId, i]));
const market = new Map(); // instId -> { ticks: bigint (price in ticks), open24h, high, low, vol }
for (const i of INSTRUMENTS) {
  const t = D(i.px) / D(i.tickSz);
  market.set(i.instId, { ticks: t, open24h: t, high: t, low: t, vol: 0n, funding: "0.0001" });
}
const pxOf = (instId) => {
  const m = market.get(instId);
  return m.ticks * D(spec.get(instId).tickSz);
};
const spreadTicks = 1n;
const bidOf = (instId) => pxOf(instId) - spreadTicks * D(spec.get(instId).tickSz);
const askOf = (instId) => pxOf(instId) + spreadTicks * D(spec.get(instId).tickSz);

const accounts = [
  { id: "exchange.okx_demo", exchange: "okx", demo: true, posMode: "long_short_mode", cash: D("10000"), trades: true },
  { id: "exchange.paper", exchange: "paper", demo: false, posMode: "net_mode", cash: D("5000"), trades: true },
];
const acct = (id) => accounts.find((a) => a.id === id);
const positions = new Map(); // `${account}|${instId}|${posSide}` -> { pos (signed for net), avgPx, lever, mgnMode, realized }
const orders = []; // newest last
const fills = [];
const equity = new Map(accounts.map((a) => [a.id, []]));
const pnlBooks = new Map(); // `${origin}|${account}` -> { realized, fees, funding }
let killSwitch = { on: false, since_ms: null, by: null, reason: null };
let seq = 0;
const nextId = (p) => `${p}${Date.now().toString(36)}${(++seq).toString(36).padStart(4, "0")}`;

const traders = [
  { id: "alpha", state: "running", ai: "ai.rules", model: "rules-v1", account: "exchange.okx_demo", symbols: ["BTC-USDT-SWAP", "ETH-USDT-SWAP"], shadow: false, periodMs: 60000 },
  { id: "beta", state: "paused", ai: "ai.deepseek", model: "deepseek-v4-flash", account: "exchange.paper", symbols: ["SOL-USDT-SWAP"], shadow: false, periodMs: 300000 },
];
for (const t of traders) t.next_call_ms = now() + t.periodMs;
const decisions = []; // newest last
const rejections = []; // risk refusals, newest last
const pnlSeries = []; // pnl rows as they were, oldest first

// ------------------------------------------------------------ positions & pnl
function posKey(account, instId, posSide) {
  return `${account}|${instId}|${posSide}`;
}
function book(origin, account) {
  const k = `${origin}|${account}`;
  if (!pnlBooks.has(k)) pnlBooks.set(k, { realized: 0n, fees: 0n, funding: 0n, lots: new Map() });
  return pnlBooks.get(k);
}
function markOf(instId) {
  return pxOf(instId);
}
function uplOf(p, instId, posSide) {
  const ct = D(spec.get(instId).ctVal);
  const mark = markOf(instId);
  if (posSide === "net") return mul(mul(p.pos, ct), mark - p.avgPx);
  const dir = posSide === "long" ? 1n : -1n;
  return dir * mul(mul(p.pos, ct), mark - p.avgPx);
}
function positionView(account, key, p) {
  const [, instId, posSide] = key.split("|");
  const ct = D(spec.get(instId).ctVal);
  const notional = mul(mul(absB(p.pos), ct), markOf(instId));
  return {
    account,
    instId,
    posSide,
    mgnMode: p.mgnMode,
    pos: S(p.pos),
    avgPx: S(p.avgPx),
    upl: S(uplOf(p, instId, posSide)),
    lever: String(p.lever),
    liqPx: null,
    margin: S(div(notional, D(String(p.lever)))),
    realizedPnl: S(p.realized),
    ts: p.uTime,
  };
}
function accountPositions(account) {
  const out = [];
  for (const [k, p] of positions) if (k.startsWith(`${account}|`) && p.pos !== 0n) out.push(positionView(account, k, p));
  return out;
}
function accountUpl(account) {
  let u = 0n;
  for (const [k, p] of positions) if (k.startsWith(`${account}|`) && p.pos !== 0n) u += uplOf(p, k.split("|")[1], k.split("|")[2]);
  return u;
}
function accountEquity(a) {
  return a.cash + accountUpl(a.id);
}
function accountMargin(a) {
  let m = 0n;
  for (const p of accountPositions(a.id)) m += D(p.margin);
  return m;
}
function accountView(a) {
  const eq = accountEquity(a);
  return { id: a.id, exchange: a.exchange, demo: a.demo, posMode: a.posMode, tdMode: "cross", equity: S(eq), available: S(eq - accountMargin(a)), upl: S(accountUpl(a.id)), ccy: "USDT" };
}
function balanceView(a) {
  const eq = accountEquity(a);
  const avail = eq - accountMargin(a);
  return {
    account: a.id,
    totalEq: S(eq),
    ts: now(),
    details: [{ ccy: "USDT", eq: S(eq), availEq: S(avail), upl: S(accountUpl(a.id)), ts: now() }],
  };
}

/** Applies a fill to the position and to the origin's book; returns the fill row. */
function applyFill(order, px, sz) {
  const a = acct(order.account);
  const s = spec.get(order.instId);
  const ct = D(s.ctVal);
  const fee = -mul(mul(mul(sz, ct), px), D("0.0005"));
  const posSide = a.posMode === "long_short_mode" ? order.posSide || (order.side === "buy" ? "long" : "short") : "net";
  const key = posKey(a.id, order.instId, posSide);
  const p = positions.get(key) ?? { pos: 0n, avgPx: 0n, lever: order.lever || 10, mgnMode: order.tdMode || "cross", realized: 0n, uTime: now() };
  let realized = 0n;
  if (posSide === "net") {
    const signed = order.side === "buy" ? sz : -sz;
    if (p.pos === 0n || (p.pos > 0n) === (signed > 0n)) {
      p.avgPx = p.pos === 0n ? px : div(mul(absB(p.pos), p.avgPx) + mul(sz, px), absB(p.pos) + sz);
      p.pos += signed;
    } else {
      const closing = absB(signed) > absB(p.pos) ? absB(p.pos) : absB(signed);
      realized = mul(mul(closing, ct), p.pos > 0n ? px - p.avgPx : p.avgPx - px);
      p.pos += signed;
      if (p.pos !== 0n && (p.pos > 0n) === (signed > 0n)) p.avgPx = px; // flipped
    }
  } else {
    const opening = (posSide === "long") === (order.side === "buy");
    if (opening) {
      p.avgPx = p.pos === 0n ? px : div(mul(p.pos, p.avgPx) + mul(sz, px), p.pos + sz);
      p.pos += sz;
    } else {
      const closing = sz > p.pos ? p.pos : sz;
      realized = mul(mul(closing, ct), posSide === "long" ? px - p.avgPx : p.avgPx - px);
      p.pos -= closing;
    }
  }
  if (order.lever) p.lever = Number(order.lever);
  p.realized += realized + fee;
  p.uTime = now();
  positions.set(key, p);
  a.cash += realized + fee;
  const b = book(order.origin, a.id);
  b.realized += realized;
  b.fees += fee;
  const f = {
    account: a.id,
    instId: order.instId,
    tradeId: String(100000 + fills.length),
    ordId: order.ordId,
    clOrdId: order.clOrdId,
    side: order.side,
    posSide,
    fillPx: S(px),
    fillSz: S(sz),
    fee: S(fee),
    feeCcy: "USDT",
    maker: order.ordType === "limit",
    ts: now(),
  };
  fills.push(f);
  order.accFillSz = S(D(order.accFillSz || "0") + sz);
  order.avgPx = S(px);
  order.fee = S(D(order.fee || "0") + fee);
  order.state = "filled";
  order.uTime = now();
  broadcast("fill", f);
  broadcast("order", liveOrderView(order));
  broadcast("position", positionView(a.id, key, p));
  broadcast("balance", balanceView(a));
  return f;
}

// The two shapes the engine gives an order: live (the ORDER event, open
// orders, /ws) and stored (orders rows: history, a decision's orders).
function liveOrderView(o) {
  return {
    account: o.account,
    instId: o.instId,
    ordId: o.ordId ?? "",
    clOrdId: o.clOrdId,
    side: o.side,
    posSide: o.posSide,
    ordType: o.ordType,
    state: o.state,
    px: o.px || null,
    sz: o.sz,
    accFillSz: o.accFillSz || "0",
    avgPx: o.avgPx || null,
    fee: o.fee || "0",
    feeCcy: "USDT",
    reduceOnly: o.reduceOnly,
    cTime: o.cTime,
    uTime: o.uTime,
  };
}
function rowOrderView(o) {
  return {
    intentId: o.intent_id,
    clOrdId: o.clOrdId,
    ordId: o.ordId,
    origin: o.origin,
    decisionId: o.decision_id,
    account: o.account,
    instId: o.instId,
    op: o.op ?? "place",
    side: o.side,
    posSide: o.posSide,
    tdMode: o.tdMode ?? "cross",
    ordType: o.ordType,
    sz: o.sz,
    px: o.px || null,
    reduceOnly: o.reduceOnly,
    tpTriggerPx: o.tpTriggerPx || null,
    slTriggerPx: o.slTriggerPx || null,
    state: o.state,
    accFillSz: o.accFillSz || null,
    avgPx: o.avgPx || null,
    fee: o.fee || null,
    feeCcy: "USDT",
    code: o.code ?? null,
    msg: o.msg ?? null,
    createdMs: o.cTime,
    updatedMs: o.uTime,
  };
}

function pnlRows() {
  const out = [];
  for (const [k, b] of pnlBooks) {
    const [origin, account] = k.split("|");
    // unrealized: the origin's share is approximated by the whole account's for
    // the only origin trading it (good enough for a mock)
    const others = [...pnlBooks.keys()].filter((x) => x.endsWith(`|${account}`));
    const unrealized = others.length === 1 ? accountUpl(account) : 0n;
    out.push({
      origin,
      account,
      realized: S(b.realized),
      fees: S(b.fees),
      funding: S(b.funding),
      unrealized: S(unrealized),
      net: S(b.realized + b.fees + b.funding + unrealized),
      positions: accountPositions(account).length,
      ts: now(),
    });
  }
  return out;
}

// ------------------------------------------------------------ orders
class HttpError extends Error {
  constructor(status, code, message, rule) {
    super(message);
    this.status = status;
    this.code = code;
    this.rule = rule;
  }
}

function isEntry(a, o) {
  if (o.reduceOnly) return false;
  if (a.posMode === "long_short_mode") return (o.posSide === "long") === (o.side === "buy");
  const p = positions.get(posKey(a.id, o.instId, "net"));
  if (!p || p.pos === 0n) return true;
  return (p.pos > 0n) === (o.side === "buy");
}

function reject(o, rule, message) {
  const [inst, name] = rule.split("/");
  rejections.push({ intentId: o.intent_id, rule: inst, ruleName: name ?? "", reason: message, createdMs: now(), account: o.account, origin: o.origin, instId: o.instId, side: o.side, sz: o.sz });
  o.state = "rejected";
  o.code = "risk_rejected";
  o.msg = `${rule}: ${message}`;
  orders.push(o);
  broadcast("order", liveOrderView(o));
  throw new HttpError(422, "risk_rejected", `${rule}: ${message}`, rule);
}

function placeOrder(body, origin = "manual", decisionId = null) {
  const need = (k) => {
    if (typeof body[k] !== "string" || body[k].trim() === "") throw new HttpError(400, "bad_request", `${k} is required`);
    return body[k];
  };
  const account = need("account");
  const a = acct(account);
  if (!a) throw new HttpError(404, "not_found", `no account ${account}`);
  const instId = need("instId");
  const s = spec.get(instId);
  if (!s) throw new HttpError(400, "bad_request", `unknown instrument ${instId}`);
  const side = need("side");
  if (side !== "buy" && side !== "sell") throw new HttpError(400, "bad_request", "side must be buy or sell");
  const ordType = need("ordType");
  if (ordType !== "market" && ordType !== "limit") throw new HttpError(400, "bad_request", "ordType must be market or limit");
  const szText = need("sz");
  if (!isDecText(szText)) throw new HttpError(400, "bad_request", "sz must be a decimal string (contracts)");
  const sz = D(szText);
  if (sz <= 0n || !onStep(sz, D(s.lotSz))) throw new HttpError(400, "bad_request", `sz must be a positive multiple of lotSz ${s.lotSz}`);
  let px = null;
  if (ordType === "limit") {
    if (!isDecText(body.px ?? "")) throw new HttpError(400, "bad_request", "a limit order needs px");
    px = D(body.px);
    if (px <= 0n || !onStep(px, D(s.tickSz))) throw new HttpError(400, "bad_request", `px must be on the tick ${s.tickSz}`);
  }
  let posSide = body.posSide;
  if (a.posMode === "long_short_mode") {
    if (posSide !== "long" && posSide !== "short") throw new HttpError(400, "bad_request", "posSide long or short is required in long/short mode");
  } else posSide = "net";
  for (const k of ["tpTriggerPx", "slTriggerPx"]) {
    if (body[k] !== undefined && (!isDecText(body[k]) || !onStep(D(body[k]), D(s.tickSz))))
      throw new HttpError(400, "bad_request", `${k} must be a price on the tick`);
  }
  const intent_id = `${origin}/${nextId("i")}`;
  const o = {
    account,
    intent_id,
    origin,
    decision_id: decisionId,
    ordId: null,
    clOrdId: nextId("m"),
    instId,
    side,
    posSide,
    tdMode: body.tdMode || "cross",
    ordType,
    sz: S(sz),
    px: px === null ? "" : S(px),
    accFillSz: "0",
    avgPx: "",
    state: "intent",
    reduceOnly: body.reduceOnly === true,
    tpTriggerPx: body.tpTriggerPx ?? "",
    slTriggerPx: body.slTriggerPx ?? "",
    lever: body.lever ? Number(body.lever) : 0,
    cTime: now(),
    uTime: now(),
  };
  if (body.lever !== undefined) {
    const l = Number(body.lever);
    if (!Number.isInteger(l) || l < 1) throw new HttpError(400, "bad_request", "lever must be a whole number >= 1");
    if (l > Number(s.maxLever)) reject(o, "risk.limits/max_leverage", `leverage ${l} is over ${s.maxLever}`);
  }
  const entry = isEntry(a, o);
  if (entry && killSwitch.on) reject(o, "risk.breaker/kill_switch", `kill switch on since ${new Date(killSwitch.since_ms).toISOString()}`);
  if (entry) {
    const ref = px ?? (side === "buy" ? askOf(instId) : bidOf(instId));
    const notional = mul(mul(sz, D(s.ctVal)), ref);
    let gross = 0n;
    for (const p of accountPositions(account)) gross += mul(mul(absB(D(p.pos)), D(spec.get(p.instId).ctVal)), markOf(p.instId));
    const eq = accountEquity(a);
    if (gross + notional > 4n * eq)
      reject(o, "risk.limits/max_exposure", `${S(gross)} USDT open + ${S(notional)} for this entry is over 4 x equity ${S(eq)}`);
  }
  o.ordId = String(700000000 + orders.length);
  o.state = "live";
  orders.push(o);
  broadcast("order", liveOrderView(o));
  if (ordType === "market") applyFill(o, side === "buy" ? askOf(instId) : bidOf(instId), sz);
  return { intent_id, clOrdId: o.clOrdId, ordId: o.ordId, state: o.state };
}

function cancelOrder(account, ordId) {
  const o = orders.find((x) => x.account === account && x.ordId === ordId);
  if (!o) throw new HttpError(404, "not_found", `no order ${ordId} on ${account}`);
  if (o.state !== "live" && o.state !== "partially_filled") throw new HttpError(409, "not_open", `order ${ordId} is ${o.state}`);
  o.state = "canceled";
  o.uTime = now();
  broadcast("order", liveOrderView(o));
  return { ok: true, state: "canceled", ordId };
}

function closePosition(body) {
  const a = acct(body.account);
  if (!a) throw new HttpError(404, "not_found", `no account ${body.account}`);
  if (!spec.has(body.instId)) throw new HttpError(400, "bad_request", "unknown instrument");
  const posSide = a.posMode === "long_short_mode" ? body.posSide : "net";
  if (a.posMode === "long_short_mode" && posSide !== "long" && posSide !== "short")
    throw new HttpError(400, "bad_request", "posSide long or short is required in long/short mode");
  const p = positions.get(posKey(a.id, body.instId, posSide));
  if (!p || p.pos === 0n) throw new HttpError(404, "no_position", `no ${posSide} position on ${body.instId}`);
  const side = posSide === "long" || (posSide === "net" && p.pos > 0n) ? "sell" : "buy";
  const o = {
    account: a.id,
    intent_id: `manual/${nextId("c")}`,
    origin: "manual",
    decision_id: null,
    ordId: String(700000000 + orders.length),
    clOrdId: nextId("m"),
    instId: body.instId,
    side,
    posSide,
    ordType: "market",
    sz: S(absB(p.pos)),
    px: "",
    accFillSz: "0",
    avgPx: "",
    state: "live",
    reduceOnly: true,
    cTime: now(),
    uTime: now(),
  };
  orders.push(o);
  applyFill(o, side === "buy" ? askOf(body.instId) : bidOf(body.instId), absB(p.pos));
  return { ok: true, state: "filled", intent_id: o.intent_id, ordId: o.ordId };
}

// ------------------------------------------------------------ decisions
function makeDecision(t, at = now()) {
  const sym = t.symbols[Math.floor(rand() * t.symbols.length)];
  const r = rand();
  const action = r < 0.45 ? "hold" : r < 0.75 ? "open_long" : "open_short";
  const px = pxOf(sym);
  const id = `${t.id}:long:${at}`;
  const valid = rand() > 0.1;
  const actions = valid
    ? [
        action === "hold"
          ? { symbol: sym, action: "hold", confidence: "0.5", reason: "RSI 48 in the middle of the range; no edge.", invalidation: "" }
          : {
              symbol: sym,
              action,
              size_pct: "0.1",
              leverage: "3",
              take_profit: S(action === "open_long" ? px + px / 50n : px - px / 50n),
              stop_loss: S(action === "open_long" ? px - px / 100n : px + px / 100n),
              confidence: "0.7",
              reason: action === "open_long" ? "EMA12 crossed above EMA26 with rising volume." : "Lower highs on 5m and funding positive.",
              invalidation: action === "open_long" ? "a 5m close below EMA26" : "a 5m close above the last high",
            },
      ]
    : [];
  const d = {
    id,
    trader: t.id,
    created_ms: at,
    trigger_key: id,
    trigger_reason: rand() < 0.6 ? "schedule long_period 12m" : "rsi14 crossed 70 on BTC-USDT-SWAP 5m",
    provider: t.ai,
    model: t.model,
    latency_ms: Math.round(200 + rand() * 3000),
    tokens_in: 1300 + Math.round(rand() * 200),
    tokens_out: 120 + Math.round(rand() * 80),
    cost: t.ai === "ai.rules" ? 0 : 0.00042,
    valid,
    validation: valid ? "ok" : "decisions[0].leverage 50 is over this trader's max_leverage 10",
    actions,
    orders: [], // internal orders, each with its verdicts
    intents: [],
    system_prompt: "You are a disciplined crypto derivatives trader…",
    prompt: `time: ${new Date(at).toISOString()}\nequity: ${S(accountEquity(acct(t.account)))} USDT\n${sym} last ${S(px)}\n…`,
    raw_response: JSON.stringify({ decisions: actions }, null, 1),
  };
  if (valid && action !== "hold") {
    const s = spec.get(sym);
    const side = action === "open_long" ? "buy" : "sell";
    const posSide = acct(t.account).posMode === "long_short_mode" ? (action === "open_long" ? "long" : "short") : undefined;
    const body = { account: t.account, instId: sym, side, ordType: "market", sz: s.minSz === "0.01" ? "0.1" : s.minSz, ...(posSide ? { posSide } : {}) };
    const intentId = `${id}/0`;
    d.intents.push({ item: 0, symbol: sym, action, intent_id: intentId, op: "place", side, sz: body.sz, account: t.account });
    if (rand() < 0.3) {
      const o = { account: t.account, intent_id: intentId, origin: t.id, decision_id: id, ordId: null, clOrdId: nextId("ai"), instId: sym, side, posSide: posSide ?? "net", ordType: "market", sz: body.sz, state: "rejected", code: "risk_rejected", msg: "risk.limits/opens_per_hour: 3 entries in the last 60 minutes", reduceOnly: false, cTime: at, uTime: at };
      o.verdicts = [{ intentId, rule: "risk.limits", ruleName: "opens_per_hour", verdict: "reject", allowed: false, sz: body.sz, reason: "3 entries in the last 60 minutes", createdMs: at }];
      rejections.push({ intentId, rule: "risk.limits", ruleName: "opens_per_hour", reason: "3 entries in the last 60 minutes", createdMs: at, account: t.account, origin: t.id, instId: sym, side, sz: body.sz });
      orders.push(o);
      d.orders.push(o);
    } else {
      try {
        placeOrder(body, t.id, id);
        const o = orders[orders.length - 1];
        o.verdicts = [{ intentId: o.intent_id, rule: "risk.limits", ruleName: "", verdict: "approve", allowed: true, sz: o.sz, reason: "", createdMs: at }];
        d.orders.push(o);
      } catch (e) {
        const o = orders[orders.length - 1];
        if (o && o.decision_id === id) {
          o.verdicts = [{ intentId: o.intent_id, rule: (e.rule || "core.gate").split("/")[0], ruleName: (e.rule || "").split("/")[1] ?? "", verdict: "reject", allowed: false, sz: o.sz, reason: e.message, createdMs: at }];
          d.orders.push(o);
        }
      }
    }
  } else if (valid) {
    d.intents.push({ item: 0, symbol: sym, action: "hold", note: "hold: nothing sent" });
  }
  decisions.push(d);
  t.last_trigger_ms = at;
  t.decisions = (t.decisions ?? 0) + 1;
  if (!valid) t.invalid = (t.invalid ?? 0) + 1;
  return d;
}

/** The stored row (GET /api/decisions, /api/decisions/{id}). */
function decisionRow(d, full) {
  const row = {
    id: d.id,
    trader: d.trader,
    provider: d.provider,
    model: d.model,
    triggerKey: d.trigger_key,
    triggerReason: d.trigger_reason,
    valid: d.valid,
    invalidReason: d.valid ? null : d.validation,
    validation: d.validation,
    actions: d.actions,
    intents: d.intents,
    latencyMs: d.latency_ms,
    tokensIn: d.tokens_in,
    tokensOut: d.tokens_out,
    costUsd: d.cost,
    finishReason: "stop",
    providerError: null,
    attempts: 1,
    outcome: null,
    netPnl: null,
    createdMs: d.created_ms,
    orders: d.orders.map((o) => ({ ...rowOrderView(o), verdicts: o.verdicts ?? [] })),
  };
  if (full) {
    Object.assign(row, {
      prompt: d.prompt,
      systemPrompt: d.system_prompt,
      rawResponse: d.raw_response,
      reasoning: null,
      firstResponse: null,
      firstError: null,
      refusal: null,
      promptHash: "0".repeat(64),
      promptTokens: d.tokens_in,
      deadlineMs: d.created_ms + 60000,
    });
  }
  return row;
}

/** The DECISION event as /ws pushes it. */
function decisionEvent(d) {
  const num = (v) => (v === undefined || v === null ? null : Number(v));
  return {
    id: d.id,
    trader: d.trader,
    provider: d.provider,
    model: d.model,
    valid: d.valid,
    invalidReason: d.valid ? null : d.validation,
    latencyMs: d.latency_ms,
    tokensIn: d.tokens_in,
    tokensOut: d.tokens_out,
    costUsd: d.cost,
    triggerKey: d.trigger_key,
    actions: d.actions.map((a) => ({
      symbol: a.symbol,
      action: a.action,
      sizePct: num(a.size_pct),
      leverage: num(a.leverage),
      takeProfit: a.take_profit ?? null,
      stopLoss: a.stop_loss ?? null,
      confidence: num(a.confidence),
      reason: a.reason,
      invalidation: a.invalidation,
    })),
    createdMs: d.created_ms,
  };
}

function traderView(t) {
  const cost = decisions.filter((d) => d.trader === t.id).reduce((c, d) => c + d.cost, 0);
  return {
    id: t.id,
    instance: `trader.${t.id}`,
    ai: t.ai,
    account: t.account,
    symbols: t.symbols,
    shadow: t.shadow,
    state: t.state,
    mode: "long",
    in_flight: 0,
    next_call_ms: t.state === "running" ? t.next_call_ms : null,
    last_trigger_ms: t.last_trigger_ms ?? null,
    pause: t.state === "paused" ? { since_ms: t.paused_ms ?? started, by: t.paused_by ?? "config", reason: t.paused_reason ?? "" } : null,
    stats: { triggers: t.decisions ?? 0, manual_runs: t.manual ?? 0, skipped_paused: 0, over_budget: 0, merged: 0, late: 0, decisions: t.decisions ?? 0, invalid: t.invalid ?? 0, retries: 0, intents: 0, stale_refused: 0, giveback_closes: 0, cost_day_usd: cost },
  };
}

// ------------------------------------------------------------ candles, equity history
const BAR_MS = { "1m": 60e3, "3m": 180e3, "5m": 300e3, "15m": 900e3, "30m": 1800e3, "1H": 3600e3, "4H": 14400e3, "1D": 86400e3 };
function candles(instId, bar, limit) {
  const ms = BAR_MS[bar];
  const s = spec.get(instId);
  const tick = D(s.tickSz);
  let t = market.get(instId).ticks;
  const out = [];
  const end = Math.floor(now() / ms) * ms;
  let local = (instId.length * 7919 + ms) >>> 0;
  const r = () => ((local = (local * 1664525 + 1013904223) >>> 0) / 4294967296);
  const step = t / 400n > 0n ? t / 400n : 1n;
  for (let i = 0; i < limit; i++) {
    const ts = end - i * ms;
    const c = t;
    const o = c + BigInt(Math.round((r() - 0.5) * 2 * Number(step)));
    const h = (o > c ? o : c) + BigInt(Math.round(r() * Number(step)));
    const l = (o < c ? o : c) - BigInt(Math.round(r() * Number(step)));
    out.push([String(ts), S(o * tick), S(h * tick), S(l * tick), S(c * tick), String(Math.round(r() * 5000))]);
    t = o;
  }
  // oldest first, as the engine keeps them
  return out.reverse().map(([ts, o, h, l, c, vol], k) => ({ ts: Number(ts), open: o, high: h, low: l, close: c, vol, confirmed: k < out.length - 1 }));
}
function seedHistory() {
  const t0 = now() - 2 * 3600e3;
  for (const a of accounts) {
    const pts = equity.get(a.id);
    let eq = a.cash;
    for (let ts = t0; ts < now(); ts += 60e3) {
      eq += BigInt(Math.round((rand() - 0.48) * 4 * Number(SCALE)));
      pts.push({ ts, totalEq: S(eq) });
    }
  }
  const alpha = traders[0];
  for (let i = 5; i >= 1; i--) makeDecision(alpha, now() - i * 12 * 60e3);
}

// ------------------------------------------------------------ news, sentiment
// What source_rss stores (id: a hash of the story's key; symbols "BTC,ETH" or
// null; score the lexicon's, -1..1) with what newer engines add: impact (0..1)
// and an LLM's score with its scorer, null (or absent) on rows not rated.
const news = [];
const sentiment = [];
const newsId = (title) => crypto.createHash("sha256").update(title.toLowerCase()).digest("hex").slice(0, 32);
function newsRow(at, feed, title, symbols, score, more = {}) {
  const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60);
  const host = { CoinDesk: "www.coindesk.com", Cointelegraph: "cointelegraph.com", Decrypt: "decrypt.co" }[feed] ?? "news.example";
  return {
    id: newsId(title),
    feed,
    title,
    url: more.url === undefined ? `https://${host}/${slug}` : more.url,
    summary: more.summary ?? null,
    symbols,
    publishedMs: at,
    score,
    ...("impact" in more ? { impact: more.impact, llmScore: more.llmScore ?? null, scorer: more.scorer ?? null } : {}),
    fetchedMs: at + 20000,
  };
}
const NEWS_LATER = [
  ["CoinDesk", "Bitcoin miners send fewer coins to exchanges as hashprice recovers", "BTC", 0.18, { impact: 0.22, llmScore: 0.1, scorer: "ai.qwen" }],
  ["Decrypt", "Solana DEX volume surges to a three-month high", "SOL", 0.57, { impact: 0.41, llmScore: 0.45, scorer: "ai.qwen" }],
  ["Cointelegraph", "Regulator sues exchange over unregistered ether staking", "ETH", -0.52, { impact: 0.58, llmScore: -0.65, scorer: "ai.qwen" }],
  ["CoinDesk", "Dogecoin open interest climbs as $DOGE breaks resistance", "DOGE", 0.33, {}],
];
let newsPushed = 0;
function seedNews() {
  const m = 60e3;
  const h = 3600e3;
  const t = now();
  news.push(
    newsRow(t - 4 * m, "CoinDesk", "Bitcoin ETF inflows hit a record as BTC rallies past $95,000", "BTC", 0.62, {
      summary: "Spot bitcoin ETFs took in $1.2 billion on Tuesday, the most in a single day, as the price rose 4%.",
      impact: 0.71,
      llmScore: 0.55,
      scorer: "ai.qwen",
    }),
    newsRow(t - 18 * m, "Cointelegraph", "Exchange hacked: $40M in ether drained from a hot wallet", "ETH", -0.74, {
      summary: "Withdrawals are halted while the exchange investigates; users are told their funds are safe.",
      impact: 0.64,
      llmScore: -0.8,
      scorer: "ai.qwen",
    }),
    // an older row: stored before impact and LLM scores existed (nulls)
    newsRow(t - 47 * m, "Decrypt", "Solana validators ship a network upgrade", "SOL", 0.12, { impact: null, llmScore: null, scorer: null }),
    // older still: no such keys at all
    newsRow(t - 2 * h, "CoinDesk", "Markets flat ahead of the Fed decision", null, 0),
    newsRow(t - 5 * h, "Decrypt", "SOL and $DOGE bounce as memecoins rally", "SOL,DOGE", 0.38, { impact: 0.35, llmScore: 0.2, scorer: "ai.qwen" }),
    newsRow(t - 9 * h, "Cointelegraph", "Ether slips as staking outflows grow", "ETH", -0.31, { impact: 0.27, llmScore: null, scorer: null }),
    newsRow(t - 26 * h, "CoinDesk", "Bitcoin and ether consolidate after the weekly close", "BTC,ETH", 0.02),
    newsRow(t - 50 * h, "Dogecoin Blog", "Dogecoin Core 1.15 released", "DOGE", 0.1, { url: null }),
  );
  // two more pages of older headlines, for "Load older"
  const coins = ["BTC", "ETH", "SOL", "DOGE"];
  const words = [
    ["rallies on strong demand", 0.48],
    ["slides as traders take profit", -0.36],
    ["trades sideways in a quiet week", 0.0],
    ["faces a liquidation cascade", -0.67],
  ];
  for (let i = 0; i < 100; i++) {
    const coin = coins[i % coins.length];
    const [w, sc] = words[Math.floor(i / coins.length) % words.length];
    news.push(newsRow(t - 3 * 86400e3 - i * 3 * h, ["CoinDesk", "Cointelegraph", "Decrypt"][i % 3], `${coin} ${w} (day ${3 + Math.floor(i / 8)}, #${i + 1})`, coin, sc));
  }
  // Fear & Greed: a reading a day for 60 days, with alternative.me's labels
  const day = Math.floor(t / 86400e3) * 86400e3;
  const label = (v) => (v < 25 ? "Extreme Fear" : v < 45 ? "Fear" : v <= 55 ? "Neutral" : v < 75 ? "Greed" : "Extreme Greed");
  for (let i = 59; i >= 0; i--) {
    const v = Math.max(5, Math.min(95, Math.round(50 + 30 * Math.sin(i / 9) + (rand() - 0.5) * 14)));
    sentiment.push({ feed: "feargreed", asOfMs: day - i * 86400e3, value: v, label: label(v) });
  }
  // another feed: the headlines' mean lexicon score per hour
  for (let i = 23; i >= 0; i--) sentiment.push({ feed: "lexicon", asOfMs: Math.floor(t / h) * h - i * h, value: Math.round((rand() - 0.45) * 80) / 100, label: null });
}
/** A new headline, stored and pushed as the engine does ({type: "news", data: row}), and a lexicon reading. */
function newsTick() {
  const [feed, title, symbols, score, more] = NEWS_LATER[newsPushed % NEWS_LATER.length];
  newsPushed++;
  const row = newsRow(now(), feed, newsPushed > NEWS_LATER.length ? `${title} (${newsPushed})` : title, symbols, score, more);
  news.push(row);
  broadcast("news", row);
  const reading = { feed: "lexicon", asOfMs: now(), value: score, label: null };
  sentiment.push(reading);
  broadcast("sentiment", reading);
}

// ------------------------------------------------------------ HTTP
const sockets = new Set();
function broadcast(type, data) {
  const msg = JSON.stringify({ type, data });
  for (const ws of sockets) if (ws.readyState === 1) ws.send(msg);
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
function sendError(res, status, code, message, rule) {
  sendJson(res, status, { error: rule ? { code, message, rule } : { code, message } });
}

function originOk(req) {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    const u = new URL(origin);
    const host = req.headers.host ?? "";
    return u.host === host || ((u.hostname === "127.0.0.1" || u.hostname === "localhost") && ALLOWED_ORIGIN_PORTS.has(u.port));
  } catch {
    return false;
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, "too_large", `body over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return resolve({});
      try {
        const v = JSON.parse(text);
        if (typeof v !== "object" || v === null || Array.isArray(v)) return reject(new HttpError(400, "bad_request", "body must be a JSON object"));
        resolve(v);
      } catch {
        reject(new HttpError(400, "bad_json", "body is not JSON"));
      }
    });
    req.on("error", reject);
  });
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".json": "application/json", ".ico": "image/x-icon" };
function serveStatic(res, pathname) {
  const rel = pathname === "/" ? "/index.html" : pathname;
  const file = path.normalize(path.join(DIST, rel));
  if (!file.startsWith(DIST)) return sendError(res, 404, "not_found", "not found");
  fs.readFile(file, (err, data) => {
    if (err) {
      if (pathname === "/" || !path.extname(pathname)) {
        res.writeHead(200, { "Content-Type": "text/html" });
        return res.end("<!doctype html><p>mock: no web/dist yet; run <code>npm run build</code> or use <code>npm run dev</code>.</p>");
      }
      return sendError(res, 404, "not_found", `no ${pathname}`);
    }
    res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    res.end(data);
  });
}

const routes = [];
const route = (method, re, auth, fn) => routes.push({ method, re, auth, fn });

route("GET", /^\/api\/health$/, false, () => ({
  status: "ok",
  version: "0.0.0-mock",
  abi: "1.5",
  mode: "paper",
  uptime_s: Math.round((now() - started) / 1000),
  plugins: [
    { instance: "storage.sqlite", module: "storage_sqlite", kind: "storage", state: "up", detail: "data/aitrader.db" },
    { instance: "exchange.okx_demo", module: "exchange_okx", kind: "exchange", state: "up", detail: "public+private+business connected" },
    { instance: "exchange.paper", module: "exchange_paper", kind: "exchange", state: "up", detail: "priced by exchange.okx_demo" },
    { instance: "ai.rules", module: "ai_rules", kind: "ai", state: "up", detail: "" },
    { instance: "risk.limits", module: "risk_limits", kind: "risk", state: "up", detail: "" },
    { instance: "risk.breaker", module: "risk_breaker", kind: "risk", state: "up", detail: "" },
    { instance: "trader.alpha", module: "trader", kind: "trader", state: "up", detail: "" },
    { instance: "ui.dashboard", module: "ui_dashboard", kind: "ui", state: "up", detail: `http://${HOST}` },
  ],
}));
route("GET", /^\/api\/instruments$/, false, () =>
  INSTRUMENTS.map(({ px, ...i }) => (void px, { account: "exchange.okx_demo", ...i, instType: "SWAP", ctMult: "1", settleCcy: "USDT", state: "live", updatedMs: started })),
);
route("GET", /^\/api\/market\/tickers$/, false, () => INSTRUMENTS.map((i) => tickerView(i.instId)));
route("GET", /^\/api\/market\/candles$/, false, (_m, _b, q) => {
  const instId = q.get("instId") ?? "";
  if (!spec.has(instId)) throw new HttpError(400, "bad_request", "instId: unknown instrument");
  const bar = q.get("bar") || "1m";
  if (!BAR_MS[bar]) throw new HttpError(400, "bad_request", `bar: one of ${Object.keys(BAR_MS).join(", ")}`);
  const limit = Math.min(Math.max(Number(q.get("limit") || "100"), 1), 1000);
  if (!Number.isInteger(limit)) throw new HttpError(400, "bad_request", "limit: a whole number");
  return candles(instId, bar, limit);
});
route("GET", /^\/api\/accounts$/, false, () => accounts.map(accountView));
route("POST", /^\/api\/accounts$/, true, (_m, b) => {
  if (typeof b.id !== "string" || !/^exchange\.[a-z0-9_]+$/.test(b.id)) throw new HttpError(400, "bad_request", "id must be exchange.<name>");
  if (acct(b.id)) throw new HttpError(409, "exists", `${b.id} exists`);
  accounts.push({ id: b.id, exchange: String(b.module || "okx"), demo: true, posMode: "net_mode", cash: D("1000"), trades: true });
  equity.set(b.id, []);
  return { ok: true, id: b.id };
});
route("DELETE", /^\/api\/accounts\/([^/]+)$/, true, (m) => {
  const id = decodeURIComponent(m[1]);
  const i = accounts.findIndex((a) => a.id === id);
  if (i < 0) throw new HttpError(404, "not_found", `no account ${id}`);
  accounts.splice(i, 1);
  return { ok: true };
});
const withAcct = (m) => {
  const a = acct(decodeURIComponent(m[1]));
  if (!a) throw new HttpError(404, "not_found", `no account ${decodeURIComponent(m[1])}`);
  return a;
};
route("GET", /^\/api\/accounts\/([^/]+)\/balance$/, false, (m) => balanceView(withAcct(m)));
route("GET", /^\/api\/accounts\/([^/]+)\/positions$/, false, (m) => accountPositions(withAcct(m).id));
route("GET", /^\/api\/accounts\/([^/]+)\/orders$/, false, (m, _b, q) => {
  const a = withAcct(m);
  const state = q.get("state") || "open";
  if (state !== "open" && state !== "history") throw new HttpError(400, "bad_request", "state: open or history");
  const mine = orders.filter((o) => o.account === a.id);
  const open = (o) => o.state === "live" || o.state === "partially_filled";
  return state === "open" ? mine.filter(open).reverse().map(liveOrderView) : mine.filter((o) => !open(o)).reverse().map(rowOrderView);
});
route("GET", /^\/api\/accounts\/([^/]+)\/fills$/, false, (m) => fills.filter((f) => f.account === withAcct(m).id).slice().reverse());
route("GET", /^\/api\/accounts\/([^/]+)\/equity$/, false, (m) => equity.get(withAcct(m).id).map((p) => ({ ts: p.ts, totalEq: p.totalEq, avail: null, upl: null })));
route("POST", /^\/api\/orders$/, true, (_m, b) => placeOrder(b));
route("DELETE", /^\/api\/orders\/([^/]+)\/([^/]+)$/, true, (m) => cancelOrder(decodeURIComponent(m[1]), decodeURIComponent(m[2])));
route("POST", /^\/api\/positions\/close$/, true, (_m, b) => closePosition(b));
route("GET", /^\/api\/traders$/, false, () => traders.map(traderView));
route("POST", /^\/api\/traders\/([^/]+)\/(run|pause|resume)$/, true, (m) => {
  const t = traders.find((x) => x.id === decodeURIComponent(m[1]));
  if (!t) throw new HttpError(404, "not_found", `no trader ${decodeURIComponent(m[1])}`);
  if (m[2] === "pause") Object.assign(t, { state: "paused", paused_ms: now(), paused_by: "dashboard", paused_reason: "" });
  if (m[2] === "run") t.manual = (t.manual ?? 0) + 1;
  if (m[2] === "resume") {
    t.state = "running";
    t.next_call_ms = now() + t.periodMs;
  }
  if (m[2] === "run") broadcast("decision", decisionEvent(makeDecision(t)));
  broadcast("status", { instance: `trader.${t.id}`, state: "up", detail: t.state, ts: now() });
  return m[2] === "run" ? { trader: t.id, key: decisions[decisions.length - 1].id, reason: "manual run" } : { trader: t.id, changed: true };
});
route("GET", /^\/api\/decisions$/, false, (_m, _b, q) => {
  let list = decisions.slice().reverse();
  const trader = q.get("trader");
  if (trader) list = list.filter((d) => d.trader === trader);
  const before = q.get("before");
  if (before) list = list.filter((d) => d.created_ms < Number(before));
  const limit = Math.min(Number(q.get("limit") || "50"), 500);
  return list.slice(0, limit).map((d) => decisionRow(d, false));
});
route("GET", /^\/api\/decisions\/(.+)$/, false, (m) => {
  const d = decisions.find((x) => x.id === decodeURIComponent(m[1]));
  if (!d) throw new HttpError(404, "unknown_decision", `no decision ${decodeURIComponent(m[1])}`);
  return decisionRow(d, true);
});
route("GET", /^\/api\/risk$/, false, () => ({
  killSwitch: { ...killSwitch, present: killSwitch.since_ms !== null, file: "data/kill-switch", watched: true },
  rules: [
    { instance: "risk.limits", module: "risk_limits", kind: "risk", state: "up", detail: "" },
    { instance: "risk.breaker", module: "risk_breaker", kind: "risk", state: "up", detail: killSwitch.on ? "kill switch on" : "no account tripped" },
  ],
  rejections: rejections.slice(-20).reverse(),
}));
route("POST", /^\/api\/kill-switch$/, true, (_m, b) => {
  if (typeof b.on !== "boolean") throw new HttpError(400, "bad_request", "on must be true or false");
  const changed = b.on !== killSwitch.on;
  killSwitch = { on: b.on, since_ms: now(), by: "dashboard", reason: typeof b.reason === "string" && b.reason ? b.reason : "from the dashboard" };
  broadcast("alert", { level: "warn", message: `kill switch ${b.on ? "ON" : "off"}`, source: "risk.breaker", ts: now() });
  return { ...killSwitch, changed };
});
route("GET", /^\/api\/pnl$/, false, (_m, _b, q) => {
  const origin = q.get("origin");
  const account = q.get("account");
  const since = Number(q.get("since") || "0");
  const keep = (r) => (!origin || r.origin === origin) && (!account || r.account === account);
  const series = origin ? pnlSeries.filter((r) => keep(r) && r.ts >= since) : [];
  return { latest: pnlRows().filter(keep), series };
});
// The arena's shape (README "Arena"), figured simply: a curve of 10000 + net PnL.
route("GET", /^\/api\/arena$/, false, (_m, _b, q) => {
  const int = (k, d) => {
    const v = q.get(k) || String(d);
    if (!/^\d+$/.test(v)) throw new HttpError(400, "bad_query", `${k} must be a whole number`);
    return Number(v);
  };
  const spans = { "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3, all: 0 };
  const win = q.get("window") || "";
  if (win && !(win in spans)) throw new HttpError(400, "bad_query", "window must be 24h, 7d, 30d or all");
  if (win && q.get("from")) throw new HttpError(400, "bad_query", "give window or from, not both");
  const to = int("to", now());
  const from = win ? Math.max(0, spans[win] ? to - spans[win] : 0) : int("from", 0);
  if (from > to) throw new HttpError(400, "bad_query", `from (${from}) is after to (${to})`);
  const bias = new Map();
  const rows = traders.map((t) => {
    const curve = pnlSeries.filter((r) => r.origin === t.id && r.account === t.account && r.ts >= from && r.ts <= to).map((r) => [r.ts, String(10000 + Number(r.net))]);
    const ds = decisions.filter((d) => d.trader === t.id && d.created_ms >= from && d.created_ms <= to);
    const entries = (a) => ds.filter((d) => d.valid).flatMap((d) => d.actions).filter((x) => x.action === a).length;
    const [long, short] = [entries("open_long"), entries("open_short")];
    const b = bias.get(t.model) ?? { model: t.model, long: 0, short: 0 };
    b.long += long;
    b.short += short;
    bias.set(t.model, b);
    const v = curve.map((p) => Number(p[1]));
    let peak = 0;
    const dd = v.reduce((w, x) => ((peak = Math.max(peak, x)), Math.max(w, peak > 0 ? ((peak - x) / peak) * 100 : 0)), 0);
    const last = pnlRows().find((r) => r.origin === t.id && r.account === t.account);
    return {
      trader: t.id,
      provider: t.ai,
      model: t.model,
      account: t.account,
      symbols: t.symbols,
      start_equity: curve[0]?.[1] ?? null,
      equity: curve.at(-1)?.[1] ?? null,
      pnl: v.length ? String(v.at(-1) - v[0]) : null,
      return_pct: v.length ? (v.at(-1) / v[0] - 1) * 100 : null,
      max_drawdown_pct: v.length ? dd : null,
      sharpe: null,
      sharpe_returns: 0,
      win_rate: null,
      round_trips: 0,
      wins: 0,
      fees: last?.fees ?? "0",
      funding: last?.funding ?? "0",
      ai_calls: ds.length,
      tokens_in: ds.reduce((s, d) => s + d.tokens_in, 0),
      tokens_out: ds.reduce((s, d) => s + d.tokens_out, 0),
      cost_usd: ds.reduce((s, d) => s + d.cost, 0),
      long_entries: long,
      short_entries: short,
      long_short_ratio: short ? long / short : null,
      equity_curve: curve,
    };
  });
  rows.sort((a, b) => (b.return_pct ?? -Infinity) - (a.return_pct ?? -Infinity));
  const biasRows = [...bias.values()].filter((b) => b.long || b.short).map((b) => ({ ...b, ratio: b.short ? b.long / b.short : null }));
  return { from, to, truncated: false, traders: rows, bias: biasRows.sort((a, b) => a.model.localeCompare(b.model)) };
});
// News rows and sentiment readings as the engine stores them, newest first.
const pageInt = (q, k, def, min, max) => {
  const v = q.get(k);
  if (v === null || v === "") return def;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new HttpError(400, "bad_query", `${k} must be a whole number from ${min} to ${max}`);
  return Number(v);
};
route("GET", /^\/api\/news$/, false, (_m, _b, q) => {
  const symbol = (q.get("symbol") ?? "").toUpperCase();
  const limit = pageInt(q, "limit", 50, 1, 500);
  const before = pageInt(q, "before", 0, 0, Number.MAX_SAFE_INTEGER);
  // the engine's "symbols LIKE %SYM%"
  return news
    .filter((n) => (!symbol || (n.symbols ?? "").toUpperCase().includes(symbol)) && (!before || n.publishedMs < before))
    .sort((a, b) => b.publishedMs - a.publishedMs)
    .slice(0, limit);
});
route("GET", /^\/api\/sentiment$/, false, (_m, _b, q) => {
  const feed = q.get("feed") ?? "";
  const limit = pageInt(q, "limit", 100, 1, 1000);
  return sentiment
    .filter((r) => !feed || r.feed === feed)
    .sort((a, b) => b.asOfMs - a.asOfMs)
    .slice(0, limit);
});

function tickerView(instId) {
  const m = market.get(instId);
  const tick = D(spec.get(instId).tickSz);
  return {
    instId,
    source: "exchange.okx_demo",
    last: S(m.ticks * tick),
    lastSz: "1",
    bidPx: S(bidOf(instId)),
    bidSz: "12",
    askPx: S(askOf(instId)),
    askSz: "9",
    open24h: S(m.open24h * tick),
    high24h: S(m.high * tick),
    low24h: S(m.low * tick),
    vol24h: S(m.vol),
    ts: now(),
  };
}

function metricsText() {
  return [
    "# TYPE aitrader_bus_queue_depth gauge",
    'aitrader_bus_queue_depth{instance="core"} 0',
    "# TYPE aitrader_ai_requests_total counter",
    `aitrader_ai_requests_total{instance="ai.rules"} ${decisions.length}`,
    'aitrader_ai_errors_total{instance="ai.rules"} 0',
    `aitrader_breaker_kill_switch{instance="risk.breaker"} ${killSwitch.on ? 1 : 0}`,
    'aitrader_breaker_tripped_accounts{instance="risk.breaker"} 0',
    "",
  ].join("\n");
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://mock");
  const p = url.pathname;
  try {
    if (p === "/metrics" && req.method === "GET") {
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
      return res.end(metricsText());
    }
    if (!p.startsWith("/api/")) {
      if (req.method !== "GET") return sendError(res, 405, "method_not_allowed", `${req.method} ${p}`);
      return serveStatic(res, p);
    }
    const matching = routes.filter((r) => r.re.test(p));
    if (matching.length === 0) return sendError(res, 404, "not_found", `no route ${p}`);
    const r = matching.find((x) => x.method === req.method);
    if (!r) return sendError(res, 405, "method_not_allowed", `${req.method} ${p}`);
    if (r.auth) {
      if (!originOk(req)) return sendError(res, 403, "forbidden_origin", `origin ${req.headers.origin} is not allowed`);
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return sendError(res, 401, "unauthorized", "a valid bearer token is required");
    }
    const body = req.method === "POST" ? await readBody(req) : {};
    const out = r.fn(r.re.exec(p), body, url.searchParams);
    sendJson(res, req.method === "POST" && p === "/api/orders" ? 201 : 200, out);
  } catch (e) {
    if (e instanceof HttpError) return sendError(res, e.status, e.code, e.message, e.rule);
    console.error(e);
    sendError(res, 500, "internal", String(e?.message ?? e));
  }
});

const wss = new WebSocketServer({ noServer: true });
server.on("upgrade", (req, socket, head) => {
  const p = new URL(req.url ?? "/", "http://mock").pathname;
  if (p !== "/ws" || !originOk(req)) {
    socket.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    sockets.add(ws);
    ws.on("close", () => sockets.delete(ws));
    for (const i of INSTRUMENTS) ws.send(JSON.stringify({ type: "ticker", data: tickerView(i.instId) }));
  });
});

// ------------------------------------------------------------ the clock
function tick() {
  for (const i of INSTRUMENTS) {
    const m = market.get(i.instId);
    const step = m.ticks / 2000n > 0n ? m.ticks / 2000n : 1n;
    const move = BigInt(Math.round((rand() - 0.5) * 2 * Number(step)));
    m.ticks = m.ticks + move > 0n ? m.ticks + move : m.ticks;
    if (m.ticks > m.high) m.high = m.ticks;
    if (m.ticks < m.low) m.low = m.ticks;
    m.vol += D(String(Math.round(rand() * 100)));
    broadcast("ticker", tickerView(i.instId));
    const tk = D(i.tickSz);
    const levels = (dir) => Array.from({ length: 10 }, (_, k) => [S(pxOf(i.instId) + BigInt(dir * (k + 1)) * tk), S(D(String(1 + Math.round(rand() * 50)))), "0", "1"]);
    broadcast("book", { instId: i.instId, bids: levels(-1), asks: levels(1), ts: now() });
    // resting limits fill when the price crosses them
    for (const o of orders) {
      if (o.instId !== i.instId || o.state !== "live" || o.ordType !== "limit") continue;
      const px = D(o.px);
      if ((o.side === "buy" && askOf(i.instId) <= px) || (o.side === "sell" && bidOf(i.instId) >= px)) applyFill(o, px, D(o.sz));
    }
  }
  for (const t of traders) {
    if (t.state === "running" && DECISION_EVERY > 0 && now() >= t.next_call_ms) {
      t.next_call_ms = now() + Math.min(t.periodMs, DECISION_EVERY);
      broadcast("decision", decisionEvent(makeDecision(t)));
    }
  }
}
let lastEq = now();
function equityTick() {
  if (now() - lastEq < 10000) return;
  lastEq = now();
  for (const a of accounts) equity.get(a.id)?.push({ ts: now(), totalEq: S(accountEquity(a)) });
  for (const r of pnlRows()) pnlSeries.push(r);
}

seedHistory();
seedNews();
for (const t of traders) t.next_call_ms = now() + (DECISION_EVERY > 0 ? DECISION_EVERY : t.periodMs);
server.listen(PORT, HOST, () => {
  const addr = server.address();
  console.log(`mock listening on http://${HOST}:${addr.port} token=${TOKEN}`);
});
const timer = setInterval(() => {
  tick();
  equityTick();
}, TICK_MS);
const newsTimer = NEWS_EVERY > 0 ? setInterval(newsTick, NEWS_EVERY) : null;
const stop = () => {
  clearInterval(timer);
  if (newsTimer) clearInterval(newsTimer);
  for (const ws of sockets) ws.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
