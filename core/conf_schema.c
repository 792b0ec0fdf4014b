/* Applying a plugin's config schema to one section: type checks, ranges,
 * defaults, required keys, unknown-key hints; and `plugins --describe`. */
#include "conf.h"

#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/types.h>

#include "log.h"
#include "util.h"

typedef struct owned_item {
    void *p;
    size_t len; /* bytes to wipe when secret */
    bool secret;
} owned_item;

struct conf_owned {
    owned_item *items;
    size_t n;
    size_t cap;
};

/* Take ownership of p. On failure p is wiped (if secret) and freed. */
static int own(conf_owned *o, void *p, size_t len, bool secret)
{
    if (!p) {
        return AT_ENOMEM;
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        owned_item *items = realloc(o->items, cap * sizeof(*items));
        if (!items) {
            if (secret) {
                explicit_bzero(p, len);
            }
            free(p);
            return AT_ENOMEM;
        }
        o->items = items;
        o->cap = cap;
    }
    o->items[o->n++] = (owned_item){p, len, secret};
    return AT_OK;
}

void conf_owned_free(conf_owned *o)
{
    if (!o) {
        return;
    }
    for (size_t i = 0; i < o->n; i++) {
        if (o->items[i].secret) {
            explicit_bzero(o->items[i].p, o->items[i].len);
        }
        free(o->items[i].p);
    }
    free(o->items);
    free(o);
}

/* ---- formatting bounds in the user's units ------------------------------ */

#define INT64_AS_DOUBLE 9223372036854775807.0

static bool is_int64(double v)
{
    return v == floor(v) && v >= -INT64_AS_DOUBLE && v < INT64_AS_DOUBLE;
}

/* Shortest text that reads back as the same double. */
static void fmt_double(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.15g", v);
    if (strtod(buf, NULL) != v) {
        snprintf(buf, n, "%.17g", v);
    }
}

static void fmt_duration(char *buf, size_t n, int64_t ms)
{
    static const struct {
        const char *u;
        int64_t mult;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
    for (size_t i = 0; ms != 0 && i < sizeof(units) / sizeof(units[0]); i++) {
        if (ms % units[i].mult == 0) {
            snprintf(buf, n, "%" PRId64 "%s", ms / units[i].mult, units[i].u);
            return;
        }
    }
    snprintf(buf, n, "%" PRId64 "%s", ms, ms == 0 ? "s" : "ms");
}

static void fmt_size(char *buf, size_t n, int64_t b)
{
    static const struct {
        const char *u;
        int64_t mult;
    } units[] = {{"G", 1024 * 1024 * 1024}, {"M", 1024 * 1024}, {"K", 1024}};
    for (size_t i = 0; b != 0 && i < sizeof(units) / sizeof(units[0]); i++) {
        if (b % units[i].mult == 0) {
            snprintf(buf, n, "%" PRId64 "%s", b / units[i].mult, units[i].u);
            return;
        }
    }
    snprintf(buf, n, "%" PRId64, b);
}

static void fmt_bound(char *buf, size_t n, at_cfg_type type, double v)
{
    if (type == AT_CFG_DOUBLE || !is_int64(v)) {
        fmt_double(buf, n, v);
    } else if (type == AT_CFG_DURATION) {
        fmt_duration(buf, n, (int64_t)v);
    } else if (type == AT_CFG_SIZE) {
        fmt_size(buf, n, (int64_t)v);
    } else {
        snprintf(buf, n, "%" PRId64, (int64_t)v);
    }
}

/* "1..65535", "at least 1s", "at most 10" (infinite bounds are one-sided). */
static void fmt_range(char *buf, size_t n, const at_cfg_field *f)
{
    char lo[48];
    char hi[48];
    fmt_bound(lo, sizeof(lo), f->type, f->min);
    fmt_bound(hi, sizeof(hi), f->type, f->max);
    bool nolo = isinf(f->min) && f->min < 0;
    bool nohi = isinf(f->max) && f->max > 0;
    if (nolo && nohi) {
        snprintf(buf, n, "any");
    } else if (nolo) {
        snprintf(buf, n, "at most %s", hi);
    } else if (nohi) {
        snprintf(buf, n, "at least %s", lo);
    } else {
        snprintf(buf, n, "%s..%s", lo, hi);
    }
}

static int check_range(const at_cfg_field *f, long double v, const char *text, char *why, size_t n)
{
    if (!(f->flags & AT_CFG_RANGE) || (v >= (long double)f->min && v <= (long double)f->max)) {
        return AT_OK;
    }
    char range[112];
    fmt_range(range, sizeof(range), f);
    bool two_sided = strstr(range, "..") != NULL;
    snprintf(why, n, "%s is out of range (%s %s)", text, two_sided ? "allowed" : "must be", range);
    return AT_ERANGE;
}

/* ---- one value ---------------------------------------------------------- */

static void write_at(void *ctx, size_t off, const void *v, size_t len)
{
    memcpy((char *)ctx + off, v, len);
}

static int apply_list(const at_cfg_field *f, const char *text, void *ctx, conf_owned *o, char *why,
                      size_t n)
{
    size_t count = 0;
    if (*text) {
        count = 1;
        for (const char *p = text; *p; p++) {
            count += *p == ',';
        }
    }
    /* NULL-terminated as a convenience; n is authoritative. */
    char **items = calloc(count + 1, sizeof(*items));
    if (own(o, items, 0, false) != AT_OK) {
        snprintf(why, n, "out of memory");
        return AT_ENOMEM;
    }
    const char *p = text;
    for (size_t i = 0; i < count; i++) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *b = p;
        const char *e = end;
        while (b < e && (*b == ' ' || *b == '\t')) {
            b++;
        }
        while (e > b && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }
        if (b == e) {
            snprintf(why, n, "empty item %zu in list \"%s\" (items are comma-separated)", i + 1,
                     text);
            return AT_EINVAL;
        }
        items[i] = at_strndup(b, (size_t)(e - b));
        if (own(o, items[i], 0, false) != AT_OK) {
            items[i] = NULL;
            snprintf(why, n, "out of memory");
            return AT_ENOMEM;
        }
        p = end + 1;
    }
    at_cfg_list l = {count, (const char *const *)items};
    write_at(ctx, f->offset, &l, sizeof(l));
    return AT_OK;
}

