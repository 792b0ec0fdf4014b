import { describe, expect, it } from "vitest";
import { Auth, splitTokenFragment, type TokenStore } from "../src/api/auth";

class MemStore implements TokenStore {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

describe("token", () => {
  it("takes the token out of the fragment and keeps the route", () => {
    expect(splitTokenFragment("#token=abc123")).toEqual({ token: "abc123", rest: "" });
    expect(splitTokenFragment("#/trade&token=a%2Bb")).toEqual({ token: "a+b", rest: "#/trade" });
    expect(splitTokenFragment("#token=x&/traders")).toEqual({ token: "x", rest: "#/traders" });
    expect(splitTokenFragment("#/overview")).toEqual({ token: null, rest: "#/overview" });
    expect(splitTokenFragment("#token=")).toEqual({ token: null, rest: "" });
  });

  it("keeps it in the session store and forgets it", () => {
    const s = new MemStore();
    const a = new Auth(s);
    expect(a.get()).toBeNull();
    a.set(" tok ");
    expect(a.get()).toBe("tok");
    expect(new Auth(s).get()).toBe("tok");
    a.set(null);
    expect(new Auth(s).get()).toBeNull();
  });
});
