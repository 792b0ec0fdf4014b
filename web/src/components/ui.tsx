// Building blocks: a panel with its loading / error / empty states, error
// boxes that show the engine's {code, message, rule}, signed figures.
import { useEffect, useState, type ReactNode } from "react";
import { ApiError } from "../api/client";
import type { Loaded } from "../app/context";
import { fmtSigned, signClass } from "../lib/format";

export function ErrorBox(props: { error: unknown; testid?: string; onRetry?: () => void }) {
  const e = props.error;
  const code = e instanceof ApiError ? e.code : "error";
  const rule = e instanceof ApiError ? e.rule : null;
  const field = e instanceof ApiError ? e.field : null;
  const msg = e instanceof Error ? e.message : String(e);
  const status = e instanceof ApiError && e.status ? ` (HTTP ${e.status})` : "";
  return (
    <div className="error" role="alert" data-testid={props.testid ?? "error"}>
      <span className="error-code" data-testid={`${props.testid ?? "error"}-code`}>
        {code}
        {status}
      </span>
      {rule ? (
        <span className="error-rule" data-testid={`${props.testid ?? "error"}-rule`}>
          {rule}
        </span>
      ) : null}
      {field ? (
        <span className="error-field" data-testid={`${props.testid ?? "error"}-field`}>
          {field}
        </span>
      ) : null}
      <span className="error-msg" data-testid={`${props.testid ?? "error"}-message`}>
        {msg}
      </span>
      {props.onRetry ? (
        <button className="link" onClick={props.onRetry}>
          retry
        </button>
      ) : null}
    </div>
  );
}

/**
 * A titled panel. Given `state`, it shows "Loading…" until the first answer,
 * the error (with retry) when there is one, `empty` when `isEmpty` says so,
 * and its children otherwise (stale data stays visible under an error).
 */
export function Panel<T>(props: {
  id: string;
  title: ReactNode;
  actions?: ReactNode;
  state?: Loaded<T>;
  isEmpty?: (d: T) => boolean;
  empty?: ReactNode;
  className?: string;
  children?: ReactNode | ((d: T) => ReactNode);
}) {
  const s = props.state;
  let body: ReactNode;
  if (!s) {
    body = typeof props.children === "function" ? null : props.children;
  } else if (s.data === undefined) {
    body = s.error ? (
      <ErrorBox error={s.error} testid={`${props.id}-error`} onRetry={s.reload} />
    ) : (
      <div className="muted state" data-testid={`${props.id}-loading`}>
        Loading…
      </div>
    );
  } else {
    const d = s.data;
    const empty = props.isEmpty ? props.isEmpty(d) : Array.isArray(d) && d.length === 0;
    body = (
      <>
        {s.error ? <ErrorBox error={s.error} testid={`${props.id}-error`} onRetry={s.reload} /> : null}
        {empty ? (
          <div className="muted state" data-testid={`${props.id}-empty`}>
            {props.empty ?? "Nothing yet."}
          </div>
        ) : typeof props.children === "function" ? (
          props.children(d)
        ) : (
          props.children
        )}
      </>
    );
  }
  return (
    <section className={`panel ${props.className ?? ""}`} data-testid={props.id}>
      <header className="panel-head">
        <h2>{props.title}</h2>
        {props.actions ? <div className="panel-actions">{props.actions}</div> : null}
      </header>
      <div className="panel-body">{body}</div>
    </section>
  );
}

/** A column head: its text, or `right(text)` for a column of figures. */
export type Col = string | { label: string; right: true };
export const right = (label: string): Col => ({ label, right: true });

/**
 * A table in its scrolling box: `cols` the head row (none: no head), the
 * children its body rows. Every listing on the pages is one of these.
 */
