// GET /api/shadow's answer (plugins/ui_dashboard/dash_shadow.c) decodes to
// what the System page's "Shadow vs live" card shows.
import { describe, expect, it } from "vitest";
import { Api } from "../src/api/client";
import { DecodeError } from "../src/api/decode";
import { decodeShadow, fetchShadow } from "../src/api/shadow";

const side = (account: string, booked: boolean) => ({
  account,
  booked,
  realized: booked ? "-0.6327" : "0",
  unrealized: booked ? "0" : "0",
  fees: booked ? "-0.3001575" : "0",
  funding: "0",
  net: booked ? "-0.9328575" : "0",
  position: "0",
  round_trips: booked ? 1 : 0,
  wins: 0,
  hit_rate: booked ? 0.0 : null,
  decisions: booked ? 2 : 0,
  entries: booked ? 1 : 0,
});

const answer = {
  traders: [{ trader: "alpha", symbol: "BTC-USDT-SWAP", live: side("exchange.okx_demo", false), shadow: side("exchange.paper_shadow", true) }],
};

describe("shadow", () => {
  it("decodes both books: exact money, counts, a hit rate only after a round trip", () => {
    const [r] = decodeShadow(answer);
    expect(r).toMatchObject({ trader: "alpha", symbol: "BTC-USDT-SWAP" });
    expect(r?.shadow).toMatchObject({ account: "exchange.paper_shadow", booked: true, fees: "-0.3001575", net: "-0.9328575", round_trips: 1, hit_rate: 0, entries: 1, decisions: 2 });
    expect(r?.live).toMatchObject({ account: "exchange.okx_demo", booked: false, hit_rate: null, entries: 0 });
    expect(decodeShadow({ traders: [] })).toEqual([]);
  });

  it("refuses what it cannot show", () => {
    expect(() => decodeShadow({ traders: [{ ...answer.traders[0], shadow: { ...side("x", true), fees: "lots" } }] })).toThrow(/not a decimal/);
    expect(() => decodeShadow({ traders: [{ symbol: "BTC-USDT-SWAP", live: {}, shadow: {} }] })).toThrow(DecodeError);
  });

  it("asks for one trader when given", async () => {
    const urls: string[] = [];
    const api = new Api({
      getToken: () => null,
      fetch: async (input) => {
        urls.push(input);
        return new Response(JSON.stringify(answer), { status: 200 });
      },
    });
    await fetchShadow(api);
    await fetchShadow(api, "alpha beta");
    expect(urls).toEqual(["/api/shadow", "/api/shadow?trader=alpha%20beta"]);
  });
});
