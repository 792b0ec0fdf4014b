/* The core memory files a user edits (memory_dir): one block per file,
 * label = the file's name without .md/.txt. Read whole before each message
 * so an edit reaches the agent at its next turn. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lt.h"

/* 1 to max-1 letters, digits, '_' and '-' */
static bool word(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-')) {
            return false;
        }
    }
    return n > 0 && n < max;
}

bool lt_label_ok(const char *s)
{
    return word(s, LT_LABEL_MAX);
}

bool lt_id_ok(const char *s)
{
    return word(s, LT_ID_MAX);
}

uint64_t lt_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; s && *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

/* The length of the UTF-8 sequence at p (n bytes left) exactly as jansson's
 * utf8_check_first/utf8_check_full take it (no overlong form, no surrogate,
 * nothing over U+10FFFF), or 0 when it refuses it. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t k;
    uint32_t v;
    if (c < 0x80) {
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        k = 2, v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3, v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4, v = c & 0x07;
    } else {
        return 0; /* a continuation byte, C0, C1, F5..FF */
    }
    if (n < k) {
        return 0;
    }
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (k == 3 && v < 0x800) ||
        (k == 4 && v < 0x10000)) {
        return 0;
    }
    return k;
}

bool lt_utf8_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = p[i] ? utf8_seq(p + i, n - i) : 0; /* NUL: jansson would cut the text */
        if (k == 0) {
            return false;
        }
        i += k;
    }
    return true;
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(((const lt_file *)a)->label, ((const lt_file *)b)->label);
}

/* The file's whole text (malloc'd) or NULL with why. */
static char *slurp(const char *path, char *why, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, cap, "%.400s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(LT_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, LT_FILE_MAX + 1, f) : 0;
    bool err = ferror(f);
    fclose(f);
    if (!buf || err || n > LT_FILE_MAX || !lt_utf8_ok(buf, n)) {
        snprintf(why, cap, "%.400s: %s", path,
                 !buf              ? "out of memory"
                 : err             ? "cannot be read"
                 : n > LT_FILE_MAX ? "over 1 MiB"
                                   : "not UTF-8 text");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* One candidate file (`stem` bytes of its name before the extension): read
 * into out[*n], or left out with why (the first such said). */
static void read_one(const char *dir, const char *name, size_t stem, lt_file *out, size_t max,
                     size_t *n, char *why, size_t cap)
{
    char label[LT_LABEL_MAX];
    snprintf(label, sizeof(label), "%.*s", (int)stem, name);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        return;
    }
    const char *bad = stem >= LT_LABEL_MAX || !lt_label_ok(label)
                          ? "its name is no block label (letters, digits, '_', '-')"
                      : strcmp(label, LT_LABEL_SYSTEM) == 0 || strcmp(label, LT_LABEL_JOURNAL) == 0
                          ? "its label is the engine's own"
                          : NULL;
    for (size_t i = 0; !bad && i < *n; i++) {
        bad = strcmp(out[i].label, label) == 0 ? "a .md of the same name is used" : NULL;
    }
    bad = !bad && *n == max ? "too many memory files" : bad;
    if (bad) {
        if (!why[0]) {
            snprintf(why, cap, "%s: not used: %s", path, bad);
        }
        return;
    }
    char failed[512];
    char *text = slurp(path, failed, sizeof(failed));
    if (!text) {
        if (!why[0]) {
            snprintf(why, cap, "%s", failed);
        }
        return;
    }
    snprintf(out[*n].label, sizeof(out[*n].label), "%s", label);
    out[(*n)++].value = text;
}

int lt_files_read(const char *dir, lt_file *out, size_t max, size_t *n, char *why, size_t cap)
{
    *n = 0;
    why[0] = '\0';
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) {
            return AT_OK;
        }
        snprintf(why, cap, "%s: %s", dir, strerror(errno));
        return AT_EIO;
    }
    /* the .md files first, so a .txt of the same stem is the one left out
     * whatever the directory's order */
    for (int pass = 0; pass < 2; pass++) {
        const char *ext = pass == 0 ? ".md" : ".txt";
        rewinddir(d);
        struct dirent *e;
        while ((e = readdir(d))) {
            const char *dot = strrchr(e->d_name, '.');
            if (e->d_name[0] == '.' || !dot || strcmp(dot, ext) != 0) {
                continue;
            }
            read_one(dir, e->d_name, (size_t)(dot - e->d_name), out, max, n, why, cap);
        }
    }
    closedir(d);
    qsort(out, *n, sizeof(*out), cmp_label);
    return AT_OK;
}

void lt_files_clear(lt_file *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].value);
        f[i].value = NULL;
    }
}
