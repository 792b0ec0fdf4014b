// Trade: a manual order through the engine's gate (executor + risk chain).
// Size in contracts or USDT (converted exactly, rounded down to lotSz);
// limit prices and TP/SL snapped to the tick; positions with close, open
// orders with cancel; a risk rejection shows its rule.
import { useEffect, useMemo, useState } from "react";
import { ApiError } from "../api/client";
import type { Account, Instrument, PlaceOrder, PlaceResult, Position, Ticker } from "../api/types";
import { go, useApi, useApp, useInstruments, useTickers } from "../app/context";
import { CandleChart, type TradeMarker } from "../components/charts";
import { OrdersTable, PositionsTable } from "../components/tables";
import { ErrorBox, Field, Panel, Segmented } from "../components/ui";
import { contractsInfo, usdtToContracts } from "../lib/contracts";
import { cmp, parseDec } from "../lib/decimal";
import { DASH, fmtMoney, fmtPx, fmtSz, snapToTick } from "../lib/format";

type SizeUnit = "contracts" | "usdt";
type OrdType = "market" | "limit";
type Side = "buy" | "sell";
type PosSide = "long" | "short";

function refPrice(t: Ticker | undefined, side: Side): string | null {
  if (!t) return null;
  return (side === "buy" ? t.askPx : t.bidPx) ?? t.last ?? t.markPx;
}

function InstrumentPicker(props: { specs: Map<string, Instrument>; value: string; onChange: (v: string) => void; tickers?: Map<string, Ticker> | undefined }) {
  const [filter, setFilter] = useState("");
  const ids = [...props.specs.keys()].sort();
  const shown = ids.filter((id) => id.toLowerCase().includes(filter.trim().toLowerCase()));
  return (
    <div className="row wrap">
      <input
        className="narrow"
        placeholder="filter"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
        data-testid="instrument-filter"
        aria-label="filter instruments"
      />
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)} data-testid="instrument-select" aria-label="instrument">
        {props.value && !shown.includes(props.value) ? <option value={props.value}>{props.value}</option> : null}
        {shown.map((id) => (
          <option key={id} value={id}>
            {id}
          </option>
        ))}
      </select>
    </div>
  );
}