export function Table(props: { testid: string; cols?: readonly Col[]; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table data-testid={props.testid}>
        {props.cols ? (
          <thead>
            <tr>
              {props.cols.map((c, i) =>
                typeof c === "string" ? (
                  <th key={i}>{c}</th>
                ) : (
                  <th key={i} className="r">
                    {c.label}
                  </th>
                ),
              )}
            </tr>
          </thead>
        ) : null}
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** A headline figure: its label over its value. */
export function Card(props: { label: ReactNode; testid?: string; valueClass?: string; valueTestid?: string; children: ReactNode }) {
  return (
    <div className="card" data-testid={props.testid}>
      <div className="card-label">{props.label}</div>
      <div className={props.valueClass ? `card-value ${props.valueClass}` : "card-value"} data-testid={props.valueTestid}>
        {props.children}
      </div>
    </div>
  );
}

/** A signed money figure in green/red: "+12.30". */
export function Signed(props: { v: string | null | undefined; dp?: number; testid?: string; suffix?: string }) {
  return (
    <span className={`num ${signClass(props.v)}`} data-testid={props.testid}>
      {fmtSigned(props.v, props.dp ?? 2)}
      {props.suffix ?? ""}
    </span>
  );
}

export function StateBadge(props: { state: string; testid?: string }) {
  const s = props.state.toLowerCase();
  const cls =
    /^(up|ok|running|live|open|filled|active|idle|waiting|ready|valid|approve|approved)$/.test(s)
      ? "good"
      : /^(down|failed|error|rejected|tripped|stopped|dead|unknown|canceled|cancelled|invalid|reject)$/.test(s)
        ? "bad"
        : "warn";
  return (
    <span className={`badge ${cls}`} data-testid={props.testid}>
      {props.state}
    </span>
  );
}

export function Modal(props: { title: string; onClose: () => void; children: ReactNode; testid?: string; wide?: boolean }) {
  useEffect(() => {
    const f = (e: KeyboardEvent) => {
      if (e.key === "Escape") props.onClose();
    };
    window.addEventListener("keydown", f);
    return () => window.removeEventListener("keydown", f);
  }, [props]);
  return (
    <div className="modal-back" onClick={props.onClose}>
      <div
        className={`modal ${props.wide ? "wide" : ""}`}
        role="dialog"
        aria-label={props.title}
        data-testid={props.testid ?? "modal"}
        onClick={(e) => e.stopPropagation()}
      >
        <header className="panel-head">
          <h2>{props.title}</h2>
          <button className="link" onClick={props.onClose} data-testid="modal-close" aria-label="close">
            ✕
          </button>
        </header>
        <div className="modal-body">{props.children}</div>
      </div>
    </div>
  );
}

/** A button that runs an async change, disables itself meanwhile and shows its error. */
export function ActionButton(props: {
  run: () => Promise<unknown>;
  children: ReactNode;
  testid?: string;
  className?: string;
  confirm?: string;
  onDone?: () => void;
  disabled?: boolean;
  title?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  return (
    <span className="action">
      <button
        className={props.className ?? ""}
        data-testid={props.testid}
        disabled={busy || props.disabled}
        title={props.title}
        onClick={() => {
          if (props.confirm && !window.confirm(props.confirm)) return;
          setBusy(true);
          setErr(null);
          props
            .run()
            .then(() => props.onDone?.())
            .catch((e: unknown) => setErr(e))
            .finally(() => setBusy(false));
        }}
      >
        {busy ? "…" : props.children}
      </button>
      {err ? <ErrorBox error={err} testid={props.testid ? `${props.testid}-error` : "action-error"} /> : null}
    </span>
  );
}

export function Field(props: { label: string; children: ReactNode; hint?: ReactNode }) {
  return (
    <label className="field">
      <span className="field-label">{props.label}</span>
      {props.children}
      {props.hint ? <span className="field-hint">{props.hint}</span> : null}
    </label>
  );
}

export function Segmented<T extends string>(props: {
  value: T;
  options: readonly { value: T; label: string; className?: string }[];
  onChange: (v: T) => void;
  testid?: string;
}) {
  return (
    <div className="segmented" role="radiogroup" data-testid={props.testid}>
      {props.options.map((o) => (
        <button
          key={o.value}
          type="button"
          role="radio"
          aria-checked={o.value === props.value}
          className={`${o.value === props.value ? "on" : ""} ${o.className ?? ""}`}
          data-testid={props.testid ? `${props.testid}-${o.value}` : undefined}
          onClick={() => props.onChange(o.value)}
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}

/** Re-renders every `ms` (countdowns, ages). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
