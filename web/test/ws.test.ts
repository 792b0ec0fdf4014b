// The /ws stream against the mock: messages arrive typed, and the stream
// comes back by itself after the server goes away and returns.
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Api } from "../src/api/client";
import { decodeNews } from "../src/api/types";
import { Stream, parseMessage, type StreamMessage, type WsLike } from "../src/api/ws";
import { startMock, waitFor, type Mock } from "./mock";

const factory = (url: string): WsLike => {
  const ws = new WebSocket(url);
  const w: WsLike = { onopen: null, onclose: null, onerror: null, onmessage: null, close: () => ws.close() };
  ws.on("open", () => w.onopen?.(null));
  ws.on("close", () => w.onclose?.(null));
  ws.on("error", () => w.onerror?.(null));
  ws.on("message", (data) => w.onmessage?.({ data: data.toString() }));
  return w;
};

let mocks: Mock[] = [];
let streams: Stream[] = [];
afterEach(async () => {
  for (const s of streams) s.stop();
  for (const m of mocks) await m.stop();
  mocks = [];
  streams = [];
});

describe("stream", () => {
  it("parses only known message types", () => {
    expect(parseMessage('{"type":"ticker","data":{"instId":"X"}}')).toEqual({ type: "ticker", data: { instId: "X" } });
    expect(parseMessage('{"type":"nope","data":{}}')).toBeNull();
    expect(parseMessage("not json")).toBeNull();
    expect(parseMessage(42)).toBeNull();
  });

  it("parses news and sentiment pushes", () => {
    const m = parseMessage('{"type":"news","sent":1,"data":{"id":"a","title":"t"}}');
    expect(m).toEqual({ type: "news", data: { id: "a", title: "t" } });
    expect(parseMessage('{"type":"sentiment","sent":1,"data":{"feed":"feargreed","asOfMs":1,"value":71,"label":"Greed"}}')?.type).toBe("sentiment");
  });

  it("brings the news the mock publishes, as rows the page decodes", async () => {
    const m = await startMock(["--news-every", "100", "--decision-every", "0"]);
    mocks.push(m);
    const got: StreamMessage[] = [];
    const s = new Stream({ url: `${m.url.replace("http", "ws")}/ws`, factory });
    streams.push(s);
    s.subscribe((x) => got.push(x));
    s.start();
    await waitFor(() => got.some((x) => x.type === "news"), 5000, "a news push");
    const n = decodeNews(got.find((x) => x.type === "news")!.data, "news");
    expect(n).toMatchObject({ feed: "CoinDesk", symbols: ["BTC"], impact: 0.22, llm_score: 0.1, scorer: "ai.qwen" });
    // and the stored rows hold it, newest first
    const rows = await new Api({ base: m.url, getToken: () => null }).news({ limit: 1 });
    expect(rows[0]!.published_ms).toBeGreaterThanOrEqual(n.published_ms ?? 0);
  });

  it("receives pushes and reconnects after the server restarts", async () => {
    const m1 = await startMock(["--tick-ms", "100", "--decision-every", "0"]);
    mocks.push(m1);
    const got: StreamMessage[] = [];
    const s = new Stream({ url: `${m1.url.replace("http", "ws")}/ws`, factory, minDelayMs: 50, maxDelayMs: 200 });
    streams.push(s);
    s.subscribe((m) => got.push(m));
    s.start();
    await waitFor(() => got.some((m) => m.type === "ticker"), 5000, "a ticker");
    expect(s.state).toBe("open");
    await m1.stop();
    mocks = [];
    await waitFor(() => s.state !== "open", 5000, "the stream to see the loss");
    const m2 = await startMock(["--tick-ms", "100", "--decision-every", "0"], m1.port);
    mocks.push(m2);
    await waitFor(() => s.state === "open", 8000, "the stream to come back");
    expect(s.reconnects).toBe(1);
    got.length = 0;
    await waitFor(() => got.some((m) => m.type === "book"), 5000, "a book after the reconnect");
  });
});
