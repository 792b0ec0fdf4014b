// The dashboard token. The engine prints the page's URL with the token in
// the fragment (http://127.0.0.1:5621/#token=…): a fragment never reaches the
// server, logs or a Referer. The page takes it out of the address bar at once
// (history.replaceState) and keeps it in sessionStorage, which dies with the
// tab. Without one, reads work and the first refused change asks for it.

const KEY = "aitrader.token";

export interface TokenStore {
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
  removeItem(k: string): void;
}

/** The token of a fragment such as "#token=abc" or "#/trade&token=abc", and the fragment without it. */
export function splitTokenFragment(hash: string): { token: string | null; rest: string } {
  const h = hash.startsWith("#") ? hash.slice(1) : hash;
  const parts = h.split("&");
  let token: string | null = null;
  const keep: string[] = [];
  for (const p of parts) {
    const m = /^(?:\/?)token=(.*)$/.exec(p);
    if (m) {
      const raw = m[1] ?? "";
      try {
        token = decodeURIComponent(raw);
      } catch {
        token = raw;
      }
    } else if (p !== "") keep.push(p);
  }
  const rest = keep.join("&");
  return { token: token && token.trim() !== "" ? token.trim() : null, rest: rest ? `#${rest}` : "" };
}

export class Auth {
  private token: string | null;
  constructor(private readonly store: TokenStore | null) {
    this.token = store?.getItem(KEY) ?? null;
  }
  get(): string | null {
    return this.token;
  }
  set(t: string | null): void {
    this.token = t && t.trim() !== "" ? t.trim() : null;
    if (!this.store) return;
    if (this.token) this.store.setItem(KEY, this.token);
    else this.store.removeItem(KEY);
  }
}

function sessionStore(): TokenStore | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/**
 * At page load: a token in the fragment is stored and removed from the
 * address bar (and from history: replaceState, not a new entry).
 */
export function initAuth(): Auth {
  const auth = new Auth(sessionStore());
  const { token, rest } = splitTokenFragment(window.location.hash);
  if (token) {
    auth.set(token);
    const url = window.location.pathname + window.location.search + (rest || "#/overview");
    window.history.replaceState(null, "", url);
  }
  return auth;
}
