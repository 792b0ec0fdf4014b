/* Fuzz target for source_cryptopanic's answer reader (cp_parse) and the LLM
 * scorer's answer reader (nsrc_parse_score, lib/newssrc): both read text
 * from outside.
 *
 * The input is a whole answer body (any bytes). cp_parse must return AT_OK
 * with at most CP_MAX_POSTS posts, each with a non-empty title shorter than
 * CP_TITLE_MAX and valid UTF-8 without control characters, a summary the
 * same within CP_SUMMARY_MAX, a source the same and not empty, a URL that is
 * empty or starts with http:// or https:// (no blank), currency codes of
 * [A-Z0-9,] only and a time or -1; or AT_EINVAL with a reason and no posts.
 * The same bytes (up to a NUL) as a scorer's answer: false with a reason, or
 * a sentiment in [-1, 1], an impact in [0, 1] and symbols of [A-Z0-9,]
 * within their buffer. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aitrader/types.h>

#include "cp_parse.h"
#include "newssrc.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_cryptopanic: property violated: %s\n", what);
        abort();
    }
}

/* Valid UTF-8, no control character, shorter than cap. */
static void plain_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    check(n < cap, "text within its cap");
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        check(c >= 0x20 && c != 0x7F, "no control character");
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
        check(c < 0x80 || (c >= 0xC2 && c <= 0xF4), "a valid lead byte");
        check(i + k <= n, "a whole sequence");
        for (size_t j = 1; j < k; j++) {
            check(((unsigned char)s[i + j] & 0xC0) == 0x80, "continuation bytes");
        }
        i += k;
    }
}

/* Codes of 2 to 10 capitals or digits, comma-separated, within cap. */
static void codes_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    check(n < cap, "codes within their cap");
    size_t run = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        if (c == ',' || c == '\0') {
            check(n == 0 || (run >= 2 && run <= 10), "codes of 2 to 10 characters");
            run = 0;
            continue;
        }
        check((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'), "codes of [A-Z0-9] only");
        run++;
    }
}

static void fuzz_cp(const uint8_t *data, size_t size)
{
    cp_page pg;
    char why[200];
    why[0] = '\0';
    int rc = cp_parse((const char *)data, size, &pg, why, sizeof(why));
    check(rc == AT_OK || rc == AT_EINVAL, "AT_OK or AT_EINVAL");
    if (rc != AT_OK) {
        check(why[0] != '\0' && strnlen(why, sizeof(why)) < sizeof(why), "a reason");
        check(pg.n == 0 && pg.posts == NULL, "no posts with an error");
    } else {
        check(pg.posts != NULL, "a posts array");
    }
    check(pg.n <= CP_MAX_POSTS, "at most CP_MAX_POSTS");
    for (size_t i = 0; i < pg.n; i++) {
        const cp_post *p = &pg.posts[i];
        check(p->title[0] != '\0', "a title");
        plain_ok(p->title, CP_TITLE_MAX);
        plain_ok(p->summary, CP_SUMMARY_MAX);
        check(p->source[0] != '\0', "a source");
        plain_ok(p->source, sizeof(p->source));
        size_t ul = strnlen(p->url, sizeof(p->url));
        check(ul < sizeof(p->url), "a URL within its buffer");
        check(ul == 0 || strncmp(p->url, "http://", 7) == 0 || strncmp(p->url, "https://", 8) == 0,
              "an http(s) URL or none");
        check(!strpbrk(p->url, " \t\r\n"), "no blank in the URL");
        codes_ok(p->symbols, sizeof(p->symbols));
        check(p->published_ms == -1 || p->published_ms >= 0, "a time or -1");
    }
    cp_page_free(&pg);
    check(pg.posts == NULL && pg.n == 0, "freed");
}

static void fuzz_score(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) {
        return;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    double s = NAN, imp = NAN;
    char why[200];
    why[0] = '\0';
    /* a buffer of NSRC_SYMBOLS and a canary after it */
    struct {
        char syms[NSRC_SYMBOLS];
        char canary[8];
    } b;
    memset(&b, '#', sizeof(b));
    if (nsrc_parse_score(text, &s, &imp, b.syms, sizeof(b.syms), why, sizeof(why))) {
        check(isfinite(s) && s >= -1 && s <= 1, "a sentiment in [-1, 1]");
        check(isfinite(imp) && imp >= 0 && imp <= 1, "an impact in [0, 1]");
        codes_ok(b.syms, sizeof(b.syms));
    } else {
        check(why[0] != '\0' && strnlen(why, sizeof(why)) < sizeof(why), "a reason");
    }
    for (size_t i = 0; i < sizeof(b.canary); i++) {
        check(b.canary[i] == '#', "nothing written past the symbols");
    }
    /* a tiny buffer too */
    char tiny[5];
    memset(tiny, '#', sizeof(tiny));
    if (nsrc_parse_score(text, &s, &imp, tiny, 4, why, sizeof(why))) {
        codes_ok(tiny, 4);
    }
    check(tiny[4] == '#', "nothing written past a tiny buffer");
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_cp(data, size);
    fuzz_score(data, size);
    return 0;
}
