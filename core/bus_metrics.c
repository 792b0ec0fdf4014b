/* What the bus holds and has done, for tests and the metrics endpoint. */
#include "bus_internal.h"

void bus_get_stats(bus_stats *st)
{
    pthread_mutex_lock(&bus.mbox_lock);
    *st = (bus_stats){.queued = bus.mbox.n + bus.q.n,
                      .market = bus.mbox.market + bus.q.market,
                      .bytes = bus.mbox.bytes + bus.q.bytes,
                      .overflows = bus.overflows,
                      .backlogs = bus.backlogs,
                      .market_max = atomic_load(&bus.market_max),
                      .backlog_max = bus.backlog_max};
    pthread_mutex_unlock(&bus.mbox_lock);
}

void bus_render_metrics(FILE *out)
{
    static const char *names[4] = {"published", "delivered", "coalesced", "dropped"};
    for (int k = 0; k < 4; k++) {
        fprintf(out, "# HELP aitrader_bus_%s_total Events %s on the bus, by type and instance.\n",
                names[k], names[k]);
        fprintf(out, "# TYPE aitrader_bus_%s_total counter\n", names[k]);
        for (bus_client *c = bus.clients; c; c = c->next_client) {
            for (int t = 1; t < AT_EV__COUNT; t++) {
                uint64_t v = k == 0   ? atomic_load(&c->published[t])
                             : k == 1 ? c->delivered[t]
                             : k == 2 ? atomic_load(&c->coalesced[t])
                                      : atomic_load(&c->dropped[t]);
                if (v) {
                    fprintf(out, "aitrader_bus_%s_total{type=\"%s\",instance=\"%s\"} %llu\n",
                            names[k], bus_types[t].name, c->name, (unsigned long long)v);
                }
            }
        }
    }
    bus_stats st;
    bus_get_stats(&st);
    fprintf(out, "# HELP aitrader_bus_queue_depth Events waiting for delivery.\n");
    fprintf(out, "# TYPE aitrader_bus_queue_depth gauge\n");
    fprintf(out, "aitrader_bus_queue_depth %zu\n", st.queued);
    fprintf(out, "# HELP aitrader_bus_queue_bytes Memory held by the events waiting.\n");
    fprintf(out, "# TYPE aitrader_bus_queue_bytes gauge\n");
    fprintf(out, "aitrader_bus_queue_bytes %zu\n", st.bytes);
    fprintf(out, "# HELP aitrader_bus_market_queued Market-data events waiting (bound: "
                 "[core] bus_market_max).\n");
    fprintf(out, "# TYPE aitrader_bus_market_queued gauge\n");
    fprintf(out, "aitrader_bus_market_queued %zu\n", st.market);
    fprintf(out, "# HELP aitrader_bus_overflows_total Episodes of dropped market data (one "
                 "ALERT each).\n");
    fprintf(out, "# TYPE aitrader_bus_overflows_total counter\n");
    fprintf(out, "aitrader_bus_overflows_total %llu\n", (unsigned long long)st.overflows);
    fprintf(out, "# HELP aitrader_bus_backlogs_total Episodes of an undroppable backlog over "
                 "[core] bus_backlog_max (one ALERT each).\n");
    fprintf(out, "# TYPE aitrader_bus_backlogs_total counter\n");
    fprintf(out, "aitrader_bus_backlogs_total %llu\n", (unsigned long long)st.backlogs);
}
