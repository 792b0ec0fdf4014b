/* source_driver: a test plugin that drives the engine from a shell script.
 *
 *  - Every event of the bus is written as one line to `log_file` (a compact
 *    "TYPE key=value ..." form that scripts grep), flushed at once.
 *  - `intent_file` is polled every 50 ms; each new line becomes an
 *    ORDER_INTENT: "op=place account=exchange.okx inst=BTC-USDT-SWAP side=buy
 *    pos=long type=market sz=1 px=0 tp=0 sl=0 reduce=0 ttl=0 id=intent1" (ttl in ms).
 *
 * Never installed; lives in build/test-plugins. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/plugin.h>

typedef struct driver {
    at_instance *inst;
    const at_host *h;
    const char *log_path, *intent_path;
    FILE *log;
    long intent_off;
    at_timer *poll;
    int sub;
} driver;

static const at_cfg_field schema[] = {
    {"log_file", AT_CFG_STR, NULL, AT_CFG_REQUIRED, offsetof(driver, log_path), 0, 0, NULL,
     "where every bus event is written, one line each"},
    {"intent_file", AT_CFG_STR, NULL, 0, offsetof(driver, intent_path), 0, 0, NULL,
     "lines appended here become ORDER_INTENT events"},
    {0},
};

static const char *D(const driver *d, at_dec v, char *buf)
{
    d->h->dec_format(v, buf);
    return buf;
}

static void on_event(void *arg, const at_event *e)
{
    driver *d = arg;
    char a[AT_DEC_STRLEN], b[AT_DEC_STRLEN], c[AT_DEC_STRLEN];
    const char *inst = e->inst ? d->h->inst_name(e->inst) : "-";
    FILE *f = d->log;
    switch (e->type) {
    case AT_EV_TICKER: {
        const at_ev_ticker *t = (const void *)e;
        fprintf(f, "TICKER %s last=%s bid=%s ask=%s\n", inst, D(d, t->last, a), D(d, t->bid, b),
                D(d, t->ask, c));
        break;
    }
    case AT_EV_BOOK: {
        const at_ev_book *t = (const void *)e;
        fprintf(f, "BOOK %s bids=%u asks=%u seq=%" PRId64 " bid0=%s ask0=%s\n", inst, t->nbids,
                t->nasks, t->seq_id, t->nbids ? D(d, t->bids[0].px, a) : "-",
                t->nasks ? D(d, t->asks[0].px, b) : "-");
        break;
    }
    case AT_EV_TRADE:
        fprintf(f, "TRADE %s\n", inst);
        break;
    case AT_EV_MARK: {
        const at_ev_mark *t = (const void *)e;
        fprintf(f, "MARK %s px=%s\n", inst, D(d, t->mark_px, a));
        break;
    }
    case AT_EV_FUNDING:
        fprintf(f, "FUNDING %s\n", inst);
        break;
    case AT_EV_CANDLE: {
        const at_ev_candle *t = (const void *)e;
        fprintf(f, "CANDLE %s bar=%" PRId64 " close=%s open_ms=%" PRId64 " confirmed=%d\n", inst,
                t->bar_s, D(d, t->c, a), t->open_ms, (int)t->confirmed);
        break;
    }
    case AT_EV_BALANCE: {
        const at_ev_balance *t = (const void *)e;
        fprintf(f, "BALANCE %s ccy=%s eq=%s total=%s\n", t->account, t->ccy, D(d, t->eq, a),
                D(d, t->total_eq, b));
        break;
    }
    case AT_EV_POSITION: {
        const at_ev_position *t = (const void *)e;
        fprintf(f, "POSITION %s %s side=%d pos=%s avg=%s\n", t->account, inst, (int)t->pos_side,
                D(d, t->pos, a), D(d, t->avg_px, b));
        break;
    }
    case AT_EV_ORDER: {
        const at_ev_order *t = (const void *)e;
        fprintf(f, "ORDER %s %s cl=%s ord=%s state=%d filled=%s\n", t->account, inst, t->cl_ord_id,
                t->ord_id, (int)t->state, D(d, t->acc_fill_sz, a));
        break;
    }
    case AT_EV_FILL: {
        const at_ev_fill *t = (const void *)e;
        fprintf(f, "FILL %s %s cl=%s px=%s sz=%s fee=%s\n", t->account, inst, t->cl_ord_id,
                D(d, t->px, a), D(d, t->sz, b), D(d, t->fee, c));
        break;
    }
    case AT_EV_ORDER_RESULT: {
        const at_ev_order_result *t = (const void *)e;
        fprintf(f, "RESULT %s intent=%s cl=%s ok=%d code=%s ord=%s msg=%s\n", t->account,
                t->intent_id, t->cl_ord_id, t->ok, t->code, t->ord_id, t->msg ? t->msg : "");
        break;
    }
    case AT_EV_RISK_VERDICT: {
        const at_ev_risk_verdict *t = (const void *)e;
        fprintf(f, "VERDICT intent=%s rule=%s verdict=%d sz=%s name=%s reason=%s\n", t->intent_id,
                t->rule, t->verdict, D(d, t->sz, a), t->name ? t->name : "",
                t->reason ? t->reason : "");
        break;
    }
    case AT_EV_ALGO_ORDER: {
        const at_ev_algo_order *t = (const void *)e;
        fprintf(f, "ALGO %s %s id=%s cl=%s type=%s state=%d side=%d pos=%d\n", t->account, inst,
                t->algo_id, t->algo_cl_ord_id, t->ord_type, (int)t->state, (int)t->side,
                (int)t->pos_side);
        break;
    }
    case AT_EV_STATUS: {
        const at_ev_status *t = (const void *)e;
        fprintf(f, "STATUS %s state=%d %s\n", t->instance, (int)t->state,
                t->detail ? t->detail : "");
        break;
    }
    case AT_EV_ALERT: {
        const at_ev_alert *t = (const void *)e;
        fprintf(f, "ALERT %s\n", t->message ? t->message : "");
        break;
    }
    case AT_EV_SENTIMENT: {
        const at_ev_sentiment *t = (const void *)e;
        fprintf(f, "SENTIMENT %s value=%g label=%s as_of=%lld\n", t->feed ? t->feed : "", t->value,
                t->label ? t->label : "", (long long)t->as_of_ms);
        break;
    }
    case AT_EV_NEWS: {
        const at_ev_news *t = (const void *)e;
        fprintf(f,
                "NEWS %s feed=%s symbols=%s score=%.4f impact=%.4f llm=%.4f scorer=%s "
                "published=%lld %s\n",
                t->id ? t->id : "", t->feed ? t->feed : "", t->symbols ? t->symbols : "", t->score,
                t->impact, t->llm_score, t->scorer ? t->scorer : "", (long long)t->published_ms,
                t->title ? t->title : "");
        break;
    }
    default:
        fprintf(f, "EVENT type=%u %s\n", e->type, inst);
        break;
    }
    fflush(f);
}

static const char *field(const char *line, const char *key, char *out, size_t len)
{
    char pat[32];
    snprintf(pat, sizeof(pat), " %s=", key);
    char padded[1024];
    snprintf(padded, sizeof(padded), " %s", line);
    const char *p = strstr(padded, pat);
    out[0] = '\0';
    if (p) {
        p += strlen(pat);
        size_t n = strcspn(p, " \n");
        snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
    }
    return out;
}

static at_dec dec(const driver *d, const char *s)
{
    at_dec v = {0, 0};
    if (*s) {
        d->h->dec_parse(s, (size_t)-1, &v);
    }
    return v;
}

static void publish_intent(driver *d, const char *line)
{
    char v[128];
    at_ev_order_intent *e = (at_ev_order_intent *)d->h->event_new(d->inst, AT_EV_ORDER_INTENT, 0);
    if (!e) {
        return;
    }
    const char *op = field(line, "op", v, sizeof(v));
    e->op = strcmp(op, "cancel") == 0        ? AT_INTENT_CANCEL
            : strcmp(op, "amend") == 0       ? AT_INTENT_AMEND
            : strcmp(op, "close") == 0       ? AT_INTENT_CLOSE_POSITION
            : strcmp(op, "cancel_algo") == 0 ? AT_INTENT_CANCEL_ALGO
                                             : AT_INTENT_PLACE;
    snprintf(e->account, sizeof(e->account), "%s", field(line, "account", v, sizeof(v)));
    e->h.inst = d->h->inst_intern(field(line, "inst", v, sizeof(v)));
    e->side = strcmp(field(line, "side", v, sizeof(v)), "sell") == 0 ? AT_SIDE_SELL : AT_SIDE_BUY;
    field(line, "pos", v, sizeof(v));
    e->pos_side = strcmp(v, "long") == 0    ? AT_POS_LONG
                  : strcmp(v, "short") == 0 ? AT_POS_SHORT
                                            : AT_POS_NET;
    field(line, "type", v, sizeof(v));
    e->ord_type = strcmp(v, "limit") == 0       ? AT_ORDT_LIMIT
                  : strcmp(v, "ioc") == 0       ? AT_ORDT_IOC
                  : strcmp(v, "post_only") == 0 ? AT_ORDT_POST_ONLY
                                                : AT_ORDT_MARKET;
    e->sz = dec(d, field(line, "sz", v, sizeof(v)));
    e->px = dec(d, field(line, "px", v, sizeof(v)));
    e->tp_trigger_px = dec(d, field(line, "tp", v, sizeof(v)));
    e->sl_trigger_px = dec(d, field(line, "sl", v, sizeof(v)));
    e->reduce_only = strcmp(field(line, "reduce", v, sizeof(v)), "1") == 0;
    e->ttl_ms = strtoll(field(line, "ttl", v, sizeof(v)), NULL, 10);
    snprintf(e->intent_id, sizeof(e->intent_id), "%s", field(line, "id", v, sizeof(v)));
    snprintf(e->ord_id, sizeof(e->ord_id), "%s", field(line, "ord", v, sizeof(v)));
    snprintf(e->origin, sizeof(e->origin), "test");
    d->h->publish(d->inst, &e->h, 0);
}

static void on_poll(void *arg)
{
    driver *d = arg;
    FILE *f = fopen(d->intent_path, "r");
    if (!f) {
        return;
    }
    if (fseek(f, d->intent_off, SEEK_SET) == 0) {
        char line[1024];
        while (fgets(line, sizeof(line), f)) {
            if (!strchr(line, '\n')) {
                break; /* a line still being written: next poll */
            }
            d->intent_off += (long)strlen(line);
            if (line[0] != '#' && line[0] != '\n') {
                publish_intent(d, line);
            }
        }
    }
    fclose(f);
}

