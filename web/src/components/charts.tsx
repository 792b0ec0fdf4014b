// TradingView lightweight-charts: candles with trade markers, equity lines,
// an index's history as an area on its own fixed scale.
// Chart values are doubles (drawing only); the figures in tables stay exact.
import { useEffect, useRef } from "react";
import {
  AreaSeries,
  CandlestickSeries,
  ColorType,
  LineSeries,
  createChart,
  createSeriesMarkers,
  type IChartApi,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import type { Candle } from "../api/types";
import { decimalsOf, parseDec } from "../lib/decimal";

const THEME = {
  layout: { background: { type: ColorType.Solid, color: "transparent" }, textColor: "#9aa4b2", fontSize: 11 },
  grid: { vertLines: { color: "rgba(128,128,128,0.12)" }, horzLines: { color: "rgba(128,128,128,0.12)" } },
  rightPriceScale: { borderColor: "rgba(128,128,128,0.3)" },
  timeScale: { borderColor: "rgba(128,128,128,0.3)", timeVisible: true, secondsVisible: false },
  autoSize: true,
} as const;

export interface TradeMarker {
  ts: number;
  side: "buy" | "sell";
  text: string;
}

const sec = (ms: number) => Math.floor(ms / 1000) as UTCTimestamp;

/** Markers on the bar each trade fell in (a marker must sit on a bar's time). */
export function markersOnBars(candles: readonly Candle[], trades: readonly TradeMarker[]): SeriesMarker<Time>[] {
  if (candles.length === 0) return [];
  const out: SeriesMarker<Time>[] = [];
  const first = candles[0];
  for (const t of trades) {
    if (!first || t.ts < first.ts) continue;
    // last candle starting at or before the trade
    let lo = 0;
    let hi = candles.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const c = candles[mid];
      if (c && c.ts <= t.ts) lo = mid;
      else hi = mid - 1;
    }
    const bar = candles[lo];
    if (!bar) continue;
    out.push({
      time: sec(bar.ts),
      position: t.side === "buy" ? "belowBar" : "aboveBar",
      color: t.side === "buy" ? "#26a69a" : "#ef5350",
      shape: t.side === "buy" ? "arrowUp" : "arrowDown",
      text: t.text,
    });
  }
  return out.sort((a, b) => Number(a.time) - Number(b.time));
}

export function CandleChart(props: {
  candles: readonly Candle[];
  markers?: readonly TradeMarker[];
  tickSz?: string | null;
  height?: number;
  testid?: string;
}) {
  const el = useRef<HTMLDivElement | null>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<ISeriesApi<"Candlestick"> | null>(null);
  const markers = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const fitted = useRef(false);

  useEffect(() => {
    if (!el.current) return;
    const c = createChart(el.current, THEME);
    const s = c.addSeries(CandlestickSeries, {
      upColor: "#26a69a",
      downColor: "#ef5350",
      borderVisible: false,
      wickUpColor: "#26a69a",
      wickDownColor: "#ef5350",
    });
    chart.current = c;
    series.current = s;
    markers.current = createSeriesMarkers(s, []);
    return () => {
      chart.current = null;
      series.current = null;
      markers.current = null;
      fitted.current = false;
      c.remove();
    };
  }, []);

  useEffect(() => {
    const tick = parseDec(props.tickSz ?? null);
    if (!series.current || !tick || tick.n <= 0n) return;
    series.current.applyOptions({
      priceFormat: { type: "price", precision: decimalsOf(tick), minMove: Number(props.tickSz) },
    });
  }, [props.tickSz]);

  useEffect(() => {
    if (!series.current) return;
    const seen = new Set<number>();
    const data = [];
    for (const c of props.candles) {
      const t = sec(c.ts);
      if (seen.has(t)) continue;
      seen.add(t);
      data.push({ time: t, open: Number(c.o), high: Number(c.h), low: Number(c.l), close: Number(c.c) });
    }
    series.current.setData(data);
    markers.current?.setMarkers(markersOnBars(props.candles, props.markers ?? []));
    if (!fitted.current && data.length > 0) {
      chart.current?.timeScale().fitContent();
      fitted.current = true;
    }
  }, [props.candles, props.markers]);

  return <div className="chart" style={{ height: props.height ?? 320 }} ref={el} data-testid={props.testid ?? "candle-chart"} />;
}

