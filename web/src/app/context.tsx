// What every page shares: the API client, the /ws stream, the token, the
// instruments (specs for sizes and ticks) and live tickers.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Api, ApiError } from "../api/client";
import type { Auth } from "../api/auth";
import { decodeTicker, type Instrument, type Ticker } from "../api/types";
import { Stream, type ConnState, type StreamMessage, type StreamType } from "../api/ws";

export interface TokenRequest {
  reason: string;
  resolve: (token: string | null) => void;
}

interface AppCtx {
  api: Api;
  stream: Stream;
  auth: Auth;
  tokenRequest: TokenRequest | null;
  askToken: (reason: string) => Promise<string | null>;
  hasToken: boolean;
  setToken: (t: string | null) => void;
}

const Ctx = createContext<AppCtx | null>(null);

export function useApp(): AppCtx {
  const c = useContext(Ctx);
  if (!c) throw new Error("useApp outside AppProvider");
  return c;
}

export function AppProvider(props: { api: (ask: (err: ApiError) => Promise<string | null>) => Api; stream: Stream; auth: Auth; children: ReactNode }) {
  const [tokenRequest, setTokenRequest] = useState<TokenRequest | null>(null);
  const [hasToken, setHasToken] = useState(props.auth.get() !== null);
  const askToken = useCallback(
    (reason: string) =>
      new Promise<string | null>((resolve) => {
        setTokenRequest({
          reason,
          resolve: (t) => {
            setTokenRequest(null);
            if (t) {
              props.auth.set(t);
              setHasToken(true);
            }
            resolve(t);
          },
        });
      }),
    [props.auth],
  );
  const api = useMemo(
    () =>
      props.api((err) =>
        askToken(
          props.auth.get()
            ? `The engine refused the token (${err.message}). Enter the dashboard token:`
            : "This change needs the dashboard token (printed by the engine at start, or in data_dir/dashboard.token):",
        ),
      ),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  const setToken = useCallback(
    (t: string | null) => {
      props.auth.set(t);
      setHasToken(props.auth.get() !== null);
    },
    [props.auth],
  );
  useEffect(() => {
    props.stream.start();
    return () => props.stream.stop();
  }, [props.stream]);
  const value = useMemo(
    () => ({ api, stream: props.stream, auth: props.auth, tokenRequest, askToken, hasToken, setToken }),
    [api, props.stream, props.auth, tokenRequest, askToken, hasToken, setToken],
  );
  return <Ctx.Provider value={value}>{props.children}</Ctx.Provider>;
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, "error", e instanceof Error ? e.message : String(e));
}

/**
 * Loads `fn` now, again when `deps` change, every `refreshMs`, on stream
 * messages of the `on` types (at most once per `throttleMs`) and after the
 * stream reconnects. A failed reload keeps the last data and shows the error.
 */
