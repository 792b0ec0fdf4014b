// ta_peer: the peer of bench/ta_bench.c. Computes the same indicator set on
// the same candles with technicalindicators 3.1.0, the way a user would:
//   (a) batch: XXX.calculate({...}) over the whole arrays;
//   (b) streaming: one indicator object per series, nextValue() bar by bar.
// The set: EMA 12 and 26, RSI 14, MACD 12/26/9 (EMA oscillator and signal, as
// TA-Lib), BollingerBands 20/2, ATR 14, plus the two members of lib/ta's
// standard set the package lacks, in plain JS with O(1) rolling sums:
// realized volatility 14 (sqrt of the sum of squared log returns) and the
// volume ratio 20 (volume / mean of the 20 previous volumes).
//
// CSV parsing is not timed. Each API gets a JIT warm-up pass, then 3
// measurements of enough passes to last >= 1 s; the best is kept, and the
// faster API is reported as the peer.
// usage: node bench/ta-peer/ta_peer.mjs CANDLES.csv
// prints: ta_peer_batch_bars_per_s, ta_peer_stream_bars_per_s,
//         ta_peer_bars_per_s N, ta_peer_api batch|stream, ta_peer_last ...
import { readFileSync } from 'node:fs';
import { ATR, BollingerBands, EMA, MACD, RSI } from 'technicalindicators';

const file = process.argv[2];
if (!file) {
    console.error('usage: node ta_peer.mjs CANDLES.csv');
    process.exit(2);
}

