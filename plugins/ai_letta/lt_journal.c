/* The trade_journal block: one line per outcome, newest last, the oldest
 * dropped whole to stay within the block's limit. */
#include <stdlib.h>
#include <string.h>

#include "lt.h"

char *lt_journal_fold(const char *entry)
{
    size_t el = entry ? strlen(entry) : 0;
    char *line = malloc(el + 1);
    if (!line) {
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < el; i++) {
        unsigned char ch = (unsigned char)entry[i];
        if (ch <= ' ' || ch == 0x7f) { /* blanks, breaks and control bytes */
            if (n > 0 && line[n - 1] != ' ') {
                line[n++] = ' ';
            }
            continue;
        }
        line[n++] = (char)ch;
    }
    while (n > 0 && line[n - 1] == ' ') {
        n--;
    }
    line[n] = '\0';
    return line;
}

bool lt_journal_has(const char *journal, const char *tail)
{
    size_t tl = tail ? strlen(tail) : 0;
    for (const char *p = journal; p && *p && tl;) {
        const char *end = strchr(p, '\n');
        size_t ll = end ? (size_t)(end - p) : strlen(p);
        if (ll >= tl && memcmp(p + ll - tl, tail, tl) == 0 && (ll == tl || p[ll - tl - 1] == ' ')) {
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

char *lt_journal_append(const char *old, const char *entry, size_t limit)
{
    if (!old || strcmp(old, LT_JOURNAL_EMPTY) == 0) {
        old = "";
    }
    size_t ol = strlen(old);
    while (ol > 0 && (old[ol - 1] == '\n' || old[ol - 1] == ' ')) {
        ol--;
    }
    char *line = lt_journal_fold(entry);
    if (!line) {
        return NULL;
    }
    size_t n = strlen(line);
    if (limit > 0 && n > limit) {
        /* cut at a UTF-8 boundary */
        n = limit;
        while (n > 0 && ((unsigned char)line[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    /* drop whole lines from the oldest until old + "\n" + line fits */
    const char *keep = old;
    size_t kl = ol;
    while (limit > 0 && kl > 0 && kl + 1 + n > limit) {
        const char *nl = memchr(keep, '\n', kl);
        if (!nl) {
            kl = 0;
            break;
        }
        kl -= (size_t)(nl + 1 - keep);
        keep = nl + 1;
    }
    char *out = malloc(kl + 1 + n + 1);
    if (out) {
        memcpy(out, keep, kl);
        size_t o = kl;
        if (kl > 0) {
            out[o++] = '\n';
        }
        memcpy(out + o, line, n);
        out[o + n] = '\0';
    }
    free(line);
    return out;
}
