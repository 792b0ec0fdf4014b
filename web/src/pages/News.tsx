// News: the headlines the news sources stored, newest first (new ones
// prepended live from /ws), each with its source, time, coins and scores —
// the lexicon's, the impact and an LLM's when a scorer rates them —,
// filtered by coin (#/news/BTC) and paged back with "Load older" (the
// `before` cursor); the Fear & Greed index, its latest value and label and
// its history, and the latest value of every other sentiment feed.
import { useCallback, useMemo, useState } from "react";
import { decodeNews, decodeSentiment, type NewsItem, type SentimentReading } from "../api/types";
import { go, useApi, useApp, useStream, type Loaded } from "../app/context";
import { AreaChart } from "../components/charts";
import { ActionButton, Card, Panel, useNow } from "../components/ui";
import { DASH, fmtAgo, fmtTime } from "../lib/format";
import {
  fmtImpact,
  fmtScore,
  fngClass,
  latestByFeed,
  mergeNews,
  mergeReadings,
  namesSymbol,
  newsTime,
  olderCursor,
  scoreClass,
  symbolsOf,
} from "../lib/news";

/** headlines asked for at a time (the first page, and each older one) */
const PAGE = 50;
/** live pushes kept on top of the pages */
const LIVE_MAX = 200;
const FNG = "feargreed";

/** An index value: whole as it is (71), else on two decimals. */
const fmtIndex = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

function NewsEntry(props: { n: NewsItem; now: number }) {
  const n = props.n;
  const t = newsTime(n);
  return (
    <li className="news-item" data-testid="news-item" data-id={n.id} data-symbols={n.symbols.join(",")}>
      <div className="news-meta">
        <span className="nowrap muted" title={t > 0 ? `${fmtTime(t)} UTC` : undefined} data-testid="news-time">
          {fmtAgo(t, props.now)}
        </span>
        <span className="muted" data-testid="news-feed">
          {n.feed || DASH}
        </span>
      </div>
      <div className="news-title">
        {n.url ? (
          <a href={n.url} target="_blank" rel="noopener noreferrer" data-testid="news-title">
            {n.title}
          </a>
        ) : (
          <span data-testid="news-title">{n.title}</span>
        )}
      </div>
      {n.summary && n.summary !== n.title ? <div className="muted small-text news-summary">{n.summary}</div> : null}
      <div className="news-figures">
        {n.symbols.map((s) => (
          <a key={s} className="chip" href={`#/news/${encodeURIComponent(s)}`} data-testid="news-symbol" title={`headlines naming ${s}`}>
            {s}
          </a>
        ))}
        <span title="lexicon sentiment, -1 (bearish) … +1 (bullish)">
          <span className="muted">score </span>
          <span className={`num ${scoreClass(n.score)}`} data-testid="news-score">
            {fmtScore(n.score)}
          </span>
        </span>
        {n.impact !== null ? (
          <span className="news-impact" title="impact: how much it may move its coins' prices (0 … 100 %)">
            <span className="muted">impact</span>
            <span className="bar" aria-hidden>
              <span style={{ width: `${Math.round(Math.min(1, Math.max(0, n.impact)) * 100)}%` }} />
            </span>
            <span className="num" data-testid="news-impact">
              {fmtImpact(n.impact)}
            </span>
          </span>
        ) : null}
        {n.llm_score !== null ? (
          <span title={`an LLM's sentiment, -1 … +1${n.scorer ? ` (${n.scorer})` : ""}`}>
            <span className="muted">LLM </span>
            <span className={`num ${scoreClass(n.llm_score)}`} data-testid="news-llm">
              {fmtScore(n.llm_score)}
            </span>
            {n.scorer ? (
              <span className="muted" data-testid="news-scorer">
                {" "}
                {n.scorer}
              </span>
            ) : null}
          </span>
        ) : null}
      </div>
    </li>
  );
}

const HOW_TO_ENABLE = `[source.news]
module = rss
feeds = https://cointelegraph.com/rss, https://decrypt.co/feed

[source.fng]
module = feargreed`;

