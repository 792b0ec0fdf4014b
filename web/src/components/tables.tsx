// Positions, orders and fills as traders read them: sizes in contracts as the
// API sent them, prices on the instrument's tick, PnL signed and coloured.
import type { Fill, Instrument, Order, Position, Ticker } from "../api/types";
import { useApp } from "../app/context";
import { DASH, fmtMoney, fmtPx, fmtSz, fmtTime } from "../lib/format";
import { ActionButton, Signed, StateBadge } from "./ui";

type Specs = Map<string, Instrument> | undefined;

const tick = (specs: Specs, inst: string) => specs?.get(inst)?.tickSz ?? null;

export function sideClass(side: string | null | undefined, posSide?: string | null): string {
  if (posSide === "long") return "pos";
  if (posSide === "short") return "neg";
  return side === "buy" ? "pos" : side === "sell" ? "neg" : "";
}

export function PositionsTable(props: {
  account: string;
  positions: readonly Position[];
  specs: Specs;
  tickers?: Map<string, Ticker> | undefined;
  onChanged?: () => void;
  testid?: string;
}) {
  const { api } = useApp();
  const id = props.testid ?? "positions";
  return (
    <div className="table-wrap">
      <table data-testid={`${id}-table`}>
        <thead>
          <tr>
            <th>Instrument</th>
            <th>Side</th>
            <th className="r">Size (ct)</th>
            <th className="r">Entry</th>
            <th className="r">Mark</th>
            <th className="r">Liq.</th>
            <th className="r">Lev.</th>
            <th className="r">Margin</th>
            <th className="r">uPnL</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {props.positions.map((p) => {
            const mark = p.markPx ?? props.tickers?.get(p.instId)?.markPx ?? props.tickers?.get(p.instId)?.last ?? null;
            const side = p.posSide === "net" ? (p.pos.startsWith("-") ? "short" : "long") : p.posSide;
            const key = `${p.instId}/${p.posSide}`;
            return (
              <tr key={key} data-testid={`${id}-row`} data-inst={p.instId} data-posside={p.posSide}>
                <td>{p.instId}</td>
                <td className={side === "long" ? "pos" : "neg"}>
                  {side}
                  {p.posSide === "net" ? " (net)" : ""}
                  {p.mgnMode ? <span className="muted"> {p.mgnMode}</span> : null}
                </td>
                <td className="r num" data-testid={`${id}-size`}>
                  {fmtSz(p.pos)}
                </td>
                <td className="r num">{fmtPx(p.avgPx, tick(props.specs, p.instId))}</td>
                <td className="r num">{fmtPx(mark, tick(props.specs, p.instId))}</td>
                <td className="r num">{fmtPx(p.liqPx, tick(props.specs, p.instId))}</td>
                <td className="r num">{p.lever ? `${fmtSz(p.lever)}x` : DASH}</td>
                <td className="r num">{fmtMoney(p.margin)}</td>
                <td className="r">
                  <Signed v={p.upl} />
                </td>
                <td className="r">
                  <ActionButton
                    className="small danger"
                    testid={`close-${p.instId}-${p.posSide}`}
                    confirm={`Close ${p.instId} ${side} (${fmtSz(p.pos)} contracts) at market?`}
                    run={() =>
                      api.closePosition(
                        p.posSide === "net"
                          ? { account: props.account, instId: p.instId }
                          : { account: props.account, instId: p.instId, posSide: p.posSide },
                      )
                    }
                    onDone={props.onChanged}
                  >
                    Close
                  </ActionButton>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function OrdersTable(props: {
  account: string;
  orders: readonly Order[];
  specs: Specs;
  cancel?: boolean;
  onChanged?: () => void;
  testid?: string;
}) {
  const { api } = useApp();
  const id = props.testid ?? "orders";
  return (
    <div className="table-wrap">
      <table data-testid={`${id}-table`}>
        <thead>
          <tr>
            <th>Time (UTC)</th>
            <th>Instrument</th>
            <th>Side</th>
            <th>Type</th>
            <th className="r">Size (ct)</th>
            <th className="r">Price</th>
            <th className="r">Filled</th>
            <th className="r">Avg</th>
            <th>TP / SL</th>
            <th>State</th>
            <th>Origin</th>
            {props.cancel ? <th /> : null}
          </tr>
        </thead>
        <tbody>
          {props.orders.map((o, i) => {
            const t = tick(props.specs, o.instId);
            return (
              <tr key={o.clOrdId ?? o.ordId ?? o.intent_id ?? i} data-testid={`${id}-row`} data-ordid={o.ordId ?? ""} data-inst={o.instId}>
                <td className="nowrap">{fmtTime(o.ts)}</td>
                <td>{o.instId}</td>
                <td className={sideClass(o.side)}>
                  {o.side ?? DASH}
                  {o.posSide && o.posSide !== "net" ? ` ${o.posSide}` : ""}
                  {o.reduceOnly ? <span className="muted"> reduce</span> : null}
                </td>
                <td>{o.ordType ?? DASH}</td>
                <td className="r num">{fmtSz(o.sz)}</td>
                <td className="r num">{o.ordType === "market" ? "market" : fmtPx(o.px, t)}</td>
                <td className="r num">{fmtSz(o.accFillSz)}</td>
                <td className="r num">{fmtPx(o.avgPx, t)}</td>
                <td className="nowrap num">
                  {o.tpTriggerPx || o.slTriggerPx ? `${fmtPx(o.tpTriggerPx, t)} / ${fmtPx(o.slTriggerPx, t)}` : DASH}
                </td>
                <td title={o.msg ?? ""}>
                  <StateBadge state={o.state} />
                  {o.msg && o.state === "rejected" ? <div className="muted small-text">{o.msg}</div> : null}
                </td>
                <td className="muted">{o.origin ?? DASH}</td>
                {props.cancel ? (
                  <td className="r">
                    {o.ordId ? (
                      <ActionButton
                        className="small"
                        testid={`cancel-${o.ordId}`}
                        run={() => api.cancelOrder(props.account, o.ordId ?? "")}
                        onDone={props.onChanged}
                      >
                        Cancel
                      </ActionButton>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function FillsTable(props: { fills: readonly Fill[]; specs: Specs; testid?: string }) {
  const id = props.testid ?? "fills";
  return (
    <div className="table-wrap">
      <table data-testid={`${id}-table`}>
        <thead>
          <tr>
            <th>Time (UTC)</th>
            <th>Instrument</th>
            <th>Side</th>
            <th className="r">Size (ct)</th>
            <th className="r">Price</th>
            <th className="r">Fee</th>
            <th>Liquidity</th>
            <th>Order</th>
          </tr>
        </thead>
        <tbody>
          {props.fills.map((f) => (
            <tr key={`${f.instId}/${f.tradeId}`} data-testid={`${id}-row`}>
              <td className="nowrap">{fmtTime(f.ts)}</td>
              <td>{f.instId}</td>
              <td className={sideClass(f.side)}>
                {f.side ?? DASH}
                {f.posSide && f.posSide !== "net" ? ` ${f.posSide}` : ""}
              </td>
              <td className="r num">{fmtSz(f.sz)}</td>
              <td className="r num">{fmtPx(f.px, tick(props.specs, f.instId))}</td>
              <td className="r">
                <Signed v={f.fee} dp={4} /> <span className="muted">{f.feeCcy ?? ""}</span>
              </td>
              <td className="muted">{f.maker === null ? DASH : f.maker ? "maker" : "taker"}</td>
              <td className="muted mono">{f.ordId ?? DASH}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
