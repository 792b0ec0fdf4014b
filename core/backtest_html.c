/* The backtest report as an HTML page (backtest_internal.h): inline SVG
 * charts drawn here, nothing fetched, so it opens anywhere offline. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest_internal.h"

#define W 960
#define H 260

/* "</td><td>" and a figure, or a dash for none. */
static void cell(FILE *f, const char *fmt, double v)
{
    fputs("</td><td>", f);
    if (isnan(v)) {
        fputs("—", f);
    } else {
        fprintf(f, fmt, v);
    }
}

/* Text for HTML (the few characters that matter). */
static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* The equity curve (line) and its drawdown (area below, red) on one time axis. */
static void chart(FILE *f, const json_t *eq)
{
    size_t n = json_array_size(eq);
    if (n < 2) {
        fputs("<p>No equity curve: the run stored fewer than two snapshots.</p>\n", f);
        return;
    }
    double t0 = (double)json_integer_value(json_array_get(json_array_get(eq, 0), 0));
    double t1 = (double)json_integer_value(json_array_get(json_array_get(eq, n - 1), 0));
    double lo = INFINITY, hi = -INFINITY, peak = -INFINITY, dmax = 0;
    for (size_t i = 0; i < n; i++) {
        double v = json_real_value(json_array_get(json_array_get(eq, i), 1));
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        peak = v > peak ? v : peak;
        dmax = peak > 0 && (peak - v) / peak > dmax ? (peak - v) / peak : dmax;
    }
    if (hi <= lo) {
        hi = lo + 1;
    }
    double span = t1 > t0 ? t1 - t0 : 1;
    fprintf(f,
            "<svg viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" aria-label=\"equity and "
            "drawdown\">\n",
            W, H + 80);
    fprintf(f, "<text x=\"4\" y=\"14\">equity %.2f … %.2f</text>\n", lo, hi);
    fputs("<polyline fill=\"none\" stroke=\"#2a7de1\" stroke-width=\"1.5\" points=\"", f);
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(eq, i);
        double x = ((double)json_integer_value(json_array_get(p, 0)) - t0) / span * W;
        double y = 20 + (hi - json_real_value(json_array_get(p, 1))) / (hi - lo) * (H - 30);
        fprintf(f, "%.1f,%.1f ", x, y);
    }
    fputs("\"/>\n", f);
    fprintf(f, "<text x=\"4\" y=\"%d\">drawdown (max %.2f %%)</text>\n", H + 8, dmax * 100);
    fputs("<polyline fill=\"#e0454533\" stroke=\"#e04545\" points=\"0,", f);
    fprintf(f, "%d ", H + 12);
    peak = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(eq, i);
        double v = json_real_value(json_array_get(p, 1));
        peak = v > peak ? v : peak;
        double dd = peak > 0 ? (peak - v) / peak : 0;
        double x = ((double)json_integer_value(json_array_get(p, 0)) - t0) / span * W;
        fprintf(f, "%.1f,%.1f ", x, H + 12 + (dmax > 0 ? dd / dmax * 60 : 0));
    }
    fprintf(f, "%d,%d\"/>\n</svg>\n", W, H + 12);
}

/* An instrument's closes (at most 2,000 points: every k-th bar) with its
 * fills marked: a buy a green triangle up, a sell a red one down. */
static void price_chart(FILE *f, const bt_series *s, const json_t *fills)
{
    if (s->n < 1) {
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < s->n; i++) {
        lo = s->bars[i].l < lo ? s->bars[i].l : lo;
        hi = s->bars[i].h > hi ? s->bars[i].h : hi;
    }
    if (hi <= lo) {
        hi = lo + 1;
    }
    /* from the first bar's open to a minute past the last bar's close: the
     * run's last fills fall inside */
    double t0 = (double)s->bars[0].open_ms;
    double span = (double)(s->bars[s->n - 1].open_ms + s->bar_ms + 60000) - t0;
    fputs("<h3>", f);
    esc(f, s->inst);
    fprintf(f,
            "</h3>\n<svg viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" "
            "aria-label=\"price and fills\">\n<text x=\"4\" y=\"14\">%.6g … %.6g</text>\n"
            "<polyline fill=\"none\" stroke=\"#555\" stroke-width=\"1\" points=\"",
            W, H, lo, hi);
    size_t step = s->n / 2000 + 1;
    for (size_t i = 0; i < s->n; i += step) {
        double x = ((double)(s->bars[i].open_ms + s->bar_ms) - t0) / span * W; /* at its close */
        fprintf(f, "%.1f,%.1f ", x, 20 + (hi - s->bars[i].c) / (hi - lo) * (H - 30));
    }
    fputs("\"/>\n", f);
    size_t i;
    const json_t *x;
    json_array_foreach(fills, i, x)
    {
        const char *inst = json_string_value(json_object_get(x, "instId"));
        if (!inst || strcmp(inst, s->inst) != 0) {
            continue;
        }
        bool buy = strcmp(json_string_value(json_object_get(x, "side")), "buy") == 0;
        double px = strtod(json_string_value(json_object_get(x, "px")), NULL);
        double cx = ((double)json_integer_value(json_object_get(x, "ts")) - t0) / span * W;
        double cy = 20 + (hi - px) / (hi - lo) * (H - 30);
        fprintf(f, "<polygon fill=\"%s\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>\n",
                buy ? "#1a7f37" : "#c62828", cx, cy + (buy ? -6 : 6), cx - 5, cy + (buy ? 4 : -4),
                cx + 5, cy + (buy ? 4 : -4));
    }
    fputs("</svg>\n", f);
}

