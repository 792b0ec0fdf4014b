// Overview: equity per account, PnL per trader (origin) and account from
// /api/pnl, exposure, the breaker and the kill switch.
import { useMemo, useState } from "react";
import type { Account, Instrument, PnlRow, Position, Ticker } from "../api/types";
import { go, useApi, useApp, useInstruments, useTickers, type Loaded } from "../app/context";
import { LineChart, lineColor, type Line } from "../components/charts";
import { ActionButton, Card, Panel, right, Signed, StateBadge, Table } from "../components/ui";
import { abs, add, cmp, div, mul, parseDec, toText, type Dec } from "../lib/decimal";
import { DASH, fmtMoney, fmtTime } from "../lib/format";

const ZERO: Dec = { n: 0n, s: 0 };

function sumDec(values: readonly (string | null)[]): string | null {
  let acc: Dec | null = null;
  for (const v of values) {
    const d = parseDec(v);
    if (d) acc = acc ? add(acc, d) : d;
  }
  return acc ? toText(acc) : null;
}

/** Gross notional of positions: |pos| x ctVal x mark (else last, else entry), USDT. */
export function exposureOf(positions: readonly Position[], specs: Map<string, Instrument> | undefined, tickers: Map<string, Ticker> | undefined): Dec {
  let total = ZERO;
  for (const p of positions) {
    const pos = parseDec(p.pos);
    const ct = parseDec(specs?.get(p.instId)?.ctVal ?? null);
    const t = tickers?.get(p.instId);
    const px = parseDec(p.markPx ?? t?.markPx ?? t?.last ?? p.avgPx);
    if (!pos || !ct || !px) continue;
    total = add(total, mul(mul(abs(pos), ct), px));
  }
  return total;
}

function KillSwitch() {
  const { api } = useApp();
  const risk = useApi((a) => a.risk(), [], { refreshMs: 5000, on: ["alert", "status"] });
  const ks = risk.data?.kill_switch;
  const [reason, setReason] = useState("");
  return (
    <Panel id="killswitch" title="Kill switch & breaker" state={risk} isEmpty={() => false}>
      {(r) => (
        <div className="stack">
          <div className="row wrap">
            <span className={`badge big ${ks?.on ? "bad" : "good"}`} data-testid="killswitch-state">
              {ks?.on ? "ON — new entries refused" : "off"}
            </span>
            {ks?.on && ks.since_ms ? (
              <span className="muted">
                since {fmtTime(ks.since_ms)}
                {ks.by ? ` by ${ks.by}` : ""}
                {ks.reason ? `: ${ks.reason}` : ""}
              </span>
            ) : null}
          </div>
          <div className="row wrap">
            <input
              placeholder="reason (logged)"
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              data-testid="killswitch-reason"
              aria-label="kill switch reason"
            />
            <ActionButton
              className={ks?.on ? "" : "danger"}
              testid="killswitch-toggle"
              confirm={ks?.on ? "Allow new entries again?" : "Stop every new entry on every account?"}
              run={() => api.killSwitch(!ks?.on, reason.trim() || undefined)}
              onDone={() => {
                setReason("");
                risk.reload();
              }}
            >
              {ks?.on ? "Turn kill switch off" : "Turn kill switch on"}
            </ActionButton>
          </div>
          {r.rules.length > 0 ? (
            <Table testid="risk-rules-table" cols={["Rule instance", "State", "Detail"]}>
              {r.rules.map((p) => (
                <tr key={p.instance} data-testid="risk-rule-row">
                  <td>{p.instance}</td>
                  <td>
                    <StateBadge state={p.state} />
                  </td>
                  <td className="muted small-text">{p.detail || DASH}</td>
                </tr>
              ))}
            </Table>
          ) : null}
          {r.accounts.length > 0 ? (
            <Table testid="breaker-table" cols={["Account", "Breaker", "Rule", "Until (UTC)", right("Day start"), right("Peak")]}>
              {r.accounts.map((b) => (
                <tr key={b.account}>
                  <td>{b.account}</td>
                  <td>
                    <StateBadge state={b.tripped ? "tripped" : "ok"} />
                  </td>
                  <td>{b.rule ?? DASH}</td>
                  <td>{b.tripped ? fmtTime(b.until_ms) : DASH}</td>
                  <td className="r num">{fmtMoney(b.day_start)}</td>
                  <td className="r num">{fmtMoney(b.peak)}</td>
                </tr>
              ))}
            </Table>
          ) : r.rules.length === 0 ? (
            <div className="muted">No [risk.*] instance runs: only the gate&apos;s own checks apply.</div>
          ) : null}
          {r.safe_mode.length > 0 ? <div className="warn-text">Safe mode: {r.safe_mode.join(", ")}</div> : null}
        </div>
      )}
    </Panel>
  );
}

