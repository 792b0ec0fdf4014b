/* Reading CryptoPanic's posts answer (cp_parse.h) with jansson: each text
 * made plain and capped (lib/news), each time read (RFC 3339), the currency
 * codes kept as they are written (2 to 10 capitals or digits). */
#include "cp_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <aitrader/types.h>

#include "news.h"

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && *s ? s : NULL;
}

static void plain(const char *s, char *out, size_t cap)
{
    if (s) {
        news_plain(s, strlen(s), out, cap);
    } else {
        out[0] = '\0';
    }
}

static bool http_url(const char *s)
{
    return s && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) &&
           !strpbrk(s, " \t\r\n");
}

static void codes(const json_t *arr, char *out, size_t cap)
{
    size_t i;
    const json_t *c;
    out[0] = '\0';
    json_array_foreach(arr, i, c)
    {
        const char *code = str(c, "code");
        size_t l = code ? strlen(code) : 0, have = strlen(out);
        bool ok = l >= 2 && l <= 10;
        for (size_t k = 0; ok && k < l; k++) {
            ok = isupper((unsigned char)code[k]) || isdigit((unsigned char)code[k]);
        }
        if (ok && have + l + 2 <= cap) {
            snprintf(out + have, cap - have, "%s%s", have ? "," : "", code);
        }
    }
}

static bool post_of(const json_t *o, cp_post *p)
{
    memset(p, 0, sizeof(*p));
    plain(str(o, "title"), p->title, sizeof(p->title));
    if (!p->title[0]) {
        return false;
    }
    plain(str(o, "description"), p->summary, sizeof(p->summary));
    const char *u = str(o, "original_url");
    if (!http_url(u)) {
        u = str(o, "url");
    }
    if (http_url(u) && strlen(u) < sizeof(p->url)) {
        snprintf(p->url, sizeof(p->url), "%s", u);
    }
    const json_t *src = json_object_get(o, "source");
    const char *name = str(src, "title");
    name = name ? name : str(src, "domain");
    name = name ? name : str(o, "domain");
    plain(name ? name : "CryptoPanic", p->source, sizeof(p->source));
    if (!p->source[0]) {
        snprintf(p->source, sizeof(p->source), "CryptoPanic");
    }
    const json_t *cur = json_object_get(o, "currencies");
    codes(json_is_array(cur) ? cur : json_object_get(o, "instruments"), p->symbols,
          sizeof(p->symbols));
    const char *t = str(o, "published_at");
    t = t ? t : str(o, "created_at");
    p->published_ms = t ? news_time(t) : -1;
    return true;
}

int cp_parse(const char *body, size_t len, cp_page *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!root) {
        snprintf(why, whylen, "not JSON (%.120s at line %d)", je.text, je.line);
        return AT_EINVAL;
    }
    const json_t *res = json_object_get(root, "results");
    if (!json_is_array(res)) {
        const char *info = str(root, "info");
        info = info ? info : str(root, "detail");
        info = info ? info : str(root, "status");
        char text[200];
        plain(info, text, sizeof(text));
        snprintf(why, whylen, "%s%s", text[0] ? "the API says: " : "no results array", text);
        json_decref(root);
        return AT_EINVAL;
    }
    size_t n = json_array_size(res);
    out->posts = calloc(n ? (n < CP_MAX_POSTS ? n : CP_MAX_POSTS) : 1, sizeof(cp_post));
    if (!out->posts) {
        json_decref(root);
        snprintf(why, whylen, "out of memory");
        return AT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(res, i);
        if (out->n == CP_MAX_POSTS || !json_is_object(o) || !post_of(o, &out->posts[out->n])) {
            out->dropped++;
            continue;
        }
        out->n++;
    }
    json_decref(root);
    return AT_OK;
}

void cp_page_free(cp_page *p)
{
    free(p->posts);
    memset(p, 0, sizeof(*p));
}
