// The shell: left navigation (a top bar on phones), the stream's state, the
// token, and the page of the hash route (#/overview, #/trade/BTC-USDT-SWAP …).
import { useState, type ReactNode } from "react";
import { useApi, useApp, useConnState, useRoute } from "./context";
import { Modal } from "../components/ui";
import Overview from "../pages/Overview";
import Trade from "../pages/Trade";
import Traders from "../pages/Traders";
import Arena from "../pages/Arena";
import AccountPage from "../pages/Account";
import Market from "../pages/Market";
import News from "../pages/News";
import System from "../pages/System";

const PAGES: readonly { id: string; label: string; icon: string }[] = [
  { id: "overview", label: "Overview", icon: "◎" },
  { id: "trade", label: "Trade", icon: "⇅" },
  { id: "traders", label: "Traders", icon: "✦" },
  { id: "arena", label: "Arena", icon: "⚑" },
  { id: "account", label: "Account", icon: "▤" },
  { id: "market", label: "Market", icon: "↗" },
  { id: "news", label: "News", icon: "✉" },
  { id: "system", label: "System", icon: "⚙" },
];

function TokenDialog() {
  const { tokenRequest } = useApp();
  const [value, setValue] = useState("");
  if (!tokenRequest) return null;
  const done = (t: string | null) => {
    setValue("");
    tokenRequest.resolve(t);
  };
  return (
    <Modal title="Dashboard token" onClose={() => done(null)} testid="token-dialog">
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          done(value.trim() || null);
        }}
      >
        <p>{tokenRequest.reason}</p>
        <input type="password" autoFocus autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} data-testid="token-input" aria-label="token" />
        <div className="row">
          <button type="submit" className="primary" data-testid="token-submit">
            Use token
          </button>
          <button type="button" onClick={() => done(null)} data-testid="token-cancel">
            Cancel
          </button>
        </div>
        <p className="muted small-text">Kept in this tab only (sessionStorage). Open the URL the engine prints (…/#token=…) to skip this.</p>
      </form>
    </Modal>
  );
}

function Header() {
  const { hasToken, setToken, askToken } = useApp();
  const ws = useConnState();
  const health = useApi((a) => a.health(), [], { refreshMs: 10000 });
  const risk = useApi((a) => a.risk(), [], { refreshMs: 5000, on: ["alert"] });
  const ks = risk.data?.kill_switch.on;
  return (
    <header className="top">
      <span className={`dot ${ws}`} title={`stream: ${ws}`} data-testid="ws-state" data-state={ws} />
      <span className="muted small-text">{ws === "open" ? "live" : ws === "connecting" ? "connecting…" : "offline, retrying"}</span>
      {health.data ? (
        <span className={`badge ${health.data.mode === "live" ? "bad" : "warn"}`} data-testid="engine-mode">
          {health.data.mode || "?"}
        </span>
      ) : health.error ? (
        <span className="badge bad" data-testid="engine-down" title={health.error.message}>
          engine unreachable
        </span>
      ) : null}
      {ks ? (
        <a className="badge bad" href="#/overview" data-testid="killswitch-banner">
          kill switch ON
        </a>
      ) : null}
      <span className="grow" />
      {hasToken ? (
        <button className="link small-text" onClick={() => setToken(null)} data-testid="token-forget" title="forget the token in this tab">
          token set · forget
        </button>
      ) : (
        <button className="link small-text" onClick={() => void askToken("Enter the dashboard token (changes need it):")} data-testid="token-set">
          set token
        </button>
      )}
    </header>
  );
}

export default function App() {
  const route = useRoute();
  const page = PAGES.some((p) => p.id === route[0]) ? (route[0] ?? "overview") : "overview";
  let body: ReactNode;
  switch (page) {
    case "trade":
      body = <Trade route={route} />;
      break;
    case "traders":
      body = <Traders route={route} />;
      break;
    case "arena":
      body = <Arena />;
      break;
    case "account":
      body = <AccountPage route={route} />;
      break;
    case "market":
      body = <Market route={route} />;
      break;
    case "news":
      body = <News route={route} />;
      break;
    case "system":
      body = <System />;
      break;
    default:
      body = <Overview />;
  }
  return (
    <div className="shell">
      <nav className="nav" data-testid="nav">
        <div className="brand">aitrader</div>
        {PAGES.map((p) => (
          <a key={p.id} href={`#/${p.id}`} className={p.id === page ? "on" : ""} data-testid={`nav-${p.id}`} aria-current={p.id === page ? "page" : undefined}>
            <span className="icon" aria-hidden>
              {p.icon}
            </span>
            <span>{p.label}</span>
          </a>
        ))}
      </nav>
      <main className="main">
        <Header />
        {body}
      </main>
      <TokenDialog />
    </div>
  );
}
