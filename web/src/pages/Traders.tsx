// Traders: each trader's state and next call with pause / resume / run now,
// and the decision timeline (live): trigger, model, latency, tokens, cost,
// the actions with their reasons, risk verdicts, orders; a click opens the
// prompt and the raw response.
import { useState } from "react";
import type { Decision, Trader } from "../api/types";
import { go, useApi, useApp } from "../app/context";
import { ActionButton, ErrorBox, Modal, Panel, Signed, StateBadge, useNow } from "../components/ui";
import { sideClass } from "../components/tables";
import { DASH, fmtDuration, fmtInt, fmtMoney, fmtMs, fmtPct, fmtSz, fmtTime } from "../lib/format";

function TraderCard(props: { t: Trader; onChanged: () => void; selected: boolean }) {
  const { api } = useApp();
  const now = useNow(1000);
  const t = props.t;
  const paused = /paus/i.test(t.state);
  return (
    <div className={`card trader ${props.selected ? "selected" : ""}`} data-testid="trader-card" data-trader={t.id}>
      <div className="row spread">
        <button className="link strong" onClick={() => go("traders", t.id)} data-testid="trader-select">
          {t.id}
        </button>
        <StateBadge state={t.state} testid="trader-state" />
      </div>
      <div className="kv">
        <span>AI</span>
        <span>
          {t.ai ?? DASH}
          {t.model ? <span className="muted"> {t.model}</span> : null}
        </span>
        <span>Account</span>
        <span>{t.account ?? DASH}</span>
        <span>Symbols</span>
        <span>{t.symbols.length ? t.symbols.join(", ") : DASH}</span>
        <span>Next call</span>
        <span data-testid="trader-next">
          {t.next_call_ms ? (t.next_call_ms > now ? `in ${fmtDuration(t.next_call_ms - now)}` : "due") : DASH}
        </span>
        <span>Last trigger</span>
        <span>{t.last_trigger_ms ? `${fmtDuration(now - t.last_trigger_ms)} ago` : DASH}</span>
        <span>Period</span>
        <span>
          {t.mode ?? DASH}
          {t.in_flight ? <span className="warn-text"> · {t.in_flight} call in flight</span> : null}
        </span>
        <span>Decisions</span>
        <span data-testid="trader-decisions">
          {t.decisions === null ? DASH : fmtInt(t.decisions)}
          {t.invalid ? <span className="neg"> ({fmtInt(t.invalid)} invalid)</span> : null}
        </span>
        <span>AI cost today</span>
        <span>{t.cost ? `$${fmtMoney(t.cost, 4)}` : DASH}</span>
        {t.shadow ? (
          <>
            <span>Mode</span>
            <span className="warn-text">shadow (orders checked, not sent)</span>
          </>
        ) : null}
      </div>
      {paused && (t.paused_by || t.paused_reason) ? (
        <div className="warn-text small-text" data-testid="trader-paused">
          paused{t.paused_ms ? ` at ${fmtTime(t.paused_ms)}` : ""}
          {t.paused_by ? ` by ${t.paused_by}` : ""}
          {t.paused_reason ? `: ${t.paused_reason}` : ""}
        </div>
      ) : null}
      {t.detail ? <div className="muted small-text">{t.detail}</div> : null}
      <div className="row wrap">
        {paused ? (
          <ActionButton testid="trader-resume" run={() => api.traderAction(t.id, "resume")} onDone={props.onChanged}>
            Resume
          </ActionButton>
        ) : (
          <ActionButton testid="trader-pause" run={() => api.traderAction(t.id, "pause")} onDone={props.onChanged}>
            Pause
          </ActionButton>
        )}
        <ActionButton testid="trader-run" run={() => api.traderAction(t.id, "run")} onDone={props.onChanged}>
          Run now
        </ActionButton>
      </div>
    </div>
  );
}

