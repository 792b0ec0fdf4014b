/* modules.ini reader on top of inih.
 *
 * inih (Debian build: 200-byte line buffer, no line numbers in the handler,
 * only the first error line returned, no callback on section headers) is fed
 * through ini_parse_stream() with our own reader. The reader sees every
 * physical line first, so it
 *   - counts lines exactly (the handler runs for the line just read),
 *   - takes lines up to CONF_MAX_LINE, far past inih's buffer: a longer line
 *     is checked and split into key and value here (with inih's rules) and
 *     inih gets a short placeholder pair that on_pair swaps back, so a deep
 *     path or a long list never meets inih's 199 characters; past
 *     CONF_MAX_LINE the line is refused with FILE:LINE, never cut,
 *   - tracks [section] headers itself (header line numbers, empty and
 *     duplicate sections, name validation),
 *   - reports every syntax error, not only the first,
 *   - strips leading blanks, which turns off inih's multi-line continuation:
 *     an indented "key = value" must not silently become part of the previous
 *     value,
 *   - turns " #" into " ;" so '#' starts an inline comment like ';' does.
 * Lines the reader rejects reach inih as empty lines, so inih only ever sees
 * well-formed lines and its handler only has to record key/value pairs. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include <aitrader/types.h>

#include "util.h"

/* Refuse absurd inputs (a device, a wrong path) before reading them whole. */
#define CONF_MAX_FILE (16u * 1024u * 1024u)
/* Longest line taken: room for any path list or URL, and a bound on what one
 * line may cost, so a file without newlines is an error, not one huge value. */
#define CONF_MAX_LINE (64u * 1024u)

typedef struct parse_ctx {
    conf_file *f;
    conf_errors *errs;
    const char *text;
    size_t len;
    size_t pos;
    int lineno;
    long cur;      /* index of the open section in f->secs, -1 before any */
    bool skipping; /* after a bad header: drop its keys without more errors */
    bool oom;
    /* A line longer than inih's buffer: its text, split in place. */
    char *big;
    size_t big_cap;
    const char *big_key, *big_value; /* set while inih holds the placeholder */
} parse_ctx;

/* Grow *arr (n elements of size elem) so one more fits. Capacity is implied by
 * n: 4, then doubling, so no separate field is needed in the public structs. */
static bool grow(void **arr, size_t n, size_t elem)
{
    size_t cap;
    if (n == 0) {
        cap = 4;
    } else if (n >= 4 && (n & (n - 1)) == 0) {
        cap = n * 2;
    } else {
        return true;
    }
    void *p = realloc(*arr, cap * elem);
    if (!p) {
        return false;
    }
    *arr = p;
    return true;
}

/* inih's rule: stop at one of chars, or at ';' that follows a blank. */
static char *find_chars_or_comment(char *s, const char *chars)
{
    bool was_space = false;
    while (*s && !(chars && strchr(chars, *s)) && !(was_space && *s == ';')) {
        was_space = isspace((unsigned char)*s);
        s++;
    }
    return s;
}

