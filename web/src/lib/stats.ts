// The observability board's figures, from the decision log and /metrics.
import type { Decision } from "../api/types";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format: one sample per line, `# ` comments skipped. */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  const re = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = re.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    const lbl = m[3] ?? "";
    const lre = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    let lm: RegExpExecArray | null;
    while ((lm = lre.exec(lbl)) !== null) labels[lm[1] ?? ""] = (lm[2] ?? "").replace(/\\(.)/g, (_s, c: string) => (c === "n" ? "\n" : c));
    const v = Number(m[4]);
    if (Number.isNaN(v)) continue;
    out.push({ name: m[1] ?? "", labels, value: v });
  }
  return out;
}

/** Nearest-rank percentile of the values (p in 0..100); null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1] ?? null;
}

export interface Count {
  key: string;
  count: number;
  share: number;
  example: string;
}

function counted(m: Map<string, { n: number; ex: string }>, total: number, top: number): Count[] {
  return [...m.entries()]
    .map(([key, v]) => ({ key, count: v.n, share: total ? v.n / total : 0, example: v.ex }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
    .slice(0, top);
}

/** Refusals by rule, the most frequent first (each item one refusal). */
export function rejectTop(items: readonly { rule: string; reason: string }[], top = 5): Count[] {
  const m = new Map<string, { n: number; ex: string }>();
  for (const v of items) {
    const e = m.get(v.rule) ?? { n: 0, ex: v.reason };
    e.n++;
    m.set(v.rule, e);
  }
  return counted(m, items.length, top);
}

/** The refusals among the decisions' verdicts. */
export function refusedVerdicts(decisions: readonly Decision[]): { rule: string; reason: string }[] {
  return decisions.flatMap((d) => d.verdicts.filter((v) => !v.allowed));
}

/** What triggered the decisions: the trigger reason's first word (schedule, rsi, price_move …). */
export function triggerShares(decisions: readonly Decision[]): Count[] {
  const m = new Map<string, { n: number; ex: string }>();
  for (const d of decisions) {
    const raw = d.trigger_reason ?? (d.trigger_key ? d.trigger_key.split(":")[1] ?? "" : "");
    const key = (raw.split(/[\s:(=,]/)[0] ?? "").trim() || "unknown";
    const e = m.get(key) ?? { n: 0, ex: raw };
    e.n++;
    m.set(key, e);
  }
  return counted(m, decisions.length, 20);
}

export interface Latency {
  provider: string;
  calls: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
  invalid: number;
}

export function latencyByProvider(decisions: readonly Decision[]): Latency[] {
  const m = new Map<string, { lat: number[]; calls: number; invalid: number }>();
  for (const d of decisions) {
    const key = [d.provider, d.model].filter((x) => x).join(" ") || "unknown";
    const e = m.get(key) ?? { lat: [], calls: 0, invalid: 0 };
    e.calls++;
    if (!d.valid) e.invalid++;
    if (d.latency_ms !== null) e.lat.push(d.latency_ms);
    m.set(key, e);
  }
  return [...m.entries()]
    .map(([provider, e]) => ({
      provider,
      calls: e.calls,
      p50: percentile(e.lat, 50),
      p95: percentile(e.lat, 95),
      max: e.lat.length ? Math.max(...e.lat) : null,
      invalid: e.invalid,
    }))
    .sort((a, b) => b.calls - a.calls);
}
