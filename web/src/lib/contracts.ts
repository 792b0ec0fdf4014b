// Contract conversion for OKX swaps, exact: one contract is ctVal units of
// ctValCcy (0.01 BTC for BTC-USDT-SWAP), so its value is ctVal x price USDT.
// A USDT amount becomes contracts rounded DOWN to lotSz (never more than asked,
// as the engine's sizing does), and must reach minSz.
import { cmp, div, mul, normalize, parseDec, toStep, toText, type Dec } from "./decimal";

export interface InstrumentSpec {
  ctVal: string;
  lotSz: string;
  minSz: string;
  tickSz: string;
}

export interface Conversion {
  /** contracts to send (a multiple of lotSz), as text */
  sz: string;
  /** ctVal x sz, in ctValCcy (the coin) */
  coin: string;
  /** ctVal x sz x price, USDT */
  notional: string;
  /** notional / leverage, USDT (empty when no leverage) */
  margin: string;
  /** the size is below minSz (or zero): nothing can be sent */
  belowMin: boolean;
  /** a reason the conversion cannot be made (bad input), else "" */
  error: string;
}

const EMPTY: Conversion = { sz: "", coin: "", notional: "", margin: "", belowMin: true, error: "" };

function positive(text: string, what: string): Dec | string {
  const d = parseDec(text);
  if (!d) return `${what} is not a number`;
  if (d.n <= 0n) return `${what} must be above 0`;
  return d;
}

function describe(sz: Dec, spec: InstrumentSpec, px: Dec, lever: string): Conversion {
  const ctVal = parseDec(spec.ctVal);
  const minSz = parseDec(spec.minSz);
  if (!ctVal || !minSz) return { ...EMPTY, error: "instrument has no ctVal/minSz" };
  const coin = normalize(mul(sz, ctVal));
  const notional = normalize(mul(coin, px));
  const lv = parseDec(lever);
  const margin = lv && lv.n > 0n ? toText(normalize(div(notional, lv, 8, "up"))) : "";
  return {
    sz: toText(normalize(sz)),
    coin: toText(coin),
    notional: toText(notional),
    margin,
    belowMin: sz.n <= 0n || cmp(sz, minSz) < 0,
    error: "",
  };
}

/** `usdt` of notional at `px` as contracts, rounded down to lotSz. */
export function usdtToContracts(usdt: string, px: string, spec: InstrumentSpec, lever = ""): Conversion {
  if (usdt.trim() === "") return EMPTY;
  const u = positive(usdt, "amount");
  if (typeof u === "string") return { ...EMPTY, error: u };
  const p = positive(px, "price");
  if (typeof p === "string") return { ...EMPTY, error: p };
  const ctVal = parseDec(spec.ctVal);
  const lot = parseDec(spec.lotSz);
  if (!ctVal || ctVal.n <= 0n || !lot || lot.n <= 0n) return { ...EMPTY, error: "instrument has no ctVal/lotSz" };
  // contracts = usdt / (px x ctVal); a few extra decimals past lotSz so the
  // rounding down to the lot is exact.
  const raw = div(u, mul(p, ctVal), lot.s + 4, "down");
  const sz = toStep(raw, lot, "down");
  return describe(sz, spec, p, lever);
}

/** A size typed in contracts: checked against lotSz/minSz and described. */
export function contractsInfo(sz: string, px: string, spec: InstrumentSpec, lever = ""): Conversion {
  if (sz.trim() === "") return EMPTY;
  const s = positive(sz, "size");
  if (typeof s === "string") return { ...EMPTY, error: s };
  const p = positive(px, "price");
  if (typeof p === "string") return { ...EMPTY, error: p };
  const lot = parseDec(spec.lotSz);
  if (!lot || lot.n <= 0n) return { ...EMPTY, error: "instrument has no lotSz" };
  if (cmp(toStep(s, lot, "down"), s) !== 0) {
    return { ...describe(s, spec, p, lever), error: `size must be a multiple of lotSz ${spec.lotSz}` };
  }
  return describe(s, spec, p, lever);
}