static int apply_enum(const at_cfg_field *f, const char *text, void *ctx, char *why, size_t n)
{
    if (!f->enum_values || !f->enum_values[0]) {
        snprintf(why, n, "enum without values in plugin schema");
        return AT_EINVAL;
    }
    size_t used = 0;
    int written = snprintf(why, n, "expected one of ");
    used = written > 0 ? (size_t)written : 0;
    for (int i = 0; f->enum_values[i]; i++) {
        if (strcmp(text, f->enum_values[i]) == 0) {
            write_at(ctx, f->offset, &i, sizeof(i));
            why[0] = '\0';
            return AT_OK;
        }
        if (used < n) {
            written = snprintf(why + used, n - used, "%s%s", i ? ", " : "", f->enum_values[i]);
            used += written > 0 ? (size_t)written : 0;
        }
    }
    if (used < n) {
        snprintf(why + used, n - used, ", got \"%s\"", text);
    }
    return AT_EINVAL;
}

/* Parse text as f's type and store it in ctx. On failure `why` gets the
 * reason (never a secret). A default secret whose variable or file does not
 * exist leaves the field NULL: the plugin decides whether it needs it. */
static int apply_value(const at_cfg_field *f, const char *text, bool is_default, void *ctx,
                       conf_owned *o, char *why, size_t n)
{
    int rc;
    int64_t i64 = 0;
    switch (f->type) {
    case AT_CFG_STR: {
        char *s = at_strdup(text);
        if (own(o, s, 0, false) != AT_OK) {
            snprintf(why, n, "out of memory");
            return AT_ENOMEM;
        }
        const char *cs = s;
        write_at(ctx, f->offset, &cs, sizeof(cs));
        return AT_OK;
    }
    case AT_CFG_INT:
        rc = conf_parse_int(text, &i64);
        if (rc == AT_ERANGE) {
            snprintf(why, n, "integer \"%s\" does not fit in 64 bits", text);
            return rc;
        }
        if (rc != AT_OK) {
            snprintf(why, n, "expected an integer, got \"%s\"", text);
            return rc;
        }
        break;
    case AT_CFG_BOOL: {
        bool b = false;
        if (conf_parse_bool(text, &b) != AT_OK) {
            snprintf(why, n, "expected a boolean (true/false), got \"%s\"", text);
            return AT_EINVAL;
        }
        write_at(ctx, f->offset, &b, sizeof(b));
        return AT_OK;
    }
    case AT_CFG_DOUBLE: {
        double d = 0;
        rc = conf_parse_double(text, &d);
        if (rc != AT_OK) {
            snprintf(why, n, "expected a finite number, got \"%s\"", text);
            return rc;
        }
        if ((rc = check_range(f, d, text, why, n)) != AT_OK) {
            return rc;
        }
        write_at(ctx, f->offset, &d, sizeof(d));
        return AT_OK;
    }
    case AT_CFG_DURATION:
        rc = conf_parse_duration(text, &i64);
        if (rc != AT_OK) {
            snprintf(why, n,
                     "expected a duration such as 250ms, 20s, 1.5s, 12m, 1h or 1d (a bare number "
                     "is seconds), got \"%s\"",
                     text);
            return rc;
        }
        break;
    case AT_CFG_SIZE:
        rc = conf_parse_size(text, &i64);
        if (rc != AT_OK) {
            snprintf(why, n, "expected a size such as 512, 64K, 2M or 1G (1K = 1024), got \"%s\"",
                     text);
            return rc;
        }
        break;
    case AT_CFG_ENUM:
        return apply_enum(f, text, ctx, why, n);
    case AT_CFG_LIST:
        return apply_list(f, text, ctx, o, why, n);
    case AT_CFG_SECRET: {
        char *v = NULL;
        rc = conf_secret_resolve(text, &v, why, n);
        if (rc == AT_ENOENT && is_default) {
            why[0] = '\0';
            return AT_OK;
        }
        if (rc != AT_OK) {
            return rc;
        }
        size_t len = strlen(v);
        log_secret_add(v);
        if (own(o, v, len, true) != AT_OK) {
            snprintf(why, n, "out of memory");
            return AT_ENOMEM;
        }
        const char *cv = v;
        write_at(ctx, f->offset, &cv, sizeof(cv));
        return AT_OK;
    }
    default:
        snprintf(why, n, "unknown type %d in plugin schema", (int)f->type);
        return AT_EINVAL;
    }
    /* INT, DURATION, SIZE: an int64_t with an optional range. */
    if ((rc = check_range(f, (long double)i64, text, why, n)) != AT_OK) {
        return rc;
    }
    write_at(ctx, f->offset, &i64, sizeof(i64));
    return AT_OK;
}

