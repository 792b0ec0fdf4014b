// The shapes of CONTRACTS §3 (and GET /api/pnl), with their decoders.
// Decimal text (prices, sizes, money) is `string`; times are epoch ms.
// Field names follow the API (OKX's camelCase for exchange data, snake_case
// for the engine's own records); a few aliases are read so a stored row
// (inst_id) and a live event (instId) decode alike.
import {
  DecodeError,
  bool,
  isObj,
  list,
  obj,
  optBool,
  optDec,
  optMs,
  optNum,
  optStr,
  pick,
  reqDec,
  str,
  strList,
  subList,
  type Obj,
} from "./decode";

export type DecText = string;

// ---------------------------------------------------------------- health
export interface PluginState {
  instance: string;
  module: string;
  kind: string;
  state: string;
  detail: string;
}

export interface Health {
  status: string;
  version: string;
  mode: string;
  uptime_s: number;
  plugins: PluginState[];
}

export function decodePlugin(v: unknown, what: string): PluginState {
  const o = obj(v, what);
  const instance = str(o, ["instance", "name"], what);
  return {
    instance,
    module: optStr(o, "module") ?? "",
    kind: optStr(o, "kind") ?? instance.split(".")[0] ?? "",
    state: optStr(o, "state") ?? "unknown",
    detail: optStr(o, ["detail", "message"]) ?? "",
  };
}

export function decodeHealth(v: unknown): Health {
  const o = obj(v, "health");
  return {
    status: optStr(o, "status") ?? "unknown",
    version: optStr(o, "version") ?? "",
    mode: optStr(o, "mode") ?? "",
    uptime_s: optNum(o, "uptime_s") ?? 0,
    plugins: pick(o, ["plugins"]) === undefined ? [] : list(o["plugins"], "health.plugins", decodePlugin),
  };
}

// ---------------------------------------------------------------- instruments
export interface Instrument {
  instId: string;
  ctVal: DecText;
  ctValCcy: string;
  lotSz: DecText;
  minSz: DecText;
  tickSz: DecText;
  maxLever: DecText | null;
}

export function decodeInstrument(v: unknown, what: string): Instrument {
  const o = obj(v, what);
  return {
    instId: str(o, ["instId", "inst_id"], what),
    ctVal: optDec(o, ["ctVal", "ct_val"], what) ?? "1",
    ctValCcy: optStr(o, ["ctValCcy", "ct_val_ccy"]) ?? "",
    lotSz: reqDec(o, ["lotSz", "lot_sz"], what),
    minSz: reqDec(o, ["minSz", "min_sz"], what),
    tickSz: reqDec(o, ["tickSz", "tick_sz"], what),
    maxLever: optDec(o, ["maxLever", "max_lever"], what),
  };
}

// ---------------------------------------------------------------- market
export interface Ticker {
  instId: string;
  last: DecText | null;
  bidPx: DecText | null;
  askPx: DecText | null;
  markPx: DecText | null;
  open24h: DecText | null;
  high24h: DecText | null;
  low24h: DecText | null;
  vol24h: DecText | null;
  fundingRate: DecText | null;
  ts: number | null;
}

export function decodeTicker(v: unknown, what: string): Ticker {
  const o = obj(v, what);
  return {
    instId: str(o, ["instId", "inst_id"], what),
    last: optDec(o, ["last", "lastPx"], what),
    bidPx: optDec(o, ["bidPx", "bid"], what),
    askPx: optDec(o, ["askPx", "ask"], what),
    markPx: optDec(o, ["markPx", "mark"], what),
    open24h: optDec(o, ["open24h", "sodUtc0"], what),
    high24h: optDec(o, ["high24h"], what),
    low24h: optDec(o, ["low24h"], what),
    vol24h: optDec(o, ["vol24h", "volCcy24h"], what),
    fundingRate: optDec(o, ["fundingRate", "funding_rate"], what),
    ts: optMs(o, ["ts", "ts_ms"]),
  };
}

export interface Candle {
  ts: number;
  o: DecText;
  h: DecText;
  l: DecText;
  c: DecText;
  vol: DecText | null;
}

