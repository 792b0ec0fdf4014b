// ccxt_ingest: the peer of bench/okx_ingest.c. Feeds the same stream file
// (bench/okx_ingest_gen.py) through ccxt 4.5.84's pro okx handlers exactly as
// ccxt's WebSocket client would: Client.onMessage's JSON.parse (with its
// big-integer regex) then exchange.handleMessage(client, message), on a real
// ccxt Client object that is never connected. Markets come from
// tests/data/okx_instruments_swap_sample.json so symbols map as they do live,
// and every books/trades/tickers hash is marked subscribed so the handlers
// run their full path (order-book store, trade cache, ticker parse).
//
// The first pass warms the JIT; the best of the next three is reported.
// usage: node bench/ccxt_ingest.mjs STREAM_FILE
// prints: ccxt_ingest_msgs_per_s N
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ccxt = (await import(join(root, 'tests/ccxt/node_modules/ccxt/js/ccxt.js'))).default;

const file = process.argv[2];
if (!file) {
    console.error('usage: node bench/ccxt_ingest.mjs STREAM_FILE');
    process.exit(2);
}
const frames = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
const instruments = JSON.parse(
    readFileSync(join(root, 'tests/data/okx_instruments_swap_sample.json'), 'utf8')).data;

// The last seqId of each instrument, to check ccxt kept every book in sync.
const lastSeq = {};
for (const f of frames) {
    const m = JSON.parse(f);
    if (m.arg.channel === 'books') {
        lastSeq[m.arg.instId] = m.data[0].seqId;
    }
}

function fresh() {
    const ex = new ccxt.pro.okx({ enableRateLimit: false });
    ex.setMarkets(ex.parseMarkets(instruments));
    const client = ex.client('wss://ws.okx.com:8443/ws/v5/public');
    for (const m of Object.values(ex.markets)) {
        for (const ch of ['books', 'trades', 'tickers']) {
            client.subscriptions[ch + ':' + m.symbol] = true;
        }
    }
    return { ex, client };
}

function run() {
    const { ex, client } = fresh();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < frames.length; i++) {
        // what Client.onMessage does before calling handleMessage
        const message = JSON.parse(frames[i].replace(/:(\d{15,}),/g, ':"$1",'));
        ex.handleMessage(client, message);
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    for (const [instId, seq] of Object.entries(lastSeq)) {
        const ob = ex.orderbooks[ex.safeSymbol(instId)];
        if (!ob || ob.nonce !== seq || ob.bids.length === 0 || ob.asks.length === 0) {
            throw new Error(`ccxt book ${instId} not in sync (nonce ${ob && ob.nonce}, want ${seq})`);
        }
    }
    return s;
}

run(); // warm-up
let best = Infinity;
for (let r = 0; r < 3; r++) {
    best = Math.min(best, run());
}
console.log(`ccxt_frames ${frames.length}`);
console.log(`ccxt_version ${ccxt.version}`);
console.log(`ccxt_ingest_msgs_per_s ${Math.round(frames.length / best)}`);
process.exit(0);