static bool is_ident(const char *s, size_t n)
{
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

/* "core", or "kind.instance" with both parts [a-z0-9_]+. */
static bool valid_section_name(const char *name, size_t *dot)
{
    if (strcmp(name, "core") == 0) {
        *dot = 0;
        return true;
    }
    const char *d = strchr(name, '.');
    if (!d || !is_ident(name, (size_t)(d - name)) || !is_ident(d + 1, strlen(d + 1))) {
        return false;
    }
    *dot = (size_t)(d - name);
    return true;
}

static const char *cur_name(const parse_ctx *c)
{
    return c->cur >= 0 ? c->f->secs[c->cur].name : NULL;
}

static void open_section(parse_ctx *c, const char *name)
{
    c->cur = -1;
    c->skipping = true;
    size_t dot = 0;
    if (!valid_section_name(name, &dot)) {
        conf_err(c->errs, c->f->path, c->lineno, name, NULL,
                 "invalid section name: expected [kind.instance] made of lowercase letters, "
                 "digits and '_' (e.g. [exchange.okx_main]), or [core]");
        return;
    }
    const conf_section *first = conf_section_get(c->f, name);
    if (first) {
        conf_err(c->errs, c->f->path, c->lineno, name, NULL,
                 "duplicate section (first defined at line %d)", first->line);
        return;
    }
    if (!grow((void **)&c->f->secs, c->f->n, sizeof(conf_section))) {
        c->oom = true;
        return;
    }
    conf_section *s = &c->f->secs[c->f->n];
    memset(s, 0, sizeof(*s));
    s->line = c->lineno;
    s->name = at_strdup(name);
    if (dot == 0) {
        s->kind = at_strdup(name);
        s->instance = at_strdup("");
    } else {
        s->kind = at_strndup(name, dot);
        s->instance = at_strdup(name + dot + 1);
    }
    c->f->n++;
    if (!s->name || !s->kind || !s->instance) {
        c->oom = true;
        return;
    }
    c->cur = (long)(c->f->n - 1);
    c->skipping = false;
}

/* Check one line (leading blanks already stripped, '#' comments rewritten).
 * Returns true when inih may see it. */
static bool check_line(parse_ctx *c, char *s)
{
    if (*s == '\0' || *s == ';' || *s == '#') {
        return true;
    }
    if (*s == '[') {
        char *end = find_chars_or_comment(s + 1, "]");
        if (*end != ']') {
            conf_err(c->errs, c->f->path, c->lineno, NULL, NULL,
                     "section header is missing its closing ']'");
            c->cur = -1;
            c->skipping = true;
            return false;
        }
        *end = '\0';
        char *tail = end + 1;
        while (isspace((unsigned char)*tail)) {
            tail++;
        }
        open_section(c, s + 1);
        if (*tail != '\0' && *tail != ';') {
            conf_err(c->errs, c->f->path, c->lineno, s + 1, NULL,
                     "unexpected text after ']' (comments start with ';' or '#')");
        }
        *end = ']';
        return true;
    }
    /* Never quote a malformed line back: it may be a pasted secret. */
    char *end = find_chars_or_comment(s, "=:");
    if (*end != '=' && *end != ':') {
        conf_err(c->errs, c->f->path, c->lineno, cur_name(c), NULL,
                 "syntax error: expected 'key = value', '[section]' or a comment");
        return false;
    }
    char *k = end;
    while (k > s && isspace((unsigned char)k[-1])) {
        k--;
    }
    if (k == s) {
        conf_err(c->errs, c->f->path, c->lineno, cur_name(c), NULL,
                 "syntax error: missing key name before '%c'", *end);
        return false;
    }
    if (c->skipping) {
        return false;
    }
    if (c->cur < 0) {
        char save = *k;
        *k = '\0';
        conf_err(c->errs, c->f->path, c->lineno, NULL, s,
                 "key outside any section: put it under [core] or a [kind.instance] header");
        *k = save;
        return false;
    }
    return true;
}

static void too_long(parse_ctx *c, const char *line, size_t n, size_t max)
{
    /* Name the key when its "key =" part is visible, so the user knows which
     * value to move out of the file. */
    size_t i = 0;
    while (i < n && isspace((unsigned char)line[i])) {
        i++;
    }
    if (i < n && line[i] == '[') {
        /* A lost header: its keys cannot be attributed, drop them quietly. */
        c->cur = -1;
        c->skipping = true;
    }
    char key[64] = "";
    size_t ks = i;
    while (i < n && (isalnum((unsigned char)line[i]) || line[i] == '_' || line[i] == '.' ||
                     line[i] == '-')) {
        i++;
    }
    size_t ke = i;
    while (i < n && (line[i] == ' ' || line[i] == '\t')) {
        i++;
    }
    if (ke > ks && ke - ks < sizeof(key) && i < n && (line[i] == '=' || line[i] == ':')) {
        memcpy(key, line + ks, ke - ks);
        key[ke - ks] = '\0';
    }
    conf_err(c->errs, c->f->path, c->lineno, c->skipping ? NULL : cur_name(c), key[0] ? key : NULL,
             "line too long (%zu characters, max %zu): keep long values in the environment "
             "(env:NAME) or in a file (file:PATH)",
             n, max);
}

static char *lskip(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    return s;
}

static void rstrip(char *s)
{
    char *p = s + strlen(s);
    while (p > s && isspace((unsigned char)p[-1])) {
        *--p = '\0';
    }
}

/* A checked line too long for inih: split "key = value" as inih would (value
 * ends at a ';' after a blank, both trimmed) and give inih a placeholder pair
 * for on_pair to swap back. Comments and headers (already recorded by
 * check_line) reach inih as empty lines. */
static void hand_over_long(parse_ctx *c, char *line, char *str)
{
    str[0] = '\0';
    if (*line == '\0' || *line == ';' || *line == '#' || *line == '[') {
        return;
    }
    char *sep = find_chars_or_comment(line, "=:"); /* check_line saw '=' or ':' */
    *sep = '\0';
    rstrip(line);
    char *value = sep + 1;
    *find_chars_or_comment(value, NULL) = '\0';
    value = lskip(value);
    rstrip(value);
    c->big_key = line;
    c->big_value = value;
    memcpy(str, "k=v", 4);
}

/* ini_reader: hands inih one physical line at a time. */
static char *read_line(char *str, int num, void *stream)
{
    parse_ctx *c = stream;
    c->big_key = c->big_value = NULL;
    if (c->pos >= c->len || num < 4) {
        return NULL;
    }
    const char *line = c->text + c->pos;
    const char *nl = memchr(line, '\n', c->len - c->pos);
    size_t n = nl ? (size_t)(nl - line) : c->len - c->pos;
    c->pos += n + (nl ? 1 : 0);
    c->lineno++;
    if (n > 0 && line[n - 1] == '\r') {
        n--;
    }
    if (c->lineno == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
        line += 3;
        n -= 3;
    }
    str[0] = '\0';
    if (n > CONF_MAX_LINE) {
        too_long(c, line, n, CONF_MAX_LINE);
        return str;
    }
    /* Short lines are checked in inih's own buffer, long ones in ours. */
    char *buf = str;
    if (n > (size_t)num - 1) {
        if (c->big_cap < n + 1) {
            char *p = realloc(c->big, n + 1);
            if (!p) {
                c->oom = true;
                return NULL;
            }
            c->big = p;
            c->big_cap = n + 1;
        }
        buf = c->big;
    }
    size_t i = 0;
    while (i < n && isspace((unsigned char)line[i])) {
        i++;
    }
    memcpy(buf, line + i, n - i);
    buf[n - i] = '\0';
    for (char *p = buf; *p; p++) {
        if (p > buf && *p == '#' && isspace((unsigned char)p[-1])) {
            *p = ';';
            break;
        }
    }
    if (!check_line(c, buf)) {
        str[0] = '\0';
    } else if (buf != str) {
        hand_over_long(c, buf, str);
    }
    return str;
}

/* ini_handler: called for the line read_line just returned. */
static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *c = user;
    (void)section;    /* we track sections ourselves */
    if (c->big_key) { /* the placeholder of a long line */
        name = c->big_key;
        value = c->big_value;
        c->big_key = c->big_value = NULL;
    }
    if (c->cur < 0) {
        return 1;
    }
    conf_section *s = &c->f->secs[c->cur];
    const conf_entry *prev = conf_entry_get(s, name);
    if (prev) {
        conf_err(c->errs, c->f->path, c->lineno, s->name, name,
                 "duplicate key (first set at line %d)", prev->line);
        return 1;
    }
    if (!grow((void **)&s->entries, s->n, sizeof(conf_entry))) {
        c->oom = true;
        return 1;
    }
    conf_entry *e = &s->entries[s->n++];
    e->key = at_strdup(name);
    e->value = at_strdup(value);
    e->line = c->lineno;
    if (!e->key || !e->value) {
        c->oom = true;
    }
    return 1;
}

