// Protocol test: ccxt's stock `okx` / `okx.pro` classes against tools/okx-sim.
//
// The only configuration applied to ccxt is the base URL (urls.api.rest and
// urls.api.ws) -- everything else is ccxt's default behaviour, so a failure
// here means okx-sim does not speak OKX v5 the way ccxt expects it to.
//
// Run: OKX_SIM=/path/to/okx-sim node --test tests/ccxt/okx_sim.test.mjs
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import ccxt from 'ccxt';

const { Precise } = ccxt;
const SYM = 'BTC/USDT:USDT';
const INST = 'BTC-USDT-SWAP';

const ACCOUNTS = {
    hedge: { apiKey: 'k1', secretKey: 's1', passphrase: 'p1', demo: false, posMode: 'long_short_mode', balances: { USDT: '10000' } },
    net: { apiKey: 'k2', secretKey: 's2', passphrase: 'p2', demo: false, posMode: 'net_mode', balances: { USDT: '10000' } },
    demo: { apiKey: 'k3', secretKey: 's3', passphrase: 'p3', demo: true, posMode: 'net_mode', balances: { USDT: '10000' } },
};

let sim;          // child process
let simLog = '';  // its stdout+stderr, for diagnostics
let BASE;         // http://127.0.0.1:PORT
let WS;           // ws://127.0.0.1:PORT/ws/v5
let tmpDir;
const clients = [];

// ------------------------------------------------------------------ helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function creds (acct) {
    const a = ACCOUNTS[acct];
    return { apiKey: a.apiKey, secret: a.secretKey, password: a.passphrase };
}

// The one allowed configuration: point ccxt at okx-sim.
function pointAt (ex) {
    ex.urls['api'] = Object.assign({}, ex.urls['api'], { rest: BASE, ws: WS });
    return ex;
}

function rest (acct, config = {}) {
    const ex = pointAt(new ccxt.okx(Object.assign(acct ? creds(acct) : {}, config)));
    clients.push(ex);
    return ex;
}

// ccxt.pro under Node refuses plain ws:// URLs until it has an http.Agent
// (NotSupported "to use proxy with non-ssl ws:// urls ... loadHttpProxyAgent");
// that is the client-side half of pointing it at a non-TLS base URL.
async function pro (acct, config = {}) {
    const ex = pointAt(new ccxt.pro.okx(Object.assign(acct ? creds(acct) : {}, config)));
    clients.push(ex);
    await ex.loadHttpProxyAgent();
    await ex.loadMarkets(); // watchTicker() looks the symbol up before loading markets
    return ex;
}

async function simControl (what, body) {
    const r = await fetch(BASE + '/sim/' + what, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
    });
    const j = await r.json();
    assert.equal(j.code, '0', `/sim/${what} ${JSON.stringify(body)} -> ${JSON.stringify(j)}`);
    return j;
}

// Poll fn() until pred(result) holds (fills and triggers are allowed to take
// a tick on a real exchange too).
async function waitFor (fn, pred, what, timeoutMs = 4000) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
        last = await fn();
        if (pred(last)) {
            return last;
        }
        if (Date.now() > deadline) {
            assert.fail(`timed out waiting for ${what}; last value: ${JSON.stringify(last, null, 1).slice(0, 2000)}`);
        }
        await sleep(150);
    }
}