function OrderTicket(props: { account: Account; inst: Instrument; ticker: Ticker | undefined; positions: Position[]; onPlaced: () => void }) {
  const { api } = useApp();
  const { inst, account } = props;
  const hedge = account.posMode === "long_short_mode";
  const [unit, setUnit] = useState<SizeUnit>("contracts");
  const [amount, setAmount] = useState("");
  const [ordType, setOrdType] = useState<OrdType>("market");
  const [px, setPx] = useState("");
  const [posSide, setPosSide] = useState<PosSide>("long");
  const [tdMode, setTdMode] = useState<"cross" | "isolated">("cross");
  const [lever, setLever] = useState("");
  const [tp, setTp] = useState("");
  const [sl, setSl] = useState("");
  const [reduceOnly, setReduceOnly] = useState(false);
  const [ttl, setTtl] = useState("");
  const [busy, setBusy] = useState<Side | null>(null);
  const [result, setResult] = useState<PlaceResult | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setPx("");
    setTp("");
    setSl("");
    setResult(null);
    setError(null);
  }, [inst.instId, account.id]);

  // the price a size is valued at: the limit price, else the touch
  const sidePreview: Side = hedge ? (posSide === "long" ? "buy" : "sell") : "buy";
  const pricing = ordType === "limit" && parseDec(px) ? px : refPrice(props.ticker, sidePreview) ?? "";
  // An order without lever keeps the open position's leverage (the engine
  // copies it); a new position must name one, else the venue would use its
  // own setting, which the risk rules cannot see.
  const heldSide = hedge ? posSide : "net";
  const heldLever = props.positions.find((p) => p.instId === inst.instId && p.posSide === heldSide && p.lever && parseDec(p.lever))?.lever ?? "";
  const leverOf = lever.trim() || heldLever;
  const opens = (side: Side) => (hedge ? (side === "buy") === (posSide === "long") : !reduceOnly);
  const leverMissing = (side: Side) => lever.trim() === "" && heldLever === "" && opens(side);
  const conv = useMemo(
    () => (unit === "usdt" ? usdtToContracts(amount, pricing, inst, leverOf) : contractsInfo(amount, pricing, inst, leverOf)),
    [unit, amount, pricing, inst, leverOf],
  );

  const maxLever = parseDec(inst.maxLever);
  const leverErr = (() => {
    if (lever.trim() === "") return "";
    const l = parseDec(lever);
    if (!l || l.n <= 0n || l.s > 0) return "leverage is a whole number ≥ 1";
    if (maxLever && cmp(l, maxLever) > 0) return `maxLever is ${fmtSz(inst.maxLever)}`;
    return "";
  })();
  const ttlErr = ordType === "limit" && ttl.trim() && !/^\d+(ms|s|m|h|d)?$/.test(ttl.trim()) ? "like 30s, 5m, 2h" : "";
  const pxSnap = px.trim() ? snapToTick(px, inst.tickSz) : null;
  const pxErr = ordType === "limit" && px.trim() && (!pxSnap || !parseDec(pxSnap) || parseDec(pxSnap)?.n === 0n) ? "not a price" : "";
  const tpSnap = tp.trim() ? snapToTick(tp, inst.tickSz) : null;
  const slSnap = sl.trim() ? snapToTick(sl, inst.tickSz) : null;

  const sizeReady = conv.sz !== "" && !conv.belowMin && conv.error === "";
  const canSend =
    sizeReady && !leverErr && !pxErr && !ttlErr && (ordType === "market" || pxSnap !== null) && (tp.trim() === "" || tpSnap) && (sl.trim() === "" || slSnap);

  const submit = async (side: Side) => {
    if (!canSend || leverMissing(side)) return;
    const o: PlaceOrder = { account: account.id, instId: inst.instId, side, ordType, sz: conv.sz, tdMode };
    if (hedge) o.posSide = posSide;
    if (ordType === "limit" && pxSnap) o.px = pxSnap;
    if (!hedge && reduceOnly) o.reduceOnly = true;
    if (tpSnap) o.tpTriggerPx = tpSnap;
    if (slSnap) o.slTriggerPx = slSnap;
    if (lever.trim()) o.lever = lever.trim();
    if (ordType === "limit" && ttl.trim()) o.ttl = ttl.trim();
    setBusy(side);
    setError(null);
    setResult(null);
    try {
      setResult(await api.placeOrder(o));
      props.onPlaced();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const opening = hedge ? { buy: posSide === "long", sell: posSide === "short" } : { buy: true, sell: true };
  const label = (side: Side) => {
    if (!hedge) return side === "buy" ? "Buy / long" : "Sell / short";
    if (side === "buy") return posSide === "long" ? "Open long (buy)" : "Close short (buy)";
    return posSide === "short" ? "Open short (sell)" : "Close long (sell)";
  };

  return (
    <div className="ticket" data-testid="order-ticket">
      <div className="row wrap">
        <Segmented
          testid="ordtype"
          value={ordType}
          onChange={setOrdType}
          options={[
            { value: "market", label: "Market" },
            { value: "limit", label: "Limit" },
          ]}
        />
        {hedge ? (
          <Segmented
            testid="posside"
            value={posSide}
            onChange={setPosSide}
            options={[
              { value: "long", label: "Long", className: "pos" },
              { value: "short", label: "Short", className: "neg" },
            ]}
          />
        ) : (
          <label className="check">
            <input type="checkbox" checked={reduceOnly} onChange={(e) => setReduceOnly(e.target.checked)} data-testid="reduce-only" />
            reduce only
          </label>
        )}
        <select value={tdMode} onChange={(e) => setTdMode(e.target.value === "isolated" ? "isolated" : "cross")} data-testid="tdmode" aria-label="margin mode">
          <option value="cross">cross</option>
          <option value="isolated">isolated</option>
        </select>
      </div>
      {ordType === "limit" ? (
        <Field
          label={`Price (tick ${inst.tickSz})`}
          hint={pxErr ? <span className="neg">{pxErr}</span> : pxSnap && pxSnap !== px.trim() ? `sent on the tick: ${pxSnap}` : null}
        >
          <input
            inputMode="decimal"
            value={px}
            onChange={(e) => setPx(e.target.value)}
            onBlur={() => pxSnap && setPx(pxSnap)}
            placeholder={refPrice(props.ticker, sidePreview) ?? ""}
            data-testid="order-px"
          />
        </Field>
      ) : null}
      {ordType === "limit" ? (
        <Field label="Cancel if unfilled after (optional)" hint={ttlErr ? <span className="neg">{ttlErr}</span> : "the engine's order keeper cancels it"}>
          <input className="narrow" value={ttl} onChange={(e) => setTtl(e.target.value)} placeholder="e.g. 5m" data-testid="order-ttl" />
        </Field>
      ) : null}
      <Field
        label="Size"
        hint={
          <span data-testid="size-conversion">
            {conv.error ? (
              <span className="neg">{conv.error}</span>
            ) : conv.sz ? (
              <>
                = <b data-testid="size-contracts">{fmtSz(conv.sz)}</b> contracts = {fmtSz(conv.coin)} {inst.ctValCcy} ≈ {fmtMoney(conv.notional)} USDT
                {conv.margin ? <> · margin ≈ {fmtMoney(conv.margin)}</> : null}
                {conv.belowMin ? <span className="neg"> · below minSz {inst.minSz}</span> : null}
              </>
            ) : (
              <>
                1 contract = {inst.ctVal} {inst.ctValCcy}; lot {inst.lotSz}, min {inst.minSz}
              </>
            )}
          </span>
        }
      >
        <div className="row">
          <input inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} placeholder={unit === "usdt" ? "USDT notional" : "contracts"} data-testid="order-size" />
          <Segmented
            testid="size-unit"
            value={unit}
            onChange={setUnit}
            options={[
              { value: "contracts", label: "ct" },
              { value: "usdt", label: "USDT" },
            ]}
          />
        </div>
      </Field>
      <div className="row wrap">
        <Field
          label={`Leverage${inst.maxLever ? ` (max ${fmtSz(inst.maxLever)})` : ""}`}
          hint={
            leverErr ? (
              <span className="neg">{leverErr}</span>
            ) : heldLever ? (
              `empty: the open position's ${fmtSz(heldLever)}x`
            ) : lever.trim() === "" && (opens("buy") || opens("sell")) ? (
              <span className="neg" data-testid="order-lever-needed">
                a new position needs a leverage
              </span>
            ) : (
              ""
            )
          }
        >
          <input className="narrow" inputMode="numeric" value={lever} onChange={(e) => setLever(e.target.value)} placeholder={heldLever ? fmtSz(heldLever) : "x"} data-testid="order-lever" />
        </Field>
        <Field label="Take profit (trigger)" hint={tpSnap && tpSnap !== tp.trim() ? `→ ${tpSnap}` : null}>
          <input className="narrow" inputMode="decimal" value={tp} onChange={(e) => setTp(e.target.value)} onBlur={() => tpSnap && setTp(tpSnap)} data-testid="order-tp" />
        </Field>
        <Field label="Stop loss (trigger)" hint={slSnap && slSnap !== sl.trim() ? `→ ${slSnap}` : null}>
          <input className="narrow" inputMode="decimal" value={sl} onChange={(e) => setSl(e.target.value)} onBlur={() => slSnap && setSl(slSnap)} data-testid="order-sl" />
        </Field>
      </div>
      <div className="row">
        <button className={`buy grow ${opening.buy ? "" : "closing"}`} disabled={!canSend || leverMissing("buy") || busy !== null} onClick={() => void submit("buy")} data-testid="order-buy">
          {busy === "buy" ? "sending…" : label("buy")}
        </button>
        <button className={`sell grow ${opening.sell ? "" : "closing"}`} disabled={!canSend || leverMissing("sell") || busy !== null} onClick={() => void submit("sell")} data-testid="order-sell">
          {busy === "sell" ? "sending…" : label("sell")}
        </button>
      </div>
      {result ? (
        <div className="ok-box" data-testid="order-result">
          Order <span data-testid="order-result-state">{result.state || "accepted"}</span>: ordId{" "}
          <span className="mono" data-testid="order-result-ordid">
            {result.ordId ?? DASH}
          </span>
          , clOrdId{" "}
          <span className="mono" data-testid="order-result-clordid">
            {result.clOrdId}
          </span>
          , intent <span className="mono">{result.intent_id}</span>
        </div>
      ) : null}
      {error ? (
        error instanceof ApiError && error.code === "risk_rejected" ? (
          <div className="error" role="alert" data-testid="order-error">
            <span className="error-code">refused by risk</span>
            <span className="error-rule" data-testid="order-error-rule">
              {error.rule ?? "rule?"}
            </span>
            <span className="error-msg" data-testid="order-error-message">
              {error.message}
            </span>
          </div>
        ) : (
          <ErrorBox error={error} testid="order-error" />
        )
      ) : null}
    </div>
  );
}

