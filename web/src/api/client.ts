// The typed client of CONTRACTS §3 (+ GET /api/pnl). Reads need no token;
// every change carries `Authorization: Bearer TOKEN`. A change refused with
// 401 asks the page for a token (onAuthRequired) and is sent once more with
// it; cancelled or refused again, the 401 is the answer.
import { list } from "./decode";
import {
  decodeAccount,
  decodeAck,
  decodeBalance,
  decodeCandle,
  decodeDecision,
  decodeDecisionDetail,
  decodeEquityPoint,
  decodeErrorBody,
  decodeFill,
  decodeHealth,
  decodeInstrument,
  decodeNews,
  decodeOrder,
  decodePlaceResult,
  decodePnlAnswer,
  decodePosition,
  decodeRisk,
  decodeSentiment,
  decodeTicker,
  decodeTrader,
  type Account,
  type Ack,
  type Balance,
  type Candle,
  type ClosePosition,
  type Decision,
  type DecisionDetail,
  type EquityPoint,
  type Fill,
  type Health,
  type Instrument,
  type NewsItem,
  type Order,
  type PlaceOrder,
  type PlaceResult,
  type Pnl,
  type Position,
  type Risk,
  type SentimentReading,
  type Ticker,
  type Trader,
} from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly rule: string | null;
  /** the request's field the error is about ("sz"), when the engine names one */
  readonly field: string | null;
  constructor(status: number, code: string, message: string, rule: string | null = null, field: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.rule = rule;
    this.field = field;
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiOptions {
  /** "" for the page's own origin, or "http://127.0.0.1:5621" */
  base?: string;
  fetch?: FetchLike;
  getToken: () => string | null;
  /** Asked after a 401 on a change: resolves with a token to retry with, or null. */
  onAuthRequired?: (err: ApiError) => Promise<string | null>;
  timeoutMs?: number;
}

type Method = "GET" | "POST" | "DELETE";

export type DecisionQuery = { trader?: string; limit?: number; before?: string | number };
export type NewsQuery = { symbol?: string; limit?: number; before?: number };

export class Api {
  private readonly base: string;
  private readonly fetchFn: FetchLike;
  private readonly opts: ApiOptions;

  constructor(opts: ApiOptions) {
    this.opts = opts;
    this.base = (opts.base ?? "").replace(/\/$/, "");
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  private async send(method: Method, path: string, body: unknown, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers["Authorization"] = `Bearer ${token}`;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), this.opts.timeoutMs ?? 15000);
    try {
      const init: RequestInit = { method, headers, signal: ctl.signal, credentials: "same-origin" };
      if (body !== undefined) init.body = JSON.stringify(body);
      return await this.fetchFn(this.base + path, init);
    } catch (e) {
      if (ctl.signal.aborted) throw new ApiError(0, "timeout", `${method} ${path}: no answer in time`);
      throw new ApiError(0, "network", `${method} ${path}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private static async errorOf(res: Response, method: Method, path: string): Promise<ApiError> {
    let parsed: unknown = null;
    const text = await res.text().catch(() => "");
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      parsed = null;
    }
    const e = decodeErrorBody(parsed);
    if (e) return new ApiError(res.status, e.code, e.message, e.rule ?? null, e.field ?? null);
    const snippet = text.trim().slice(0, 200);
    return new ApiError(res.status, `http_${res.status}`, `${method} ${path}: HTTP ${res.status}${snippet ? `: ${snippet}` : ""}`);
  }

  /** One request: JSON in and out, decoded by `decode`. */
  async request<T>(method: Method, path: string, decode: (v: unknown) => T, body?: unknown): Promise<T> {
    const change = method !== "GET";
    let token = this.opts.getToken();
    // Reads go with the token too when there is one (harmless, and a
    // dashboard configured to guard reads will want it).
    let res = await this.send(method, path, body, token);
    if (res.status === 401 && change && this.opts.onAuthRequired) {
      const err = await Api.errorOf(res, method, path);
      token = await this.opts.onAuthRequired(err);
      if (!token) throw err;
      res = await this.send(method, path, body, token);
    }
    if (!res.ok) throw await Api.errorOf(res, method, path);
    const text = await res.text();
    let parsed: unknown = null;
    if (text.trim() !== "") {
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        throw new ApiError(res.status, "bad_response", `${method} ${path}: the answer is not JSON`);
      }
    }
    try {
      return decode(parsed);
    } catch (e) {
      throw new ApiError(res.status, "bad_response", `${method} ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async text(path: string): Promise<string> {
    const res = await this.send("GET", path, undefined, this.opts.getToken());
    if (!res.ok) throw await Api.errorOf(res, "GET", path);
    return res.text();
  }

  // ------------------------------------------------------------ engine
  health(): Promise<Health> {
    return this.request("GET", "/api/health", decodeHealth);
  }
  metrics(): Promise<string> {
    return this.text("/metrics");
  }

  // ------------------------------------------------------------ market
  instruments(): Promise<Instrument[]> {
    return this.request("GET", "/api/instruments", (v) => list(v, "instruments", decodeInstrument, ["instruments"]));
  }
  tickers(): Promise<Ticker[]> {
    return this.request("GET", "/api/market/tickers", (v) => list(v, "tickers", decodeTicker, ["tickers"]));
  }
  candles(instId: string, bar = "1m", limit = 300): Promise<Candle[]> {
    const q = new URLSearchParams({ instId, bar, limit: String(limit) });
    return this.request("GET", `/api/market/candles?${q.toString()}`, (v) =>
      list(v, "candles", decodeCandle, ["candles"]).sort((a, b) => a.ts - b.ts),
    );
  }
  // ------------------------------------------------------------ accounts
  accounts(): Promise<Account[]> {
    return this.request("GET", "/api/accounts", (v) => list(v, "accounts", decodeAccount, ["accounts"]));
  }
  addAccount(id: string, module: string, config: Record<string, string>): Promise<Ack> {
    return this.request("POST", "/api/accounts", decodeAck, { id, module, config });
  }
  deleteAccount(id: string): Promise<Ack> {
    return this.request("DELETE", `/api/accounts/${encodeURIComponent(id)}`, decodeAck);
  }
  balance(id: string): Promise<Balance> {
    return this.request("GET", `/api/accounts/${encodeURIComponent(id)}/balance`, (v) => decodeBalance(v));
  }
  positions(id: string): Promise<Position[]> {
    return this.request("GET", `/api/accounts/${encodeURIComponent(id)}/positions`, (v) =>
      list(v, "positions", decodePosition, ["positions"]),
    );
  }
  orders(id: string, state: "open" | "history"): Promise<Order[]> {
    return this.request("GET", `/api/accounts/${encodeURIComponent(id)}/orders?state=${state}`, (v) =>
      list(v, "orders", decodeOrder, ["orders"]),
    );
  }
  fills(id: string): Promise<Fill[]> {
    return this.request("GET", `/api/accounts/${encodeURIComponent(id)}/fills`, (v) => list(v, "fills", decodeFill, ["fills"]));
  }
  equity(id: string): Promise<EquityPoint[]> {
    return this.request("GET", `/api/accounts/${encodeURIComponent(id)}/equity`, (v) =>
      list(v, "equity", decodeEquityPoint, ["equity", "points"]).sort((a, b) => a.ts - b.ts),
    );
  }

  // ------------------------------------------------------------ orders
  placeOrder(o: PlaceOrder): Promise<PlaceResult> {
    return this.request("POST", "/api/orders", decodePlaceResult, o);
  }
  cancelOrder(account: string, ordId: string): Promise<Ack> {
    return this.request("DELETE", `/api/orders/${encodeURIComponent(account)}/${encodeURIComponent(ordId)}`, decodeAck);
  }
  closePosition(c: ClosePosition): Promise<Ack> {
    return this.request("POST", "/api/positions/close", decodeAck, c);
  }

  // ------------------------------------------------------------ traders
  traders(): Promise<Trader[]> {
    return this.request("GET", "/api/traders", (v) => list(v, "traders", decodeTrader, ["traders"]));
  }
  traderAction(id: string, action: "run" | "pause" | "resume"): Promise<Ack> {
    return this.request("POST", `/api/traders/${encodeURIComponent(id)}/${action}`, decodeAck, {});
  }
  decisions(q: DecisionQuery = {}): Promise<Decision[]> {
    const p = new URLSearchParams();
    if (q.trader) p.set("trader", q.trader);
    if (q.limit !== undefined) p.set("limit", String(q.limit));
    if (q.before !== undefined) p.set("before", String(q.before));
    const qs = p.toString();
    return this.request("GET", `/api/decisions${qs ? `?${qs}` : ""}`, (v) => list(v, "decisions", decodeDecision, ["decisions"]));
  }
  decision(id: string): Promise<DecisionDetail> {
    return this.request("GET", `/api/decisions/${encodeURIComponent(id)}`, decodeDecisionDetail);
  }

  // ------------------------------------------------------------ risk, pnl, news
  risk(): Promise<Risk> {
    return this.request("GET", "/api/risk", decodeRisk);
  }
  killSwitch(on: boolean, reason?: string): Promise<Ack> {
    return this.request("POST", "/api/kill-switch", decodeAck, reason ? { on, reason } : { on });
  }
  /** The newest PnL per origin and account; with `origin`, that origin's series since `since` too. */
  pnl(q: { origin?: string; account?: string; since?: number } = {}): Promise<Pnl> {
    const p = new URLSearchParams();
    if (q.origin) p.set("origin", q.origin);
    if (q.account) p.set("account", q.account);
    if (q.since !== undefined) p.set("since", String(q.since));
    const qs = p.toString();
    return this.request("GET", `/api/pnl${qs ? `?${qs}` : ""}`, decodePnlAnswer);
  }
  /** News items, newest first: `symbol` ("BTC") those naming it, `before` (ms) those published earlier. */
  news(q: NewsQuery = {}): Promise<NewsItem[]> {
    const p = new URLSearchParams();
    if (q.symbol) p.set("symbol", q.symbol);
    if (q.limit !== undefined) p.set("limit", String(q.limit));
    if (q.before !== undefined) p.set("before", String(q.before));
    const qs = p.toString();
    return this.request("GET", `/api/news${qs ? `?${qs}` : ""}`, (v) => list(v, "news", decodeNews, ["news"]));
  }
  /** Sentiment readings, newest first: `feed` ("feargreed") that feed's only. */
  sentiment(q: { feed?: string; limit?: number } = {}): Promise<SentimentReading[]> {
    const p = new URLSearchParams();
    if (q.feed) p.set("feed", q.feed);
    if (q.limit !== undefined) p.set("limit", String(q.limit));
    const qs = p.toString();
    return this.request("GET", `/api/sentiment${qs ? `?${qs}` : ""}`, (v) => list(v, "sentiment", decodeSentiment, ["sentiment", "readings"]));
  }
}
