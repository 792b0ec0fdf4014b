// okx-sim's WebSocket protocol frame by frame, with a plain WebSocket client
// (the `ws` package): text ping/pong, subscribe/unsubscribe acks and OKX's
// error codes, books snapshot then updates chained by seqId, login errors,
// the trading ops and their answers, the idle close and the ws-drop fault.
//
// Run: OKX_SIM=/path/to/okx-sim node --test tests/ccxt/okx_sim_ws.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

const ACCT = { apiKey: 'wk', secretKey: 'ws-secret', passphrase: 'wp', demo: false,
    posMode: 'net_mode', balances: { USDT: '10000' } };
const procs = [];

// Start an okx-sim; resolves with its ws:// base once it prints its URL.
function startSim (extra = []) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'okxsim-ws-'));
    const accounts = path.join(dir, 'accounts.json');
    fs.writeFileSync(accounts, JSON.stringify([ACCT]));
    const p = spawn(process.env.OKX_SIM, ['--port', '0', '--seed', '11', '--quiet',
        '--accounts', accounts, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(p);
    return new Promise((resolve, reject) => {
        let out = '';
        p.stdout.on('data', (d) => {
            out += d;
            const m = out.match(/listening on http:\/\/([\d.]+:\d+)/);
            if (m) {
                resolve('ws://' + m[1] + '/ws/v5');
            }
        });
        p.on('exit', (code) => reject(new Error(`okx-sim exited ${code}: ${out}`)));
    });
}

// A connection that queues what it receives, so tests can await messages.
async function connect (url) {
    const ws = new WebSocket(url);
    const q = [];
    let wake = null;
    ws.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('message', (d) => { q.push(d.toString()); if (wake) { wake(); } });
    await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
    // next(pred): the first queued or future message matching pred.
    ws.next = async (pred = () => true, ms = 4000) => {
        const deadline = Date.now() + ms;
        for (;;) {
            const i = q.findIndex(pred);
            if (i >= 0) {
                return q.splice(i, 1)[0];
            }
            const left = deadline - Date.now();
            assert.ok(left > 0, 'timed out waiting for a message');
            await new Promise((r) => { wake = r; setTimeout(r, left); });
            wake = null;
        }
    };
    ws.json = async (pred = () => true, ms) => JSON.parse(await ws.next((t) => {
        try { return pred(JSON.parse(t)); } catch { return false; }
    }, ms));
    ws.sendJson = (o) => ws.send(JSON.stringify(o));
    return ws;
}

function loginArgs (secret = ACCT.secretKey, tsOff = 0) {
    const ts = String(Math.floor(Date.now() / 1000) + tsOff);
    const sign = crypto.createHmac('sha256', secret).update(ts + 'GET/users/self/verify').digest('base64');
    return [{ apiKey: ACCT.apiKey, passphrase: ACCT.passphrase, timestamp: ts, sign }];
}

let WS;
before(async () => { WS = await startSim(); });
after(() => { for (const p of procs) { p.kill('SIGTERM'); } });

test('text ping is answered with text pong', async () => {
    const ws = await connect(WS + '/public');
    ws.send('ping');
    assert.equal(await ws.next(), 'pong');
    ws.close();
});

test('subscribe acks echo id and arg; errors carry OKX codes', async () => {
    const ws = await connect(WS + '/public');
    ws.sendJson({ id: 'a1', op: 'subscribe', args: [{ channel: 'tickers', instId: 'ETH-USDT-SWAP' }] });
    const ack = await ws.json((m) => m.event === 'subscribe');
    assert.equal(ack.id, 'a1');
    assert.deepEqual(ack.arg, { channel: 'tickers', instId: 'ETH-USDT-SWAP' });
    assert.match(ack.connId, /^[0-9a-f]{8}$/);
    const push = await ws.json((m) => m.arg && m.data);
    assert.equal(push.data[0].instId, 'ETH-USDT-SWAP');
    assert.equal(typeof push.data[0].last, 'string');

    ws.sendJson({ op: 'subscribe', args: [{ channel: 'nosuch', instId: 'BTC-USDT-SWAP' }] });
    assert.equal((await ws.json((m) => m.event === 'error')).code, '60018');
    ws.sendJson({ op: 'subscribe', args: [{ channel: 'candle1m', instId: 'BTC-USDT-SWAP' }] });
    assert.equal((await ws.json((m) => m.event === 'error')).code, '60018', 'candles live on /business');
    ws.sendJson({ op: 'subscribe', args: [] });
    assert.equal((await ws.json((m) => m.event === 'error')).code, '60012');
    ws.send('{not json');
    assert.equal((await ws.json((m) => m.event === 'error')).code, '60012');
    ws.sendJson({ op: 'explode', args: [] });
    assert.equal((await ws.json((m) => m.event === 'error')).code, '60019');
    ws.sendJson({ op: 'unsubscribe', args: [{ channel: 'tickers', instId: 'ETH-USDT-SWAP' }] });
    assert.equal((await ws.json((m) => m.event === 'unsubscribe')).arg.channel, 'tickers');
    ws.close();
});

test('books: snapshot with prevSeqId -1, then updates chained by seqId', async () => {
    const ws = await connect(WS + '/public');
    ws.sendJson({ op: 'subscribe', args: [{ channel: 'books', instId: 'BTC-USDT-SWAP' }] });
    const snap = await ws.json((m) => m.action === 'snapshot');
    const d0 = snap.data[0];
    assert.equal(d0.prevSeqId, -1);
    assert.ok(d0.asks.length > 10 && d0.bids.length > 10);
    assert.ok(Number(d0.bids[0][0]) < Number(d0.asks[0][0]), 'not crossed');
    let last = d0.seqId;
    for (let i = 0; i < 5; i++) {
        const u = (await ws.json((m) => m.action === 'update', 6000)).data[0];
        assert.equal(u.prevSeqId, last, 'each update chains to the previous seqId');
        assert.ok(u.seqId > u.prevSeqId);
        last = u.seqId;
    }
    ws.close();
});

test('candles on /business', async () => {
    const ws = await connect(WS + '/business');
    ws.sendJson({ op: 'subscribe', args: [{ channel: 'candle1m', instId: 'BTC-USDT-SWAP' }] });
    const push = await ws.json((m) => m.arg && m.data, 6000);
    assert.equal(push.data[0].length, 9);
    assert.ok(Number(push.data[0][0]) % 60000 === 0, 'bar open aligned to the minute');
    ws.close();
});

test('private: login errors, channels need login, ops answer with id and sCode', async () => {
    const ws = await connect(WS + '/private');
    ws.sendJson({ op: 'subscribe', args: [{ channel: 'orders', instType: 'SWAP' }] });
    assert.equal((await ws.json((m) => m.event === 'error')).code, '60011');
    ws.sendJson({ op: 'login', args: loginArgs('wrong') });
    assert.equal((await ws.json((m) => m.event === 'error')).code, '60007');
    ws.sendJson({ op: 'login', args: loginArgs(ACCT.secretKey, -60) });
    assert.equal((await ws.json((m) => m.event === 'error')).code, '60006');
    ws.sendJson({ op: 'login', args: loginArgs() });
    const ok = await ws.json((m) => m.event === 'login');
    assert.equal(ok.code, '0');
    ws.sendJson({ op: 'subscribe', args: [{ channel: 'orders', instType: 'SWAP' }] });
    await ws.json((m) => m.event === 'subscribe');
    ws.sendJson({ id: 'o1', op: 'order', args: [{ instId: 'BTC-USDT-SWAP', tdMode: 'cross',
        side: 'buy', ordType: 'market', sz: '0.5', clOrdId: 'wsorder1' }] });
    const ans = await ws.json((m) => m.op === 'order');
    assert.equal(ans.id, 'o1');
    assert.equal(ans.code, '0');
    assert.equal(ans.data[0].sCode, '0');
    assert.equal(ans.data[0].clOrdId, 'wsorder1');
    assert.ok(ans.inTime && ans.outTime);
    const push = await ws.json((m) => m.arg && m.arg.channel === 'orders' && m.data[0].state === 'filled');
    assert.equal(push.data[0].clOrdId, 'wsorder1');
    assert.equal(push.data[0].accFillSz, '0.5');
    assert.ok(push.arg.uid);
    ws.sendJson({ id: 'o2', op: 'order', args: [{ instId: 'BTC-USDT-SWAP', tdMode: 'cross',
        side: 'buy', ordType: 'market', sz: '0.001' }] });
    const bad = await ws.json((m) => m.op === 'order' && m.id === 'o2');
    assert.equal(bad.code, '1');
    assert.equal(bad.data[0].sCode, '51121');
    ws.sendJson({ op: 'order', args: [{ instId: 'BTC-USDT-SWAP' }] });
    assert.equal((await ws.json((m) => m.op === 'order' && !m.id)).code, '60013', 'an op needs an id');
    ws.close();
});

test('a silent connection is closed after the idle time; ws-drop drops connections', async () => {
    const fast = await startSim(['--ws-idle', '600']);
    const ws = await connect(fast + '/private');
    const code = await Promise.race([ws.closed, new Promise((r) => setTimeout(() => r('open'), 5000))]);
    assert.equal(code, 4004, 'closed with 4004 after 600 ms of silence');

    const dropping = await startSim(['--fault', 'ws-drop=1']);
    const w2 = await connect(dropping + '/public');
    const t0 = Date.now();
    await Promise.race([w2.closed, new Promise((r) => setTimeout(r, 5000))]);
    assert.ok(Date.now() - t0 < 3000, 'dropped within the fault period');
    assert.equal(w2.readyState, WebSocket.CLOSED);
});