/** A panel of curves over time, "empty" until one of them has a point. */
function CurvesPanel(props: { id: string; title: string; state: Loaded<Line[]>; empty: string; testid: string }) {
  return (
    <Panel id={props.id} title={props.title} state={props.state} isEmpty={(lines) => lines.every((l) => l.points.length === 0)} empty={props.empty}>
      {(lines) => <LineChart lines={lines} testid={props.testid} />}
    </Panel>
  );
}

/** Net PnL of a row: the engine's net, else the sum of its parts. */
const netOf = (r: PnlRow) => r.net ?? sumDec([r.realized, r.fees, r.funding, r.unrealized]);

interface AccountRow {
  account: Account;
  positions: Position[] | null;
  error: string | null;
}

export default function Overview() {
  const accounts = useApi((a) => a.accounts(), [], { refreshMs: 10000, on: ["balance"] });
  const pnl = useApi(async (a) => (await a.pnl()).latest, [], { refreshMs: 15000, on: ["fill"], throttleMs: 3000 });
  const origins = [...new Set((pnl.data ?? []).map((r) => r.origin))].sort().join(",");
  const pnlCurves = useApi(
    async (api): Promise<Line[]> => {
      const since = Date.now() - 7 * 86400e3;
      const list = origins ? origins.split(",") : [];
      const answers = await Promise.all(list.map((origin) => api.pnl({ origin, since })));
      const lines: Line[] = [];
      answers.forEach((ans, i) => {
        const byAccount = new Map<string, { ts: number; value: string }[]>();
        for (const r of ans.series) {
          const v = netOf(r);
          if (r.ts === null || v === null) continue;
          byAccount.set(r.account, [...(byAccount.get(r.account) ?? []), { ts: r.ts, value: v }]);
        }
        for (const [account, points] of byAccount)
          lines.push({ name: byAccount.size > 1 ? `${list[i] ?? ""} · ${account}` : (list[i] ?? ""), color: lineColor(lines.length), points });
      });
      return lines;
    },
    [origins],
    { enabled: pnl.data !== undefined, refreshMs: 60000 },
  );
  const specs = useInstruments();
  const tickers = useTickers();
  const ids = (accounts.data ?? []).map((a) => a.id).join(",");
  const rows = useApi(
    async (api): Promise<AccountRow[]> => {
      const list = accounts.data ?? [];
      return Promise.all(
        list.map(async (account) => {
          try {
            return { account, positions: await api.positions(account.id), error: null };
          } catch (e) {
            return { account, positions: null, error: e instanceof Error ? e.message : String(e) };
          }
        }),
      );
    },
    [ids],
    { enabled: accounts.data !== undefined, on: ["position"], throttleMs: 2000, refreshMs: 15000 },
  );
  const equity = useApi(
    async (api): Promise<Line[]> => {
      const list = accounts.data ?? [];
      const series = await Promise.all(list.map((a) => api.equity(a.id).catch(() => [])));
      return list.map((a, i) => ({ name: a.id, color: lineColor(i), points: (series[i] ?? []).map((p) => ({ ts: p.ts, value: p.equity })) }));
    },
    [ids],
    { enabled: accounts.data !== undefined, refreshMs: 60000 },
  );

  const totalEq = sumDec((accounts.data ?? []).map((a) => a.equity));
  const totalNet = sumDec((pnl.data ?? []).map(netOf));
  const exposure = useMemo(() => {
    const all = (rows.data ?? []).flatMap((r) => r.positions ?? []);
    return exposureOf(all, specs.data, tickers.data);
  }, [rows.data, specs.data, tickers.data]);
  const eqDec = parseDec(totalEq);
  const lev = eqDec && cmp(eqDec, ZERO) > 0 ? toText(div(exposure, eqDec, 2)) : null;

  const byTrader = useMemo(() => {
    const m = new Map<string, PnlRow[]>();
    for (const r of pnl.data ?? []) m.set(r.origin, [...(m.get(r.origin) ?? []), r]);
    return [...m.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }, [pnl.data]);

  return (
    <div className="page" data-testid="page-overview">
      <div className="cards">
        <Card label="Equity (all accounts, USDT)" testid="card-equity" valueClass="num">
          {accounts.data ? fmtMoney(totalEq) : DASH}
        </Card>
        <Card label="Net PnL (all traders)" testid="card-pnl">
          {pnl.data ? <Signed v={totalNet ?? "0"} /> : DASH}
        </Card>
        <Card label="Exposure (gross notional)" testid="card-exposure" valueClass="num">
          {rows.data ? fmtMoney(toText(exposure)) : DASH}
          {lev ? <span className="muted small-text"> {lev}x equity</span> : null}
        </Card>
      </div>
      <div className="grid2">
        <Panel id="accounts" title="Equity per account" state={accounts} empty="No accounts: enable an [exchange.*] section.">
          {(list) => (
            <Table testid="accounts-table" cols={["Account", "Venue", right("Equity"), right("Available"), right("uPnL"), right("Exposure")]}>
              {list.map((a) => {
                const row = rows.data?.find((r) => r.account.id === a.id);
                const ex = row?.positions ? fmtMoney(toText(exposureOf(row.positions, specs.data, tickers.data))) : DASH;
                return (
                  <tr key={a.id} data-testid="accounts-row" className="clickable" onClick={() => go("account", a.id)}>
                    <td>{a.id}</td>
                    <td>
                      {a.exchange}
                      {a.demo ? <span className="badge warn">demo</span> : null}
                      {a.posMode ? <span className="muted"> {a.posMode === "long_short_mode" ? "hedge" : "net"}</span> : null}
                    </td>
                    <td className="r num">{fmtMoney(a.equity)}</td>
                    <td className="r num">{fmtMoney(a.available)}</td>
                    <td className="r">
                      <Signed v={a.upl} />
                    </td>
                    <td className="r num" title={row?.error ?? ""}>
                      {row?.error ? "error" : ex}
                    </td>
                  </tr>
                );
              })}
            </Table>
          )}
        </Panel>
        <KillSwitch />
      </div>
      <Panel id="pnl" title="PnL per trader and account (after fees and funding)" state={pnl} empty="No fills booked yet.">
        {() => (
          <Table testid="pnl-table" cols={["Trader / origin", "Account", right("Realized"), right("Fees"), right("Funding"), right("Unrealized"), right("Net")]}>
            {byTrader.flatMap(([origin, list]) =>
              list.map((r) => (
                <tr key={`${origin}/${r.account}`} data-testid="pnl-row" data-origin={origin}>
                  <td>{origin}</td>
                  <td>{r.account}</td>
                  <td className="r">
                    <Signed v={r.realized} />
                  </td>
                  <td className="r">
                    <Signed v={r.fees} />
                  </td>
                  <td className="r">
                    <Signed v={r.funding} />
                  </td>
                  <td className="r">{r.unrealized === null ? DASH : <Signed v={r.unrealized} />}</td>
                  <td className="r strong">
                    <Signed v={netOf(r)} testid="pnl-net" />
                  </td>
                </tr>
              )),
            )}
          </Table>
        )}
      </Panel>
      <CurvesPanel id="pnl-curves" title="Net PnL per trader (7 days)" state={pnlCurves} empty="No PnL snapshots yet (each minute and after each fill)." testid="pnl-chart" />
      <CurvesPanel id="equity-curves" title="Equity curves" state={equity} empty="No equity snapshots yet (one a minute per account)." testid="equity-chart" />
    </div>
  );
}
