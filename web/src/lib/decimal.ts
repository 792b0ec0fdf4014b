// Exact decimals for prices, sizes and money. The API sends them as strings
// ("0.01", "90123.4"); the page computes conversions (USDT -> contracts,
// tick rounding) on scaled BigInts so nothing passes through a float.
// Floats are used only to draw charts.

export interface Dec {
  /** value = n / 10^s */
  readonly n: bigint;
  readonly s: number;
}

export type Rounding = "down" | "up" | "half-up" | "floor" | "ceil";

const DEC_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Parses "12", "-0.5", ".25", "1e-5"; null for anything else ("", "abc", "NaN"). */
export function parseDec(text: string | number | null | undefined): Dec | null {
  if (text === null || text === undefined) return null;
  const t = typeof text === "number" ? (Number.isFinite(text) ? String(text) : "") : text.trim();
  const m = DEC_RE.exec(t);
  if (!m) return null;
  const sign = m[1] ?? "";
  const ip = m[2] ?? "";
  const fp = m[3] ?? "";
  if (ip === "" && fp === "") return null;
  const exp = m[4] ? parseInt(m[4], 10) : 0;
  if (Math.abs(exp) > 400) return null;
  let n = BigInt((ip || "0") + fp);
  let s = fp.length - exp;
  if (s < 0) {
    n *= 10n ** BigInt(-s);
    s = 0;
  }
  if (sign === "-") n = -n;
  return { n, s };
}

/** parseDec that throws: for values the code itself made. */
export function dec(text: string | number): Dec {
  const d = parseDec(text);
  if (!d) throw new Error(`not a decimal: ${String(text)}`);
  return d;
}

function rescale(a: Dec, s: number): bigint {
  return s >= a.s ? a.n * 10n ** BigInt(s - a.s) : a.n / 10n ** BigInt(a.s - s);
}

export function add(a: Dec, b: Dec): Dec {
  const s = Math.max(a.s, b.s);
  return { n: rescale(a, s) + rescale(b, s), s };
}

export function sub(a: Dec, b: Dec): Dec {
  const s = Math.max(a.s, b.s);
  return { n: rescale(a, s) - rescale(b, s), s };
}

export function mul(a: Dec, b: Dec): Dec {
  return { n: a.n * b.n, s: a.s + b.s };
}

export function neg(a: Dec): Dec {
  return { n: -a.n, s: a.s };
}

export function abs(a: Dec): Dec {
  return a.n < 0n ? neg(a) : a;
}

export function cmp(a: Dec, b: Dec): number {
  const s = Math.max(a.s, b.s);
  const x = rescale(a, s);
  const y = rescale(b, s);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isZero(a: Dec): boolean {
  return a.n === 0n;
}

export function sign(a: Dec): -1 | 0 | 1 {
  return a.n < 0n ? -1 : a.n > 0n ? 1 : 0;
}

/** Integer division q = num/den with the given rounding (den != 0). */
function divRound(num: bigint, den: bigint, mode: Rounding): bigint {
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const q = num / den; // truncates toward zero
  const r = num % den;
  if (r === 0n) return q;
  const negative = num < 0n;
  switch (mode) {
    case "down":
      return q;
    case "up":
      return negative ? q - 1n : q + 1n;
    case "floor":
      return negative ? q - 1n : q;
    case "ceil":
      return negative ? q : q + 1n;
    case "half-up": {
      const twice = (r < 0n ? -r : r) * 2n;
      if (twice >= den) return negative ? q - 1n : q + 1n;
      return q;
    }
  }
}

/** a / b with `scale` decimals. Throws on a zero divisor. */
export function div(a: Dec, b: Dec, scale: number, mode: Rounding = "half-up"): Dec {
  if (b.n === 0n) throw new Error("division by zero");
  // a.n/10^a.s / (b.n/10^b.s) = a.n * 10^(b.s + scale - a.s) / b.n / 10^scale
  const shift = b.s + scale - a.s;
  let num = a.n;
  let den = b.n;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  return { n: divRound(num, den, mode), s: scale };
}

/** The value as a whole multiple of `step` (a lot or tick size), rounded by `mode`. */
export function toStep(a: Dec, step: Dec, mode: Rounding): Dec {
  if (step.n <= 0n) throw new Error("step must be positive");
  const s = Math.max(a.s, step.s);
  const k = divRound(rescale(a, s), rescale(step, s), mode);
  return normalize({ n: k * step.n, s: step.s });
}

/** Rounded to `dp` decimals (dp >= 0). */
export function round(a: Dec, dp: number, mode: Rounding = "half-up"): Dec {
  if (a.s <= dp) return { n: rescale(a, dp), s: dp };
  return { n: divRound(a.n, 10n ** BigInt(a.s - dp), mode), s: dp };
}

/** Trailing zeros of the fraction removed. */
export function normalize(a: Dec): Dec {
  let { n, s } = a;
  while (s > 0 && n % 10n === 0n) {
    n /= 10n;
    s -= 1;
  }
  return { n, s };
}

/** Plain text with exactly a.s decimals ("-0.50"); never exponent notation. */
export function toText(a: Dec): string {
  const negative = a.n < 0n;
  let digits = (negative ? -a.n : a.n).toString();
  if (a.s > 0) {
    digits = digits.padStart(a.s + 1, "0");
    digits = `${digits.slice(0, digits.length - a.s)}.${digits.slice(digits.length - a.s)}`;
  }
  return negative ? `-${digits}` : digits;
}

/** Number of decimals a step such as "0.001" or "5" carries (0.001 -> 3, 0.5 -> 1, 5 -> 0). */
export function decimalsOf(step: Dec): number {
  return normalize(step).s;
}

/** For charts only: the nearest double. */
export function toNumber(a: Dec): number {
  return Number(toText(a));
}