static int init(at_instance *inst, const at_host *h, void *ctx)
{
    driver *d = ctx;
    d->inst = inst;
    d->h = h;
    return AT_OK;
}

static int start(void *ctx)
{
    driver *d = ctx;
    d->log = fopen(d->log_path, "a");
    if (!d->log) {
        d->h->log(d->inst, AT_LOG_ERROR, "cannot open %s", d->log_path);
        return AT_EIO;
    }
    d->sub = d->h->subscribe(d->inst, AT_EV_NONE, on_event, d);
    if (d->intent_path) {
        FILE *f = fopen(d->intent_path, "r");
        if (f) { /* lines already there at start are history, not orders */
            fseek(f, 0, SEEK_END);
            d->intent_off = ftell(f);
            fclose(f);
        }
        d->poll = d->h->timer_add(d->inst, 50, 50, on_poll, d);
    }
    return AT_OK;
}

static void stop(void *ctx)
{
    driver *d = ctx;
    if (d->poll) {
        d->h->timer_cancel(d->poll);
    }
    d->h->unsubscribe(d->inst, d->sub);
}

static void destroy(void *ctx)
{
    driver *d = ctx;
    if (d->log) {
        fclose(d->log);
    }
}

static const at_plugin plugin = {
    AT_PLUGIN_HEADER,
    .kind = AT_KIND_SOURCE,
    .name = "driver",
    .version = "1.0.0",
    .description = "test driver: logs every event, turns file lines into order intents",
    .config = schema,
    .ctx_size = sizeof(driver),
    .init = init,
    .start = start,
    .stop = stop,
    .destroy = destroy,
};

AT_PLUGIN_EXPORT const at_plugin *at_plugin_entry(void)
{
    return &plugin;
}