/** An OKX-style row [ts, o, h, l, c, vol, …] or an object {ts, open|o, …}. */
export function decodeCandle(v: unknown, what: string): Candle {
  if (Array.isArray(v)) {
    const row: Obj = { ts: v[0], o: v[1], h: v[2], l: v[3], c: v[4], vol: v[5] };
    return decodeCandle(row, what);
  }
  const o = obj(v, what);
  const ts = optMs(o, ["ts", "ts_ms", "time"]);
  if (ts === null) throw new DecodeError(`${what}.ts missing`);
  return {
    ts,
    o: reqDec(o, ["o", "open"], what),
    h: reqDec(o, ["h", "high"], what),
    l: reqDec(o, ["l", "low"], what),
    c: reqDec(o, ["c", "close"], what),
    vol: optDec(o, ["vol", "volume"], what),
  };
}

export interface BookLevel {
  px: DecText;
  sz: DecText;
}

export interface Book {
  instId: string;
  bids: BookLevel[];
  asks: BookLevel[];
  ts: number | null;
}

function decodeLevel(v: unknown, what: string): BookLevel {
  if (Array.isArray(v)) return { px: String(v[0] ?? ""), sz: String(v[1] ?? "") };
  const o = obj(v, what);
  return { px: reqDec(o, ["px", "price"], what), sz: reqDec(o, ["sz", "size"], what) };
}

export function decodeBook(v: unknown, what = "book"): Book {
  const o = obj(v, what);
  return {
    instId: str(o, ["instId", "inst_id"], what),
    bids: subList(o, "bids", `${what}.bids`, decodeLevel),
    asks: subList(o, "asks", `${what}.asks`, decodeLevel),
    ts: optMs(o, ["ts", "ts_ms"]),
  };
}

// ---------------------------------------------------------------- accounts
export type PosMode = "long_short_mode" | "net_mode" | string;

export interface Account {
  id: string;
  exchange: string;
  demo: boolean;
  posMode: PosMode | null;
  equity: DecText | null;
  available: DecText | null;
  upl: DecText | null;
  /** followed only (a live account in paper mode, no keys): orders refused */
  trades: boolean | null;
}

export function decodeAccount(v: unknown, what: string): Account {
  const o = obj(v, what);
  return {
    id: str(o, "id", what),
    exchange: optStr(o, ["exchange", "module"]) ?? "",
    demo: bool(o, "demo"),
    posMode: optStr(o, ["posMode", "pos_mode"]),
    equity: optDec(o, ["equity", "totalEq", "total_eq"], what),
    available: optDec(o, ["available", "availEq", "avail"], what),
    upl: optDec(o, ["upl"], what),
    trades: optBool(o, ["trades", "tradable"]),
  };
}

export interface BalanceDetail {
  ccy: string;
  eq: DecText | null;
  cashBal: DecText | null;
  availBal: DecText | null;
  frozenBal: DecText | null;
  upl: DecText | null;
}

export interface Balance {
  account: string | null;
  totalEq: DecText | null;
  availEq: DecText | null;
  upl: DecText | null;
  imr: DecText | null;
  ts: number | null;
  details: BalanceDetail[];
}

function decodeBalanceDetail(v: unknown, what: string): BalanceDetail {
  const o = obj(v, what);
  return {
    ccy: str(o, "ccy", what),
    eq: optDec(o, ["eq", "equity"], what),
    cashBal: optDec(o, ["cashBal", "cash"], what),
    availBal: optDec(o, ["availBal", "availEq", "available", "avail"], what),
    frozenBal: optDec(o, ["frozenBal", "frozen"], what),
    upl: optDec(o, ["upl"], what),
  };
}

export function decodeBalance(v: unknown, what = "balance"): Balance {
  const o = obj(v, what);
  return {
    account: optStr(o, ["account", "id"]),
    totalEq: optDec(o, ["totalEq", "total_eq", "equity"], what),
    availEq: optDec(o, ["availEq", "available", "avail"], what),
    upl: optDec(o, ["upl"], what),
    imr: optDec(o, ["imr", "margin"], what),
    ts: optMs(o, ["ts", "uTime", "ts_ms", "updated_ms"]),
    details: subList(o, ["details", "balances"], `${what}.details`, decodeBalanceDetail),
  };
}

