// Every route of the client against the mock server (the same JSON shapes
// as the engine): answers decode, changes need the token, a 401 asks for it
// and retries, a risk rejection carries its rule, errors keep the engine's
// code and message.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, ApiError } from "../src/api/client";
import { startMock, type Mock } from "./mock";

let mock: Mock;
beforeAll(async () => {
  mock = await startMock(["--decision-every", "0", "--news-every", "0"]);
});
afterAll(async () => {
  await mock.stop();
});

const api = (token: string | null, onAuthRequired?: (e: ApiError) => Promise<string | null>) =>
  new Api({ base: mock.url, getToken: () => token, ...(onAuthRequired ? { onAuthRequired } : {}) });

describe("reads", () => {
  it("decodes every read route", async () => {
    const a = api(null);
    const h = await a.health();
    expect(h.status).toBe("ok");
    expect(h.plugins.length).toBeGreaterThan(0);
    const inst = await a.instruments();
    const btc = inst.find((i) => i.instId === "BTC-USDT-SWAP");
    expect(btc).toMatchObject({ ctVal: "0.01", lotSz: "0.01", tickSz: "0.1" });
    const tickers = await a.tickers();
    expect(tickers.length).toBe(inst.length);
    const candles = await a.candles("BTC-USDT-SWAP", "5m", 50);
    expect(candles.length).toBe(50);
    expect(candles[0]!.ts).toBeLessThan(candles[49]!.ts);
    const accounts = await a.accounts();
    expect(accounts.map((x) => x.id)).toContain("exchange.okx_demo");
    const bal = await a.balance("exchange.okx_demo");
    expect(bal.totalEq).not.toBeNull();
    expect(bal.details[0]?.availBal).not.toBeNull();
    expect(Array.isArray(await a.positions("exchange.okx_demo"))).toBe(true);
    expect(Array.isArray(await a.orders("exchange.okx_demo", "open"))).toBe(true);
    expect(Array.isArray(await a.orders("exchange.okx_demo", "history"))).toBe(true);
    expect(Array.isArray(await a.fills("exchange.okx_demo"))).toBe(true);
    const eq = await a.equity("exchange.okx_demo");
    expect(eq.length).toBeGreaterThan(10);
    const traders = await a.traders();
    expect(traders.find((t) => t.id === "alpha")?.state).toBe("running");
    const decisions = await a.decisions({ limit: 3 });
    expect(decisions.length).toBe(3);
    const d = await a.decision(decisions[0]!.id);
    expect(d.prompt).toContain("equity");
    expect(d.raw_response).not.toBeNull();
    const risk = await a.risk();
    expect(risk.kill_switch.on).toBe(false);
    expect(risk.rules.map((r) => r.instance)).toContain("risk.breaker");
    const pnl = await a.pnl();
    expect(Array.isArray(pnl.latest)).toBe(true);
    const news = await a.news();
    expect(news.length).toBe(50);
    expect(news[0]).toMatchObject({ feed: "CoinDesk", symbols: ["BTC"], score: 0.62, impact: 0.71, llm_score: 0.55, scorer: "ai.qwen" });
    const fng = await a.sentiment({ feed: "feargreed", limit: 1000 });
    expect(fng.length).toBe(60);
    expect(fng.every((r) => r.feed === "feargreed" && r.value >= 0 && r.value <= 100)).toBe(true);
    expect(await a.metrics()).toContain("aitrader_");
  });

  it("pages the news back with the before cursor, filtered by coin", async () => {
    const a = api(null);
    const first = await a.news({ limit: 3 });
    expect(first.map((n) => n.title)).toEqual([
      "Bitcoin ETF inflows hit a record as BTC rallies past $95,000",
      "Exchange hacked: $40M in ether drained from a hot wallet",
      "Solana validators ship a network upgrade",
    ]);
    // the stored row from before impact and LLM scores: nulls
    expect(first[2]).toMatchObject({ symbols: ["SOL"], score: 0.12, impact: null, llm_score: null, scorer: null });
    const next = await a.news({ limit: 2, before: first[2]!.published_ms ?? 0 });
    expect(next.map((n) => n.title)).toEqual(["Markets flat ahead of the Fed decision", "SOL and $DOGE bounce as memecoins rally"]);
    // keys absent altogether: nulls too
    expect(next[0]).toMatchObject({ symbols: [], score: 0, impact: null, llm_score: null });
    const sol = await a.news({ symbol: "SOL", limit: 500 });
    expect(sol.length).toBeGreaterThan(2);
    expect(sol.every((n) => n.symbols.includes("SOL"))).toBe(true);
    const e = await a.news({ limit: 501 }).catch((x: unknown) => x);
    expect((e as ApiError).code).toBe("bad_query");
    const all = await a.sentiment({ limit: 1000 });
    expect([...new Set(all.map((r) => r.feed))].sort()).toEqual(["feargreed", "lexicon"]);
    expect(all[0]!.as_of_ms).toBeGreaterThanOrEqual(all[all.length - 1]!.as_of_ms);
  });

  it("keeps the engine's error code and message", async () => {
    const e = await api(null)
      .decision("nope")
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(404);
    expect((e as ApiError).code).toBe("unknown_decision");
    const e2 = await api(null)
      .request("GET", "/api/nothing", (v) => v)
      .catch((x: unknown) => x);
    expect((e2 as ApiError).code).toBe("not_found");
  });

  it("calls a malformed answer bad_response, not a crash", async () => {
    const a = new Api({
      getToken: () => null,
      fetch: () => Promise.resolve(new Response(JSON.stringify([{ instId: "X" }]), { status: 200 })),
    });
    const e = await a.instruments().catch((x: unknown) => x);
    expect((e as ApiError).code).toBe("bad_response");
    expect((e as ApiError).message).toMatch(/instruments\[0\]\.lotSz missing/);
  });
});

