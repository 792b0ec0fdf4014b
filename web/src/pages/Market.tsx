// Market: live tickers, candles of the chosen instrument, its order book
// (from the stream's "book" messages).
import { useMemo, useState } from "react";
import { decodeBook, type Book, type Candle, type Ticker } from "../api/types";
import { go, useApi, useInstruments, useStream, useTickers } from "../app/context";
import { CandleChart } from "../components/charts";
import { Panel, Segmented } from "../components/ui";
import { cmp, div, parseDec, sub, toText } from "../lib/decimal";
import { DASH, fmtPct, fmtPx, fmtSz, fmtTime } from "../lib/format";

const BARS = ["1m", "5m", "15m", "1H", "4H", "1D"] as const;
type Bar = (typeof BARS)[number];

function change24h(t: Ticker): string | null {
  const last = parseDec(t.last);
  const open = parseDec(t.open24h);
  if (!last || !open || open.n === 0n) return null;
  return toText(div(sub(last, open), open, 6));
}

/** The newest ticker folded into the last candle, so the chart moves between reloads. */
function withLive(candles: readonly Candle[], t: Ticker | undefined, barMs: number): Candle[] {
  const out = [...candles];
  const last = out[out.length - 1];
  const px = t?.last;
  const p = parseDec(px);
  if (!last || !px || !p || !t?.ts) return out;
  if (t.ts >= last.ts && t.ts < last.ts + barMs) {
    const hi = parseDec(last.h);
    const lo = parseDec(last.l);
    out[out.length - 1] = {
      ...last,
      c: px,
      h: hi && cmp(p, hi) > 0 ? px : last.h,
      l: lo && cmp(p, lo) < 0 ? px : last.l,
    };
  } else if (t.ts >= last.ts + barMs) {
    const start = last.ts + Math.floor((t.ts - last.ts) / barMs) * barMs;
    out.push({ ts: start, o: px, h: px, l: px, c: px, vol: null });
  }
  return out;
}

const BAR_MS: Record<Bar, number> = { "1m": 60e3, "5m": 300e3, "15m": 900e3, "1H": 3600e3, "4H": 14400e3, "1D": 86400e3 };

function BookView(props: { book: Book | undefined; tickSz: string | null }) {
  const b = props.book;
  if (!b || (b.bids.length === 0 && b.asks.length === 0)) {
    return (
      <div className="muted state" data-testid="book-empty">
        No book yet (the venue streams it when subscribed).
      </div>
    );
  }
  const asks = b.asks.slice(0, 10).reverse();
  const bids = b.bids.slice(0, 10);
  return (
    <div className="table-wrap">
      <table className="book" data-testid="book-table">
        <thead>
          <tr>
            <th className="r">Price</th>
            <th className="r">Size (ct)</th>
          </tr>
        </thead>
        <tbody>
          {asks.map((l, i) => (
            <tr key={`a${i}`} className="ask">
              <td className="r num neg">{fmtPx(l.px, props.tickSz)}</td>
              <td className="r num">{fmtSz(l.sz)}</td>
            </tr>
          ))}
          <tr className="spread-row">
            <td colSpan={2} className="muted small-text">
              {fmtTime(b.ts)}
            </td>
          </tr>
          {bids.map((l, i) => (
            <tr key={`b${i}`} className="bid">
              <td className="r num pos">{fmtPx(l.px, props.tickSz)}</td>
              <td className="r num">{fmtSz(l.sz)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default function Market(props: { route: string[] }) {
  const tickers = useTickers();
  const specs = useInstruments();
  const [bar, setBar] = useState<Bar>("1m");
  const list = useMemo(() => [...(tickers.data?.values() ?? [])].sort((a, b) => a.instId.localeCompare(b.instId)), [tickers.data]);
  const instId = props.route[1] ?? list[0]?.instId ?? "";
  const tick = specs.data?.get(instId)?.tickSz ?? null;
  const candles = useApi((a) => a.candles(instId, bar, 300), [instId, bar], { enabled: instId !== "", refreshMs: 30000 });
  const [book, setBook] = useState<Book | undefined>(undefined);
  useStream(["book"], (m) => {
    try {
      const b = decodeBook(m.data);
      if (b.instId === instId) setBook(b);
    } catch {
      /* a malformed push is ignored */
    }
  });
  const hasMark = list.some((t) => t.markPx !== null);
  const hasFunding = list.some((t) => t.fundingRate !== null);
  const live = useMemo(() => withLive(candles.data ?? [], tickers.data?.get(instId), BAR_MS[bar]), [candles.data, tickers.data, instId, bar]);

  return (
    <div className="page" data-testid="page-market">
      <Panel id="tickers" title="Tickers" state={tickers} isEmpty={(m) => m.size === 0} empty="No tickers yet.">
        {() => (
          <div className="table-wrap">
            <table data-testid="tickers-table">
              <thead>
                <tr>
                  <th>Instrument</th>
                  <th className="r">Last</th>
                  <th className="r">24h</th>
                  <th className="r">Bid</th>
                  <th className="r">Ask</th>
                  {hasMark ? <th className="r">Mark</th> : null}
                  <th className="r">High 24h</th>
                  <th className="r">Low 24h</th>
                  <th className="r">Vol 24h</th>
                  {hasFunding ? <th className="r">Funding</th> : null}
                  <th>Updated</th>
                </tr>
              </thead>
              <tbody>
                {list.map((t) => {
                  const tk = specs.data?.get(t.instId)?.tickSz ?? null;
                  const ch = change24h(t);
                  return (
                    <tr
                      key={t.instId}
                      className={`clickable ${t.instId === instId ? "selected" : ""}`}
                      onClick={() => go("market", t.instId)}
                      data-testid="ticker-row"
                      data-inst={t.instId}
                    >
                      <td>{t.instId}</td>
                      <td className="r num strong" data-testid="ticker-last">
                        {fmtPx(t.last, tk)}
                      </td>
                      <td className={`r num ${ch ? (ch.startsWith("-") ? "neg" : "pos") : ""}`}>{ch ? fmtPct(ch) : DASH}</td>
                      <td className="r num">{fmtPx(t.bidPx, tk)}</td>
                      <td className="r num">{fmtPx(t.askPx, tk)}</td>
                      {hasMark ? <td className="r num">{fmtPx(t.markPx, tk)}</td> : null}
                      <td className="r num">{fmtPx(t.high24h, tk)}</td>
                      <td className="r num">{fmtPx(t.low24h, tk)}</td>
                      <td className="r num">{fmtSz(t.vol24h)}</td>
                      {hasFunding ? <td className="r num">{t.fundingRate ? fmtPct(t.fundingRate, 4) : DASH}</td> : null}
                      <td className="nowrap muted">{fmtTime(t.ts)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      <div className="grid-market">
        <Panel
          id="market-chart"
          title={instId ? `${instId} · ${bar}` : "Candles"}
          state={candles}
          empty="No candles for this instrument and bar."
          actions={<Segmented testid="bar" value={bar} onChange={setBar} options={BARS.map((b) => ({ value: b, label: b }))} />}
        >
          {() => <CandleChart candles={live} tickSz={tick} testid="market-candles" height={360} />}
        </Panel>
        <Panel id="book" title={`Book · ${instId || DASH}`}>
          <BookView book={book?.instId === instId ? book : undefined} tickSz={tick} />
        </Panel>
      </div>
    </div>
  );
}