export interface Position {
  account: string | null;
  instId: string;
  posSide: string;
  mgnMode: string | null;
  pos: DecText;
  avgPx: DecText | null;
  markPx: DecText | null;
  upl: DecText | null;
  lever: DecText | null;
  liqPx: DecText | null;
  margin: DecText | null;
  realizedPnl: DecText | null;
  ts: number | null;
}

export function decodePosition(v: unknown, what: string): Position {
  const o = obj(v, what);
  return {
    account: optStr(o, "account"),
    instId: str(o, ["instId", "inst_id"], what),
    posSide: optStr(o, ["posSide", "pos_side"]) ?? "net",
    mgnMode: optStr(o, ["mgnMode", "mgn_mode"]),
    pos: reqDec(o, "pos", what),
    avgPx: optDec(o, ["avgPx", "avg_px"], what),
    markPx: optDec(o, ["markPx", "mark_px"], what),
    upl: optDec(o, "upl", what),
    lever: optDec(o, ["lever", "leverage"], what),
    liqPx: optDec(o, ["liqPx", "liq_px"], what),
    margin: optDec(o, ["margin", "imr"], what),
    realizedPnl: optDec(o, ["realizedPnl", "realized_pnl"], what),
    ts: optMs(o, ["uTime", "ts", "updated_ms"]),
  };
}

export interface Order {
  account: string | null;
  intent_id: string | null;
  origin: string | null;
  decision_id: string | null;
  ordId: string | null;
  clOrdId: string | null;
  instId: string;
  side: string | null;
  posSide: string | null;
  ordType: string | null;
  sz: DecText | null;
  px: DecText | null;
  accFillSz: DecText | null;
  avgPx: DecText | null;
  state: string;
  reduceOnly: boolean;
  tpTriggerPx: DecText | null;
  slTriggerPx: DecText | null;
  fee: DecText | null;
  code: string | null;
  msg: string | null;
  ts: number | null;
}

export function decodeOrder(v: unknown, what: string): Order {
  const o = obj(v, what);
  return {
    account: optStr(o, "account"),
    intent_id: optStr(o, ["intent_id", "intentId"]),
    origin: optStr(o, "origin"),
    decision_id: optStr(o, ["decision_id", "decisionId"]),
    ordId: optStr(o, ["ordId", "ord_id"]),
    clOrdId: optStr(o, ["clOrdId", "cl_ord_id"]),
    instId: str(o, ["instId", "inst_id"], what),
    side: optStr(o, "side"),
    posSide: optStr(o, ["posSide", "pos_side"]),
    ordType: optStr(o, ["ordType", "ord_type"]),
    sz: optDec(o, "sz", what),
    px: optDec(o, "px", what),
    accFillSz: optDec(o, ["accFillSz", "acc_fill_sz"], what),
    avgPx: optDec(o, ["avgPx", "avg_px"], what),
    state: optStr(o, "state") ?? "unknown",
    reduceOnly: bool(o, ["reduceOnly", "reduce_only"]),
    tpTriggerPx: optDec(o, ["tpTriggerPx", "tp_trigger_px"], what),
    slTriggerPx: optDec(o, ["slTriggerPx", "sl_trigger_px"], what),
    fee: optDec(o, "fee", what),
    code: optStr(o, "code"),
    msg: optStr(o, "msg"),
    ts: optMs(o, ["uTime", "updatedMs", "cTime", "createdMs", "updated_ms", "created_ms", "ts"]),
  };
}

export interface Fill {
  account: string | null;
  instId: string;
  tradeId: string;
  ordId: string | null;
  clOrdId: string | null;
  side: string | null;
  posSide: string | null;
  px: DecText;
  sz: DecText;
  fee: DecText | null;
  feeCcy: string | null;
  maker: boolean | null;
  ts: number | null;
}