function NoNews() {
  return (
    <div className="stack" style={{ alignItems: "center" }}>
      <span>No news yet. Add a news source to modules.ini (README “News”) and restart the engine:</span>
      <pre style={{ textAlign: "left" }} data-testid="news-howto">
        {HOW_TO_ENABLE}
      </pre>
      <span className="small-text">RSS and Atom feeds give the headlines; feargreed the Fear &amp; Greed index.</span>
    </div>
  );
}

/**
 * The headlines under one filter (keyed by it: a new filter starts over):
 * the first page (reloaded every minute and after a reconnect), the live
 * pushes, and the older pages asked for.
 */
function Headlines(props: { symbol: string; onSymbols: (s: readonly string[]) => void }) {
  const { api } = useApp();
  const { symbol, onSymbols } = props;
  const now = useNow(30000);
  const first = useApi(
    async (a) => {
      const rows = await a.news(symbol ? { symbol, limit: PAGE } : { limit: PAGE });
      onSymbols(symbolsOf(rows));
      return rows;
    },
    [symbol],
    { refreshMs: 60000 },
  );
  const [live, setLive] = useState<NewsItem[]>([]);
  const [older, setOlder] = useState<NewsItem[]>([]);
  const [done, setDone] = useState(false);
  useStream(["news"], (m) => {
    let n: NewsItem;
    try {
      n = decodeNews(m.data, "news");
    } catch {
      return; // a broken push: the next reload shows what is stored
    }
    onSymbols(n.symbols);
    if (namesSymbol(n, symbol)) setLive((prev) => mergeNews([n], prev).slice(0, LIVE_MAX));
  });
  const items = useMemo(() => (first.data === undefined ? undefined : mergeNews(live, first.data, older)), [live, first.data, older]);
  const state: Loaded<NewsItem[]> = { ...first, data: items };
  const loadOlder = async () => {
    const before = olderCursor(items ?? []);
    if (before === null) return;
    const rows = await api.news(symbol ? { symbol, limit: PAGE, before } : { limit: PAGE, before });
    onSymbols(symbolsOf(rows));
    setOlder((prev) => mergeNews(prev, rows));
    if (rows.length < PAGE) setDone(true);
  };
  const mayHaveOlder = !done && ((first.data?.length ?? 0) >= PAGE || older.length > 0);
  return (
    <Panel
      id="news"
      title={symbol ? `Headlines · ${symbol}` : "Headlines"}
      state={state}
      empty={symbol ? `No headline names ${symbol} yet.` : <NoNews />}
      actions={
        items && items.length > 0 ? (
          <span className="muted small-text" data-testid="news-count">
            {items.length} shown
          </span>
        ) : null
      }
    >
      {(list) => (
        <>
          <ul className="news" data-testid="news-list">
            {list.map((n) => (
              <NewsEntry key={n.id} n={n} now={now} />
            ))}
          </ul>
          {mayHaveOlder ? (
            <div className="row" style={{ marginTop: 8 }}>
              <ActionButton testid="news-more" run={loadOlder}>
                Load older
              </ActionButton>
            </div>
          ) : done ? (
            <div className="muted small-text" style={{ marginTop: 8 }} data-testid="news-end">
              No older headlines.
            </div>
          ) : null}
        </>
      )}
    </Panel>
  );
}

function FearGreed(props: { live: readonly SentimentReading[] }) {
  const now = useNow(60000);
  const fng = useApi((a) => a.sentiment({ feed: FNG, limit: 1000 }), [], { refreshMs: 600000 });
  const readings = useMemo(
    () => (fng.data === undefined ? undefined : mergeReadings(props.live.filter((r) => r.feed === FNG), fng.data)),
    [fng.data, props.live],
  );
  const points = useMemo(() => (readings ?? []).map((r) => ({ ts: r.as_of_ms, value: r.value })), [readings]);
  return (
    <Panel
      id="fng"
      title="Fear & Greed"
      state={{ ...fng, data: readings }}
      empty={
        <>
          No Fear &amp; Greed readings. Enable the index with <code>[source.fng]</code> <code>module = feargreed</code> in modules.ini.
        </>
      }
    >
      {(rs) => {
        const latest = rs[0];
        if (!latest) return null;
        const cls = fngClass(latest.value, latest.label);
        return (
          <div className="stack">
            <div className="row wrap" style={{ alignItems: "baseline" }}>
              <span className={`fng-value ${cls}`} data-testid="fng-value">
                {fmtIndex(latest.value)}
              </span>
              <span className={`strong ${cls}`} data-testid="fng-label">
                {latest.label ?? ""}
              </span>
              <span className="muted small-text" title={`${fmtTime(latest.as_of_ms)} UTC`} data-testid="fng-asof">
                {fmtAgo(latest.as_of_ms, now)}
              </span>
            </div>
            <AreaChart points={points} min={0} max={100} height={180} testid="fng-chart" />
            <div className="muted small-text">
              {rs.length === 1 ? "1 reading" : `${rs.length} readings`} · 0 extreme fear … 100 extreme greed
            </div>
          </div>
        );
      }}
    </Panel>
  );
}

