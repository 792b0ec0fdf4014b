// The News page's shapes and logic: news rows and sentiment readings as the
// engine sends them (GET /api/news, /api/sentiment, /ws), the new scores
// optional, a broken row refused; relative times, scores and their colours,
// merging pages with live pushes.
import { describe, expect, it } from "vitest";
import { list } from "../src/api/decode";
import { decodeNews, decodeSentiment, type NewsItem } from "../src/api/types";
import { fmtAgo } from "../src/lib/format";
import { fmtImpact, fmtScore, fngClass, latestByFeed, mergeNews, mergeReadings, namesSymbol, olderCursor, scoreClass, symbolsOf } from "../src/lib/news";

const ROW = {
  id: "3f9c0a",
  feed: "Coin Wire",
  title: "Bitcoin surges to a record high",
  url: "http://127.0.0.1:4000/story/btc-record?utm_source=rss",
  summary: "BTC rallied & soared.",
  symbols: "BTC,ETH",
  publishedMs: 1767225600000,
  score: 0.7184,
  impact: 0.42,
  llmScore: -0.1,
  scorer: "ai.qwen",
  fetchedMs: 1767225610000,
};

/** A copy of o without the keys. */
function without(o: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}

const item = (id: string, ms: number | null, more: Partial<NewsItem> = {}): NewsItem => ({
  id,
  feed: "f",
  title: id,
  url: null,
  summary: null,
  symbols: [],
  published_ms: ms,
  fetched_ms: ms,
  score: null,
  impact: null,
  llm_score: null,
  scorer: null,
  ...more,
});

describe("news rows", () => {
  it("decode the engine's row with its new scores", () => {
    expect(decodeNews(ROW, "news[0]")).toEqual({
      id: "3f9c0a",
      feed: "Coin Wire",
      title: "Bitcoin surges to a record high",
      url: "http://127.0.0.1:4000/story/btc-record?utm_source=rss",
      summary: "BTC rallied & soared.",
      symbols: ["BTC", "ETH"],
      published_ms: 1767225600000,
      fetched_ms: 1767225610000,
      score: 0.7184,
      impact: 0.42,
      llm_score: -0.1,
      scorer: "ai.qwen",
    });
  });

  it("take a row stored before impact and LLM scores (nulls, or no keys at all)", () => {
    const nulls = decodeNews({ ...ROW, url: null, summary: null, symbols: null, score: null, impact: null, llmScore: null, scorer: null }, "n");
    expect(nulls).toMatchObject({ url: null, summary: null, symbols: [], score: null, impact: null, llm_score: null, scorer: null });
    expect(decodeNews(without(ROW, "impact", "llmScore", "scorer"), "n")).toMatchObject({ score: 0.7184, impact: null, llm_score: null, scorer: null });
    // a /ws push carries the same keys
    expect(decodeNews({ ...ROW, symbols: ["SOL"] }, "news").symbols).toEqual(["SOL"]);
  });

  it("refuse a broken row, naming it, as every decoder does", () => {
    expect(() => list([ROW, without(ROW, "title")], "news", decodeNews)).toThrow("news[1].title missing");
    expect(() => decodeNews({ ...ROW, score: "bullish" }, "news[0]")).toThrow("news[0].score: not a number");
    expect(() => decodeNews({ ...ROW, impact: true }, "news[0]")).toThrow("news[0].impact: not a number");
    expect(() => decodeNews({ ...ROW, llmScore: {} }, "news[0]")).toThrow("news[0].llmScore: not a number");
    expect(() => decodeNews(without(ROW, "id", "url"), "news[2]")).toThrow("news[2].id missing");
    expect(() => decodeNews("x", "news[3]")).toThrow("news[3]: expected an object");
  });
});

describe("sentiment readings", () => {
  it("decode the engine's Fear & Greed reading", () => {
    expect(decodeSentiment({ feed: "feargreed", asOfMs: 1767225600000, value: 71.0, label: "Greed" }, "s")).toEqual({
      feed: "feargreed",
      as_of_ms: 1767225600000,
      value: 71,
      label: "Greed",
    });
    expect(decodeSentiment({ feed: "lexicon", asOfMs: 5, value: -0.2, label: null }, "s").label).toBeNull();
  });

  it("refuse a reading without a value, a time or a feed", () => {
    expect(() => list([{ feed: "feargreed", asOfMs: 1, value: null, label: "?" }], "sentiment", decodeSentiment)).toThrow("sentiment[0].value missing");
    expect(() => decodeSentiment({ feed: "feargreed", value: 50 }, "s")).toThrow("s.asOfMs missing");
    expect(() => decodeSentiment({ asOfMs: 1, value: 50 }, "s")).toThrow("s.feed missing");
    expect(() => decodeSentiment({ feed: "f", asOfMs: 1, value: "high" }, "s")).toThrow("s.value: not a number");
  });
});

