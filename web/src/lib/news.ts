// News and sentiment as the News page shows them: scores signed on two
// decimals and coloured by what is shown (green from +0.05, red from -0.05,
// grey between), impact as a percent, items merged newest first without
// doubles (a REST page, older pages and live /ws pushes), and the readings
// of each sentiment feed.
import type { NewsItem, SentimentReading } from "../api/types";
import { DASH } from "./format";

/** A score's hundredths as shown: -0.125 and 0.125 both round away from 0. */
function hundredths(v: number): number {
  return Math.sign(v) * Math.round(Math.abs(v) * 100);
}

/** A sentiment score (-1..1) signed on two decimals: "+0.42", "-0.13", "0.00". */
export function fmtScore(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  const h = hundredths(v);
  const t = (Math.abs(h) / 100).toFixed(2);
  return h > 0 ? `+${t}` : h < 0 ? `-${t}` : t;
}

/** The colour class of a score: "pos" (green) from +0.05, "neg" (red) from -0.05, "muted" (grey) between and when there is none. */
export function scoreClass(v: number | null | undefined): "pos" | "neg" | "muted" {
  if (v === null || v === undefined || !Number.isFinite(v)) return "muted";
  const h = hundredths(v);
  return h >= 5 ? "pos" : h <= -5 ? "neg" : "muted";
}

/** An impact (0..1) as a whole percent: "40 %". */
export function fmtImpact(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH;
  return `${Math.round(Math.min(1, Math.max(0, v)) * 100)} %`;
}

/** When an item came out: its publication, else when it was read. */
export function newsTime(n: NewsItem): number {
  return n.published_ms ?? n.fetched_ms ?? 0;
}

/** How many of its scores an item carries (a row stored before it was rated has fewer). */
const rated = (n: NewsItem) => (n.score !== null ? 1 : 0) + (n.impact !== null ? 1 : 0) + (n.llm_score !== null ? 1 : 0);

/**
 * The items of every list, each id once, newest first. Of two versions of an
 * item the one with more scores wins, else the one of the earlier list: pass
 * the freshest first (the live pushes, then the pages).
 */
export function mergeNews(...lists: readonly (readonly NewsItem[])[]): NewsItem[] {
  const byId = new Map<string, NewsItem>();
  for (const l of lists)
    for (const n of l) {
      const had = byId.get(n.id);
      if (!had || rated(n) > rated(had)) byId.set(n.id, n);
    }
  return [...byId.values()].sort((a, b) => newsTime(b) - newsTime(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The `before` cursor of the next older page: the oldest publication time shown. */
export function olderCursor(items: readonly NewsItem[]): number | null {
  let min: number | null = null;
  for (const n of items) if (n.published_ms !== null && (min === null || n.published_ms < min)) min = n.published_ms;
  return min;
}

/** Every symbol the items name, sorted. */
export function symbolsOf(items: readonly NewsItem[]): string[] {
  return [...new Set(items.flatMap((n) => n.symbols))].sort();
}

/** Whether an item belongs under a symbol filter ("" is all). */
export function namesSymbol(n: NewsItem, symbol: string): boolean {
  return symbol === "" || n.symbols.includes(symbol);
}

/** The readings of every list, each (feed, time) once, the first list winning, newest first. */
export function mergeReadings(...lists: readonly (readonly SentimentReading[])[]): SentimentReading[] {
  const seen = new Map<string, SentimentReading>();
  for (const l of lists) for (const r of l) if (!seen.has(`${r.feed}|${r.as_of_ms}`)) seen.set(`${r.feed}|${r.as_of_ms}`, r);
  return [...seen.values()].sort((a, b) => b.as_of_ms - a.as_of_ms);
}

/** The newest reading of each feed, by feed name. */
export function latestByFeed(readings: readonly SentimentReading[]): Map<string, SentimentReading> {
  const out = new Map<string, SentimentReading>();
  for (const r of readings) {
    const cur = out.get(r.feed);
    if (!cur || r.as_of_ms > cur.as_of_ms) out.set(r.feed, r);
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** The colour of a Fear & Greed reading: its label's word, else bands of the value. */
export function fngClass(value: number, label: string | null): "pos" | "neg" | "zero" {
  if (label) {
    if (/greed/i.test(label)) return "pos";
    if (/fear/i.test(label)) return "neg";
    if (/neutral/i.test(label)) return "zero";
  }
  return value >= 55 ? "pos" : value <= 45 ? "neg" : "zero";
}
