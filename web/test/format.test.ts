import { describe, expect, it } from "vitest";
import { fmtMoney, fmtPx, fmtSigned, fmtSz, fmtTime, signClass, snapToTick } from "../src/lib/format";

describe("formatting", () => {
  it("shows prices on the instrument's tick", () => {
    expect(fmtPx("90000", "0.1")).toBe("90,000.0");
    expect(fmtPx("90000.06", "0.1")).toBe("90,000.1");
    expect(fmtPx("0.1812345", "0.00001")).toBe("0.18123");
    expect(fmtPx("3100.5", "0.01")).toBe("3,100.50");
    expect(fmtPx("123.456", "5")).toBe("125");
    expect(fmtPx(null, "0.1")).toBe("—");
    expect(snapToTick("90000.04", "0.1")).toBe("90000.0");
    expect(snapToTick("x", "0.1")).toBeNull();
  });

  it("signs PnL and colours it", () => {
    expect(fmtSigned("12.3")).toBe("+12.30");
    expect(fmtSigned("-1234.567")).toBe("-1,234.57");
    expect(fmtSigned("0")).toBe("0.00");
    expect(fmtSigned("-0.001")).toBe("0.00");
    expect(signClass("-0.01")).toBe("neg");
    expect(signClass("0.01")).toBe("pos");
    expect(signClass("0")).toBe("zero");
  });

  it("keeps sizes as sent and money grouped", () => {
    expect(fmtSz("1.1000")).toBe("1.1");
    expect(fmtSz("12345.5")).toBe("12,345.5");
    expect(fmtMoney("10000.155")).toBe("10,000.16");
    expect(fmtMoney("not")).toBe("—");
    expect(fmtTime(Date.UTC(2026, 0, 2, 3, 4, 5))).toBe("2026-01-02 03:04:05");
  });
});