/** The latest value of every sentiment feed but Fear & Greed, when there is one. */
function OtherFeeds(props: { live: readonly SentimentReading[] }) {
  const now = useNow(60000);
  const all = useApi((a) => a.sentiment({ limit: 1000 }), [], { refreshMs: 300000 });
  const feeds = useMemo(() => {
    const m = latestByFeed(mergeReadings(props.live, all.data ?? []));
    m.delete(FNG);
    return [...m.values()];
  }, [all.data, props.live]);
  if (feeds.length === 0 && !(all.error && all.data === undefined)) return null;
  return (
    <Panel id="sentiment-feeds" title="Other sentiment feeds" state={{ ...all, data: all.data === undefined ? undefined : feeds }}>
      {(list) => (
        <div className="cards">
          {list.map((r) => (
            <Card key={r.feed} label={r.feed} testid="sentiment-feed" valueClass={scoreClass(r.value)}>
              <span data-feed={r.feed} data-testid="sentiment-value">
                {fmtIndex(r.value)}
              </span>
              {r.label ? <span className="small-text"> {r.label}</span> : null}
              <div className="muted small-text" title={`${fmtTime(r.as_of_ms)} UTC`} style={{ fontWeight: 400 }}>
                {fmtAgo(r.as_of_ms, now)}
              </div>
            </Card>
          ))}
        </div>
      )}
    </Panel>
  );
}

export default function News(props: { route: string[] }) {
  const symbol = (props.route[1] ?? "").toUpperCase();
  // every coin seen on this page since it opened: the filter keeps them all
  const [seen, setSeen] = useState<readonly string[]>([]);
  const addSeen = useCallback((s: readonly string[]) => {
    setSeen((prev) => (s.every((x) => prev.includes(x)) ? prev : [...new Set([...prev, ...s])].sort()));
  }, []);
  const symbols = useMemo(() => (symbol && !seen.includes(symbol) ? [...seen, symbol].sort() : seen), [seen, symbol]);
  const [liveReadings, setLiveReadings] = useState<SentimentReading[]>([]);
  useStream(["sentiment"], (m) => {
    try {
      const r = decodeSentiment(m.data, "sentiment");
      setLiveReadings((prev) => mergeReadings([r], prev).slice(0, 1000));
    } catch {
      // a broken push: the next reload shows what is stored
    }
  });
  return (
    <div className="page" data-testid="page-news">
      <div className="tabs" role="tablist" aria-label="coin" data-testid="news-filter">
        <button role="tab" aria-selected={symbol === ""} className={symbol === "" ? "on" : ""} onClick={() => go("news")} data-testid="news-filter-all">
          All
        </button>
        {symbols.map((s) => (
          <button key={s} role="tab" aria-selected={s === symbol} className={s === symbol ? "on" : ""} onClick={() => go("news", s)} data-testid={`news-filter-${s}`}>
            {s}
          </button>
        ))}
      </div>
      <div className="grid-news">
        <div className="news-side stack">
          <FearGreed live={liveReadings} />
          <OtherFeeds live={liveReadings} />
        </div>
        <div className="news-main">
          <Headlines key={symbol} symbol={symbol} onSymbols={addSeen} />
        </div>
      </div>
    </div>
  );
}
