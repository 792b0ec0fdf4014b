// GET /api/shadow[?trader=]: shadow against live per trader and symbol
// (README "Shadow and gray release"). Money is exact decimal text; the
// hit rate a number (0..1), null before the first round trip.
import type { Api } from "./client";
import { list, obj, optBool, optDec, optNum, optStr, str } from "./decode";

export interface ShadowSide {
  account: string;
  /** something was booked to the trader on this account */
  booked: boolean;
  realized: string;
  unrealized: string | null;
  fees: string;
  funding: string;
  net: string | null;
  position: string;
  round_trips: number;
  wins: number;
  hit_rate: number | null;
  decisions: number;
  entries: number;
}

export interface ShadowRow {
  trader: string;
  symbol: string;
  live: ShadowSide;
  shadow: ShadowSide;
}

function decodeSide(v: unknown, what: string): ShadowSide {
  const o = obj(v, what);
  return {
    account: optStr(o, "account") ?? "",
    booked: optBool(o, "booked") ?? false,
    realized: optDec(o, "realized", what) ?? "0",
    unrealized: optDec(o, "unrealized", what),
    fees: optDec(o, "fees", what) ?? "0",
    funding: optDec(o, "funding", what) ?? "0",
    net: optDec(o, "net", what),
    position: optDec(o, "position", what) ?? "0",
    round_trips: optNum(o, "round_trips") ?? 0,
    wins: optNum(o, "wins") ?? 0,
    hit_rate: optNum(o, "hit_rate"),
    decisions: optNum(o, "decisions") ?? 0,
    entries: optNum(o, "entries") ?? 0,
  };
}

export function decodeShadowRow(v: unknown, what: string): ShadowRow {
  const o = obj(v, what);
  return {
    trader: str(o, "trader", what),
    symbol: str(o, "symbol", what),
    live: decodeSide(o["live"], `${what}.live`),
    shadow: decodeSide(o["shadow"], `${what}.shadow`),
  };
}

export function decodeShadow(v: unknown): ShadowRow[] {
  return list(obj(v, "shadow")["traders"], "shadow.traders", decodeShadowRow);
}

/** Every trader with a shadow account (or only `trader`), per symbol. */
export function fetchShadow(api: Api, trader?: string): Promise<ShadowRow[]> {
  const qs = trader ? `?trader=${encodeURIComponent(trader)}` : "";
  return api.request("GET", `/api/shadow${qs}`, decodeShadow);
}