export default function Trade(props: { route: string[] }) {
  const accounts = useApi((a) => a.accounts(), [], { refreshMs: 15000 });
  const specs = useInstruments();
  const tickers = useTickers();
  const [accountId, setAccountId] = useState<string>("");
  const instId = props.route[1] ?? "";

  const acct = accounts.data?.find((a) => a.id === accountId) ?? accounts.data?.find((a) => a.trades !== false) ?? accounts.data?.[0];
  useEffect(() => {
    if (acct && acct.id !== accountId) setAccountId(acct.id);
  }, [acct, accountId]);
  const firstInst = specs.data ? [...specs.data.keys()].sort()[0] : undefined;
  const inst = specs.data?.get(instId) ?? (firstInst ? specs.data?.get(firstInst) : undefined);

  const id = acct?.id ?? "";
  const positions = useApi((a) => a.positions(id), [id], { enabled: id !== "", on: ["position"], refreshMs: 10000 });
  const open = useApi((a) => a.orders(id, "open"), [id], { enabled: id !== "", on: ["order"], refreshMs: 10000 });
  const fills = useApi((a) => a.fills(id), [id], { enabled: id !== "", on: ["fill"], throttleMs: 2000 });
  const iid = inst?.instId ?? "";
  const candles = useApi((a) => a.candles(iid, "1m", 300), [iid], { enabled: iid !== "", refreshMs: 20000 });
  const ticker = inst ? tickers.data?.get(inst.instId) : undefined;
  const markers = useMemo<TradeMarker[]>(
    () =>
      (fills.data ?? [])
        .filter((f) => f.instId === iid && f.ts !== null)
        .map((f) => ({ ts: f.ts ?? 0, side: f.side === "sell" ? "sell" : "buy", text: `${f.side ?? ""} ${fmtSz(f.sz)}` })),
    [fills.data, iid],
  );
  const reloadAll = () => {
    positions.reload();
    open.reload();
  };

  return (
    <div className="page" data-testid="page-trade">
      <div className="grid-trade">
        <Panel id="ticket" title="Order" state={specs} isEmpty={(m) => m.size === 0} empty="No instruments known yet (the venue has not reported them).">
          {(m) => (
            <div className="stack">
              <Field label="Account">
                <select value={id} onChange={(e) => setAccountId(e.target.value)} data-testid="account-select" aria-label="account">
                  {(accounts.data ?? []).map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.id}
                      {a.demo ? " (demo)" : ""}
                      {a.trades === false ? " (followed only)" : ""}
                    </option>
                  ))}
                </select>
              </Field>
              {accounts.error && !accounts.data ? <ErrorBox error={accounts.error} testid="accounts-error" /> : null}
              <Field label="Instrument">
                <InstrumentPicker specs={m} value={iid} onChange={(v) => go("trade", v)} tickers={tickers.data} />
              </Field>
              {inst ? (
                <div className="quote" data-testid="quote">
                  <span>
                    last <b className="num">{fmtPx(ticker?.last, inst.tickSz)}</b>
                  </span>
                  <span className="pos">bid {fmtPx(ticker?.bidPx, inst.tickSz)}</span>
                  <span className="neg">ask {fmtPx(ticker?.askPx, inst.tickSz)}</span>
                  {ticker?.markPx ? <span className="muted">mark {fmtPx(ticker.markPx, inst.tickSz)}</span> : null}
                </div>
              ) : null}
              {acct && inst ? (
                <OrderTicket account={acct} inst={inst} ticker={ticker} positions={positions.data ?? []} onPlaced={reloadAll} />
              ) : (
                <div className="muted state">{accounts.data ? "No account to trade." : "Loading accounts…"}</div>
              )}
              {acct ? (
                <div className="muted small-text">
                  {acct.posMode === "long_short_mode" ? "Hedge mode (long/short)" : acct.posMode === "net_mode" ? "Net mode" : "Position mode not known yet"} ·
                  orders pass the engine&apos;s risk chain
                </div>
              ) : null}
            </div>
          )}
        </Panel>
        <Panel id="trade-chart" title={inst ? `${inst.instId} · 1m` : "Chart"} state={candles} empty="No candles for this instrument yet.">
          {(c) => <CandleChart candles={c} markers={markers} tickSz={inst?.tickSz ?? null} testid="trade-candles" />}
        </Panel>
      </div>
      <Panel id="positions" title={`Positions · ${id}`} state={positions} empty="No open positions.">
        {(p) => <PositionsTable account={id} positions={p} specs={specs.data} tickers={tickers.data} onChanged={reloadAll} />}
      </Panel>
      <Panel id="open-orders" title={`Open orders · ${id}`} state={open} empty="No open orders.">
        {(o) => <OrdersTable account={id} orders={o} specs={specs.data} cancel onChanged={reloadAll} testid="open-orders" />}
      </Panel>
    </div>
  );
}
