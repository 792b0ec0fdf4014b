/* Queue items: parameters turned into PostgreSQL text once, at the call, so
 * the same bytes are sent, journaled and replayed. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

/* PostgreSQL caps a statement at 65535 parameters. */
#define PG_MAX_PARAMS 65535

/* Type OIDs from pg_type.h (stable across versions; the header is server-side). */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_FLOAT8 701

typedef char numbuf[AT_DEC_STRLEN];

static bool ident_char(char c)
{
    unsigned char u = (unsigned char)c;
    return isalnum(u) || c == '_' || c == '$' || u >= 0x80;
}

/* Skip a quoted literal or identifier starting at s[i] (the quote); returns
 * the index after it, or 0 when unterminated. E'' strings take backslash
 * escapes; a doubled quote is one quote. */
static size_t skip_quoted(const char *s, size_t i, bool backslash)
{
    char q = s[i++];
    while (s[i]) {
        if (backslash && s[i] == '\\' && s[i + 1]) {
            i += 2;
        } else if (s[i] == q && s[i + 1] == q) {
            i += 2;
        } else if (s[i] == q) {
            return i + 1;
        } else {
            i++;
        }
    }
    return 0;
}

/* Highest $N in sql outside literals, quoted identifiers, comments and
 * dollar-quoted strings, or -1 when the text does not scan (an unterminated
 * quote: the server then says what is wrong). PostgreSQL reports a count
 * mismatch as a protocol violation; checking here gives callers AT_EINVAL. */
static long max_param(const char *s)
{
    long max = 0;
    size_t i = 0;
    while (s[i]) {
        char c = s[i];
        bool after_ident = i > 0 && ident_char(s[i - 1]);
        if (c == '\'' || c == '"') {
            bool e = c == '\'' && i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
                     (i < 2 || !ident_char(s[i - 2]));
            i = skip_quoted(s, i, e);
            if (i == 0) {
                return -1;
            }
        } else if (c == '-' && s[i + 1] == '-') {
            i += strcspn(s + i, "\n");
        } else if (c == '/' && s[i + 1] == '*') {
            int depth = 0;
            do {
                if (!s[i]) {
                    return -1;
                }
                if (s[i] == '/' && s[i + 1] == '*') {
                    depth++;
                    i += 2;
                } else if (s[i] == '*' && s[i + 1] == '/') {
                    depth--;
                    i += 2;
                } else {
                    i++;
                }
            } while (depth > 0);
        } else if (c == '$' && !after_ident && isdigit((unsigned char)s[i + 1])) {
            char *end;
            long v = strtol(s + i + 1, &end, 10);
            max = v > max ? v : max;
            i = (size_t)(end - s);
        } else if (c == '$' && !after_ident) {
            size_t j = i + 1;
            while (s[j] && s[j] != '$' && ident_char(s[j])) {
                j++;
            }
            if (s[j] != '$') {
                i++;
                continue;
            }
            /* $tag$ … $tag$ */
            size_t taglen = j - i + 1;
            const char *close = s + j + 1;
            while ((close = strchr(close, '$')) && strncmp(close, s + i, taglen) != 0) {
                close++;
            }
            if (!close) {
                return -1;
            }
            i = (size_t)(close - s) + taglen;
        } else {
            i++;
        }
    }
    return max;
}

static int format_param(pg *p, const at_db_value *v, numbuf buf, const char **out, char *type)
{
    switch (v->type) {
    case AT_DB_NULL:
        *out = NULL;
        *type = 'n';
        return AT_OK;
    case AT_DB_INT:
        snprintf(buf, sizeof(numbuf), "%" PRId64, v->u.i);
        *out = buf;
        *type = 'i';
        return AT_OK;
    case AT_DB_REAL:
        /* float8in spells these out; "%g" would give "nan"/"inf" */
        if (isnan(v->u.r)) {
            snprintf(buf, sizeof(numbuf), "NaN");
        } else if (isinf(v->u.r)) {
            snprintf(buf, sizeof(numbuf), "%sInfinity", v->u.r < 0 ? "-" : "");
        } else {
            snprintf(buf, sizeof(numbuf), "%.17g", v->u.r);
        }
        *out = buf;
        *type = 'r';
        return AT_OK;
    case AT_DB_TEXT:
        *out = v->u.s;
        *type = v->u.s ? 's' : 'n';
        return AT_OK;
    case AT_DB_DEC:
        if (v->u.d.scale < 0 || v->u.d.scale > AT_DEC_MAX_SCALE ||
            p->host->dec_format(v->u.d, buf) <= 0) {
            return AT_EINVAL;
        }
        *out = buf;
        *type = 'd';
        return AT_OK;
    case AT_DB_BOOL:
        *out = v->u.b ? "true" : "false";
        *type = 'b';
        return AT_OK;
    }
    return AT_EINVAL;
}

