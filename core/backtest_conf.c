/* The user's config, adapted for a backtest (backtest_internal.h): the
 * market-data exchanges become feeds of the candle files (same names, so
 * `market =` and `source =` keys still hold), the paper venues start from a
 * fresh account on the files' instruments, storage is a scratch database,
 * and what would reach the network or trade a live account is turned off —
 * or refused at its section when the run would mean something else without
 * it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest_internal.h"
#include "util.h"

#define DEFAULT_FEED "exchange.backtest"

static const conf_section *section(const conf_file *f, const char *name)
{
    const conf_section *s = name ? conf_section_get(f, name) : NULL;
    return s && conf_section_enabled(s) ? s : NULL;
}

/* The instruments of the candle files, comma-separated. */
static char *inst_list(const backtest *b)
{
    size_t len = 1;
    for (size_t i = 0; i < b->ns; i++) {
        len += strlen(b->s[i].inst) + 2;
    }
    char *out = calloc(1, len);
    for (size_t i = 0; out && i < b->ns; i++) {
        strcat(strcat(out, i ? ", " : ""), b->s[i].inst);
    }
    return out;
}

static int add_feed(backtest *b, const char *name)
{
    if (b->nmarkets == BT_MAX_FEEDS) {
        return AT_ERANGE;
    }
    b->markets[b->nmarkets] = at_strdup(name);
    return b->markets[b->nmarkets++] ? AT_OK : AT_ENOMEM;
}

