// GET /api/arena's answer (plugins/ui_dashboard/dash_arena.c) decodes to what
// the Arena page shows; a broken curve point is an error, not a blank chart.
import { describe, expect, it } from "vitest";
import { decodeArena, fetchArena } from "../src/api/arena";
import { Api } from "../src/api/client";
import { DecodeError } from "../src/api/decode";

const answer = {
  from: 0,
  to: 1796646951969,
  truncated: true,
  traders: [
    {
      trader: "gamma",
      provider: "ai.llm",
      model: "stub-llm",
      account: "exchange.paper_c",
      symbols: ["BTC-USDT-SWAP"],
      start_equity: "10000",
      equity: "10002.65230752",
      pnl: "2.65230752",
      return_pct: 0.026523075200013402,
      max_drawdown_pct: 0.0146,
      sharpe: null,
      sharpe_returns: 3,
      equity_curve: [
        [1796646778186, "10000"],
        [1796646778187, "9998.53980752"],
      ],
      win_rate: 0.5,
      round_trips: 2,
      wins: 1,
      fees: "-1.49638248",
      funding: "0",
      ai_calls: 6,
      tokens_in: 600,
      tokens_out: 60,
      cost_usd: 1.5,
      long_entries: 2,
      short_entries: 1,
      long_short_ratio: 2.0,
    },
    {
      trader: "idle",
      provider: "ai.rules",
      model: null,
      account: "exchange.paper_d",
      symbols: [],
      start_equity: null,
      equity: null,
      pnl: null,
      return_pct: null,
      max_drawdown_pct: null,
      sharpe: null,
      equity_curve: [],
      win_rate: null,
      round_trips: 0,
      wins: 0,
      fees: "0",
      funding: "0",
      ai_calls: 0,
      tokens_in: 0,
      tokens_out: 0,
      cost_usd: 0,
      long_entries: 0,
      short_entries: 0,
      long_short_ratio: null,
    },
  ],
  bias: [{ model: "stub-llm", long: 2, short: 1, ratio: 2 }],
};

describe("arena", () => {
  it("decodes the engine's answer: exact money, ratios as numbers, nulls kept", () => {
    const a = decodeArena(answer);
    expect(a.to).toBe(1796646951969);
    expect(a.truncated).toBe(true);
    expect(decodeArena({ ...answer, truncated: undefined }).truncated).toBe(false);
    const [g, idle] = a.traders;
    expect(g).toMatchObject({ trader: "gamma", sharpe_returns: 3, equity: "10002.65230752", fees: "-1.49638248", win_rate: 0.5, ai_calls: 6, long_short_ratio: 2 });
    expect(g?.equity_curve).toEqual([
      { ts: 1796646778186, value: "10000" },
      { ts: 1796646778187, value: "9998.53980752" },
    ]);
    expect(idle).toMatchObject({ model: null, equity: null, return_pct: null, sharpe: null, equity_curve: [] });
    expect(a.bias).toEqual([{ model: "stub-llm", long: 2, short: 1, ratio: 2 }]);
  });

  it("refuses a curve point that is not [ts, decimal]", () => {
    const bad = (p: unknown) => ({ ...answer, traders: [{ ...answer.traders[0], equity_curve: [p] }] });
    expect(() => decodeArena(bad(["x", "1"]))).toThrow(DecodeError);
    expect(() => decodeArena(bad([1, "abc"]))).toThrow(/not a decimal/);
    expect(() => decodeArena(bad([1, null]))).toThrow(/no equity/);
    expect(() => decodeArena({ from: 0 })).toThrow(/arena.traders/);
  });

  it("asks for the window it is given", async () => {
    const urls: string[] = [];
    const api = new Api({
      getToken: () => null,
      fetch: async (input) => {
        urls.push(input);
        return new Response(JSON.stringify(answer), { status: 200 });
      },
    });
    await fetchArena(api);
    await fetchArena(api, { from: 1000.7, to: 2000 });
    // a window is the engine's to resolve on its clock: no from of the browser's
    await fetchArena(api, { window: "7d" });
    await fetchArena(api, { window: "all", to: 5000 });
    expect(urls).toEqual(["/api/arena", "/api/arena?from=1000&to=2000", "/api/arena?window=7d", "/api/arena?window=all&to=5000"]);
  });
});