static conf_file *parse_text(const char *name, const char *text, size_t len, conf_errors *errs)
{
    conf_file *f = calloc(1, sizeof(*f));
    if (!f || !(f->path = at_strdup(name ? name : "(config)"))) {
        conf_err(errs, name, 0, NULL, NULL, "out of memory");
        goto fail;
    }
    parse_ctx c = {.f = f, .errs = errs, .text = text, .len = len, .cur = -1};
    int rc = ini_parse_stream(read_line, &c, on_pair, &c);
    free(c.big);
    if (c.oom || rc == -2) {
        conf_err(errs, f->path, 0, NULL, NULL, "out of memory");
        goto fail;
    }
    if (rc > 0) {
        /* read_line only passes lines inih accepts; this is a safety net so a
         * disagreement can never be silent. */
        conf_err(errs, f->path, rc, NULL, NULL, "syntax error");
    }
    return f;

fail:
    conf_free(f);
    return NULL;
}

conf_file *conf_load_string(const char *name, const char *text, conf_errors *errs)
{
    return parse_text(name, text ? text : "", text ? strlen(text) : 0, errs);
}

conf_file *conf_load(const char *path, conf_errors *errs)
{
    char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        conf_err(errs, path, 0, NULL, NULL, "cannot open config file: %s", strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            char *p = realloc(buf, cap);
            if (!p) {
                conf_err(errs, path, 0, NULL, NULL, "out of memory");
                goto fail;
            }
            buf = p;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, fp);
        len += got;
        if (len > CONF_MAX_FILE) {
            conf_err(errs, path, 0, NULL, NULL, "config file larger than %u bytes", CONF_MAX_FILE);
            goto fail;
        }
        if (got == 0) {
            break;
        }
    }
    if (ferror(fp)) {
        conf_err(errs, path, 0, NULL, NULL, "cannot read config file: %s", strerror(errno));
        goto fail;
    }
    fclose(fp);
    fp = NULL;
    buf[len] = '\0';
    char *nul = memchr(buf, '\0', len);
    if (nul) {
        /* Not a text file: parse what precedes the NUL, flag where it is. */
        int line = 1;
        for (const char *p = buf; p < nul; p++) {
            line += *p == '\n';
        }
        conf_err(errs, path, line, NULL, NULL, "NUL byte in config file (not a text file?)");
        len = (size_t)(nul - buf);
    }
    conf_file *f = parse_text(path, buf, len, errs);
    free(buf);
    return f;