export function useApi<T>(
  fn: (api: Api) => Promise<T>,
  deps: readonly unknown[],
  opts: { refreshMs?: number; on?: readonly StreamType[]; throttleMs?: number; enabled?: boolean } = {},
): Loaded<T> {
  const { api, stream } = useApp();
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const enabled = opts.enabled ?? true;

  const load = useCallback(() => {
    if (!enabled) return;
    const my = ++seq.current;
    setLoading(true);
    fnRef
      .current(api)
      .then((d) => {
        if (my !== seq.current) return;
        setData(d);
        setError(null);
      })
      .catch((e: unknown) => {
        if (my !== seq.current) return;
        setError(asApiError(e));
      })
      .finally(() => {
        if (my === seq.current) setLoading(false);
      });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, enabled, ...deps]);

  useEffect(() => {
    setData(undefined);
    setError(null);
    load();
    return () => {
      seq.current++;
    };
  }, [load]);

  useEffect(() => {
    if (!opts.refreshMs || !enabled) return;
    const t = setInterval(load, opts.refreshMs);
    return () => clearInterval(t);
  }, [load, opts.refreshMs, enabled]);

  const onKey = (opts.on ?? []).join(",");
  const throttleMs = opts.throttleMs ?? 1000;
  useEffect(() => {
    if (!onKey || !enabled) return;
    const types = new Set(onKey.split(","));
    let pending: ReturnType<typeof setTimeout> | null = null;
    let last = 0;
    const fire = () => {
      pending = null;
      last = Date.now();
      load();
    };
    const unsub = stream.subscribe((m) => {
      if (!types.has(m.type) || pending) return;
      const wait = Math.max(0, last + throttleMs - Date.now());
      pending = setTimeout(fire, wait);
    });
    return () => {
      unsub();
      if (pending) clearTimeout(pending);
    };
  }, [load, onKey, throttleMs, stream, enabled]);

  useEffect(() => {
    let prev = stream.reconnects;
    return stream.onState((s, n) => {
      if (s === "open" && n !== prev) {
        prev = n;
        load();
      }
    });
  }, [load, stream]);

  return { data, error, loading, reload: load };
}

export function useStream(types: readonly StreamType[], fn: (m: StreamMessage) => void): void {
  const { stream } = useApp();
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const key = types.join(",");
  useEffect(() => {
    const set = new Set(key.split(","));
    return stream.subscribe((m) => {
      if (set.has(m.type)) fnRef.current(m);
    });
  }, [key, stream]);
}

export function useConnState(): ConnState {
  const { stream } = useApp();
  const [s, setS] = useState<ConnState>(stream.state);
  useEffect(() => stream.onState((x) => setS(x)), [stream]);
  return s;
}

/** Instruments by instId (loaded once, refreshed every 5 minutes). */
export function useInstruments(): Loaded<Map<string, Instrument>> {
  return useApi(async (api) => new Map((await api.instruments()).map((i) => [i.instId, i])), [], { refreshMs: 300000 });
}

/**
 * Tickers: the REST list, then every "ticker" message of the stream merged
 * in (rendered at most 4 times a second).
 */
export function useTickers(): Loaded<Map<string, Ticker>> {
  const base = useApi(async (api) => new Map((await api.tickers()).map((t) => [t.instId, t])), [], { refreshMs: 30000 });
  const [live, setLive] = useState<Map<string, Ticker>>(new Map());
  const buf = useRef<Map<string, Ticker>>(new Map());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useStream(["ticker"], (m) => {
    try {
      const t = decodeTicker(m.data, "ticker");
      buf.current.set(t.instId, { ...(buf.current.get(t.instId) ?? {}), ...stripNulls(t) } as Ticker);
    } catch {
      return;
    }
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      setLive(new Map(buf.current));
    }, 250);
  });
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const merged = useMemo(() => {
    if (!base.data && live.size === 0) return undefined;
    const m = new Map(base.data ?? []);
    for (const [k, t] of live) {
      const b = m.get(k);
      m.set(k, b ? ({ ...b, ...stripNulls(t) } as Ticker) : t);
    }
    return m;
  }, [base.data, live]);
  return { ...base, data: merged };
}

function stripNulls<T extends object>(t: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(t) as [keyof T, T[keyof T]][]) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

/** The hash route: "#/trade/BTC-USDT-SWAP" -> ["trade", "BTC-USDT-SWAP"]. */
export function useRoute(): string[] {
  const read = () =>
    window.location.hash
      .replace(/^#\/?/, "")
      .split("/")
      .filter((s) => s !== "")
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          return s;
        }
      });
  const [r, setR] = useState<string[]>(read);
  useEffect(() => {
    const f = () => setR(read());
    window.addEventListener("hashchange", f);
    return () => window.removeEventListener("hashchange", f);
  }, []);
  return r;
}

export function go(...parts: string[]): void {
  window.location.hash = `#/${parts.map(encodeURIComponent).join("/")}`;
}
