// Arena: every trader side by side over a window — the leaderboard (sortable
// by any column), their equity curves on one chart, and the long/short bias
// of each model (GET /api/arena; README "Arena" defines each figure).
import { useMemo, useState, type ReactNode } from "react";
import { fetchArena, type ArenaBias, type ArenaPoint, type ArenaTrader, type ArenaWindow } from "../api/arena";
import { go, useApi } from "../app/context";
import { LineChart, lineColor, type Line } from "../components/charts";
import { Panel, Segmented, Signed, Table, right } from "../components/ui";
import { DASH, fmtInt, fmtMoney, fmtPct, fmtTime } from "../lib/format";

// resolved by the engine on its own clock (a replay's is not the browser's)
const WINDOWS: readonly { value: ArenaWindow; label: string }[] = [
  { value: "24h", label: "24 h" },
  { value: "7d", label: "7 days" },
  { value: "30d", label: "30 days" },
  { value: "all", label: "all" },
];

type Val = number | string | null;
interface Column {
  key: string;
  label: string;
  right?: boolean;
  /** what the column sorts by; null sorts last either way */
  sort: (t: ArenaTrader) => Val;
  cell: (t: ArenaTrader) => ReactNode;
  /** the first click sorts descending (figures), else ascending (names) */
  desc?: boolean;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));
/** A ratio that may be null, as text with `dp` decimals. */
const fixed = (v: number | null, dp = 2) => (v === null ? DASH : v.toFixed(dp));
/** A percent on its 2 decimals: its colour follows what is shown (-0.004 is 0.00). */
const pctText = (v: number | null) => (v === null ? null : v.toFixed(2));

const COLUMNS: readonly Column[] = [
  {
    key: "trader",
    label: "Trader",
    sort: (t) => t.trader,
    cell: (t) => (
      <>
        <button className="link strong" onClick={() => go("traders", t.trader)} data-testid="arena-trader">
          {t.trader}
        </button>
        <div className="muted small-text">{t.account}</div>
      </>
    ),
  },
  {
    key: "model",
    label: "Model",
    sort: (t) => `${t.provider} ${t.model ?? ""}`,
    cell: (t) => (
      <>
        <div style={{ whiteSpace: "nowrap" }}>{t.model ?? DASH}</div>
        <div className="muted small-text">{t.provider}</div>
      </>
    ),
  },
  { key: "equity", label: "Equity", right: true, desc: true, sort: (t) => num(t.equity), cell: (t) => <span className="num">{fmtMoney(t.equity)}</span> },
  { key: "pnl", label: "PnL", right: true, desc: true, sort: (t) => num(t.pnl), cell: (t) => (t.pnl === null ? DASH : <Signed v={t.pnl} />) },
  {
    key: "return",
    label: "Return",
    right: true,
    desc: true,
    sort: (t) => t.return_pct,
    cell: (t) => (t.return_pct === null ? DASH : <Signed v={pctText(t.return_pct)} suffix=" %" testid="arena-return" />),
  },
  {
    key: "drawdown",
    label: "Max DD",
    right: true,
    desc: true,
    sort: (t) => t.max_drawdown_pct,
    cell: (t) => <span className={`num ${(t.max_drawdown_pct ?? 0) >= 0.005 ? "neg" : ""}`}>{t.max_drawdown_pct === null ? DASH : `${fixed(t.max_drawdown_pct)} %`}</span>,
  },
  {
    key: "sharpe",
    label: "Sharpe",
    right: true,
    desc: true,
    sort: (t) => t.sharpe,
    cell: (t) => (
      <span className="num" title={`on ${t.sharpe_returns} hourly returns${t.sharpe === null && t.sharpe_returns < 24 ? " (24 needed)" : ""}`}>
        {fixed(t.sharpe)}
      </span>
    ),
  },
  {
    key: "win",
    label: "Win rate",
    right: true,
    desc: true,
    sort: (t) => t.win_rate,
    cell: (t) => (
      <span className="num" title={`${t.wins} of ${t.round_trips} closed decisions won`}>
        {t.win_rate === null ? DASH : fmtPct(t.win_rate.toFixed(6), 1)}
        <span className="muted small-text">
          {" "}
          {t.wins}/{t.round_trips}
        </span>
      </span>
    ),
  },
  { key: "fees", label: "Fees", right: true, desc: true, sort: (t) => num(t.fees), cell: (t) => <Signed v={t.fees} /> },
  { key: "funding", label: "Funding", right: true, desc: true, sort: (t) => num(t.funding), cell: (t) => <Signed v={t.funding} /> },
  { key: "calls", label: "AI calls", right: true, desc: true, sort: (t) => t.ai_calls, cell: (t) => <span className="num">{fmtInt(t.ai_calls)}</span> },
  {
    key: "tokens",
    label: "Tokens",
    right: true,
    desc: true,
    sort: (t) => t.tokens_in + t.tokens_out,
    cell: (t) => (
      <span className="num">
        <span title="prompt / completion tokens">
          {fmtInt(t.tokens_in)}/{fmtInt(t.tokens_out)}
        </span>
      </span>
    ),
  },
  {
    key: "cost",
    label: "Cost",
    right: true,
    desc: true,
    sort: (t) => t.cost_usd,
    cell: (t) => <span className="num">{t.cost_usd === null ? DASH : `$${fmtMoney(t.cost_usd.toFixed(6), 4)}`}</span>,
  },
  {
    key: "ls",
    label: "L/S",
    right: true,
    desc: true,
    sort: (t) => t.long_short_ratio ?? (t.long_entries > 0 ? Infinity : null),
    cell: (t) => (
      <span className="num" title="open_long / open_short actions of valid decisions (decided, whether filled or not) and their ratio">
        <span className="pos">{t.long_entries}</span>/<span className="neg">{t.short_entries}</span>
        <span className="muted small-text"> {ratioText(t.long_entries, t.short_entries, t.long_short_ratio)}</span>
      </span>
    ),
  },
];