describe("news on the page", () => {
  it("says how long ago, the exact time being the title's", () => {
    const now = Date.UTC(2026, 0, 10, 12, 0, 0);
    expect(fmtAgo(now - 3000, now)).toBe("just now");
    expect(fmtAgo(now + 30000, now)).toBe("just now"); // a clock a little ahead
    expect(fmtAgo(now - 42000, now)).toBe("42s ago");
    expect(fmtAgo(now - 5 * 60000 - 59000, now)).toBe("5m ago");
    expect(fmtAgo(now - 3 * 3600e3, now)).toBe("3h ago");
    expect(fmtAgo(now - 2 * 86400e3 - 1, now)).toBe("2d ago");
    expect(fmtAgo(now - 45 * 86400e3, now)).toBe("2025-11-26");
    expect(fmtAgo(now + 5 * 60000, now)).toBe("in 5m");
    expect(fmtAgo(null, now)).toBe("—");
  });

  it("signs scores on two decimals and colours them by what is shown", () => {
    expect(fmtScore(0.7184)).toBe("+0.72");
    expect(fmtScore(-0.125)).toBe("-0.13");
    expect(fmtScore(0.125)).toBe("+0.13");
    expect(fmtScore(-0.004)).toBe("0.00");
    expect(fmtScore(0)).toBe("0.00");
    expect(fmtScore(null)).toBe("—");
    expect(scoreClass(0.05)).toBe("pos");
    expect(scoreClass(0.049)).toBe("pos"); // shown as +0.05
    expect(scoreClass(0.044)).toBe("muted");
    expect(scoreClass(-0.05)).toBe("neg");
    expect(scoreClass(-0.0449)).toBe("muted");
    expect(scoreClass(null)).toBe("muted");
    expect(fmtImpact(0.424)).toBe("42 %");
    expect(fmtImpact(1.3)).toBe("100 %");
    expect(fmtImpact(null)).toBe("—");
  });

  it("merges pages and live pushes: each id once, the most rated version, newest first", () => {
    const stored = [item("b", 200), item("a", 100, { score: 0.1 })];
    const older = [item("a", 100), item("z", 50)];
    const live = [item("c", 300), item("a", 100, { score: 0.1, llm_score: 0.5, scorer: "ai.qwen" })];
    const m = mergeNews(live, stored, older);
    expect(m.map((n) => n.id)).toEqual(["c", "b", "a", "z"]);
    expect(m[2]).toMatchObject({ llm_score: 0.5, scorer: "ai.qwen" });
    // a live version with fewer scores does not hide the stored one's
    expect(mergeNews([item("a", 100)], [item("a", 100, { score: 0.3, impact: 0.2 })])[0]?.impact).toBe(0.2);
    // no publication time: when it was read
    expect(mergeNews([item("x", null, { fetched_ms: 400 })], stored).map((n) => n.id)).toEqual(["x", "b", "a"]);
    expect(olderCursor(m)).toBe(50);
    expect(olderCursor([])).toBeNull();
    expect(symbolsOf([item("1", 1, { symbols: ["SOL", "BTC"] }), item("2", 1, { symbols: ["BTC"] })])).toEqual(["BTC", "SOL"]);
    expect(namesSymbol(item("1", 1, { symbols: ["ETH"] }), "ETH")).toBe(true);
    expect(namesSymbol(item("1", 1, { symbols: ["ETHFI"] }), "ETH")).toBe(false);
    expect(namesSymbol(item("1", 1), "")).toBe(true);
  });

  it("keeps each feed's readings once and finds each feed's latest", () => {
    const r = (feed: string, as_of_ms: number, value: number) => ({ feed, as_of_ms, value, label: null });
    const merged = mergeReadings([r("feargreed", 3, 73)], [r("feargreed", 3, 71), r("feargreed", 2, 50), r("lexicon", 5, 0.2)]);
    expect(merged.map((x) => `${x.feed}:${x.value}`)).toEqual(["lexicon:0.2", "feargreed:73", "feargreed:50"]);
    expect([...latestByFeed(merged).entries()].map(([f, x]) => `${f}:${x.value}`)).toEqual(["feargreed:73", "lexicon:0.2"]);
    expect(fngClass(71, "Greed")).toBe("pos");
    expect(fngClass(20, "Extreme Fear")).toBe("neg");
    expect(fngClass(50, "Neutral")).toBe("zero");
    expect(fngClass(80, null)).toBe("pos");
  });
});
