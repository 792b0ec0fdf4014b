import { describe, expect, it } from "vitest";
import { contractsInfo, usdtToContracts } from "../src/lib/contracts";

const BTC = { ctVal: "0.01", lotSz: "0.01", minSz: "0.01", tickSz: "0.1" };
const DOGE = { ctVal: "1000", lotSz: "1", minSz: "1", tickSz: "0.00001" };

describe("contract conversion", () => {
  it("turns USDT into contracts rounded down to the lot, exactly", () => {
    // 1000 / (90000 x 0.01) = 1.1111… -> 1.11 contracts = 0.0111 BTC = 999 USDT
    const c = usdtToContracts("1000", "90000", BTC, "10");
    expect(c).toMatchObject({ sz: "1.11", coin: "0.0111", notional: "999", margin: "99.9", belowMin: false, error: "" });
    // never more than asked, even one unit below a whole lot
    expect(usdtToContracts("899.99", "90000", BTC).sz).toBe("0.99");
    // a value a float gets wrong: 0.3 / (0.1 x 1) is 3 contracts, not 2.9999…
    expect(usdtToContracts("0.3", "0.1", { ctVal: "1", lotSz: "1", minSz: "1", tickSz: "0.1" }).sz).toBe("3");
  });

  it("says when the size is under minSz and when input is bad", () => {
    expect(usdtToContracts("100", "0.18", DOGE)).toMatchObject({ sz: "0", belowMin: true });
    expect(usdtToContracts("abc", "90000", BTC).error).toMatch(/not a number/);
    expect(usdtToContracts("-5", "90000", BTC).error).toMatch(/above 0/);
    expect(usdtToContracts("100", "", BTC).error).toMatch(/price/);
    expect(usdtToContracts("", "90000", BTC)).toMatchObject({ sz: "", error: "" });
  });

  it("checks a size in contracts against the lot and shows its value", () => {
    expect(contractsInfo("2.5", "90000.1", BTC)).toMatchObject({ sz: "2.5", coin: "0.025", notional: "2250.0025", belowMin: false, error: "" });
    expect(contractsInfo("0.015", "90000", BTC).error).toMatch(/lotSz 0.01/);
    expect(contractsInfo("0.001", "90000", { ...BTC, lotSz: "0.001" }).belowMin).toBe(true);
  });
});