// ---- load (same columns lib/ta's reader uses: ts, open, high, low, close, volume)
const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
const header = lines[0].split(',').map((h) => h.replace(/"/g, '').trim().toLowerCase());
const col = (name) => header.indexOf(name);
const [io, ih, il, ic, iv] = ['open', 'high', 'low', 'close', 'volume'].map(col);
if (col('ts') < 0 || io < 0 || ih < 0 || il < 0 || ic < 0) {
    console.error(`${file}: header needs ts, open, high, low, close`);
    process.exit(1);
}
const open = [], high = [], low = [], close = [], volume = [];
for (let i = 1; i < lines.length; i++) {
    const f = lines[i].split(',');
    open.push(+f[io]);
    high.push(+f[ih]);
    low.push(+f[il]);
    close.push(+f[ic]);
    volume.push(iv >= 0 ? +f[iv] : 0);
}
const n = close.length;

// ---- the plain-JS members (streaming objects; batch helpers loop over them)
class RealizedVol {
    constructor(period) {
        this.n = period;
        this.buf = new Float64Array(period);
        this.pos = 0;
        this.count = 0;
        this.sum = 0;
        this.prev = undefined;
    }
    nextValue(c) {
        const prev = this.prev;
        this.prev = c;
        if (prev === undefined) return undefined;
        const r = Math.log(c / prev);
        const r2 = r * r;
        this.sum += r2 - this.buf[this.pos];
        this.buf[this.pos] = r2;
        this.pos = (this.pos + 1) % this.n;
        if (this.count < this.n) this.count++;
        return this.count === this.n ? Math.sqrt(Math.max(this.sum, 0)) : undefined;
    }
}
class VolumeRatio {
    constructor(period) {
        this.n = period;
        this.buf = new Float64Array(period);
        this.pos = 0;
        this.count = 0;
        this.sum = 0;
    }
    nextValue(v) {
        const mean = this.sum / this.n;
        const out = this.count === this.n && mean > 0 ? v / mean : undefined;
        this.sum += v - this.buf[this.pos];
        this.buf[this.pos] = v;
        this.pos = (this.pos + 1) % this.n;
        if (this.count < this.n) this.count++;
        return out;
    }
}
function realizedVolBatch(values, period) {
    const rv = new RealizedVol(period), out = [];
    for (let i = 0; i < values.length; i++) {
        const x = rv.nextValue(values[i]);
        if (x !== undefined) out.push(x);
    }
    return out;
}
function volumeRatioBatch(values, period) {
    const vr = new VolumeRatio(period), out = [];
    for (let i = 0; i < values.length; i++) {
        const x = vr.nextValue(values[i]);
        if (x !== undefined) out.push(x);
    }
    return out;
}

// ---- (a) batch API
function batch() {
    const r = {
        ema12: EMA.calculate({ period: 12, values: close }),
        ema26: EMA.calculate({ period: 26, values: close }),
        rsi14: RSI.calculate({ period: 14, values: close }),
        macd: MACD.calculate({
            values: close, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9,
            SimpleMAOscillator: false, SimpleMASignal: false,
        }),
        bb: BollingerBands.calculate({ period: 20, stdDev: 2, values: close }),
        atr14: ATR.calculate({ period: 14, high, low, close }),
        rv14: realizedVolBatch(close, 14),
        vr20: volumeRatioBatch(volume, 20),
    };
    const last = (a) => a[a.length - 1];
    const m = last(r.macd), b = last(r.bb);
    return {
        ema12: last(r.ema12), ema26: last(r.ema26), rsi14: last(r.rsi14),
        macd: m.MACD, signal: m.signal, hist: m.histogram,
        bb_upper: b.upper, bb_mid: b.middle, bb_lower: b.lower,
        atr14: last(r.atr14), rv14: last(r.rv14), volratio20: last(r.vr20),
    };
}

// ---- (b) streaming API, bar by bar
function stream() {
    const ema12 = new EMA({ period: 12, values: [] });
    const ema26 = new EMA({ period: 26, values: [] });
    const rsi14 = new RSI({ period: 14, values: [] });
    const macd = new MACD({
        values: [], fastPeriod: 12, slowPeriod: 26, signalPeriod: 9,
        SimpleMAOscillator: false, SimpleMASignal: false,
    });
    const bb = new BollingerBands({ period: 20, stdDev: 2, values: [] });
    const atr14 = new ATR({ period: 14, high: [], low: [], close: [] });
    const rv14 = new RealizedVol(14);
    const vr20 = new VolumeRatio(20);
    let o;
    for (let i = 0; i < n; i++) {
        const c = close[i];
        o = {
            ema12: ema12.nextValue(c), ema26: ema26.nextValue(c), rsi14: rsi14.nextValue(c),
            macd: macd.nextValue(c), bb: bb.nextValue(c),
            atr14: atr14.nextValue({ high: high[i], low: low[i], close: c }),
            rv14: rv14.nextValue(c), vr20: vr20.nextValue(volume[i]),
        };
    }
    return {
        ema12: o.ema12, ema26: o.ema26, rsi14: o.rsi14,
        macd: o.macd?.MACD, signal: o.macd?.signal, hist: o.macd?.histogram,
        bb_upper: o.bb?.upper, bb_mid: o.bb?.middle, bb_lower: o.bb?.lower,
        atr14: o.atr14, rv14: o.rv14, volratio20: o.vr20,
    };
}

// ---- timing: warm-up, calibrate to >= 1 s per measurement, best of 3
const now = () => Number(process.hrtime.bigint()) / 1e9;
function measure(fn) {
    let last = fn(); // JIT warm-up pass
    let passes = 1;
    for (;;) {
        const t0 = now();
        for (let p = 0; p < passes; p++) last = fn();
        const dt = now() - t0;
        if (dt >= 0.1) {
            passes = Math.ceil((passes * 1.2) / dt);
            break;
        }
        passes *= 2;
    }
    let best = 0;
    for (let m = 0; m < 3; m++) {
        const t0 = now();
        for (let p = 0; p < passes; p++) last = fn();
        best = Math.max(best, (n * passes) / (now() - t0));
    }
    return { bps: best, passes, last };
}

const a = measure(batch);
const b = measure(stream);
const win = a.bps >= b.bps ? { api: 'batch', ...a } : { api: 'stream', ...b };
const fmt = (v) => (v === undefined ? 'undefined' : v.toFixed(6));
console.log(`ta_peer_bars ${n}`);
console.log(`ta_peer_batch_bars_per_s ${Math.round(a.bps)} (passes ${a.passes})`);
console.log(`ta_peer_stream_bars_per_s ${Math.round(b.bps)} (passes ${b.passes})`);
console.log(`ta_peer_bars_per_s ${Math.round(win.bps)}`);
console.log(`ta_peer_api ${win.api}`);
console.log('ta_peer_last ' + Object.entries(win.last).map(([k, v]) => `${k}=${fmt(v)}`).join(' '));