export function decodeFill(v: unknown, what: string): Fill {
  const o = obj(v, what);
  return {
    account: optStr(o, "account"),
    instId: str(o, ["instId", "inst_id"], what),
    tradeId: str(o, ["tradeId", "trade_id"], what),
    ordId: optStr(o, ["ordId", "ord_id"]),
    clOrdId: optStr(o, ["clOrdId", "cl_ord_id"]),
    side: optStr(o, "side"),
    posSide: optStr(o, ["posSide", "pos_side"]),
    px: reqDec(o, ["fillPx", "px"], what),
    sz: reqDec(o, ["fillSz", "sz"], what),
    fee: optDec(o, "fee", what),
    feeCcy: optStr(o, ["feeCcy", "fee_ccy"]),
    maker: optBool(o, "maker"),
    ts: optMs(o, ["ts", "ts_ms", "fillTime"]),
  };
}

export interface EquityPoint {
  ts: number;
  equity: DecText;
}

/** [ts, equity] pairs or {ts_ms, total_eq} rows. */
export function decodeEquityPoint(v: unknown, what: string): EquityPoint {
  if (Array.isArray(v)) return decodeEquityPoint({ ts: v[0], equity: v[1] }, what);
  const o = obj(v, what);
  const ts = optMs(o, ["ts", "ts_ms"]);
  if (ts === null) throw new DecodeError(`${what}.ts missing`);
  return { ts, equity: reqDec(o, ["equity", "total_eq", "totalEq", "net", "value"], what) };
}

// ---------------------------------------------------------------- orders (write)
export interface PlaceOrder {
  account: string;
  instId: string;
  side: "buy" | "sell";
  posSide?: "long" | "short" | "net";
  tdMode?: "cross" | "isolated";
  ordType: "market" | "limit";
  /** contracts, exact text */
  sz: string;
  px?: string;
  reduceOnly?: boolean;
  tpTriggerPx?: string;
  slTriggerPx?: string;
  /** leverage to set for this order (an addition to CONTRACTS §3, sent only when chosen) */
  lever?: string;
  /** a resting order left unfilled this long is cancelled by the engine ("30s", "5m") */
  ttl?: string;
}

export interface PlaceResult {
  intent_id: string;
  clOrdId: string;
  ordId: string | null;
  state: string;
}

export function decodePlaceResult(v: unknown): PlaceResult {
  const o = obj(v, "order");
  return {
    intent_id: str(o, ["intent_id", "intentId"], "order"),
    clOrdId: optStr(o, ["clOrdId", "cl_ord_id"]) ?? "",
    ordId: optStr(o, ["ordId", "ord_id"]),
    state: optStr(o, "state") ?? "",
  };
}

export interface ClosePosition {
  account: string;
  instId: string;
  posSide?: string;
}

/** What a change answered when it has no body worth decoding. */
export interface Ack {
  ok: boolean;
  state: string | null;
  message: string | null;
}

export function decodeAck(v: unknown): Ack {
  if (!isObj(v)) return { ok: true, state: null, message: null };
  return {
    ok: optBool(v, "ok") ?? true,
    state: optStr(v, ["state", "status"]),
    message: optStr(v, ["message", "msg"]),
  };
}

// ---------------------------------------------------------------- traders
export interface Trader {
  id: string;
  state: string;
  ai: string | null;
  model: string | null;
  account: string | null;
  symbols: string[];
  shadow: boolean;
  /** "long" or "short": the scheduler's current period */
  mode: string | null;
  in_flight: number | null;
  next_call_ms: number | null;
  last_trigger_ms: number | null;
  decisions: number | null;
  invalid: number | null;
  /** AI cost today (USD) */
  cost: DecText | null;
  paused_by: string | null;
  paused_reason: string | null;
  paused_ms: number | null;
  detail: string | null;
}

