/* Prompt templates: loading, checking, rendering, hashing, counting (see
 * prompt.h). */
#include "prompt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "aitrader/types.h"

static const char *const NAMES[] = {
#define X(n) #n,
    PROMPT_VARS
#undef X
};

/* ---------------------------------------------------------------- tbuf */

static bool tb_grow(tbuf *b, size_t more)
{
    if (b->oom) {
        return false;
    }
    if (b->n + more + 1 <= b->cap) {
        return true;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more + 1) {
        cap *= 2;
    }
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = true;
        return false;
    }
    b->s = s;
    b->cap = cap;
    return true;
}

void tb_put(tbuf *b, const char *s, size_t n)
{
    if (tb_grow(b, n)) {
        memcpy(b->s + b->n, s, n);
        b->n += n;
        b->s[b->n] = '\0';
    }
}

void tb_printf(tbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0 || !tb_grow(b, (size_t)k)) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

char *tb_take(tbuf *b)
{
    char *s = b->oom ? NULL : b->s ? b->s : calloc(1, 1);
    if (b->oom) {
        free(b->s);
    }
    *b = (tbuf){0};
    return s;
}

void tb_free(tbuf *b)
{
    free(b->s);
    *b = (tbuf){0};
}

/* ---------------------------------------------------------------- load */

static char *read_file(const char *path, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    tbuf b = {0};
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        tb_put(&b, chunk, k);
    }
    bool err = ferror(f) != 0;
    fclose(f);
    if (err || b.oom) {
        snprintf(why, whylen, "cannot read %s: %s", path, err ? "read error" : "out of memory");
        tb_free(&b);
        return NULL;
    }
    if (b.s && memchr(b.s, '\0', b.n)) {
        snprintf(why, whylen, "%s holds a NUL byte", path);
        tb_free(&b);
        return NULL;
    }
    return tb_take(&b);
}

static int var_id(const char *s, size_t n)
{
    for (int i = 0; i < PV__COUNT; i++) {
        if (strlen(NAMES[i]) == n && memcmp(NAMES[i], s, n) == 0) {
            return i;
        }
    }
    return -1;
}

/* Every {{…}} names a known placeholder. */
static int check_tpl(const char *path, const char *t, char *why, size_t whylen)
{
    int line = 1;
    for (const char *p = t; *p; p++) {
        if (*p == '\n') {
            line++;
            continue;
        }
        if (p[0] != '{' || p[1] != '{') {
            continue;
        }
        const char *e = strstr(p + 2, "}}");
        const char *nl = strchr(p + 2, '\n');
        if (!e || (nl && nl < e)) {
            snprintf(why, whylen, "%s:%d: '{{' without '}}' on the same line", path, line);
            return AT_ECONFIG;
        }
        if (var_id(p + 2, (size_t)(e - p - 2)) < 0) {
            char known[512] = "";
            for (int i = 0; i < PV__COUNT; i++) {
                size_t k = strlen(known);
                snprintf(known + k, sizeof(known) - k, "%s%s", i ? ", " : "", NAMES[i]);
            }
            snprintf(why, whylen, "%s:%d: unknown placeholder {{%.*s}} (known: %s)", path, line,
                     (int)(e - p - 2 > 40 ? 40 : e - p - 2), p + 2, known);
            return AT_ECONFIG;
        }
        p = e + 1;
    }
    return AT_OK;
}

static int hash_hex(const prompt_tpl *t, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(c, t->system, strlen(t->system) + 1) == 1 &&
              EVP_DigestUpdate(c, t->user, strlen(t->user)) == 1 &&
              EVP_DigestFinal_ex(c, md, &n) == 1 && n == 32;
    EVP_MD_CTX_free(c);
    if (!ok) {
        return AT_ENOMEM;
    }
    for (unsigned i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    return AT_OK;
}

int prompt_load(const char *dir, prompt_tpl *t, char *why, size_t whylen)
{
    memset(t, 0, sizeof(*t));
    char path[2][4096];
    snprintf(path[0], sizeof(path[0]), "%s/system.txt", dir);
    snprintf(path[1], sizeof(path[1]), "%s/user.txt", dir);
    int rc = AT_ECONFIG;
    if (!(t->system = read_file(path[0], why, whylen)) ||
        !(t->user = read_file(path[1], why, whylen))) {
        goto fail;
    }
    if ((rc = check_tpl(path[0], t->system, why, whylen)) != AT_OK ||
        (rc = check_tpl(path[1], t->user, why, whylen)) != AT_OK) {
        goto fail;
    }
    if ((rc = hash_hex(t, t->hash)) != AT_OK) {
        snprintf(why, whylen, "cannot hash the prompt templates (OpenSSL)");
        goto fail;
    }
    return AT_OK;
fail:
    prompt_free(t);
    return rc;
}

void prompt_free(prompt_tpl *t)
{
    free(t->system);
    free(t->user);
    t->system = t->user = NULL;
}

char *prompt_render(const char *tpl, const char *const vals[PV__COUNT])
{
    tbuf b = {0};
    const char *p = tpl;
    for (;;) {
        const char *o = strstr(p, "{{");
        const char *e = o ? strstr(o + 2, "}}") : NULL;
        int id = e ? var_id(o + 2, (size_t)(e - o - 2)) : -1;
        if (!o || id < 0) {
            /* Checked at load: an unknown {{…}} cannot be here; copy it
             * as text if it somehow is. */
            const char *stop = o ? o + 2 : p + strlen(p);
            tb_put(&b, p, (size_t)(stop - p));
            if (!o) {
                break;
            }
            p = stop;
            continue;
        }
        tb_put(&b, p, (size_t)(o - p));
        const char *v = vals[id] ? vals[id] : "";
        tb_put(&b, v, strlen(v));
        p = e + 2;
    }
    return tb_take(&b);
}

/* ---------------------------------------------------------------- tokens */

int64_t prompt_tokens(const char *s)
{
    int64_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            int64_t k = 0;
            while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
                k++;
                p++;
            }
            n += (k + 3) / 4;
        } else if (c >= '0' && c <= '9') {
            int64_t k = 0;
            while (*p >= '0' && *p <= '9') {
                k++;
                p++;
            }
            n += (k + 2) / 3;
        } else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            p++;
        } else if (c < 0x80) {
            n++;
            p++;
        } else {
            /* one UTF-8 sequence: a lead byte and its continuation bytes */
            n++;
            p++;
            while ((*p & 0xC0) == 0x80) {
                p++;
            }
        }
    }
    return n;
}