int pg_item_set_payload(pg_item *it, const char *sql, const char *types, const char *const *vals,
                        int n)
{
    size_t sqllen = strlen(sql) + 1;
    size_t size = (size_t)n * sizeof(char *) + (size_t)n + 1 + sqllen;
    for (int i = 0; i < n; i++) {
        size += vals[i] ? strlen(vals[i]) + 1 : 0;
    }
    char *block = malloc(size);
    if (!block) {
        return AT_ENOMEM;
    }
    char **v = (char **)block;
    char *t = block + (size_t)n * sizeof(char *);
    char *s = t + n + 1;
    memcpy(t, types, (size_t)n);
    t[n] = '\0';
    memcpy(s, sql, sqllen);
    char *w = s + sqllen;
    for (int i = 0; i < n; i++) {
        if (!vals[i]) {
            v[i] = NULL;
            continue;
        }
        size_t len = strlen(vals[i]) + 1;
        memcpy(w, vals[i], len);
        v[i] = w;
        w += len;
    }
    pg_item_drop_payload(it);
    it->payload = block;
    it->vals = v;
    it->types = t;
    it->sql = s;
    it->n = n;
    return AT_OK;
}

void pg_item_drop_payload(pg_item *it)
{
    free(it->payload);
    it->payload = NULL;
    it->vals = NULL;
    it->types = NULL;
    it->sql = NULL;
}

int pg_item_new(pg *p, pg_kind kind, const char *sql, const at_db_value *params, size_t n,
                pg_item **out)
{
    *out = NULL;
    if ((kind != PG_FLUSH && (!sql || !*sql)) || (n > 0 && !params) || n > PG_MAX_PARAMS) {
        return AT_EINVAL;
    }
    long want = kind == PG_FLUSH ? 0 : max_param(sql);
    if (want >= 0 && (size_t)want != n) {
        return AT_EINVAL;
    }
    pg_item *it = calloc(1, sizeof(*it));
    numbuf *bufs = n ? calloc(n, sizeof(numbuf)) : NULL;
    const char **vals = n ? calloc(n, sizeof(*vals)) : NULL;
    char *types = calloc(n + 1, 1);
    int err = AT_ENOMEM;
    if (!it || (n && (!bufs || !vals)) || !types) {
        goto fail;
    }
    it->kind = kind;
    for (size_t i = 0; i < n; i++) {
        err = format_param(p, &params[i], bufs[i], &vals[i], &types[i]);
        if (err != AT_OK) {
            goto fail;
        }
    }
    if (kind != PG_FLUSH) {
        err = pg_item_set_payload(it, sql, types, vals, (int)n);
        if (err != AT_OK) {
            goto fail;
        }
    }
    free(bufs);
    free(vals);
    free(types);
    *out = it;
    return AT_OK;
fail:
    free(bufs);
    free(vals);
    free(types);
    free(it);
    return err;
}

void pg_item_free(pg_item *it)
{
    if (!it) {
        return;
    }
    pg_item_drop_payload(it);
    free(it->errmsg);
    free(it);
}

void pg_queue_push(pg *p, pg_item *it)
{
    it->next = NULL;
    if (p->tail) {
        p->tail->next = it;
    } else {
        p->head = it;
    }
    p->tail = it;
    if (it->kind == PG_WRITE) {
        if (it->journaled) {
            p->journal_pending++;
        } else {
            p->mem_writes++;
        }
    } else if (it->kind == PG_QUERY) {
        p->queries++;
    }
}

void pg_finish(pg *p, pg_item *prev, pg_item *it, int err, const char *msg)
{
    pg_item *next = it->next;
    if (prev) {
        prev->next = next;
    } else {
        p->head = next;
    }
    if (p->tail == it) {
        p->tail = prev;
    }
    if (it->kind == PG_WRITE) {
        if (it->journaled) {
            p->journal_pending--;
        } else {
            p->mem_writes--;
        }
        if (p->m_writes && err == AT_OK) {
            p->host->metric_add(p->m_writes, 1);
        } else if (p->m_errors && err != AT_OK && err != AT_EAGAIN) {
            /* AT_EAGAIN: journaled at stop, not failed */
            p->host->metric_add(p->m_errors, 1);
        }
    } else if (it->kind == PG_QUERY) {
        p->queries--;
    }
    /* the SQL is not needed any more; the callback may be far away */
    pg_item_drop_payload(it);
    it->err = err;
    it->errmsg = msg ? strdup(msg) : NULL;
    it->next = NULL;
    if (p->fin_tail) {
        p->fin_tail->next = it;
    } else {
        p->fin_head = it;
    }
    p->fin_tail = it;
}

void pg_item_oids(const pg_item *it, Oid *oids)
{
    for (int i = 0; i < it->n; i++) {
        Oid o = 0;
        if (!it->untyped) {
            switch (it->types[i]) {
            case 'i':
                o = OID_INT8;
                break;
            case 'r':
                o = OID_FLOAT8;
                break;
            case 'b':
                o = OID_BOOL;
                break;
            default:
                /* text and decimals: unknown, so they fit TEXT and NUMERIC columns */
                o = 0;
            }
        }
        oids[i] = o;
    }
}