fail:
    if (fp) {
        fclose(fp);
    }
    free(buf);
    return NULL;
}

void conf_free(conf_file *f)
{
    if (!f) {
        return;
    }
    for (size_t i = 0; i < f->n; i++) {
        conf_section *s = &f->secs[i];
        for (size_t j = 0; j < s->n; j++) {
            free(s->entries[j].key);
            free(s->entries[j].value);
        }
        free(s->entries);
        free(s->name);
        free(s->kind);
        free(s->instance);
    }
    free(f->secs);
    free(f->path);
    free(f);
}

const conf_section *conf_section_get(const conf_file *f, const char *name)
{
    if (!f || !name) {
        return NULL;
    }
    for (size_t i = 0; i < f->n; i++) {
        if (f->secs[i].name && strcmp(f->secs[i].name, name) == 0) {
            return &f->secs[i];
        }
    }
    return NULL;
}

const conf_entry *conf_entry_get(const conf_section *s, const char *key)
{
    if (!s || !key) {
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->entries[i].key && strcmp(s->entries[i].key, key) == 0) {
            return &s->entries[i];
        }
    }
    return NULL;
}

const char *conf_section_module(const conf_section *s)
{
    const conf_entry *m = conf_entry_get(s, AT_CFG_KEY_MODULE);
    return m ? m->value : s->instance;
}

bool conf_section_enabled(const conf_section *s)
{
    const conf_entry *en = conf_entry_get(s, AT_CFG_KEY_ENABLED);
    bool on = true;
    return !en || conf_parse_bool(en->value, &on) != AT_OK || on;
}
