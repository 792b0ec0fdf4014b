// The engine's own shapes (plugins/ui_dashboard's JSON: live events in
// camelCase, stored rows, the control API's traders and kill switch) decode
// to what the pages show.
import { describe, expect, it } from "vitest";
import { decodeDecision, decodeDecisionDetail, decodePnlAnswer, decodeRisk, decodeTrader, decodeBalance, decodeCandle, decodeBook } from "../src/api/types";

describe("engine shapes", () => {
  it("a decision pushed on /ws (camelCase, numbers from the model)", () => {
    const d = decodeDecision(
      {
        id: "alpha:long:1767225600000",
        trader: "alpha",
        provider: "ai.rules",
        model: "rules",
        valid: true,
        invalidReason: null,
        latencyMs: 12,
        tokensIn: 1300,
        tokensOut: 90,
        costUsd: 0,
        triggerKey: "alpha:long:1767225600000",
        actions: [{ symbol: "BTC-USDT-SWAP", action: "open_long", sizePct: 0.1, leverage: 3, takeProfit: "91000", stopLoss: "89000", confidence: 0.7, reason: "r", invalidation: "i" }],
        createdMs: 1767225600123,
      },
      "d",
    );
    expect(d).toMatchObject({ latency_ms: 12, tokens_in: 1300, cost: "0", created_ms: 1767225600123, valid: true });
    expect(d.actions[0]).toMatchObject({ size_pct: "0.1", leverage: "3", take_profit: "91000", stop_loss: "89000" });
  });

  it("a stored decision with its orders and their verdicts", () => {
    const d = decodeDecisionDetail({
      id: "alpha:long:1",
      trader: "alpha",
      triggerReason: "schedule",
      valid: false,
      invalidReason: "decisions[0].leverage 50 is over 10",
      validation: "decisions[0].leverage 50 is over 10",
      actions: [{ symbol: "ETH-USDT-SWAP", action: "close_long", size_pct: "1", reason: "done" }],
      intents: [{ item: 0, symbol: "ETH-USDT-SWAP", action: "close_long", note: "no long position to close" }],
      costUsd: 0.00042,
      outcome: { net_pnl: "-1.5" },
      netPnl: null,
      createdMs: 5,
      orders: [
        {
          intentId: "alpha:long:1/0",
          clOrdId: "ai1",
          ordId: null,
          instId: "ETH-USDT-SWAP",
          side: "sell",
          sz: "1",
          state: "rejected",
          createdMs: 6,
          verdicts: [{ intentId: "alpha:long:1/0", rule: "risk.limits", ruleName: "min_hold", verdict: "reject", allowed: false, reason: "held 2m of 15m" }],
        },
      ],
      prompt: "p",
      systemPrompt: "s",
      rawResponse: "{}",
      firstResponse: null,
      firstError: null,
    });
    expect(d.validation).toMatch(/leverage 50/);
    expect(d.net_pnl).toBe("-1.5");
    expect(d.cost).toBe("0.00042");
    expect(d.verdicts).toEqual([{ intent_id: "alpha:long:1/0", rule: "risk.limits/min_hold", verdict: "reject", allowed: false, reason: "held 2m of 15m" }]);
    expect(d.orders[0]).toMatchObject({ state: "rejected", ts: 6 });
    expect(d.intents[0]).toMatch(/close_long ETH-USDT-SWAP : no long position to close/);
    expect(d).toMatchObject({ system_prompt: "s", raw_response: "{}", prompt: "p" });
  });

  it("a trader from the control API", () => {
    const t = decodeTrader(
      {
        id: "alpha",
        instance: "trader.alpha",
        ai: "ai.rules",
        account: "exchange.paper",
        symbols: ["BTC-USDT-SWAP"],
        shadow: false,
        state: "paused",
        mode: "long",
        in_flight: 0,
        next_call_ms: null,
        last_trigger_ms: 1767225600000,
        pause: { since_ms: 1767225601000, by: "dashboard", reason: "news" },
        stats: { decisions: 12, invalid: 1, cost_day_usd: 0.0123 },
      },
      "t",
    );
    expect(t).toMatchObject({ state: "paused", decisions: 12, invalid: 1, cost: "0.0123", paused_by: "dashboard", paused_reason: "news", next_call_ms: null });
  });

  it("risk, PnL, balance, candles and books", () => {
    const r = decodeRisk({
      killSwitch: { on: true, since_ms: 1, by: "alice", reason: "x", present: true, file: "data/kill-switch", watched: true },
      rules: [{ instance: "risk.breaker", module: "risk_breaker", kind: "risk", state: "degraded", detail: "exchange.okx tripped: daily_loss" }],
      rejections: [{ intentId: "i", rule: "risk.limits", ruleName: "max_leverage", reason: "50 > 10", createdMs: 3, account: "a", origin: "manual", instId: "X", side: "buy", sz: "1" }],
    });
    expect(r.kill_switch).toEqual({ on: true, since_ms: 1, by: "alice", reason: "x" });
    expect(r.rules[0]?.detail).toMatch(/tripped/);
    expect(r.rejections[0]?.rule).toBe("risk.limits/max_leverage");
    const p = decodePnlAnswer({
      latest: [{ origin: "alpha", account: "a", ts: 2, realized: "1", fees: "-0.1", funding: "0", unrealized: null, net: null, positions: 0 }],
      series: [],
    });
    expect(p.latest[0]).toMatchObject({ origin: "alpha", realized: "1", fees: "-0.1", unrealized: null, ts: 2 });
    const b = decodeBalance({ account: "a", totalEq: "100.5", ts: 7, details: [{ ccy: "USDT", eq: "100.5", availEq: "90", upl: "0", ts: 7 }] });
    expect(b.details[0]).toMatchObject({ ccy: "USDT", availBal: "90" });
    expect(decodeCandle({ ts: 1767225600000, open: "1", high: "2", low: "0.5", close: "1.5", vol: "3", confirmed: true }, "c")).toMatchObject({ o: "1", h: "2", l: "0.5", c: "1.5" });
    expect(decodeBook({ instId: "X", source: "s", bids: [["1", "2"]], asks: [["1.1", "3"]], seqId: 1, ts: 9 }).asks[0]).toEqual({ px: "1.1", sz: "3" });
  });
});
