// System: the engine's health and plugins, connections, and the
// observability board (trigger sources' shares, AI latency, reject top 5)
// over the last decisions, plus a few engine gauges from /metrics; shadow
// against live per trader and symbol (GET /api/shadow).
import { useMemo } from "react";
import { fetchShadow, type ShadowRow, type ShadowSide } from "../api/shadow";
import type { PluginState } from "../api/types";
import { useApi, useConnState } from "../app/context";
import { Card, Panel, right, Signed, StateBadge, Table } from "../components/ui";
import { latencyByProvider, parsePrometheus, refusedVerdicts, rejectTop, triggerShares, type Sample } from "../lib/stats";
import { DASH, fmtDuration, fmtInt, fmtMs } from "../lib/format";

const WINDOW = 200;

const GAUGES: readonly [string, string][] = [
  ["aitrader_bus_queue_depth", "bus queue depth"],
  ["aitrader_bus_overflows_total", "bus overflows"],
  ["aitrader_bus_dropped_total", "market events dropped"],
  ["aitrader_net_rx_paused", "network rx paused"],
  ["aitrader_storage_queue_depth", "storage queue depth"],
  ["aitrader_storage_write_errors_total", "storage write errors"],
  ["aitrader_ai_requests_total", "AI requests"],
  ["aitrader_ai_errors_total", "AI errors"],
  ["aitrader_breaker_tripped_accounts", "breaker: tripped accounts"],
  ["aitrader_breaker_safe_mode_traders", "breaker: traders in safe mode"],
];