/* ---- unknown keys ------------------------------------------------------- */

/* Optimal string alignment distance (a swap of neighbours counts as one),
 * with three rolling rows: keys are short, but this runs on any thread. */
static size_t edit_distance(const char *a, const char *b)
{
    enum { MAXK = 64 };
    size_t la = strlen(a);
    size_t lb = strlen(b);
    if (la >= MAXK || lb >= MAXK) {
        return SIZE_MAX;
    }
    size_t rows[3][MAXK + 1];
    size_t *pp = rows[0]; /* row i-2 */
    size_t *p = rows[1];  /* row i-1 */
    size_t *c = rows[2];  /* row i */
    for (size_t j = 0; j <= lb; j++) {
        p[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        c[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = p[j] + 1;
            if (c[j - 1] + 1 < v) {
                v = c[j - 1] + 1;
            }
            if (p[j - 1] + cost < v) {
                v = p[j - 1] + cost;
            }
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < v) {
                v = pp[j - 2] + 1;
            }
            c[j] = v;
        }
        size_t *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[lb];
}

static void consider(const char *key, const char *cand, const char **best, size_t *bestd)
{
    size_t d = edit_distance(key, cand);
    /* d < strlen(cand): never suggest a key sharing nothing with the typo. */
    if (d <= 2 && d < strlen(cand) && d < *bestd) {
        *best = cand;
        *bestd = d;
    }
}

static const char *suggest(const char *key, const at_cfg_field *schema, const char *const *ignore)
{
    const char *best = NULL;
    size_t bestd = SIZE_MAX;
    for (const at_cfg_field *f = schema; f && f->name; f++) {
        consider(key, f->name, &best, &bestd);
    }
    for (size_t i = 0; ignore && ignore[i]; i++) {
        consider(key, ignore[i], &best, &bestd);
    }
    return best;
}

static bool ignored(const char *key, const char *const *ignore)
{
    for (size_t i = 0; ignore && ignore[i]; i++) {
        if (strcmp(key, ignore[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- conf_apply --------------------------------------------------------- */

int conf_apply(const char *file, const char *section_name, const conf_section *sec,
               const at_cfg_field *schema, const char *const *ignore, void *ctx, conf_owned **owned,
               conf_errors *errs)
{
    const char *secname = sec ? sec->name : section_name;
    int hdr = sec ? sec->line : 0;
    int nerr = 0;
    char why[512];
    bool *seen = NULL;
    size_t nfields = 0;
    for (const at_cfg_field *f = schema; f && f->name; f++) {
        nfields++;
    }
    if (!owned) {
        conf_err(errs, file, hdr, secname, NULL, "internal error: no owner for config values");
        return 1;
    }
    if (!*owned && !(*owned = calloc(1, sizeof(**owned)))) {
        goto oom;
    }
    if (nfields && !(seen = calloc(nfields, sizeof(*seen)))) {
        goto oom;
    }

    for (size_t i = 0; sec && i < sec->n; i++) {
        const conf_entry *e = &sec->entries[i];
        if (ignored(e->key, ignore)) {
            continue;
        }
        size_t k = 0;
        while (k < nfields && strcmp(schema[k].name, e->key) != 0) {
            k++;
        }
        if (k == nfields) {
            const char *hint = suggest(e->key, schema, ignore);
            if (hint) {
                conf_err(errs, file, e->line, secname, e->key, "unknown key (did you mean '%s'?)",
                         hint);
            } else {
                conf_err(errs, file, e->line, secname, e->key, "unknown key");
            }
            nerr++;
            continue;
        }
        seen[k] = true;
        if (apply_value(&schema[k], e->value, false, ctx, *owned, why, sizeof(why)) != AT_OK) {
            conf_err(errs, file, e->line, secname, e->key, "%s", why);
            nerr++;
        }
    }

    for (size_t k = 0; k < nfields; k++) {
        const at_cfg_field *f = &schema[k];
        if (seen[k]) {
            continue;
        }
        if (f->flags & AT_CFG_REQUIRED) {
            if (f->desc && *f->desc) {
                conf_err(errs, file, hdr, secname, f->name, "required key missing (%s)", f->desc);
            } else {
                conf_err(errs, file, hdr, secname, f->name, "required key missing");
            }
            nerr++;
            continue;
        }
        if (!f->def) {
            continue;
        }
        if (apply_value(f, f->def, true, ctx, *owned, why, sizeof(why)) != AT_OK) {
            conf_err(errs, file, hdr, secname, f->name, "invalid default in plugin schema: %s",
                     why);
            nerr++;
        }
    }
    free(seen);
    return nerr;

oom:
    free(seen);
    conf_err(errs, file, hdr, secname, NULL, "out of memory");
    return nerr + 1;
}

/* ---- conf_describe ------------------------------------------------------ */

enum { COL_KEY, COL_TYPE, COL_DEF, COL_REQ, COL_RANGE, COL_DESC, NCOL };

static const char *type_name(at_cfg_type t)
{
    switch (t) {
    case AT_CFG_STR:
        return "string";
    case AT_CFG_INT:
        return "int";
    case AT_CFG_BOOL:
        return "bool";
    case AT_CFG_DOUBLE:
        return "double";
    case AT_CFG_DURATION:
        return "duration";
    case AT_CFG_SIZE:
        return "size";
    case AT_CFG_ENUM:
        return "enum";
    case AT_CFG_LIST:
        return "list";
    case AT_CFG_SECRET:
        return "secret (env:NAME|file:PATH)";
    default:
        return "?";
    }
}

static void describe_row(const at_cfg_field *f, char cells[NCOL][256])
{
    snprintf(cells[COL_KEY], 256, "%s", f->name);
    snprintf(cells[COL_TYPE], 256, "%s", type_name(f->type));
    bool req = f->flags & AT_CFG_REQUIRED;
    snprintf(cells[COL_DEF], 256, "%s", !req && f->def ? f->def : "-");
    snprintf(cells[COL_REQ], 256, "%s", req ? "yes" : "no");
    snprintf(cells[COL_RANGE], 256, "-");
    if (f->type == AT_CFG_ENUM && f->enum_values) {
        size_t used = 0;
        for (size_t i = 0; f->enum_values[i] && used < 256; i++) {
            int w = snprintf(cells[COL_RANGE] + used, 256 - used, "%s%s", i ? "|" : "",
                             f->enum_values[i]);
            used += w > 0 ? (size_t)w : 0;
        }
    } else if (f->flags & AT_CFG_RANGE) {
        fmt_range(cells[COL_RANGE], 256, f);
    }
    snprintf(cells[COL_DESC], 256, "%s", f->desc && *f->desc ? f->desc : "-");
}

/* Padded columns; the last one (description) is not padded. */
static void print_row(FILE *out, const size_t w[NCOL], const char *const cells[NCOL])
{
    for (int c = 0; c < NCOL - 1; c++) {
        fprintf(out, "%-*s  ", (int)w[c], cells[c]);
    }
    fprintf(out, "%s\n", cells[NCOL - 1]);
}

void conf_describe(const at_cfg_field *schema, void *stream)
{
    static const char *const head[NCOL] = {"KEY",      "TYPE",          "DEFAULT",
                                           "REQUIRED", "RANGE/CHOICES", "DESCRIPTION"};
    FILE *out = stream ? stream : stdout;
    size_t w[NCOL];
    char cells[NCOL][256];
    for (int c = 0; c < NCOL; c++) {
        w[c] = strlen(head[c]);
    }
    for (const at_cfg_field *f = schema; f && f->name; f++) {
        describe_row(f, cells);
        for (int c = 0; c < NCOL; c++) {
            size_t l = strlen(cells[c]);
            w[c] = l > w[c] ? l : w[c];
        }
    }
    if (!schema || !schema->name) {
        fprintf(out, "(no configuration keys)\n");
        return;
    }
    print_row(out, w, head);
    for (const at_cfg_field *f = schema; f->name; f++) {
        describe_row(f, cells);
        const char *row[NCOL];
        for (int c = 0; c < NCOL; c++) {
            row[c] = cells[c];
        }
        print_row(out, w, row);
    }
}