export function decodeTrader(v: unknown, what: string): Trader {
  const o = obj(v, what);
  const st = pick(o, ["stats"]);
  const stats: Obj = isObj(st) ? st : {};
  const pz = pick(o, ["pause"]);
  const pause: Obj = isObj(pz) ? pz : {};
  return {
    id: str(o, ["id", "name", "instance"], what),
    state: optStr(o, ["state", "status"]) ?? "unknown",
    ai: optStr(o, ["ai", "provider"]),
    model: optStr(o, "model"),
    account: optStr(o, "account"),
    symbols: strList(o, "symbols"),
    shadow: bool(o, "shadow"),
    mode: optStr(o, "mode"),
    in_flight: optNum(o, "in_flight"),
    next_call_ms: optMs(o, ["next_call_ms", "next_ms", "next_call"]),
    last_trigger_ms: optMs(o, ["last_trigger_ms", "last_decision_ms", "last_ms"]),
    decisions: optNum(stats, "decisions") ?? optNum(o, ["decisions", "decision_count"]),
    invalid: optNum(stats, "invalid"),
    cost: optDec(stats, ["cost_day_usd"], `${what}.stats`) ?? optDec(o, ["cost", "cost_usd"], what),
    paused_by: optStr(pause, "by"),
    paused_reason: optStr(pause, "reason"),
    paused_ms: optMs(pause, "since_ms"),
    detail: optStr(o, ["detail"]),
  };
}

// ---------------------------------------------------------------- decisions
export interface Action {
  symbol: string;
  action: string;
  size_pct: DecText | null;
  leverage: DecText | null;
  take_profit: DecText | null;
  stop_loss: DecText | null;
  confidence: DecText | null;
  reason: string;
  invalidation: string;
}

function decodeAction(v: unknown, what: string): Action {
  const o = obj(v, what);
  return {
    symbol: optStr(o, ["symbol", "instId"]) ?? "",
    action: optStr(o, "action") ?? "",
    size_pct: optDec(o, ["size_pct", "sizePct"], what),
    leverage: optDec(o, "leverage", what),
    take_profit: optDec(o, ["take_profit", "takeProfit"], what),
    stop_loss: optDec(o, ["stop_loss", "stopLoss"], what),
    confidence: optDec(o, "confidence", what),
    reason: optStr(o, "reason") ?? "",
    invalidation: optStr(o, "invalidation") ?? "",
  };
}

export interface Verdict {
  intent_id: string;
  rule: string;
  verdict: string;
  allowed: boolean;
  reason: string;
}

function decodeVerdict(v: unknown, what: string): Verdict {
  const o = obj(v, what);
  const allowed = optBool(o, ["allowed", "ok"]);
  const verdict = optStr(o, "verdict") ?? (allowed === false ? "reject" : "approve");
  const rule = optStr(o, "rule") ?? "";
  const name = optStr(o, ["ruleName", "rule_name"]);
  return {
    intent_id: optStr(o, ["intent_id", "intentId"]) ?? "",
    // "risk.limits" + "max_leverage" -> "risk.limits/max_leverage"
    rule: name && !rule.includes("/") ? `${rule}/${name}` : rule,
    verdict,
    allowed: allowed ?? verdict !== "reject",
    reason: optStr(o, ["reason", "message"]) ?? "",
  };
}

export interface Decision {
  id: string;
  trader: string;
  created_ms: number | null;
  trigger_key: string | null;
  trigger_reason: string | null;
  provider: string | null;
  model: string | null;
  latency_ms: number | null;
  tokens_in: number | null;
  tokens_out: number | null;
  cost: DecText | null;
  valid: boolean;
  validation: string | null;
  net_pnl: DecText | null;
  actions: Action[];
  verdicts: Verdict[];
  orders: Order[];
  /** per item: what was published or why nothing (intents_json), free text */
  intents: string[];
}

export interface DecisionDetail extends Decision {
  system_prompt: string | null;
  prompt: string | null;
  raw_response: string | null;
  reasoning: string | null;
  first_response: string | null;
  first_error: string | null;
}