describe("changes", () => {
  it("are refused with 401 without the token and change nothing", async () => {
    const before = (await api(null).risk()).kill_switch.on;
    const e = await api(null)
      .killSwitch(!before)
      .catch((x: unknown) => x);
    expect((e as ApiError).status).toBe(401);
    const e2 = await api("wrong")
      .killSwitch(!before)
      .catch((x: unknown) => x);
    expect((e2 as ApiError).status).toBe(401);
    expect((await api(null).risk()).kill_switch.on).toBe(before);
  });

  it("ask for the token after a 401 and retry once with it", async () => {
    const asked: string[] = [];
    const a = api(null, (err) => {
      asked.push(err.code);
      return Promise.resolve(mock.token);
    });
    await a.killSwitch(true, "test");
    expect(asked).toEqual(["unauthorized"]);
    expect((await a.risk()).kill_switch).toMatchObject({ on: true, reason: "test" });
    const cancelled = api(null, () => Promise.resolve(null));
    const e = await cancelled.killSwitch(false).catch((x: unknown) => x);
    expect((e as ApiError).status).toBe(401);
    await api(mock.token).killSwitch(false);
  });

  it("place a market order that becomes a position, and close it", async () => {
    const a = api(mock.token);
    const r = await a.placeOrder({ account: "exchange.paper", instId: "ETH-USDT-SWAP", side: "buy", ordType: "market", sz: "0.5" });
    expect(r.intent_id).not.toBe("");
    expect(r.ordId).not.toBeNull();
    const pos = (await a.positions("exchange.paper")).find((p) => p.instId === "ETH-USDT-SWAP");
    expect(pos?.pos).toBe("0.5");
    const fills = await a.fills("exchange.paper");
    expect(fills.some((f) => f.ordId === r.ordId && f.sz === "0.5")).toBe(true);
    await a.closePosition({ account: "exchange.paper", instId: "ETH-USDT-SWAP" });
    expect((await a.positions("exchange.paper")).find((p) => p.instId === "ETH-USDT-SWAP")).toBeUndefined();
    const pnl = await a.pnl({ origin: "manual" });
    expect(pnl.latest.some((x) => x.account === "exchange.paper")).toBe(true);
  });

  it("cancel a resting limit order", async () => {
    const a = api(mock.token);
    const r = await a.placeOrder({ account: "exchange.okx_demo", instId: "BTC-USDT-SWAP", side: "buy", posSide: "long", ordType: "limit", sz: "0.01", px: "1000.0" });
    expect((await a.orders("exchange.okx_demo", "open")).some((o) => o.ordId === r.ordId)).toBe(true);
    await a.cancelOrder("exchange.okx_demo", r.ordId ?? "");
    expect((await a.orders("exchange.okx_demo", "open")).some((o) => o.ordId === r.ordId)).toBe(false);
    const hist = await a.orders("exchange.okx_demo", "history");
    expect(hist.find((o) => o.ordId === r.ordId)?.state).toBe("canceled");
  });

  it("show a risk rejection with its rule (422)", async () => {
    const e = await api(mock.token)
      .placeOrder({ account: "exchange.okx_demo", instId: "BTC-USDT-SWAP", side: "buy", posSide: "long", ordType: "market", sz: "1000" })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(422);
    expect((e as ApiError).code).toBe("risk_rejected");
    expect((e as ApiError).rule).toBe("risk.limits/max_exposure");
    const risk = await api(null).risk();
    expect(risk.rejections[0]?.rule).toBe("risk.limits/max_exposure");
  });

  it("pause, resume and run a trader", async () => {
    const a = api(mock.token);
    await a.traderAction("alpha", "pause");
    expect((await a.traders()).find((t) => t.id === "alpha")).toMatchObject({ state: "paused", paused_by: "dashboard" });
    await a.traderAction("alpha", "resume");
    const n = (await a.decisions({ trader: "alpha", limit: 200 })).length;
    await a.traderAction("alpha", "run");
    expect((await a.decisions({ trader: "alpha", limit: 200 })).length).toBe(n + 1);
    const e = await a.traderAction("nobody", "run").catch((x: unknown) => x);
    expect((e as ApiError).status).toBe(404);
  });
});
