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

/* Whether the bytes are UTF-8 text without NUL (jansson refuses the rest). */
static bool utf8_text(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t k;
        if (c == 0) {
            return false;
        } else if (c < 0x80) {
            k = 0;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
        } else {
            return false;
        }
        if (n - i <= k) {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80) {
                return false;
            }
        }
        i += k + 1;
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
    if (!buf || err || n > LT_FILE_MAX || !utf8_text((const unsigned char *)buf, n)) {
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
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *dot = strrchr(e->d_name, '.');
        if (e->d_name[0] == '.' || !dot || (strcmp(dot, ".md") != 0 && strcmp(dot, ".txt") != 0)) {
            continue;
        }
        char label[LT_LABEL_MAX];
        snprintf(label, sizeof(label), "%.*s", (int)(dot - e->d_name), e->d_name);
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        const char *bad =
            (size_t)(dot - e->d_name) >= LT_LABEL_MAX || !lt_label_ok(label)
                ? "its name is no block label (letters, digits, '_', '-')"
            : strcmp(label, LT_LABEL_SYSTEM) == 0 || strcmp(label, LT_LABEL_JOURNAL) == 0
                ? "its label is the engine's own"
            : *n == max ? "too many memory files"
                        : NULL;
        for (size_t i = 0; !bad && i < *n; i++) {
            bad = strcmp(out[i].label, label) == 0 ? "a .md and a .txt of one name" : NULL;
        }
        if (bad) {
            if (!why[0]) {
                snprintf(why, cap, "%s: not used: %s", path, bad);
            }
            continue;
        }
        char failed[512];
        char *text = slurp(path, failed, sizeof(failed));
        if (!text) {
            if (!why[0]) {
                snprintf(why, cap, "%s", failed);
            }
            continue;
        }
        snprintf(out[*n].label, sizeof(out[*n].label), "%s", label);
        out[(*n)++].value = text;
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
