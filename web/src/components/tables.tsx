// Positions, orders and fills as traders read them: sizes in contracts as the
// API sent them, prices on the instrument's tick, PnL signed and coloured.
import type { Fill, Instrument, Order, Position, Ticker } from "../api/types";
import { useApp } from "../app/context";
import { DASH, fmtMoney, fmtPx, fmtSz, fmtTime } from "../lib/format";
import { ActionButton, right, Signed, StateBadge, Table, type Col } from "./ui";

type Specs = Map<string, Instrument> | undefined;

const tick = (specs: Specs, inst: string) => specs?.get(inst)?.tickSz ?? null;

const POSITION_COLS: readonly Col[] = ["Instrument", "Side", right("Size (ct)"), right("Entry"), right("Mark"), right("Liq."), right("Lev."), right("Margin"), right("uPnL"), ""];
const ORDER_COLS: readonly Col[] = ["Time (UTC)", "Instrument", "Side", "Type", right("Size (ct)"), right("Price"), right("Filled"), right("Avg"), "TP / SL", "State", "Origin"];
const FILL_COLS: readonly Col[] = ["Time (UTC)", "Instrument", "Side", right("Size (ct)"), right("Price"), right("Fee"), "Liquidity", "Order"];

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
    <Table testid={`${id}-table`} cols={POSITION_COLS}>
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
    </Table>
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
    <Table testid={`${id}-table`} cols={props.cancel ? [...ORDER_COLS, ""] : ORDER_COLS}>
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
    </Table>
  );
}

export function FillsTable(props: { fills: readonly Fill[]; specs: Specs; testid?: string }) {
  const id = props.testid ?? "fills";
  return (
    <Table testid={`${id}-table`} cols={FILL_COLS}>
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
    </Table>
  );
}