function sumOf(samples: readonly Sample[], name: string): number | null {
  const xs = samples.filter((s) => s.name === name);
  return xs.length ? xs.reduce((a, s) => a + s.value, 0) : null;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** A plugin instance and its state: with its module and kind in the plugin list. */
function PluginRow(props: { p: PluginState; full?: boolean; testid?: string }) {
  const p = props.p;
  return (
    <tr data-testid={props.testid}>
      <td>{p.instance}</td>
      {props.full ? (
        <>
          <td>{p.module}</td>
          <td>{p.kind}</td>
        </>
      ) : null}
      <td>
        <StateBadge state={p.state} />
      </td>
      <td className="muted">{p.detail}</td>
    </tr>
  );
}

/** One book of a trader's symbol: what went that way and what it made. */
function ShadowBookRow(props: { r: ShadowRow; book: "live" | "shadow" }) {
  const { r, book } = props;
  const x: ShadowSide = r[book];
  return (
    <tr data-testid="shadow-row" data-book={book} data-trader={r.trader} data-symbol={r.symbol}>
      {book === "live" ? (
        <>
          <td rowSpan={2}>{r.trader}</td>
          <td rowSpan={2}>{r.symbol}</td>
        </>
      ) : null}
      <td>
        <span className={book === "shadow" ? "warn-text" : undefined}>{book}</span>{" "}
        <span className="muted small-text">{x.account}</span>
      </td>
      <td className="r num">{fmtInt(x.decisions)}</td>
      <td className="r num">{fmtInt(x.entries)}</td>
      <td className="r num">{fmtInt(x.round_trips)}</td>
      <td className="r num">{x.hit_rate === null ? DASH : pct(x.hit_rate)}</td>
      <td className="r">
        <Signed v={x.realized} />
      </td>
      <td className="r">{x.unrealized === null ? DASH : <Signed v={x.unrealized} />}</td>
      <td className="r">
        <Signed v={x.fees} />
      </td>
      <td className="r">
        <Signed v={x.funding} />
      </td>
      <td className="r">{x.net === null ? DASH : <Signed v={x.net} testid={`shadow-net-${book}`} />}</td>
    </tr>
  );
}

export default function System() {
  const health = useApi((a) => a.health(), [], { refreshMs: 5000, on: ["status"] });
  const decisions = useApi((a) => a.decisions({ limit: WINDOW }), [], { refreshMs: 30000, on: ["decision"], throttleMs: 5000 });
  const metrics = useApi(async (a) => parsePrometheus(await a.metrics()), [], { refreshMs: 15000 });
  const risk = useApi((a) => a.risk(), [], { refreshMs: 15000, on: ["order"], throttleMs: 5000 });
  const shadow = useApi((a) => fetchShadow(a), [], { refreshMs: 15000, on: ["fill"], throttleMs: 5000 });
  const ws = useConnState();
  const board = useMemo(() => {
    const d = decisions.data ?? [];
    // the engine's newest refusals (manual orders too), else the decisions' verdicts
    const refused = risk.data && risk.data.rejections.length > 0 ? risk.data.rejections : refusedVerdicts(d);
    return { rejects: rejectTop(refused, 5), refusedFrom: risk.data?.rejections.length ? "risk" : "decisions", triggers: triggerShares(d), latency: latencyByProvider(d) };
  }, [decisions.data, risk.data]);

  return (
    <div className="page" data-testid="page-system">
      <Panel id="health" title="Engine" state={health} isEmpty={() => false}>
        {(h) => (
          <div className="cards">
            <Card label="Status">
              <StateBadge state={h.status} testid="health-status" />
            </Card>
            <Card label="Mode" valueTestid="health-mode">
              {h.mode || DASH}
            </Card>
            <Card label="Version" valueClass="mono">
              {h.version || DASH}
            </Card>
            <Card label="Uptime">{fmtDuration(h.uptime_s * 1000)}</Card>
          </div>
        )}
      </Panel>
      <div className="grid2">
        <Panel id="plugins" title="Plugins" state={health} isEmpty={(h) => h.plugins.length === 0} empty="No plugin instances.">
          {(h) => (
            <Table testid="plugins-table" cols={["Instance", "Module", "Kind", "State", "Detail"]}>
              {h.plugins.map((p) => (
                <PluginRow key={p.instance} p={p} full testid="plugin-row" />
              ))}
            </Table>
          )}
        </Panel>
        <Panel id="connections" title="Connections">
          <Table testid="connections-table">
            <tr>
              <td>dashboard stream (/ws)</td>
              <td>
                <StateBadge state={ws} testid="conn-ws" />
              </td>
              <td />
            </tr>
            {(health.data?.plugins ?? [])
              .filter((p) => /^(exchange|ai|source|storage)$/.test(p.kind))
              .map((p) => (
                <PluginRow key={p.instance} p={p} />
              ))}
          </Table>
        </Panel>
      </div>
      <div className="grid2">
        <Panel id="ai-latency" title={`AI latency · last ${WINDOW} decisions`} state={decisions} empty="No decisions yet.">
          {() => (
            <Table testid="latency-table" cols={["Provider / model", right("Calls"), right("p50"), right("p95"), right("max"), right("Invalid")]}>
              {board.latency.map((l) => (
                <tr key={l.provider}>
                  <td>{l.provider}</td>
                  <td className="r num">{fmtInt(l.calls)}</td>
                  <td className="r num">{fmtMs(l.p50)}</td>
                  <td className="r num">{fmtMs(l.p95)}</td>
                  <td className="r num">{fmtMs(l.max)}</td>
                  <td className="r num">{fmtInt(l.invalid)}</td>
                </tr>
              ))}
            </Table>
          )}
        </Panel>
        <Panel
          id="rejects"
          title={board.refusedFrom === "risk" ? `Risk rejects · top 5 of the last ${risk.data?.rejections.length ?? 0}` : "Risk rejects · top 5"}
          state={decisions} isEmpty={() => board.rejects.length === 0} empty="No refusals in the last decisions.">
          {() => (
            <Table testid="rejects-table" cols={["Rule", right("Count"), right("Share"), "Example"]}>
              {board.rejects.map((r) => (
                <tr key={r.key} data-testid="reject-row">
                  <td>{r.key}</td>
                  <td className="r num">{fmtInt(r.count)}</td>
                  <td className="r num">{pct(r.share)}</td>
                  <td className="muted small-text">{r.example}</td>
                </tr>
              ))}
            </Table>
          )}
        </Panel>
      </div>
      <Panel
        id="shadow"
        title="Shadow vs live"
        state={shadow}
        empty="No trader uses shadow: set shadow_account (and shadow = true or live_weight) on a trader to compare its shadow book with its live one.">
        {(rows) => (
          <Table
            testid="shadow-table"
            cols={["Trader", "Symbol", "Book", right("Decisions"), right("Entries"), right("Round trips"), right("Hit rate"), right("Realized"), right("uPnL"), right("Fees"), right("Funding"), right("Net")]}>
            {rows.flatMap((r) => [
              <ShadowBookRow key={`${r.trader}/${r.symbol}/live`} r={r} book="live" />,
              <ShadowBookRow key={`${r.trader}/${r.symbol}/shadow`} r={r} book="shadow" />,
            ])}
          </Table>
        )}
      </Panel>
      <div className="grid2">
        <Panel id="triggers" title="Trigger sources" state={decisions} empty="No decisions yet.">
          {() => (
            <ul className="bars" data-testid="trigger-shares">
              {board.triggers.map((t) => (
                <li key={t.key} title={t.example}>
                  <span className="bar-label">{t.key}</span>
                  <span className="bar">
                    <span style={{ width: pct(t.share).replace(" ", "") }} />
                  </span>
                  <span className="num">
                    {fmtInt(t.count)} · {pct(t.share)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Panel>
        <Panel id="metrics" title="Engine gauges (/metrics)" state={metrics} empty="No metrics.">
          {(samples) => (
            <Table testid="metrics-table">
              {GAUGES.map(([name, label]) => {
                const v = sumOf(samples, name);
                return (
                  <tr key={name}>
                    <td>{label}</td>
                    <td className="r num">{v === null ? DASH : fmtInt(v)}</td>
                    <td className="muted mono small-text">{name}</td>
                  </tr>
                );
              })}
            </Table>
          )}
        </Panel>
      </div>
    </div>
  );
}