export interface Line {
  name: string;
  color: string;
  points: readonly { ts: number; value: string }[];
}

const PALETTE = ["#4e9af1", "#f1a94e", "#9b6cf1", "#4ef1b0", "#f14e8c", "#c9d14e", "#4ed6f1", "#f16a4e"];
export const lineColor = (i: number) => PALETTE[i % PALETTE.length] ?? "#4e9af1";

export function LineChart(props: { lines: readonly Line[]; height?: number; testid?: string }) {
  const el = useRef<HTMLDivElement | null>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<Map<string, ISeriesApi<"Line">>>(new Map());

  useEffect(() => {
    if (!el.current) return;
    const c = createChart(el.current, THEME);
    chart.current = c;
    const map = series.current;
    return () => {
      map.clear();
      chart.current = null;
      c.remove();
    };
  }, []);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const names = new Set(props.lines.map((l) => l.name));
    for (const [name, s] of series.current) {
      if (!names.has(name)) {
        c.removeSeries(s);
        series.current.delete(name);
      }
    }
    for (const l of props.lines) {
      let s = series.current.get(l.name);
      if (!s) {
        s = c.addSeries(LineSeries, { color: l.color, lineWidth: 2, title: l.name, priceLineVisible: false });
        series.current.set(l.name, s);
      }
      const seen = new Set<number>();
      const data = [];
      for (const p of [...l.points].sort((a, b) => a.ts - b.ts)) {
        const t = sec(p.ts);
        const v = Number(p.value);
        if (seen.has(t) || !Number.isFinite(v)) continue;
        seen.add(t);
        data.push({ time: t, value: v });
      }
      s.setData(data);
    }
    c.timeScale().fitContent();
  }, [props.lines]);

  return <div className="chart" style={{ height: props.height ?? 240 }} ref={el} data-testid={props.testid ?? "line-chart"} />;
}

/**
 * One series as an area on a fixed scale from `min` to `max` (an index such
 * as Fear & Greed, 0..100), whatever its values span.
 */
export function AreaChart(props: {
  points: readonly { ts: number; value: number }[];
  min: number;
  max: number;
  color?: string;
  height?: number;
  testid?: string;
}) {
  const el = useRef<HTMLDivElement | null>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<ISeriesApi<"Area"> | null>(null);
  const { min, max } = props;
  const color = props.color ?? "#4e9af1";

  useEffect(() => {
    if (!el.current) return;
    // the scale's ends at the chart's edges: min and max are its labels' ends
    const c = createChart(el.current, { ...THEME, rightPriceScale: { ...THEME.rightPriceScale, scaleMargins: { top: 0.06, bottom: 0.06 } } });
    chart.current = c;
    series.current = c.addSeries(AreaSeries, {
      lineColor: color,
      topColor: `${color}66`,
      bottomColor: `${color}08`,
      lineWidth: 2,
      priceLineVisible: false,
      priceFormat: { type: "price", precision: 0, minMove: 1 },
      autoscaleInfoProvider: () => ({ priceRange: { minValue: min, maxValue: max } }),
    });
    return () => {
      series.current = null;
      chart.current = null;
      c.remove();
    };
  }, [min, max, color]);

  useEffect(() => {
    if (!series.current) return;
    const seen = new Set<number>();
    const data = [];
    for (const p of [...props.points].sort((a, b) => a.ts - b.ts)) {
      const t = sec(p.ts);
      if (seen.has(t) || !Number.isFinite(p.value)) continue;
      seen.add(t);
      data.push({ time: t, value: p.value });
    }
    series.current.setData(data);
    chart.current?.timeScale().fitContent();
  }, [props.points, min, max, color]);

  return <div className="chart" style={{ height: props.height ?? 200 }} ref={el} data-testid={props.testid ?? "area-chart"} />;
}
