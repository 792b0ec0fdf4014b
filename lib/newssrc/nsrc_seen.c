/* The items seen (newssrc.h): a set of their keys — the canonical URL's and
 * the title's — filled at start from the `news` rows of the last 14 days
 * (or max_age, when longer), so a restart publishes nothing twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "news.h"
#include "newssrc.h"

#define SEEN_DAYS 14

static uint64_t hash(const char *k)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *k; k++) {
        h = (h ^ (unsigned char)*k) * 1099511628211ULL;
    }
    return h;
}

bool nsrc_seen_has(const nsrc_seen *s, const char *key)
{
    if (!s->cap) {
        return false;
    }
    for (size_t i = hash(key) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->keys[i][0]) {
            return false;
        }
        if (strcmp(s->keys[i], key) == 0) {
            return true;
        }
    }
}

static int grow(nsrc_seen *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    char(*keys)[40] = calloc(cap, sizeof(*keys));
    if (!keys) {
        return AT_ENOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (s->keys[i][0]) {
            size_t j = hash(s->keys[i]) & (cap - 1);
            while (keys[j][0]) {
                j = (j + 1) & (cap - 1);
            }
            memcpy(keys[j], s->keys[i], sizeof(keys[j]));
        }
    }
    free(s->keys);
    s->keys = keys;
    s->cap = cap;
    return AT_OK;
}

int nsrc_seen_add(nsrc_seen *s, const char *key)
{
    if (!key[0] || strlen(key) >= sizeof(s->keys[0]) || nsrc_seen_has(s, key)) {
        return AT_OK;
    }
    if ((s->n + 1) * 4 > s->cap * 3 && grow(s) != AT_OK) { /* at most 3/4 full */
        return AT_ENOMEM;
    }
    size_t i = hash(key) & (s->cap - 1);
    while (s->keys[i][0]) {
        i = (i + 1) & (s->cap - 1);
    }
    snprintf(s->keys[i], sizeof(s->keys[i]), "%s", key);
    s->n++;
    return AT_OK;
}

void nsrc_seen_free(nsrc_seen *s)
{
    free(s->keys);
    memset(s, 0, sizeof(*s));
}

typedef struct load {
    nsrc *n;
    void (*done)(void *arg, int err);
    void *arg;
} load;

static int on_row(void *arg, const at_db_row *row)
{
    load *l = arg;
    if (row->ncols < 2 || row->cols[0].type != AT_DB_TEXT) {
        return 0;
    }
    l->n->known++;
    nsrc_seen_add(&l->n->seen, row->cols[0].u.s); /* the item's id: its URL's or title's key */
    if (row->cols[1].type == AT_DB_TEXT) {
        char k[64];
        news_key("t:", row->cols[1].u.s, false, k);
        nsrc_seen_add(&l->n->seen, k);
    }
    return 0;
}

static void on_done(void *arg, int err, const char *error)
{
    load *l = arg;
    nsrc *n = l->n;
    if (err != AT_OK) {
        n->h->log(n->inst, AT_LOG_WARN,
                  "the news stored before could not be read (%s): items seen before a restart "
                  "may be published again",
                  error ? error : "no storage");
    }
    load done = *l;
    free(l);
    done.done(done.arg, err);
}

int nsrc_seen_load(nsrc *n, void (*done)(void *arg, int err), void *arg)
{
    load *l = calloc(1, sizeof(*l));
    if (!l) {
        return AT_ENOMEM;
    }
    *l = (load){n, done, arg};
    int64_t keep = (int64_t)SEEN_DAYS * 86400000;
    if (n->max_age_ms > keep) {
        keep = n->max_age_ms; /* what could still be published must be known */
    }
    int64_t since = n->h->now_us() / 1000 - keep;
    const at_db_value p[] = {AT_DB_I(since)};
    int rc = n->h->db_query(n->inst, "SELECT id, title FROM news WHERE fetched_ms >= $1", p, 1,
                            on_row, on_done, l);
    if (rc != AT_OK) {
        free(l);
    }
    return rc;
}
