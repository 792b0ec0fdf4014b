// Runtime checks of what the engine answers: every route's JSON goes through
// one of these before the page sees it, so a changed or broken answer is an
// error on the panel ("bad_response: positions[0].instId missing"), never an
// undefined deep in a component. Prices, sizes and money stay exact decimal
// text; a JSON number there is accepted and turned into its shortest text.
import { parseDec } from "../lib/decimal";

export type Obj = Record<string, unknown>;

export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function obj(v: unknown, what: string): Obj {
  if (!isObj(v)) throw new DecodeError(`${what}: expected an object`);
  return v;
}

/** The first of `names` present (not undefined/null) in o. */
export function pick(o: Obj, names: readonly string[]): unknown {
  for (const n of names) {
    const v = o[n];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

function names(n: string | readonly string[]): readonly string[] {
  return typeof n === "string" ? [n] : n;
}

export function str(o: Obj, n: string | readonly string[], what: string): string {
  const v = pick(o, names(n));
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  throw new DecodeError(`${what}.${names(n)[0] ?? "?"} missing`);
}

export function optStr(o: Obj, n: string | readonly string[]): string | null {
  const v = pick(o, names(n));
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "boolean") return String(v);
  return null;
}

/** An exact decimal as text, or null when absent or empty ("" is OKX's "none"). */
export function optDec(o: Obj, n: string | readonly string[], what: string): string | null {
  const v = pick(o, names(n));
  if (v === undefined || v === "") return null;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "string") {
    if (!parseDec(v)) throw new DecodeError(`${what}.${names(n)[0] ?? "?"}: "${v}" is not a decimal`);
    return v;
  }
  throw new DecodeError(`${what}.${names(n)[0] ?? "?"}: not a decimal`);
}

export function reqDec(o: Obj, n: string | readonly string[], what: string): string {
  const v = optDec(o, n, what);
  if (v === null) throw new DecodeError(`${what}.${names(n)[0] ?? "?"} missing`);
  return v;
}

export function optNum(o: Obj, n: string | readonly string[]): number | null {
  const v = pick(o, names(n));
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return null;
}

export function optBool(o: Obj, n: string | readonly string[]): boolean | null {
  const v = pick(o, names(n));
  if (typeof v === "boolean") return v;
  if (v === 1 || v === "1" || v === "true" || v === "on") return true;
  if (v === 0 || v === "0" || v === "false" || v === "off") return false;
  return null;
}

export function bool(o: Obj, n: string | readonly string[], fallback = false): boolean {
  return optBool(o, n) ?? fallback;
}

export function strList(o: Obj, n: string | readonly string[]): string[] {
  const v = pick(o, names(n));
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  if (typeof v === "string")
    return v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  return [];
}

/**
 * A list: a bare array, or an object holding it under one of `keys`
 * (`{"positions": [...]}`, `{"data": [...]}`). Each item is decoded by `item`.
 */
export function list<T>(v: unknown, what: string, item: (x: unknown, what: string) => T, keys: readonly string[] = []): T[] {
  let arr: unknown = v;
  if (isObj(v)) {
    arr = pick(v, [...keys, "data", "items"]);
    if (arr === undefined) {
      // an object with exactly one array member
      const arrays = Object.values(v).filter(Array.isArray);
      if (arrays.length === 1) arr = arrays[0];
    }
  }
  if (!Array.isArray(arr)) throw new DecodeError(`${what}: expected a list`);
  return arr.map((x, i) => item(x, `${what}[${i}]`));
}

/** A nested optional list inside an object. */
export function subList<T>(o: Obj, n: string | readonly string[], what: string, item: (x: unknown, what: string) => T): T[] {
  const v = pick(o, names(n));
  if (v === undefined) return [];
  if (typeof v === "string") {
    // stored JSON text (actions_json, intents_json)
    try {
      return list(JSON.parse(v) as unknown, what, item);
    } catch (e) {
      if (e instanceof DecodeError) throw e;
      return [];
    }
  }
  return list(v, what, item);
}

/** Epoch milliseconds from a number or numeric string; 0 or less is "none". */
export function optMs(o: Obj, n: string | readonly string[]): number | null {
  const v = optNum(o, n);
  return v === null || v <= 0 ? null : v;
}
