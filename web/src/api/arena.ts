// GET /api/arena[?from=&to=|window=]: the traders side by side (README "Arena").
// Money is exact decimal text; ratios are numbers, null where undefined.
import type { Api } from "./client";
import { DecodeError, isObj, list, obj, optDec, optNum, optStr, str, strList } from "./decode";

export interface ArenaPoint {
  ts: number;
  /** equity, exact decimal text */
  value: string;
}

export interface ArenaTrader {
  trader: string;
  provider: string;
  model: string | null;
  account: string;
  symbols: string[];
  start_equity: string | null;
  equity: string | null;
  pnl: string | null;
  /** percent */
  return_pct: number | null;
  /** percent of the peak, >= 0 */
  max_drawdown_pct: number | null;
  sharpe: number | null;
  /** hourly returns the Sharpe ratio was figured on (it needs 24) */
  sharpe_returns: number;
  /** wins / round_trips, 0..1 */
  win_rate: number | null;
  round_trips: number;
  wins: number;
  fees: string | null;
  funding: string | null;
  ai_calls: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number | null;
  long_entries: number;
  short_entries: number;
  long_short_ratio: number | null;
  equity_curve: ArenaPoint[];
}

export interface ArenaBias {
  model: string;
  long: number;
  short: number;
  ratio: number | null;
}

export interface Arena {
  from: number;
  to: number;
  /** more traders than the engine shows (128): the first of them only */
  truncated: boolean;
  traders: ArenaTrader[];
  bias: ArenaBias[];
}

function point(v: unknown, what: string): ArenaPoint {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== "number") throw new DecodeError(`${what}: expected [ts, equity]`);
  const value = optDec({ v: v[1] }, "v", what);
  if (value === null) throw new DecodeError(`${what}: no equity`);
  return { ts: v[0], value };
}

const count = (o: Record<string, unknown>, n: string) => optNum(o, n) ?? 0;

export function decodeArenaTrader(v: unknown, what: string): ArenaTrader {
  const o = obj(v, what);
  return {
    trader: str(o, "trader", what),
    provider: optStr(o, "provider") ?? "",
    model: optStr(o, "model"),
    account: optStr(o, "account") ?? "",
    symbols: strList(o, "symbols"),
    start_equity: optDec(o, "start_equity", what),
    equity: optDec(o, "equity", what),
    pnl: optDec(o, "pnl", what),
    return_pct: optNum(o, "return_pct"),
    max_drawdown_pct: optNum(o, "max_drawdown_pct"),
    sharpe: optNum(o, "sharpe"),
    sharpe_returns: count(o, "sharpe_returns"),
    win_rate: optNum(o, "win_rate"),
    round_trips: count(o, "round_trips"),
    wins: count(o, "wins"),
    fees: optDec(o, "fees", what),
    funding: optDec(o, "funding", what),
    ai_calls: count(o, "ai_calls"),
    tokens_in: count(o, "tokens_in"),
    tokens_out: count(o, "tokens_out"),
    cost_usd: optNum(o, "cost_usd"),
    long_entries: count(o, "long_entries"),
    short_entries: count(o, "short_entries"),
    long_short_ratio: optNum(o, "long_short_ratio"),
    equity_curve: isObj(o) && Array.isArray(o["equity_curve"]) ? o["equity_curve"].map((p, i) => point(p, `${what}.equity_curve[${i}]`)) : [],
  };
}

function decodeBias(v: unknown, what: string): ArenaBias {
  const o = obj(v, what);
  return { model: str(o, "model", what), long: count(o, "long"), short: count(o, "short"), ratio: optNum(o, "ratio") };
}

export function decodeArena(v: unknown): Arena {
  const o = obj(v, "arena");
  return {
    from: optNum(o, "from") ?? 0,
    to: optNum(o, "to") ?? 0,
    truncated: o["truncated"] === true,
    traders: list(o["traders"], "arena.traders", decodeArenaTrader),
    bias: o["bias"] === undefined ? [] : list(o["bias"], "arena.bias", decodeBias),
  };
}

export type ArenaWindow = "24h" | "7d" | "30d" | "all";

/** The leaderboard of [from, to] (epoch ms; from 0 and to now when absent),
 * or of a `window` before to (now), both on the engine's clock. */
export function fetchArena(api: Api, q: { from?: number; to?: number; window?: ArenaWindow } = {}): Promise<Arena> {
  const p = new URLSearchParams();
  if (q.window !== undefined) p.set("window", q.window);
  else if (q.from !== undefined) p.set("from", String(Math.max(0, Math.floor(q.from))));
  if (q.to !== undefined) p.set("to", String(Math.max(0, Math.floor(q.to))));
  const qs = p.toString();
  return api.request("GET", `/api/arena${qs ? `?${qs}` : ""}`, decodeArena);
}