void bt_write_html(FILE *f, const json_t *r, const char *json_text, const backtest *b)
{
    fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<title>aitrader backtest</title>\n<style>body{font:14px system-ui,sans-serif;"
          "margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}td,th{padding:"
          "3px 10px;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child"
          "{text-align:left}.pos{color:#1a7f37}.neg{color:#c62828}</style></head><body>\n",
          f);
    fputs("<h1>Backtest ", f);
    esc(f, json_string_value(json_object_get(r, "from")));
    fputs(" → ", f);
    esc(f, json_string_value(json_object_get(r, "to")));
    fputs("</h1>\n<table>\n", f);
    static const char *const rows[][2] = {{"start_equity", "start equity"},
                                          {"end_equity", "end equity"},
                                          {"return_pct", "return %"},
                                          {"max_drawdown_pct", "max drawdown %"},
                                          {"sharpe", "Sharpe (hourly, annualised)"},
                                          {"sortino", "Sortino"},
                                          {"trades", "trades"},
                                          {"win_rate", "win rate"},
                                          {"profit_factor", "profit factor"},
                                          {"fees", "fees paid"},
                                          {"funding", "funding"},
                                          {"ai_calls", "AI calls"},
                                          {"ai_calls_per_day", "AI calls a day"},
                                          {"tokens", "tokens"},
                                          {"cost_usd", "AI cost USD"},
                                          {"bars", "bars"}};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        double v = bt_num(r, rows[i][0]);
        fprintf(f, "<tr><th>%s</th><td%s>", rows[i][1],
                strcmp(rows[i][0], "return_pct") == 0 && v < 0   ? " class=\"neg\""
                : strcmp(rows[i][0], "return_pct") == 0 && v > 0 ? " class=\"pos\""
                                                                 : "");
        if (isnan(v)) {
            fputs("—", f);
        } else {
            fprintf(f, "%.6g", v);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n<h2>Equity</h2>\n", f);
    chart(f, json_object_get(r, "equity"));
    const json_t *eff = json_object_get(r, "efficiency");
    if (eff) {
        fprintf(f,
                "<h2>Decision efficiency</h2>\n<p>%lld significant moves (|5m change| &ge; 1 "
                "%%); delay from each to the next AI call</p>\n<table><tr><th>schedule</th>"
                "<th>calls a day</th><th>median s</th><th>p90 s</th><th>within 60 s</th></tr>\n",
                (long long)json_integer_value(json_object_get(eff, "moves")));
        size_t k;
        const json_t *e;
        json_array_foreach(json_object_get(eff, "schedules"), k, e)
        {
            fputs("<tr><td>", f);
            esc(f, json_string_value(json_object_get(e, "schedule")));
            cell(f, "%.1f", bt_num(e, "calls_per_day"));
            cell(f, "%.0f", bt_num(e, "delay_median_s"));
            cell(f, "%.0f", bt_num(e, "delay_p90_s"));
            cell(f, "%.1f %%", bt_num(e, "within_60s") * 100);
            fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("<h2>Prices and fills</h2>\n", f);
    for (size_t k = 0; b && k < b->ns; k++) {
        price_chart(f, &b->s[k], json_object_get(r, "fills"));
    }
    fputs("<h2>Per symbol</h2>\n<table><tr><th>symbol</th><th>trades</th><th>win rate</th>"
          "<th>PnL</th><th>fees</th><th>funding</th></tr>\n",
          f);
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(r, "per_symbol"), i, s)
    {
        double pnl = bt_num(s, "pnl");
        fputs("<tr><td>", f);
        esc(f, json_string_value(json_object_get(s, "instId")));
        fprintf(f,
                "</td><td>%lld</td><td>%.1f %%</td><td class=\"%s\">%+.2f</td><td>%.2f</td>"
                "<td>%+.2f</td></tr>\n",
                (long long)json_integer_value(json_object_get(s, "trades")),
                bt_num(s, "win_rate") * 100, pnl < 0 ? "neg" : "pos", pnl, bt_num(s, "fees"),
                bt_num(s, "funding"));
    }
    fputs("</table>\n<h2>Fills</h2>\n<table><tr><th>time (ms)</th><th>account</th><th>origin"
          "</th><th>instrument</th><th>side</th><th>price</th><th>contracts</th><th>fee</th>"
          "<th>realized</th></tr>\n",
          f);
    json_array_foreach(json_object_get(r, "fills"), i, s)
    {
        static const char *const keys[] = {"account", "origin", "instId", "side",
                                           "px",      "sz",     "fee",    "pnl"};
        fprintf(f, "<tr><td>%lld</td>", (long long)json_integer_value(json_object_get(s, "ts")));
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            fputs("<td>", f);
            esc(f, json_string_value(json_object_get(s, keys[k])));
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n<script type=\"application/json\" id=\"report\">", f);
    for (const char *p = json_text; *p; p++) { /* "</" would end the script */
        if (p[0] == '<' && p[1] == '/') {
            fputs("<\\/", f);
            p++;
        } else {
            fputc(*p, f);
        }
    }
    fputs("</script>\n</body></html>\n", f);
}