function intentLine(v: unknown): string {
  if (typeof v === "string") return v;
  if (!isObj(v)) return JSON.stringify(v);
  const parts: string[] = [];
  const note = optStr(v, ["note", "why", "error", "reason"]);
  const action = optStr(v, "action");
  const op = optStr(v, "op");
  const side = optStr(v, "side");
  const sz = optStr(v, ["sz", "size"]);
  const inst = optStr(v, ["instId", "symbol"]);
  if (action) parts.push(action);
  if (inst) parts.push(inst);
  if (note) parts.push(`: ${note}`);
  else {
    if (op) parts.push(`→ ${op}`);
    if (side) parts.push(side);
    if (sz) parts.push(sz);
  }
  return parts.length ? parts.join(" ") : JSON.stringify(v);
}

/** outcome_json's net_pnl when the row has no net_pnl column value. */
function outcomeNet(o: Obj, what: string): string | null {
  const out = pick(o, ["outcome", "outcome_json"]);
  return isObj(out) ? optDec(out, ["net_pnl", "netPnl"], `${what}.outcome`) : null;
}

/** Verdicts the API nests in each order of a decision (orders[].verdicts). */
function orderVerdicts(o: Obj, what: string): Verdict[] {
  const orders = pick(o, ["orders"]);
  if (!Array.isArray(orders)) return [];
  return orders.flatMap((x, i) => (isObj(x) ? subList(x, "verdicts", `${what}.orders[${i}].verdicts`, decodeVerdict) : []));
}

export function decodeDecision(v: unknown, what: string): Decision {
  const o = obj(v, what);
  const intentsRaw = pick(o, ["intents", "intents_json"]);
  let intents: string[] = [];
  let parsed: unknown = intentsRaw;
  if (typeof intentsRaw === "string") {
    try {
      parsed = JSON.parse(intentsRaw) as unknown;
    } catch {
      parsed = [intentsRaw];
    }
  }
  if (Array.isArray(parsed)) intents = parsed.map(intentLine);
  return {
    id: str(o, "id", what),
    trader: optStr(o, "trader") ?? "",
    created_ms: optMs(o, ["created_ms", "createdMs", "ts", "ts_ms"]),
    trigger_key: optStr(o, ["trigger_key", "triggerKey"]),
    trigger_reason: optStr(o, ["trigger_reason", "triggerReason", "trigger"]),
    provider: optStr(o, "provider"),
    model: optStr(o, "model"),
    latency_ms: optNum(o, ["latency_ms", "latencyMs"]),
    tokens_in: optNum(o, ["tokens_in", "tokensIn"]),
    tokens_out: optNum(o, ["tokens_out", "tokensOut"]),
    cost: optDec(o, ["cost", "costUsd", "cost_usd"], what),
    valid: bool(o, "valid"),
    validation: optStr(o, ["validation", "invalid_reason", "invalidReason"]),
    net_pnl: optDec(o, ["net_pnl", "netPnl"], what) ?? outcomeNet(o, what),
    actions: subList(o, ["actions", "actions_json", "decisions"], `${what}.actions`, decodeAction),
    verdicts: [
      ...subList(o, ["verdicts", "risk_verdicts"], `${what}.verdicts`, decodeVerdict),
      ...orderVerdicts(o, what),
    ],
    orders: subList(o, "orders", `${what}.orders`, decodeOrder),
    intents,
  };
}

export function decodeDecisionDetail(v: unknown): DecisionDetail {
  const o = obj(isObj(v) && isObj(v["decision"]) ? v["decision"] : v, "decision");
  return {
    ...decodeDecision(o, "decision"),
    system_prompt: optStr(o, ["system_prompt", "systemPrompt"]),
    prompt: optStr(o, "prompt"),
    raw_response: optStr(o, ["raw_response", "rawResponse"]),
    reasoning: optStr(o, "reasoning"),
    first_response: optStr(o, ["first_response", "firstResponse"]),
    first_error: optStr(o, ["first_error", "firstError"]),
  };
}

// ---------------------------------------------------------------- risk
export interface KillSwitch {
  on: boolean;
  since_ms: number | null;
  by: string | null;
  reason: string | null;
}

