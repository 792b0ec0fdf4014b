// The /ws stream: {"type": "ticker"|"book"|"balance"|"position"|"order"|
// "fill"|"decision"|"alert"|"status"|"news"|"sentiment", "data": {…}}.
// Reconnects by itself with a growing delay (0.5 s doubling to 10 s,
// jittered) and tells its listeners each time it is back, so panels reload
// what they may have missed.
import { isObj } from "./decode";

export const STREAM_TYPES = ["ticker", "book", "balance", "position", "order", "fill", "decision", "alert", "status", "news", "sentiment"] as const;
export type StreamType = (typeof STREAM_TYPES)[number];

export interface StreamMessage {
  type: StreamType;
  data: Record<string, unknown>;
}

export type ConnState = "connecting" | "open" | "closed";

/** The part of the browser's WebSocket the stream uses (the `ws` package fits too). */
export interface WsLike {
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  close(): void;
}
export type WsFactory = (url: string) => WsLike;

export function parseMessage(raw: unknown): StreamMessage | null {
  if (typeof raw !== "string") return null;
  let v: unknown;
  try {
    v = JSON.parse(raw) as unknown;
  } catch {
    return null;
  }
  if (!isObj(v)) return null;
  const type = v["type"];
  const data = v["data"];
  if (typeof type !== "string" || !(STREAM_TYPES as readonly string[]).includes(type)) return null;
  return { type: type as StreamType, data: isObj(data) ? data : {} };
}

type Listener = (m: StreamMessage) => void;

export interface StreamOptions {
  url: string;
  factory: WsFactory;
  minDelayMs?: number;
  maxDelayMs?: number;
}

export class Stream {
  private ws: WsLike | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<(s: ConnState, reconnects: number) => void>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delay: number;
  private stopped = true;
  private _state: ConnState = "closed";
  /** times the stream came back after a loss */
  reconnects = 0;
  private everOpened = false;
  lastMessageMs = 0;

  constructor(private readonly opts: StreamOptions) {
    this.delay = opts.minDelayMs ?? 500;
  }

  get state(): ConnState {
    return this._state;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.onerror = null;
      ws.close();
    }
    this.setState("closed");
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onState(fn: (s: ConnState, reconnects: number) => void): () => void {
    this.stateListeners.add(fn);
    fn(this._state, this.reconnects);
    return () => this.stateListeners.delete(fn);
  }

  private setState(s: ConnState): void {
    if (s === this._state) return;
    this._state = s;
    for (const fn of this.stateListeners) fn(s, this.reconnects);
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState("connecting");
    let ws: WsLike;
    try {
      ws = this.opts.factory(this.opts.url);
    } catch {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.delay = this.opts.minDelayMs ?? 500;
      if (this.everOpened) this.reconnects += 1;
      this.everOpened = true;
      this.setState("open");
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      const m = parseMessage(ev.data);
      if (!m) return;
      this.lastMessageMs = Date.now();
      for (const fn of this.listeners) fn(m);
    };
    ws.onerror = () => {
      // onclose follows; it schedules the reconnect
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setState("closed");
      this.schedule();
    };
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    const jitter = 0.8 + Math.random() * 0.4;
    const wait = Math.round(this.delay * jitter);
    this.delay = Math.min(this.delay * 2, this.opts.maxDelayMs ?? 10000);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, wait);
  }
}

/** ws:// or wss:// of /ws on the page's own host. */
export function streamUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/ws`;
}

/** The browser's WebSocket behind the WsLike the stream uses. */
export function browserWs(url: string): WsLike {
  const ws = new WebSocket(url);
  const w: WsLike = { onopen: null, onclose: null, onerror: null, onmessage: null, close: () => ws.close() };
  ws.onopen = (e) => w.onopen?.(e);
  ws.onclose = (e) => w.onclose?.(e);
  ws.onerror = (e) => w.onerror?.(e);
  ws.onmessage = (e: MessageEvent<unknown>) => w.onmessage?.({ data: e.data });
  return w;
}
