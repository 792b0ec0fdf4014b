/* indicator_ta's private header: the instance context, and the config
 * parser init and check_config share (ind_config.c). */
#ifndef AT_INDICATOR_TA_H
#define AT_INDICATOR_TA_H

#include <stdbool.h>
#include <stdint.h>

#include <aitrader/plugin.h>

#include "ta.h"
#include "ta_signal.h"

#define MAX_BARS 8
#define MIN_MS 60000

typedef struct bar_state {
    int64_t bar_ms;
    ta_agg agg;
    ta_set set;
    ta_sig_stream sig; /* threshold signals of this instrument on this bar */
} bar_state;

typedef struct inst_state {
    at_inst id;
    bool have_candles; /* a confirmed 1m candle came: trades no longer build bars */
    bool any_1m, pending;
    int64_t last_1m;
    ta_bar pend;            /* newest unconfirmed 1m candle: final once a later minute shows up */
    const at_ev_book *book; /* latest BOOK, retained: read once per published bar */
    ta_agg trades;
    ta_funding funding;
    ta_chg chg;
    bar_state bars[MAX_BARS];
} inst_state;

/* What the config values mean, beyond what the schema checks: built by
 * ind_setup_parse, the one parser init and check_config share. */
typedef struct ind_setup {
    ta_sig_rules rules;
    bool all; /* instruments = all */
    int nbars;
    int64_t bar_ms[MAX_BARS];
    char obi_name[24];
} ind_setup;

typedef struct ind_ctx {
    at_instance *inst;
    const at_host *h;
    /* config */
    at_cfg_list instruments, bars;
    int64_t depth, max_instruments;
    const char *source;
    at_cfg_list signals;
    /* derived */
    ind_setup set;
    /* state */
    inst_state **slots; /* open addressing by instrument id; nslots a power of 2 */
    size_t nslots, ninst;
    bool full_warned;
    int subs[4];
    at_timer *tick;
    at_metric *published;
} ind_ctx;

/* The values every INDICATOR event carries, in this order; entry IND_OBI
 * is NULL and stands for "obiN" with the configured depth. Signal rules may
 * name only these. */
enum { IND_OBI = 18, IND_N = 22 };
extern const char *const ind_names[IND_N];

/* The config schema. */
extern const at_cfg_field ind_schema[];

/*
 * The one parser of what the schema cannot check: bar sizes, the instrument
 * list, signal rules (their syntax, the indicators they name, the
 * instruments they override). init keeps the result; ind_check_config, run
 * by `check-config` and before init, only the verdict, so everything init
 * could refuse is refused there first, at the key's line. No host, nothing
 * allocated. AT_OK, or AT_ECONFIG with *key and why set.
 */
int ind_setup_parse(const ind_ctx *c, ind_setup *set, const char **key, char *why, size_t whylen);
/* at_plugin.check_config. */
int ind_check_config(const void *ctx, const char **key, char *why, size_t whylen);

#endif
