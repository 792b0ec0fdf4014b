// Account: per account its balances, positions, open orders, order and fill
// history and equity curve.
import { useEffect } from "react";
import { go, useApi, useInstruments, useTickers } from "../app/context";
import { LineChart, lineColor } from "../components/charts";
import { FillsTable, OrdersTable, PositionsTable } from "../components/tables";
import { Panel, Signed } from "../components/ui";
import { DASH, fmtMoney, fmtTime } from "../lib/format";

export default function AccountPage(props: { route: string[] }) {
  const accounts = useApi((a) => a.accounts(), [], { refreshMs: 15000, on: ["balance"], throttleMs: 3000 });
  const specs = useInstruments();
  const tickers = useTickers();
  const wanted = props.route[1] ?? "";
  const acct = accounts.data?.find((a) => a.id === wanted) ?? accounts.data?.[0];
  const id = acct?.id ?? "";
  useEffect(() => {
    if (acct && wanted !== acct.id) window.history.replaceState(null, "", `#/account/${encodeURIComponent(acct.id)}`);
  }, [acct, wanted]);

  const on = id !== "";
  const balance = useApi((a) => a.balance(id), [id], { enabled: on, on: ["balance"], refreshMs: 15000 });
  const positions = useApi((a) => a.positions(id), [id], { enabled: on, on: ["position"], refreshMs: 10000 });
  const open = useApi((a) => a.orders(id, "open"), [id], { enabled: on, on: ["order"], refreshMs: 10000 });
  const history = useApi((a) => a.orders(id, "history"), [id], { enabled: on, on: ["order"], throttleMs: 3000 });
  const fills = useApi((a) => a.fills(id), [id], { enabled: on, on: ["fill"], throttleMs: 2000 });
  const equity = useApi((a) => a.equity(id), [id], { enabled: on, refreshMs: 60000 });
  const reload = () => {
    positions.reload();
    open.reload();
  };

  return (
    <div className="page" data-testid="page-account">
      <Panel id="account-list" title="Accounts" state={accounts} empty="No accounts: enable an [exchange.*] section.">
        {(list) => (
          <div className="tabs" role="tablist">
            {list.map((a) => (
              <button
                key={a.id}
                role="tab"
                aria-selected={a.id === id}
                className={a.id === id ? "on" : ""}
                onClick={() => go("account", a.id)}
                data-testid={`account-tab-${a.id}`}
              >
                {a.id}
                {a.demo ? <span className="badge warn">demo</span> : null}
              </button>
            ))}
          </div>
        )}
      </Panel>
      {acct ? (
        <>
          <div className="grid2">
            <Panel id="balance" title={`Balance · ${id}`} state={balance} isEmpty={(b) => b.totalEq === null && b.details.length === 0} empty="No balance reported yet.">
              {(b) => (
                <div className="stack">
                  <div className="cards">
                    <div className="card">
                      <div className="card-label">Equity (USDT)</div>
                      <div className="card-value num" data-testid="balance-equity">
                        {fmtMoney(b.totalEq)}
                      </div>
                    </div>
                    <div className="card">
                      <div className="card-label">Available</div>
                      <div className="card-value num">{fmtMoney(b.availEq ?? acct.available)}</div>
                    </div>
                    <div className="card">
                      <div className="card-label">uPnL</div>
                      <div className="card-value">
                        <Signed v={b.upl ?? acct.upl} />
                      </div>
                    </div>
                  </div>
                  {b.details.length > 0 ? (
                    <div className="table-wrap">
                      <table data-testid="balance-table">
                        <thead>
                          <tr>
                            <th>Currency</th>
                            <th className="r">Equity</th>
                            <th className="r">Cash</th>
                            <th className="r">Available</th>
                            <th className="r">Frozen</th>
                            <th className="r">uPnL</th>
                          </tr>
                        </thead>
                        <tbody>
                          {b.details.map((d) => (
                            <tr key={d.ccy}>
                              <td>{d.ccy}</td>
                              <td className="r num">{fmtMoney(d.eq, 4)}</td>
                              <td className="r num">{fmtMoney(d.cashBal, 4)}</td>
                              <td className="r num">{fmtMoney(d.availBal, 4)}</td>
                              <td className="r num">{fmtMoney(d.frozenBal, 4)}</td>
                              <td className="r">
                                <Signed v={d.upl} />
                              </td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </div>
                  ) : null}
                  <div className="muted small-text">
                    {acct.exchange} · {acct.posMode ?? "position mode unknown"} · updated {b.ts ? fmtTime(b.ts) : DASH}
                  </div>
                </div>
              )}
            </Panel>
            <Panel id="account-equity" title="Equity curve" state={equity} empty="No equity snapshots yet (one a minute).">
              {(pts) => <LineChart lines={[{ name: id, color: lineColor(0), points: pts.map((p) => ({ ts: p.ts, value: p.equity })) }]} testid="account-equity-chart" />}
            </Panel>
          </div>
          <Panel id="positions" title="Positions" state={positions} empty="No open positions.">
            {(p) => <PositionsTable account={id} positions={p} specs={specs.data} tickers={tickers.data} onChanged={reload} />}
          </Panel>
          <Panel id="open-orders" title="Open orders" state={open} empty="No open orders.">
            {(o) => <OrdersTable account={id} orders={o} specs={specs.data} cancel onChanged={reload} testid="open-orders" />}
          </Panel>
          <Panel id="order-history" title="Order history" state={history} empty="No orders yet.">
            {(o) => <OrdersTable account={id} orders={o} specs={specs.data} testid="order-history" />}
          </Panel>
          <Panel id="fills" title="Fills" state={fills} empty="No fills yet.">
            {(f) => <FillsTable fills={f} specs={specs.data} />}
          </Panel>
        </>
      ) : null}
    </div>
  );
}
