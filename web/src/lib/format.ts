// How numbers look on the page: prices on their tick, sizes as the API sent
// them, money with two decimals and thousands separators, PnL signed.
import { decimalsOf, normalize, parseDec, round, sign, toStep, toText, type Dec } from "./decimal";

export const DASH = "—";

/** Thousands separators on the integer part of a plain decimal text. */
export function groupThousands(text: string): string {
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  const dot = body.indexOf(".");
  const ip = dot < 0 ? body : body.slice(0, dot);
  const fp = dot < 0 ? "" : body.slice(dot);
  const grouped = ip.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (negative ? "-" : "") + grouped + fp;
}

/** Money/amounts: `dp` decimals, grouped. Missing or malformed -> dash. */
export function fmtMoney(v: string | null | undefined, dp = 2): string {
  const d = parseDec(v ?? null);
  if (!d) return DASH;
  let t = toText(round(d, dp));
  if (/^-0(\.0*)?$/.test(t)) t = t.slice(1);
  return groupThousands(t);
}

/** Signed money: "+12.30", "-4.00", "0.00". */
export function fmtSigned(v: string | null | undefined, dp = 2): string {
  const d = parseDec(v ?? null);
  if (!d) return DASH;
  const r = round(d, dp);
  const t = fmtMoney(toText(r), dp);
  return sign(r) > 0 ? `+${t}` : t;
}

/** "pos", "neg" or "zero": the colour class of a signed figure. */
export function signClass(v: string | null | undefined): "pos" | "neg" | "zero" {
  const d = parseDec(v ?? null);
  if (!d) return "zero";
  const s = sign(d);
  return s > 0 ? "pos" : s < 0 ? "neg" : "zero";
}

/** A price rounded to the instrument's tick and shown with the tick's decimals. */
export function fmtPx(v: string | null | undefined, tickSz?: string | null): string {
  const d = parseDec(v ?? null);
  if (!d) return DASH;
  const tick = parseDec(tickSz ?? null);
  if (!tick || tick.n <= 0n) return groupThousands(toText(normalize(d)));
  const onTick = toStep(d, tick, "half-up");
  return groupThousands(toText(round(onTick, decimalsOf(tick))));
}

/** A price typed by the user, snapped to the tick (half-up): the text to send. */
export function snapToTick(v: string, tickSz: string): string | null {
  const d = parseDec(v);
  const tick = parseDec(tickSz);
  if (!d || !tick || tick.n <= 0n) return null;
  return toText(round(toStep(d, tick, "half-up"), decimalsOf(tick)));
}

/** Contract sizes: as the API sent them, trailing zeros dropped, never through a float. */
export function fmtSz(v: string | null | undefined): string {
  const d = parseDec(v ?? null);
  if (!d) return DASH;
  return groupThousands(toText(normalize(d)));
}

/** Percent of a ratio text ("0.0123" -> "1.23 %"). */
export function fmtPct(v: string | number | null | undefined, dp = 2): string {
  const d = parseDec(v ?? null);
  if (!d) return DASH;
  return `${toText(round({ n: d.n * 100n, s: d.s }, dp))} %`;
}

export function fmtInt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  return groupThousands(String(Math.round(v)));
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

/** UTC time "2026-01-01 10:00:05" (traders read exchange times in UTC). */
export function fmtTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return DASH;
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}`;
}

/**
 * How long ago `ms` was, as people say it: "just now", "42s ago", "5m ago",
 * "3h ago", "2d ago"; past 30 days the UTC date ("2026-01-02"); a time ahead
 * of `now` by more than a minute (a clock ahead) "in 5m".
 */
export function fmtAgo(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return DASH;
  const d = now - ms;
  const unit = (x: number) => {
    const s = Math.floor(x / 1000);
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m`;
    if (s < 86400) return `${Math.floor(s / 3600)}h`;
    return `${Math.floor(s / 86400)}d`;
  };
  if (d < -60000) return `in ${unit(-d)}`;
  if (d < 10000) return "just now";
  if (d >= 30 * 86400e3) return fmtTime(ms).slice(0, 10);
  return `${unit(d)} ago`;
}

/** "3m 05s", "2h 10m", "in 45s" style durations. */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  const neg = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const t = d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${pad(m)}m` : m > 0 ? `${m}m ${pad(s)}s` : `${s}s`;
  return neg ? `-${t}` : t;
}

export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  return v >= 10000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
}

export function isDec(v: string | null | undefined): v is string {
  return parseDec(v ?? null) !== null;
}

export type { Dec };