/** "2.00", "long only", "short only" or "" (no entries). */
function ratioText(long: number, short: number, ratio: number | null): string {
  if (ratio !== null) return ratio.toFixed(2);
  if (long > 0) return "long only";
  return short > 0 ? "short only" : "";
}

function compare(a: Val, b: Val, desc: boolean): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1; // nulls last
  const c = typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b));
  return desc ? -c : c;
}

function Leaderboard(props: { traders: readonly ArenaTrader[] }) {
  const [sort, setSort] = useState<{ key: string; desc: boolean } | null>(null);
  const rows = useMemo(() => {
    const col = COLUMNS.find((c) => c.key === sort?.key);
    if (!col || !sort) return props.traders; // the engine's order: by return, best first
    return [...props.traders].sort((a, b) => compare(col.sort(a), col.sort(b), sort.desc) || a.trader.localeCompare(b.trader));
  }, [props.traders, sort]);
  const click = (c: Column) => setSort(sort?.key === c.key ? { key: c.key, desc: !sort.desc } : { key: c.key, desc: c.desc ?? false });
  return (
    <div className="table-wrap">
      <table data-testid="arena-table">
        <thead>
          <tr>
            <th className="r">#</th>
            {COLUMNS.map((c) => (
              <th key={c.key} className={c.right ? "r" : ""} aria-sort={sort?.key === c.key ? (sort.desc ? "descending" : "ascending") : "none"}>
                <button className="link nowrap" onClick={() => click(c)} data-testid={`arena-sort-${c.key}`} title={`sort by ${c.label.toLowerCase()}`}>
                  {c.label}
                  {sort?.key === c.key ? (sort.desc ? " ▼" : " ▲") : ""}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((t, i) => (
            <tr key={t.trader} data-testid="arena-row" data-trader={t.trader}>
              <td className="r muted num">{i + 1}</td>
              {COLUMNS.map((c) => (
                <td key={c.key} className={c.right ? "r" : ""}>
                  {c.cell(t)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One point per second (the chart's resolution), the last of each. */
function perSecond(points: readonly ArenaPoint[]): ArenaPoint[] {
  const out: ArenaPoint[] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (last && Math.floor(last.ts / 1000) === Math.floor(p.ts / 1000)) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}

function Curves(props: { traders: readonly ArenaTrader[] }) {
  // colours follow the names, so a trader keeps its colour whatever the order
  const named = useMemo(() => [...props.traders].sort((a, b) => a.trader.localeCompare(b.trader)), [props.traders]);
  const lines = useMemo<Line[]>(() => named.map((t, i) => ({ name: t.trader, color: lineColor(i), points: perSecond(t.equity_curve) })), [named]);
  return (
    <>
      <div className="row wrap" data-testid="arena-legend">
        {named.map((t, i) => (
          <span key={t.trader} className="chip" data-testid="arena-legend-item">
            <span aria-hidden style={{ display: "inline-block", width: 10, height: 10, borderRadius: 2, marginRight: 6, background: lineColor(i) }} />
            {t.trader}{" "}
            {t.return_pct === null ? <span className="muted">no fills</span> : <Signed v={pctText(t.return_pct)} suffix=" %" />}
          </span>
        ))}
      </div>
      <LineChart lines={lines} height={300} testid="arena-chart" />
    </>
  );
}

function BiasTable(props: { bias: readonly ArenaBias[] }) {
  return (
    <Table testid="arena-bias-table" cols={["Model", right("Long"), right("Short"), right("Long/short"), "Direction"]}>
      {props.bias.map((b) => {
        const share = b.long + b.short > 0 ? (b.long / (b.long + b.short)) * 100 : 0;
        return (
          <tr key={b.model} data-testid="arena-bias-row" data-model={b.model}>
            <td style={{ whiteSpace: "nowrap" }}>{b.model}</td>
            <td className="r num pos">{b.long}</td>
            <td className="r num neg">{b.short}</td>
            <td className="r num">{ratioText(b.long, b.short, b.ratio) || DASH}</td>
            <td style={{ minWidth: 120 }}>
              <div
                title={`${share.toFixed(0)} % of entries long`}
                style={{ display: "flex", height: 8, borderRadius: 4, overflow: "hidden", background: "var(--neg)", maxWidth: 220 }}
              >
                <div style={{ width: `${share}%`, background: "var(--pos)" }} />
              </div>
            </td>
          </tr>
        );
      })}
    </Table>
  );
}

export default function Arena() {
  const [win, setWin] = useState<ArenaWindow>("7d");
  const arena = useApi(
    (api) => fetchArena(api, { window: win }),
    [win],
    { refreshMs: 30000, on: ["fill", "decision"], throttleMs: 5000 },
  );
  const a = arena.data;
  return (
    <div className="page" data-testid="page-arena">
      <div className="row wrap spread">
        <Segmented value={win} options={WINDOWS} onChange={setWin} testid="arena-window" />
        {a ? (
          <span className="muted small-text" data-testid="arena-span">
            {a.from > 0 ? `${fmtTime(a.from)} – ${fmtTime(a.to)} UTC` : `all history to ${fmtTime(a.to)} UTC`}
            {a.truncated ? " · the first 128 traders only" : ""}
          </span>
        ) : null}
      </div>
      <Panel
        id="arena-board"
        title="Leaderboard"
        state={arena}
        isEmpty={(d) => d.traders.length === 0}
        empty="No traders: add [trader.*] sections to modules.ini, each on its own account or paper sub-account (README “Arena”)."
      >
        {(d) => <Leaderboard traders={d.traders} />}
      </Panel>
      <Panel
        id="arena-curves"
        title="Equity curves (start equity + each trader's own net PnL)"
        state={arena}
        isEmpty={(d) => d.traders.every((t) => t.equity_curve.length === 0)}
        empty="No fills in this window yet: a curve starts with a trader's first fill."
      >
        {(d) => <Curves traders={d.traders} />}
      </Panel>
      <Panel id="arena-bias" title="Direction bias per model (open actions of valid decisions)" state={arena} isEmpty={(d) => d.bias.length === 0} empty="No entries in this window yet.">
        {(d) => <BiasTable bias={d.bias} />}
      </Panel>
    </div>
  );
}