export interface BreakerAccount {
  account: string;
  tripped: boolean;
  rule: string | null;
  until_ms: number | null;
  equity: DecText | null;
  day_start: DecText | null;
  peak: DecText | null;
}

export interface Rejection {
  intent_id: string;
  rule: string;
  reason: string;
  ts: number | null;
  account: string | null;
  origin: string | null;
  instId: string | null;
  side: string | null;
  sz: DecText | null;
}

export interface Risk {
  kill_switch: KillSwitch;
  /** the [risk.*] instances and their state (the breaker's trips in its detail) */
  rules: PluginState[];
  /** the newest refusals, newest first */
  rejections: Rejection[];
  /** per-account breaker figures, when the API gives them */
  accounts: BreakerAccount[];
  safe_mode: string[];
}

function decodeBreakerAccount(v: unknown, what: string): BreakerAccount {
  const o = obj(v, what);
  return {
    account: str(o, ["account", "id"], what),
    tripped: bool(o, "tripped"),
    rule: optStr(o, ["rule", "reason", "tripped_by"]),
    until_ms: optMs(o, ["until_ms", "until"]),
    equity: optDec(o, "equity", what),
    day_start: optDec(o, ["day_start", "day_start_equity"], what),
    peak: optDec(o, ["peak", "peak_equity"], what),
  };
}

function decodeRejection(v: unknown, what: string): Rejection {
  const o = obj(v, what);
  const rule = optStr(o, "rule") ?? "";
  const name = optStr(o, ["ruleName", "rule_name"]);
  return {
    intent_id: optStr(o, ["intentId", "intent_id"]) ?? "",
    rule: name && !rule.includes("/") ? `${rule}/${name}` : rule,
    reason: optStr(o, ["reason", "message"]) ?? "",
    ts: optMs(o, ["createdMs", "created_ms", "ts"]),
    account: optStr(o, "account"),
    origin: optStr(o, "origin"),
    instId: optStr(o, ["instId", "inst_id"]),
    side: optStr(o, "side"),
    sz: optDec(o, "sz", what),
  };
}

export function decodeRisk(v: unknown): Risk {
  const o = obj(v, "risk");
  const ksRaw = pick(o, ["kill_switch", "killSwitch"]);
  let kill_switch: KillSwitch = { on: false, since_ms: null, by: null, reason: null };
  if (typeof ksRaw === "boolean") kill_switch = { ...kill_switch, on: ksRaw };
  else if (isObj(ksRaw))
    kill_switch = {
      on: bool(ksRaw, "on"),
      since_ms: optMs(ksRaw, ["since_ms", "sinceMs", "since"]),
      by: optStr(ksRaw, "by"),
      reason: optStr(ksRaw, "reason"),
    };
  const breaker = pick(o, ["breaker"]);
  const bo = isObj(breaker) ? breaker : o;
  return {
    kill_switch,
    rules: subList(o, ["rules"], "risk.rules", decodePlugin),
    rejections: subList(o, ["rejections"], "risk.rejections", decodeRejection),
    accounts: subList(bo, ["accounts"], "risk.breaker.accounts", decodeBreakerAccount),
    safe_mode: strList(bo, ["safe_mode", "safe_mode_traders"]),
  };
}

// ---------------------------------------------------------------- pnl
export interface PnlRow {
  origin: string;
  account: string;
  realized: DecText;
  fees: DecText;
  funding: DecText;
  unrealized: DecText | null;
  net: DecText | null;
  positions: number | null;
  ts: number | null;
}

export function decodePnl(v: unknown, what: string): PnlRow {
  const o = obj(v, what);
  return {
    origin: str(o, ["origin", "trader"], what),
    account: str(o, "account", what),
    realized: optDec(o, "realized", what) ?? "0",
    fees: optDec(o, "fees", what) ?? "0",
    funding: optDec(o, "funding", what) ?? "0",
    unrealized: optDec(o, "unrealized", what),
    net: optDec(o, "net", what),
    positions: optNum(o, "positions"),
    ts: optMs(o, ["ts_ms", "ts"]),
  };
}