async function withTimeout (promise, ms, what) {
    let timer;
    const t = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out (${ms} ms) waiting for ${what}`)), ms); });
    try {
        return await Promise.race([promise, t]);
    } finally {
        clearTimeout(timer);
    }
}

function openPositions (positions, symbol = SYM) {
    return positions.filter((p) => p.symbol === symbol && p.contracts > 0);
}

function near (a, b, rel) {
    return Math.abs(a - b) <= Math.abs(b) * rel;
}

// Expect an exchange error of class cls whose message carries OKX code.
async function rejectsWith (promise, cls, code) {
    await assert.rejects(promise, (e) => {
        assert.ok(e instanceof cls, `expected ${cls.name}, got ${e.constructor.name}: ${e.message}`);
        assert.ok(e.message.includes(code), `expected OKX code ${code} in: ${e.message}`);
        return true;
    });
}

function sortedBids (ob) {
    for (let i = 1; i < ob.bids.length; i++) {
        if (!(ob.bids[i - 1][0] > ob.bids[i][0])) return false;
    }
    return true;
}

function sortedAsks (ob) {
    for (let i = 1; i < ob.asks.length; i++) {
        if (!(ob.asks[i - 1][0] < ob.asks[i][0])) return false;
    }
    return true;
}

function checkBook (ob) {
    assert.ok(ob.bids.length > 0 && ob.asks.length > 0, 'book has both sides');
    assert.ok(sortedBids(ob), 'bids strictly descending');
    assert.ok(sortedAsks(ob), 'asks strictly ascending');
    assert.ok(ob.bids[0][0] < ob.asks[0][0], `best bid ${ob.bids[0][0]} < best ask ${ob.asks[0][0]}`);
    for (const [px, sz] of [...ob.bids, ...ob.asks]) {
        assert.ok(px > 0 && sz > 0, `level ${px} x ${sz}`);
    }
}

// OKX books checksum: CRC32 (signed) of "bidPx:bidSz:askPx:askSz:..." over the
// top 25 levels, from the exchange's own strings.
function okxChecksum (bids, asks) {
    const parts = [];
    for (let i = 0; i < 25; i++) {
        if (i < bids.length) parts.push(bids[i][0], bids[i][1]);
        if (i < asks.length) parts.push(asks[i][0], asks[i][1]);
    }
    return zlib.crc32(Buffer.from(parts.join(':'))) | 0;
}

// A string-exact replica of a books channel, fed with the raw messages.
class RawBook {
    constructor () { this.bids = new Map(); this.asks = new Map(); this.checked = 0; this.errors = []; }
    apply (side, levels) {
        for (const [px, sz] of levels) {
            if (Precise.stringEq(sz, '0')) side.delete(px); else side.set(px, sz);
        }
    }
    sorted (side, desc) {
        return [...side.entries()].sort((a, b) => (desc ? -1 : 1) * (Number(a[0]) - Number(b[0])));
    }
    feed (msg) {
        if (msg.action === 'snapshot') { this.bids.clear(); this.asks.clear(); }
        for (const d of msg.data || []) {
            this.apply(this.bids, d.bids || []);
            this.apply(this.asks, d.asks || []);
            if (d.checksum !== undefined) {
                const want = okxChecksum(this.sorted(this.bids, true), this.sorted(this.asks, false));
                this.checked++;
                if (want !== Number(d.checksum)) {
                    this.errors.push(`seqId ${d.seqId}: checksum ${d.checksum}, computed ${want}`);
                }
            }
        }
    }
}

// node:test's test(), remembering whether anything failed (to dump okx-sim's log).
let failed = false;
function test (name, opts, fn) {
    return nodeTest(name, opts, async (t) => {
        try {
            return await fn(t);
        } catch (e) {
            failed = true;
            throw e;
        }
    });
}

// ------------------------------------------------------------------ okx-sim

// Never leave an okx-sim behind, whatever ends this process.
function killSim () {
    if (sim && sim.exitCode === null && sim.signalCode === null) {
        try { sim.kill('SIGKILL'); } catch (e) { /* gone */ }
    }
}
process.on('exit', killSim);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => { killSim(); process.exit(128 + os.constants.signals[sig]); });
}

before(async () => {
    const bin = process.env.OKX_SIM;
    assert.ok(bin, 'set OKX_SIM to the okx-sim binary');
    assert.ok(fs.existsSync(bin), `okx-sim binary not found: ${bin}`);
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'okx-ccxt-'));
    const accountsFile = path.join(tmpDir, 'accounts.json');
    fs.writeFileSync(accountsFile, JSON.stringify(Object.values(ACCOUNTS), null, 2));
    sim = spawn(bin, ['--host', '127.0.0.1', '--port', '0', '--seed', '7', '--accounts', accountsFile],
        { stdio: ['ignore', 'pipe', 'pipe'] });
    sim.stderr.on('data', (d) => { simLog += d; });
    // If this process is SIGKILLed (runner crash, ctest timeout) its exit
    // handlers do not run: a detached watchdog then ends okx-sim.
    spawn(process.execPath, ['-e', `
        const [parent, child] = process.argv.slice(1).map(Number);
        const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return false; } };
        const timer = setInterval(() => {
            if (!alive(child)) process.exit(0);
            if (!alive(parent)) { try { process.kill(child, 'SIGKILL'); } catch (e) {} process.exit(0); }
        }, 500);
    `, String(process.pid), String(sim.pid)], { detached: true, stdio: 'ignore' }).unref();
    BASE = await new Promise((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error('okx-sim did not print its listening line in 10 s:\n' + simLog)), 10000);
        sim.on('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`okx-sim exited early (${code ?? sig}):\n${simLog}`)); });
        sim.stdout.on('data', (d) => {
            out += d;
            simLog += d;
            const m = out.match(/okx-sim listening on (http:\/\/[^\s]+)/);
            if (m) {
                clearTimeout(timer);
                resolve(m[1].replace(/\/$/, ''));
            }
        });
    });
    sim.removeAllListeners('exit');
    WS = BASE.replace(/^http/, 'ws') + '/ws/v5';
});

after(async () => {
    for (const ex of clients) {
        if (typeof ex.close === 'function') {
            try { await ex.close(); } catch (e) { /* already closed */ }
        }
    }
    if (sim && sim.exitCode === null) {
        const gone = new Promise((r) => sim.once('exit', r));
        sim.kill('SIGTERM');
        await Promise.race([gone, sleep(3000)]);
        if (sim.exitCode === null) sim.kill('SIGKILL');
    }
    if (failed || process.env.OKX_SIM_LOG) {
        process.stderr.write('---- okx-sim output ----\n' + simLog + '\n---- end of okx-sim output ----\n');
    }
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

// Shared across tests (they run in file order).
const pub = { ex: undefined };
const A = { ex: undefined }; // hedge (long_short_mode) live account
const B = { ex: undefined }; // net_mode live account
const T = { timeout: 20000 };

// ------------------------------------------------------------------ public REST

test('loadMarkets: the five USDT swaps with contract specs', T, async () => {
    pub.ex = rest(undefined);
    const markets = await pub.ex.loadMarkets();
    for (const base of ['BTC', 'ETH', 'SOL', 'DOGE', 'XRP']) {
        const m = markets[`${base}/USDT:USDT`];
        assert.ok(m, `${base}/USDT:USDT listed`);
        assert.equal(m.id, `${base}-USDT-SWAP`);
        assert.equal(m.type, 'swap');
        assert.equal(m.swap, true);
        assert.equal(m.linear, true);
        assert.equal(m.settle, 'USDT');
        assert.equal(m.active, true, `${m.id} state live`);
    }
    const btc = markets[SYM];
    assert.equal(btc.contractSize, 0.01);
    assert.equal(btc.precision.price, 0.1);
    assert.equal(btc.precision.amount, 0.01);
    assert.equal(btc.limits.amount.min, 0.01);
    assert.ok(btc.limits.leverage.max >= 5, `max leverage ${btc.limits.leverage.max}`);
});

test('loadMarkets with credentials (signed GET /asset/currencies)', T, async () => {
    A.ex = rest('hedge');
    B.ex = rest('net');
    await A.ex.loadMarkets();
    await B.ex.loadMarkets();
    assert.ok(A.ex.markets[SYM]);
    assert.ok(A.ex.currencies['USDT'], 'USDT currency known');
});

test('fetchTicker / fetchTickers', T, async () => {
    const t = await pub.ex.fetchTicker(SYM);
    assert.equal(t.symbol, SYM);
    assert.ok(t.last > 0, `last ${t.last}`);
    assert.ok(t.bid > 0 && t.ask > 0 && t.bid < t.ask, `bid ${t.bid} < ask ${t.ask}`);
    assert.ok(t.bid <= t.last * 1.01 && t.ask >= t.last * 0.99, 'bid/ask around last');
    assert.ok(Math.abs(Date.now() - t.timestamp) < 60000, `ticker ts ${t.timestamp} is recent`);
    const ts = await pub.ex.fetchTickers([SYM, 'ETH/USDT:USDT']);
    assert.deepEqual(Object.keys(ts).sort(), ['BTC/USDT:USDT', 'ETH/USDT:USDT']);
    assert.ok(ts['ETH/USDT:USDT'].last > 0);
    assert.ok(near(ts[SYM].last, t.last, 0.05));
});

test('fetchOrderBook: sorted sides, bid < ask', T, async () => {
    const ob = await pub.ex.fetchOrderBook(SYM);
    assert.equal(ob.symbol, SYM);
    checkBook(ob);
    const ob5 = await pub.ex.fetchOrderBook(SYM, 5);
    assert.ok(ob5.bids.length <= 5 && ob5.asks.length <= 5, 'sz=5 honoured');
    checkBook(ob5);
});

// ------------------------------------------------------------------ account set-up

test('fetchBalance: 10000 USDT before trading', T, async () => {
    for (const ex of [A.ex, B.ex]) {
        const b = await ex.fetchBalance();
        assert.equal(b.USDT.total, 10000);
        assert.equal(b.USDT.free, 10000);
    }
});

test('setPositionMode / fetchPositionMode', T, async () => {
    const r = await A.ex.setPositionMode(true);
    assert.equal(r.code, '0');
    assert.equal(r.data[0].posMode, 'long_short_mode');
    await B.ex.setPositionMode(false);
    assert.equal((await A.ex.fetchPositionMode(SYM)).hedged, true);
    assert.equal((await B.ex.fetchPositionMode(SYM)).hedged, false);
});

test('setLeverage 5 (cross)', T, async () => {
    for (const ex of [A.ex, B.ex]) {
        const r = await ex.setLeverage(5, SYM);
        assert.equal(r.code, '0');
        assert.equal(r.data[0].lever, '5');
        assert.equal(r.data[0].instId, INST);
        assert.equal(r.data[0].mgnMode, 'cross');
    }
});

// ------------------------------------------------------------------ trading

test('hedge mode: market long 1, closePosition, balance moves by fills', T, async () => {
    const ex = A.ex;
    const before = await ex.fetchBalance();
    const t = await ex.fetchTicker(SYM);
    const o = await ex.createOrder(SYM, 'market', 'buy', 1, undefined, { hedged: true });
    assert.ok(o.id, 'order id returned');
    assert.ok(o.clientOrderId && o.clientOrderId.length <= 32, `clOrdId echoed: ${o.clientOrderId}`);
    const filled = await waitFor(() => ex.fetchOrder(o.id, SYM), (x) => x.status === 'closed', 'market order filled');
    assert.equal(filled.filled, 1);
    assert.equal(filled.amount, 1);
    assert.equal(filled.side, 'buy');
    assert.equal(filled.info.posSide, 'long');
    assert.ok(filled.average > 0);
    const pos = openPositions(await waitFor(() => ex.fetchPositions([SYM]), (ps) => openPositions(ps).length === 1, 'long position'));
    assert.equal(pos.length, 1);
    const p = pos[0];
    assert.equal(p.side, 'long');
    assert.equal(p.hedged, true);
    assert.equal(p.contracts, 1);
    assert.equal(p.contractSize, 0.01);
    assert.equal(p.marginMode, 'cross');
    assert.equal(p.leverage, 5);
    assert.ok(near(p.entryPrice, t.last, 0.005), `entry ${p.entryPrice} near last ${t.last}`);
    assert.ok(near(p.entryPrice, filled.average, 1e-9), 'entry = fill average');

    const c = await ex.closePosition(SYM, 'long');
    assert.ok(c.clientOrderId !== undefined || c.info !== undefined);
    await waitFor(() => ex.fetchPositions([SYM]), (ps) => openPositions(ps).length === 0, 'position closed');

    // Exact arithmetic from the fills: cash flow of each fill is
    // (sell ? +1 : -1) x fillPx x fillSz x ctVal, plus its (negative) fee.
    const fills = await ex.fetchMyTrades(SYM);
    assert.equal(fills.length, 2, `two fills: ${JSON.stringify(fills.map((f) => f.info))}`);
    let flow = '0';
    let feeSum = '0';
    for (const f of fills) {
        assert.equal(f.symbol, SYM);
        assert.ok(f.id && f.order, 'trade id and order id');
        assert.equal(f.amount, 1);
        assert.equal(f.fee.currency, 'USDT');
        assert.ok(Precise.stringLt(f.info.fee, '0'), `fee charged (negative): ${f.info.fee}`);
        const notional = Precise.stringMul(Precise.stringMul(f.info.fillPx, f.info.fillSz), '0.01');
        flow = Precise.stringAdd(flow, f.side === 'sell' ? notional : Precise.stringNeg(notional));
        feeSum = Precise.stringAdd(feeSum, f.info.fee);
    }
    assert.deepEqual(fills.map((f) => f.side).sort(), ['buy', 'sell']);
    const after = await ex.fetchBalance();
    const want = Precise.stringAdd(Precise.stringAdd(String(before.USDT.total), flow), feeSum);
    const got = after.info.data[0].details.find((d) => d.ccy === 'USDT').eq;
    assert.ok(Precise.stringEq(got, want), `USDT eq ${got} = ${before.USDT.total} + pnl ${flow} + fees ${feeSum} = ${want}`);
    assert.equal(after.USDT.total, Number(got));
});

test('net mode: buy 2, sell 3 -> short 1, then close', T, async () => {
    const ex = B.ex;
    await ex.createOrder(SYM, 'market', 'buy', 2);
    let ps = openPositions(await waitFor(() => ex.fetchPositions([SYM]), (x) => openPositions(x).some((p) => p.contracts === 2), 'long 2'));
    assert.equal(ps.length, 1);
    assert.equal(ps[0].side, 'long');
    assert.equal(ps[0].hedged, false);
    assert.equal(ps[0].info.posSide, 'net');
    await ex.createOrder(SYM, 'market', 'sell', 3);
    ps = openPositions(await waitFor(() => ex.fetchPositions([SYM]), (x) => openPositions(x).some((p) => p.side === 'short'), 'short 1'));
    assert.equal(ps.length, 1);
    assert.equal(ps[0].side, 'short');
    assert.equal(ps[0].contracts, 1);
    assert.ok(Precise.stringEq(ps[0].info.pos, '-1'), `net pos ${ps[0].info.pos}`);
    await ex.createOrder(SYM, 'market', 'buy', 1, undefined, { reduceOnly: true });
    await waitFor(() => ex.fetchPositions([SYM]), (x) => openPositions(x).length === 0, 'flat');
});

test('limit order: open, amend, cancel', T, async () => {
    const ex = B.ex;
    const t = await ex.fetchTicker(SYM);
    const px = ex.priceToPrecision(SYM, t.last * 0.97);
    const o = await ex.createOrder(SYM, 'limit', 'buy', 1, Number(px));
    assert.ok(o.id);
    const open = await ex.fetchOpenOrders(SYM);
    const mine = open.find((x) => x.id === o.id);
    assert.ok(mine, `fetchOpenOrders lists ${o.id}: ${JSON.stringify(open.map((x) => x.id))}`);
    assert.equal(mine.status, 'open');
    assert.equal(mine.type, 'limit');
    assert.equal(mine.side, 'buy');
    assert.equal(mine.amount, 1);
    assert.equal(mine.filled, 0);
    assert.equal(mine.price, Number(px));
    assert.equal(mine.symbol, SYM);

    const newPx = ex.priceToPrecision(SYM, t.last * 0.975);
    const e = await ex.editOrder(o.id, SYM, 'limit', 'buy', undefined, Number(newPx));
    assert.equal(e.id, o.id);
    const amended = await waitFor(() => ex.fetchOrder(o.id, SYM), (x) => x.price === Number(newPx), 'amended price');
    assert.equal(amended.status, 'open');
    assert.equal(amended.amount, 1);

    const c = await ex.cancelOrder(o.id, SYM);
    assert.equal(c.id, o.id);
    const gone = await waitFor(() => ex.fetchOrder(o.id, SYM), (x) => x.status === 'canceled', 'canceled');
    assert.equal(gone.filled, 0);
    assert.ok(!(await ex.fetchOpenOrders(SYM)).some((x) => x.id === o.id), 'no longer open');
    const canceled = await ex.fetchCanceledOrders(SYM);
    assert.ok(canceled.some((x) => x.id === o.id && x.status === 'canceled'), 'fetchCanceledOrders lists it');
    const closed = await ex.fetchClosedOrders(SYM);
    assert.ok(closed.length >= 3, `the three filled market orders: ${closed.length}`);
    assert.ok(closed.every((x) => x.status === 'closed'), 'fetchClosedOrders (state=filled) has only filled orders');
    await rejectsWith(ex.cancelOrder(o.id, SYM), ccxt.OrderNotFound, '51400');
});

test('attached TP/SL: oco algo appears; price past SL closes the position', T, async () => {
    const ex = A.ex;
    const t = await ex.fetchTicker(SYM);
    const sl = Number(ex.priceToPrecision(SYM, t.last * 0.98));
    const tp = Number(ex.priceToPrecision(SYM, t.last * 1.02));
    const o = await ex.createOrder(SYM, 'market', 'buy', 1, undefined, {
        hedged: true,
        stopLoss: { triggerPrice: sl },
        takeProfit: { triggerPrice: tp },
    });
    await waitFor(() => ex.fetchPositions([SYM]), (x) => openPositions(x).length === 1, 'long opened');
    const parent = await ex.fetchOrder(o.id, SYM);
    const att = parent.info.attachAlgoOrds;
    assert.ok(Array.isArray(att) && att.length === 1, `parent carries attachAlgoOrds: ${JSON.stringify(att)}`);
    const algos = await waitFor(() => ex.fetchOpenOrders(SYM, undefined, undefined, { ordType: 'oco' }),
        (x) => x.length === 1, 'oco algo order pending');
    const algo = algos[0];
    assert.equal(algo.side, 'sell');
    assert.equal(algo.info.posSide, 'long');
    assert.equal(algo.stopLossPrice, sl);
    assert.equal(algo.takeProfitPrice, tp);
    assert.equal(algo.status, 'open');

    await simControl('price', { instId: INST, px: ex.priceToPrecision(SYM, sl * 0.99) });
    await waitFor(() => ex.fetchPositions([SYM]), (x) => openPositions(x).length === 0, 'SL closed the long');
    assert.equal((await ex.fetchOpenOrders(SYM, undefined, undefined, { ordType: 'oco' })).length, 0, 'oco consumed');
    // trigger: true routes to orders-algo-history with state=effective (with
    // ordType alone ccxt 4.5.84 overwrites state with "filled").
    const hist = await ex.fetchClosedOrders(SYM, undefined, undefined, { trigger: true, ordType: 'oco' });
    assert.ok(hist.some((x) => x.id === algo.id && x.status === 'closed'), `oco effective in algo history: ${JSON.stringify(hist.map((x) => x.info))}`);
    await simControl('price', { instId: INST, px: ex.priceToPrecision(SYM, t.last) });
});

// ------------------------------------------------------------------ errors

test('bad signature -> AuthenticationError 50113', T, async () => {
    const ex = rest('hedge', { secret: 'not-the-secret' });
    await rejectsWith(ex.fetchBalance(), ccxt.AuthenticationError, '50113');
});

test('expired timestamp -> InvalidNonce 50102', T, async () => {
    const ex = rest('hedge');
    ex.nonce = () => Date.now() - 60000; // a client clock one minute behind
    await rejectsWith(ex.fetchBalance(), ccxt.InvalidNonce, '50102');
});

test('size not a multiple of lotSz -> InvalidOrder 51121', T, async () => {
    const ex = B.ex;
    // ccxt truncates amounts to lotSz itself, so the odd size is passed as
    // the exchange-specific sz parameter, for batch-orders and for /trade/order.
    await rejectsWith(ex.createOrder(SYM, 'market', 'buy', 0.01, undefined, { sz: '0.001' }), ccxt.InvalidOrder, '51121');
    await rejectsWith(ex.privatePostTradeOrder({ instId: INST, tdMode: 'cross', side: 'buy', ordType: 'market', sz: '0.015' }),
        ccxt.InvalidOrder, '51121');
    await assert.rejects(ex.createOrder(SYM, 'market', 'buy', 0.001), ccxt.InvalidOrder); // ccxt's own check
});

test('demo/live mismatch -> 50101', T, async () => {
    const live = new ccxt.okx(creds('hedge'));
    live.setSandboxMode(true); // sends x-simulated-trading: 1
    pointAt(live);
    clients.push(live);
    await rejectsWith(live.fetchBalance(), ccxt.AuthenticationError, '50101');

    const demoAsLive = rest('demo');
    await rejectsWith(demoAsLive.fetchBalance(), ccxt.AuthenticationError, '50101');

    const demo = new ccxt.okx(creds('demo'));
    demo.setSandboxMode(true);
    pointAt(demo);
    clients.push(demo);
    const b = await demo.fetchBalance();
    assert.equal(b.USDT.total, 10000);
});

// ------------------------------------------------------------------ WebSocket

test('ws watchOrderBook: snapshot + updates, seqId chain and checksum hold', T, async () => {
    const ex = await pro(undefined);
    const raw = new RawBook();
    const handle = ex.handleMessage.bind(ex);
    ex.handleMessage = (client, message) => {
        if (message && message.arg && message.arg.channel === 'books' && message.action) raw.feed(message);
        return handle(client, message);
    };
    let nonce;
    let updates = 0;
    for (let i = 0; i < 6; i++) {
        const ob = await withTimeout(ex.watchOrderBook(SYM), 5000, `order book message ${i}`);
        assert.equal(ob.symbol, SYM);
        checkBook(ob);
        assert.ok(ob.nonce !== undefined, 'seqId tracked');
        if (nonce !== undefined && ob.nonce !== nonce) updates++;
        nonce = ob.nonce;
    }
    assert.ok(updates >= 3, `received ${updates} sequenced updates`);
    assert.ok(raw.checked >= 4, `checksums present (${raw.checked})`);
    assert.deepEqual(raw.errors, [], 'every checksum matches the book');
    // ccxt's book agrees with the raw replica at the top
    const ob = ex.orderbooks[SYM];
    const bestBid = raw.sorted(raw.bids, true)[0];
    assert.equal(ob.bids[0][0], Number(bestBid[0]));
});

test('ws watchTicker', T, async () => {
    const ex = await pro(undefined);
    const t1 = await withTimeout(ex.watchTicker(SYM), 5000, 'ticker');
    assert.equal(t1.symbol, SYM);
    assert.ok(t1.last > 0 && t1.bid > 0 && t1.ask > 0 && t1.bid < t1.ask);
    const t2 = await withTimeout(ex.watchTicker(SYM), 5000, 'second ticker');
    assert.ok(t2.timestamp >= t1.timestamp);
    // OKX's text keep-alive: "ping" -> "pong"
    const client = ex.clients[WS + '/public'];
    assert.ok(client, 'public ws client');
    const before = client.lastPong || 0;
    await client.send('ping');
    await waitFor(async () => client.lastPong || 0, (lp) => lp > before, 'pong', 3000);
});

test('ws watchOrders: login + orders channel sees another client\'s order', T, async () => {
    const ws = await pro('net');
    const ex = B.ex;
    const t = await ex.fetchTicker(SYM);
    // Place the order only once OKX has acknowledged the subscription
    // ({"event":"subscribe","arg":{"channel":"orders",...}}), after login.
    let subscribed;
    const acked = new Promise((r) => { subscribed = r; });
    const events = [];
    const handle = ws.handleMessage.bind(ws);
    ws.handleMessage = (client, message) => {
        if (message && message.event) {
            events.push(message.event);
            if (message.event === 'subscribe' && message.arg && message.arg.channel === 'orders') subscribed(message.arg);
        }
        return handle(client, message);
    };
    const first = ws.watchOrders(SYM);
    first.catch(() => {}); // surfaced below
    const arg = await withTimeout(acked, 5000, 'login + orders subscribe ack');
    assert.deepEqual(events.slice(0, 2), ['login', 'subscribe'], 'login answered before the subscription');
    assert.equal(arg.instId, INST);
    assert.equal(arg.instType, 'SWAP');
    const px = Number(ex.priceToPrecision(SYM, t.last * 0.96));
    const o = await ex.createOrder(SYM, 'limit', 'buy', 1, px);
    let orders = await withTimeout(first, 5000, 'orders push for the new order');
    let mine = orders.find((x) => x.id === o.id);
    assert.ok(mine, `push carries ${o.id}: ${JSON.stringify(orders.map((x) => x.id))}`);
    assert.equal(mine.symbol, SYM);
    assert.equal(mine.status, 'open');
    assert.equal(mine.price, px);
    assert.equal(mine.amount, 1);
    assert.equal(mine.clientOrderId, o.clientOrderId);
    const next = ws.watchOrders(SYM);
    await ex.cancelOrder(o.id, SYM);
    orders = await withTimeout(next, 5000, 'orders push for the cancel');
    mine = orders.find((x) => x.id === o.id && x.status === 'canceled');
    assert.ok(mine, `cancel pushed: ${JSON.stringify(orders.map((x) => [x.id, x.status]))}`);
});

test('ws demo trading: sandbox URLs (?brokerId=9999), login, orders push', T, async () => {
    const ws = new ccxt.pro.okx(creds('demo'));
    ws.setSandboxMode(true);
    pointAt(ws);
    clients.push(ws);
    await ws.loadHttpProxyAgent();
    await ws.loadMarkets();
    const t = await withTimeout(ws.watchTicker(SYM), 5000, 'demo ticker');
    assert.ok(t.last > 0);
    assert.ok(ws.clients[WS + '/public?brokerId=9999'], 'ccxt used the demo public URL');
    const rest = new ccxt.okx(creds('demo'));
    rest.setSandboxMode(true);
    pointAt(rest);
    clients.push(rest);
    await rest.loadMarkets();
    let subscribed;
    const acked = new Promise((r) => { subscribed = r; });
    const handle = ws.handleMessage.bind(ws);
    ws.handleMessage = (client, message) => {
        if (message && message.event === 'subscribe' && message.arg && message.arg.channel === 'orders') subscribed();
        return handle(client, message);
    };
    const pushed = ws.watchOrders(SYM);
    pushed.catch(() => {});
    await withTimeout(acked, 5000, 'demo login + orders subscribe ack');
    const o = await rest.createOrder(SYM, 'limit', 'buy', 1, Number(rest.priceToPrecision(SYM, t.last * 0.97)));
    const orders = await withTimeout(pushed, 5000, 'demo orders push');
    assert.ok(orders.some((x) => x.id === o.id && x.status === 'open'), 'demo order pushed');
    await rest.cancelOrder(o.id, SYM);
});
