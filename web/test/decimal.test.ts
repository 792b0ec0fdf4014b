import { describe, expect, it } from "vitest";
import { add, cmp, dec, div, mul, parseDec, round, sub, toStep, toText, normalize } from "../src/lib/decimal";

const t = (x: ReturnType<typeof dec>) => toText(normalize(x));

describe("decimal", () => {
  it("parses what the API sends and refuses the rest", () => {
    expect(t(dec("90123.40"))).toBe("90123.4");
    expect(t(dec("-0.5"))).toBe("-0.5");
    expect(t(dec(".25"))).toBe("0.25");
    expect(t(dec("1e-5"))).toBe("0.00001");
    expect(t(dec("2.5E3"))).toBe("2500");
    for (const bad of ["", "abc", "1.2.3", "NaN", "--1", "1e", "."]) expect(parseDec(bad)).toBeNull();
  });

  it("adds, subtracts and multiplies exactly (0.1 + 0.2 is 0.3)", () => {
    expect(t(add(dec("0.1"), dec("0.2")))).toBe("0.3");
    expect(t(sub(dec("90000.1"), dec("0.1")))).toBe("90000");
    expect(t(mul(dec("0.01"), dec("90000.1")))).toBe("900.001");
    expect(cmp(dec("1.10"), dec("1.1"))).toBe(0);
    expect(cmp(dec("-2"), dec("1"))).toBe(-1);
  });

  it("divides with the rounding asked for", () => {
    expect(toText(div(dec("1"), dec("3"), 4, "down"))).toBe("0.3333");
    expect(toText(div(dec("2"), dec("3"), 4, "half-up"))).toBe("0.6667");
    expect(toText(div(dec("1"), dec("3"), 4, "up"))).toBe("0.3334");
    expect(toText(div(dec("-1"), dec("3"), 2, "floor"))).toBe("-0.34");
    expect(toText(div(dec("-1"), dec("3"), 2, "down"))).toBe("-0.33");
    expect(() => div(dec("1"), dec("0"), 2)).toThrow();
  });

  it("rounds to a step (lot or tick)", () => {
    expect(t(toStep(dec("1.119"), dec("0.01"), "down"))).toBe("1.11");
    expect(t(toStep(dec("90000.06"), dec("0.1"), "half-up"))).toBe("90000.1");
    expect(t(toStep(dec("90000.04"), dec("0.1"), "half-up"))).toBe("90000");
    expect(t(toStep(dec("7"), dec("5"), "down"))).toBe("5");
    expect(t(toStep(dec("0.123456"), dec("0.00001"), "half-up"))).toBe("0.12346");
    expect(toText(round(dec("2.345"), 2))).toBe("2.35");
    expect(toText(round(dec("-2.345"), 2))).toBe("-2.35");
  });
});