/** GET /api/pnl: the newest row per origin and account; with ?origin= its series too. */
export interface Pnl {
  latest: PnlRow[];
  series: PnlRow[];
}

export function decodePnlAnswer(v: unknown): Pnl {
  if (Array.isArray(v)) return { latest: list(v, "pnl", decodePnl), series: [] };
  const o = obj(v, "pnl");
  return {
    latest: subList(o, ["latest", "rows"], "pnl.latest", decodePnl),
    series: subList(o, ["series"], "pnl.series", decodePnl).sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0)),
  };
}

// ---------------------------------------------------------------- news
/** A stored or pushed news item (GET /api/news rows, /ws "news"). */
export interface NewsItem {
  id: string;
  /** the feed's name: its channel's title ("Coin Wire") */
  feed: string;
  title: string;
  url: string | null;
  summary: string | null;
  /** the coins it names ("BTC", "ETH") */
  symbols: string[];
  published_ms: number | null;
  fetched_ms: number | null;
  /** lexicon sentiment, -1..1 */
  score: number | null;
  /** how much it may move its coins' prices, 0..1 (newer engines) */
  impact: number | null;
  /** an LLM's sentiment, -1..1, when a scorer is configured */
  llm_score: number | null;
  /** the AI instance that scored it ("ai.qwen") */
  scorer: string | null;
}

/**
 * A number that may be absent or null (older rows have no impact, no LLM
 * score), but when it is there it must be one: a number of another type is
 * a broken row, not a missing figure.
 */
function optFigure(o: Obj, n: string | readonly string[], what: string): number | null {
  const v = pick(o, typeof n === "string" ? [n] : n);
  if (v === undefined) return null;
  const x = optNum(o, n);
  if (x === null) throw new DecodeError(`${what}.${typeof n === "string" ? n : (n[0] ?? "?")}: not a number`);
  return x;
}

export function decodeNews(v: unknown, what: string): NewsItem {
  const o = obj(v, what);
  const url = optStr(o, ["url", "link"]);
  return {
    id: optStr(o, "id") ?? url ?? str(o, "id", what),
    feed: optStr(o, ["feed", "source"]) ?? "",
    title: str(o, "title", what),
    url,
    summary: optStr(o, "summary"),
    symbols: strList(o, "symbols"),
    published_ms: optMs(o, ["publishedMs", "published_ms", "ts"]),
    fetched_ms: optMs(o, ["fetchedMs", "fetched_ms"]),
    score: optFigure(o, "score", what),
    impact: optFigure(o, "impact", what),
    llm_score: optFigure(o, ["llmScore", "llm_score"], what),
    scorer: optStr(o, "scorer"),
  };
}

/** A sentiment reading (GET /api/sentiment rows, /ws "sentiment"): Fear & Greed 0..100. */
export interface SentimentReading {
  feed: string;
  as_of_ms: number;
  value: number;
  label: string | null;
}

export function decodeSentiment(v: unknown, what: string): SentimentReading {
  const o = obj(v, what);
  const as_of_ms = optMs(o, ["asOfMs", "as_of_ms", "ts"]);
  if (as_of_ms === null) throw new DecodeError(`${what}.asOfMs missing`);
  const value = optFigure(o, "value", what);
  if (value === null) throw new DecodeError(`${what}.value missing`);
  return { feed: str(o, ["feed", "source"], what), as_of_ms, value, label: optStr(o, "label") };
}

// ---------------------------------------------------------------- errors
export interface ApiErrorBody {
  code: string;
  message: string;
  rule?: string;
  field?: string;
}

export function decodeErrorBody(v: unknown): ApiErrorBody | null {
  if (!isObj(v) || !isObj(v["error"])) return null;
  const e = v["error"];
  const code = optStr(e, "code") ?? "error";
  const message = optStr(e, "message") ?? code;
  const out: ApiErrorBody = { code, message };
  const rule = optStr(e, "rule");
  const field = optStr(e, "field");
  if (rule) out.rule = rule;
  if (field) out.field = field;
  return out;
}