static bool is_feed(const backtest *b, const char *name)
{
    for (size_t i = 0; i < b->nmarkets; i++) {
        if (strcmp(b->markets[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* A paper venue: a fresh account on the files' instruments, its specs from
 * --instruments (or its own instruments_file). */
static int paper(backtest *b, conf_file *f, const conf_section *s, const char *insts,
                 conf_errors *errs)
{
    if (!b->a->instruments && !conf_entry_get(s, "instruments_file")) {
        conf_err(errs, f->path, s->line, s->name, NULL,
                 "backtest: the paper venue needs the instruments' specs (ctVal, lotSz, tickSz) "
                 "and no network is asked: give --instruments FILE (a saved "
                 "/api/v5/public/instruments?instType=SWAP answer) or instruments_file = FILE");
        return AT_OK;
    }
    const conf_entry *m = conf_entry_get(s, "market");
    if (m && !is_feed(b, m->value)) {
        conf_err(errs, f->path, m->line, s->name, "market",
                 "backtest: %s is not a market-data exchange of this config (an [exchange.*] "
                 "section with module = okx): the candle files play as those",
                 m->value);
        return AT_OK;
    }
    int rc = conf_set(f, s->name, "instruments", insts);
    rc = rc == AT_OK ? conf_set(f, s->name, "reset", "true") : rc;
    if (rc == AT_OK && b->a->instruments) {
        rc = conf_set(f, s->name, "instruments_file", b->a->instruments);
    }
    if (rc == AT_OK && b->naccounts == BT_MAX_FEEDS) {
        conf_err(errs, f->path, s->line, s->name, NULL, "backtest: at most %d paper venues",
                 BT_MAX_FEEDS);
    } else if (rc == AT_OK) {
        b->accounts[b->naccounts++] = at_strdup(s->name);
    }
    return rc;
}

/* indicator_ta builds its bars from the minute candles the feed gives it: a
 * file of coarser bars gives it one candle a bar, so its bar sizes must be
 * whole multiples of the coarsest file's. */
static void indicator_bars(const backtest *b, const conf_file *f, conf_errors *errs)
{
    int64_t bar = 0;
    for (size_t i = 0; i < b->ns; i++) {
        bar = b->s[i].bar_ms > bar ? b->s[i].bar_ms : bar;
    }
    for (size_t i = 0; bar > 60000 && i < f->n; i++) {
        const conf_section *s = &f->secs[i];
        if (strcmp(s->kind, "indicator") != 0 || !conf_section_enabled(s) ||
            strcmp(conf_section_module(s), "ta") != 0) {
            continue;
        }
        const conf_entry *e = conf_entry_get(s, "bars");
        char list[256];
        snprintf(list, sizeof(list), "%s", e ? e->value : "1m, 5m");
        for (char *save = NULL, *t = strtok_r(list, ", ", &save); t;
             t = strtok_r(NULL, ", ", &save)) {
            int64_t ms = 0;
            if (conf_parse_duration(t, &ms) == AT_OK && (ms < bar || ms % bar != 0)) {
                conf_err(errs, f->path, e ? e->line : s->line, s->name, "bars",
                         "backtest: %s bars from files of %lld-minute bars: set bars to "
                         "multiples of %lld minutes",
                         t, (long long)(bar / 60000), (long long)(bar / 60000));
                break;
            }
        }
    }
}

/* Traders trade paper venues only, and ask an AI that needs no network. */
static void traders(const conf_file *f, conf_errors *errs)
{
    for (size_t i = 0; i < f->n; i++) {
        const conf_section *t = &f->secs[i];
        if (strcmp(t->kind, "trader") != 0 || !conf_section_enabled(t)) {
            continue;
        }
        const conf_entry *acc = conf_entry_get(t, "account");
        const conf_section *a = section(f, acc ? acc->value : NULL);
        if (acc && (!a || strcmp(conf_section_module(a), "paper") != 0)) {
            conf_err(errs, f->path, acc->line, t->name, "account",
                     "backtest: %s is not a paper venue; a backtest trades paper venues only "
                     "(an [exchange.*] section with module = paper)",
                     acc->value);
        }
        const conf_entry *ai = conf_entry_get(t, "ai");
        const conf_section *p = section(f, ai ? ai->value : NULL);
        const char *mod = p ? conf_section_module(p) : "";
        if (ai && p && strcmp(mod, "rules") != 0 && strcmp(mod, "stub") != 0) {
            conf_err(errs, f->path, ai->line, t->name, "ai",
                     "backtest: %s (module %s) would ask a live model for every decision; this "
                     "build backtests with ai_rules (module = rules)",
                     ai->value, mod);
        }
    }
}

int bt_edit_conf(void *arg, conf_file *f, conf_errors *errs)
{
    backtest *b = arg;
    size_t before = errs->n;
    /* --set first: this run's value of each, so what the backtest adapts
     * and checks below holds over it */
    for (size_t i = 0; i < b->nsets; i++) {
        const bt_set *st = &b->sets[i];
        const conf_section *s = conf_section_get(f, st->section);
        if (!s) {
            conf_err(errs, f->path, 0, NULL, NULL, "backtest: --set %s.%s: no [%s] section",
                     st->section, st->key, st->section);
        } else if (strcmp(s->kind, "core") == 0 || strcmp(s->kind, "storage") == 0 ||
                   strcmp(s->kind, "ui") == 0 || strcmp(s->kind, "source") == 0) {
            conf_err(errs, f->path, s->line, s->name, st->key,
                     "backtest: --set cannot change [%s]: the backtest decides its storage, "
                     "data and what is off",
                     s->name);
        } else if (conf_set(f, st->section, st->key, st->values[b->choice[i]]) != AT_OK) {
            conf_err(errs, f->path, 0, NULL, NULL, "backtest: --set %s.%s: out of memory",
                     st->section, st->key);
        }
    }
    char *insts = inst_list(b);
    int rc = insts ? conf_add_section(f, "core") : AT_ENOMEM;
    rc = rc == AT_OK ? conf_set(f, "core", "data_dir", b->data_dir) : rc;
    rc = rc == AT_OK ? conf_set(f, "core", "mode", "paper") : rc;
    conf_unset(f, "core", "record");
    size_t nsec = f->n;
    /* the market-data exchanges first: the paper venues name them */
    for (size_t i = 0; rc == AT_OK && i < nsec; i++) {
        const conf_section *s = &f->secs[i];
        if (strcmp(s->kind, "exchange") == 0 && conf_section_enabled(s) &&
            strcmp(conf_section_module(s), "paper") != 0) {
            /* an account too: its market is the files' (a trader on it is refused) */
            static const char *const keys[] = {"api_key", "secret_key", "passphrase", NULL};
            char *name = at_strdup(s->name);
            for (size_t k = 0; name && keys[k]; k++) {
                conf_unset(f, name, keys[k]);
            }
            rc = name ? add_feed(b, name) : AT_ENOMEM;
            rc = rc == AT_OK ? conf_set(f, name, AT_CFG_KEY_ENABLED, "false") : rc;
            free(name);
        }
    }
    if (rc == AT_OK && b->nmarkets == 0) {
        rc = add_feed(b, DEFAULT_FEED);
    }
    for (size_t i = 0; rc == AT_OK && i < nsec; i++) {
        const conf_section *s = &f->secs[i];
        if (!conf_section_enabled(s) || strcmp(s->name, "core") == 0) {
            continue;
        }
        const char *kind = s->kind;
        if (strcmp(kind, "storage") == 0 || strcmp(kind, "ui") == 0 ||
            strcmp(kind, "source") == 0) {
            rc = conf_set(f, s->name, AT_CFG_KEY_ENABLED, "false");
        } else if (strcmp(kind, "exchange") == 0 && strcmp(conf_section_module(s), "paper") == 0) {
            rc = paper(b, f, s, insts, errs);
        }
    }
    if (rc == AT_OK && b->naccounts == 0 && errs->n == before) {
        conf_err(errs, f->path, 0, NULL, NULL,
                 "backtest: no paper venue to trade: add an [exchange.NAME] section with module "
                 "= paper (and market = the market-data exchange)");
    }
    traders(f, errs);
    indicator_bars(b, f, errs);
    if (rc == AT_OK && conf_section_get(f, "storage.backtest")) {
        conf_err(errs, f->path, conf_section_get(f, "storage.backtest")->line, "storage.backtest",
                 NULL,
                 "backtest: this name is the backtest's scratch database: rename the section");
    }
    rc = rc == AT_OK ? conf_add_section(f, "storage.backtest") : rc;
    rc = rc == AT_OK ? conf_set(f, "storage.backtest", AT_CFG_KEY_MODULE, "sqlite") : rc;
    rc = rc == AT_OK ? conf_set(f, "storage.backtest", "path", b->db) : rc;
    rc = rc == AT_OK ? conf_set(f, "storage.backtest", "synchronous", "normal") : rc;
    free(insts);
    if (rc != AT_OK) {
        conf_err(errs, f->path, 0, NULL, NULL, "backtest: cannot adapt the config: %s",
                 at_strerror(rc));
    }
    return errs->n > before ? AT_ECONFIG : AT_OK;
}