function DecisionEntry(props: { d: Decision; onOpen: () => void }) {
  const d = props.d;
  return (
    <li className={`decision ${d.valid ? "" : "invalid"}`} data-testid="decision" data-decision={d.id}>
      <button className="decision-head" onClick={props.onOpen} data-testid="decision-open">
        <span className="nowrap">{fmtTime(d.created_ms)}</span>
        <span className="strong">{d.trader}</span>
        <span className="muted">{d.trigger_reason ?? d.trigger_key ?? ""}</span>
        <span className="muted">
          {d.provider ?? ""} {d.model ?? ""}
        </span>
        <span className="num">{fmtMs(d.latency_ms)}</span>
        <span className="num muted">
          {d.tokens_in === null ? "" : `${fmtInt(d.tokens_in)}→${fmtInt(d.tokens_out)} tok`}
        </span>
        <span className="num muted">{d.cost ? `$${fmtMoney(d.cost, 4)}` : ""}</span>
        {d.net_pnl ? <Signed v={d.net_pnl} /> : null}
        <StateBadge state={d.valid ? "valid" : "invalid"} />
      </button>
      {!d.valid && d.validation ? <div className="neg small-text">{d.validation}</div> : null}
      {d.actions.length > 0 ? (
        <ul className="actions">
          {d.actions.map((a, i) => (
            <li key={i} data-testid="decision-action">
              <span className={`strong ${/long/.test(a.action) ? "pos" : /short/.test(a.action) ? "neg" : "muted"}`}>{a.action}</span> {a.symbol}
              {a.size_pct ? <span className="muted"> size {fmtPct(a.size_pct)}</span> : null}
              {a.leverage ? <span className="muted"> {a.leverage}x</span> : null}
              {a.take_profit ? <span className="muted"> TP {a.take_profit}</span> : null}
              {a.stop_loss ? <span className="muted"> SL {a.stop_loss}</span> : null}
              {a.confidence ? <span className="muted"> conf {a.confidence}</span> : null}
              {a.reason ? <div className="reason">{a.reason}</div> : null}
              {a.invalidation ? <div className="muted small-text">invalidation: {a.invalidation}</div> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {d.verdicts.length > 0 ? (
        <div className="chips">
          {d.verdicts.map((v, i) => (
            <span key={i} className={`chip ${v.allowed ? "good" : "bad"}`} title={v.reason} data-testid="decision-verdict">
              {v.rule}: {v.verdict}
              {!v.allowed && v.reason ? ` — ${v.reason}` : ""}
            </span>
          ))}
        </div>
      ) : null}
      {d.orders.length > 0 ? (
        <div className="chips">
          {d.orders.map((o, i) => (
            <span key={i} className="chip" data-testid="decision-order">
              <span className={sideClass(o.side, o.posSide)}>{o.side}</span> {fmtSz(o.sz)} {o.instId} · {o.state}
              {o.accFillSz && o.avgPx ? ` · filled ${fmtSz(o.accFillSz)} @ ${o.avgPx}` : ""}
            </span>
          ))}
        </div>
      ) : d.intents.length > 0 ? (
        <div className="muted small-text">{d.intents.join(" · ")}</div>
      ) : null}
    </li>
  );
}

function Pre(props: { title: string; text: string | null; testid: string }) {
  if (!props.text) return null;
  return (
    <details open={props.testid !== "detail-system"}>
      <summary>{props.title}</summary>
      <pre data-testid={props.testid}>{props.text}</pre>
    </details>
  );
}

function DecisionDetailModal(props: { id: string; onClose: () => void }) {
  const detail = useApi((a) => a.decision(props.id), [props.id]);
  const d = detail.data;
  return (
    <Modal title={`Decision ${props.id}`} onClose={props.onClose} testid="decision-detail" wide>
      {d ? (
        <div className="stack">
          <div className="muted">
            {fmtTime(d.created_ms)} · {d.provider ?? ""} {d.model ?? ""} · {fmtMs(d.latency_ms)} · {d.validation ?? ""}
          </div>
          {d.first_error ? <div className="neg">First answer invalid: {d.first_error}</div> : null}
          <Pre title="Raw response" text={d.raw_response} testid="detail-raw" />
          <Pre title="Reasoning" text={d.reasoning} testid="detail-reasoning" />
          <Pre title="User prompt" text={d.prompt} testid="detail-prompt" />
          <Pre title="System prompt" text={d.system_prompt} testid="detail-system" />
          <Pre title="First response (retried)" text={d.first_response} testid="detail-first" />
        </div>
      ) : detail.error ? (
        <ErrorBox error={detail.error} testid="decision-detail-error" onRetry={detail.reload} />
      ) : (
        <div className="muted" data-testid="decision-detail-loading">
          Loading…
        </div>
      )}
    </Modal>
  );
}

const PAGE = 50;

export default function Traders(props: { route: string[] }) {
  const selected = props.route[1] ?? "";
  const traders = useApi((a) => a.traders(), [], { refreshMs: 5000, on: ["decision", "status"] });
  const [limit, setLimit] = useState(PAGE);
  const decisions = useApi((a) => a.decisions(selected ? { trader: selected, limit } : { limit }), [selected, limit], {
    on: ["decision", "order", "fill"],
    throttleMs: 1000,
    refreshMs: 30000,
  });
  const [open, setOpen] = useState<string | null>(null);
  return (
    <div className="page" data-testid="page-traders">
      <Panel id="traders" title="Traders" state={traders} empty="No traders: add a [trader.*] section to modules.ini.">
        {(list) => (
          <div className="cards one-col-phone">
            {list.map((t) => (
              <TraderCard key={t.id} t={t} onChanged={traders.reload} selected={t.id === selected} />
            ))}
          </div>
        )}
      </Panel>
      <Panel
        id="timeline"
        title={selected ? `Decisions · ${selected}` : "Decisions · all traders"}
        state={decisions}
        empty="No decisions yet."
        actions={
          selected ? (
            <button className="link" onClick={() => go("traders")} data-testid="timeline-all">
              all traders
            </button>
          ) : null
        }
      >
        {(list) => (
          <>
            <ul className="timeline" data-testid="timeline-list">
              {list.map((d) => (
                <DecisionEntry key={d.id} d={d} onOpen={() => setOpen(d.id)} />
              ))}
            </ul>
            {list.length >= limit ? (
              <button className="link" onClick={() => setLimit(limit + PAGE)} data-testid="timeline-more">
                show more
              </button>
            ) : null}
          </>
        )}
      </Panel>
      {open ? <DecisionDetailModal id={open} onClose={() => setOpen(null)} /> : null}
    </div>
  );
}
