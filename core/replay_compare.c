/* The replay's own session file against the recording: the lines of the
 * kinds the pipeline makes, in order, their times aside (a live clock moves
 * while code runs, the simulated one does not); the first difference is
 * named by line, what it is about and the field. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_internal.h"
#include "util.h"

/* The kinds compared, in the order the summary counts them. */
/* Not "result": when the venue's answer is published against the fill it
 * reports depends on storage timing; what it says comes in "feedback". */
static const char *const KINDS[RP_NKINDS] = {"trigger", "decision", "intent",
                                             "verdict", "feedback", "ai"};

size_t rp_kind_index(const char *k)
{
    size_t i = 0;
    while (i < RP_NKINDS && strcmp(k, KINDS[i]) != 0) {
        i++;
    }
    return i;
}

static bool compared(const char *k)
{
    return rp_kind_index(k) < RP_NKINDS;
}

/* A line as compared: its times aside. */
static json_t *content(const json_t *l)
{
    json_t *c = json_deep_copy(l);
    json_object_del(c, "t");
    json_object_del(c, "asked");     /* an AI call's send time */
    json_object_del(c, "prompt_at"); /* and its prompt's: the replay builds it then */
    json_object_del(c, "sent");      /* an order's: the replay sends it then, by design */
    return c;
}

/* The path of the first field where a and b differ, into out. */
static void field_diff(const json_t *a, const json_t *b, char *out, size_t len, size_t at)
{
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)a, k, v)
        {
            const json_t *w = json_object_get(b, k);
            if (!w || !json_equal(v, w)) {
                int n = snprintf(out + at, len - at, "%s%s", at ? "." : "", k);
                if (w && n > 0 && at + (size_t)n < len) {
                    field_diff(v, w, out, len, at + (size_t)n);
                }
                return;
            }
        }
        json_object_foreach((json_t *)b, k, v)
        {
            if (!json_object_get(a, k)) {
                snprintf(out + at, len - at, "%s%s", at ? "." : "", k);
                return;
            }
        }
    } else if (json_is_array(a) && json_is_array(b)) {
        size_t na = json_array_size(a), nb = json_array_size(b);
        for (size_t i = 0; i < na && i < nb; i++) {
            if (!json_equal(json_array_get(a, i), json_array_get(b, i))) {
                int n = snprintf(out + at, len - at, "[%zu]", i);
                if (n > 0 && at + (size_t)n < len) {
                    field_diff(json_array_get(a, i), json_array_get(b, i), out, len,
                               at + (size_t)n);
                }
                return;
            }
        }
        snprintf(out + at, len - at, " (%zu items recorded, %zu now)", na, nb);
    }
}

static char *show(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))
             : at_strdup("(absent)");
}

static const json_t *at_path(const json_t *o, const char *path)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", path);
    const json_t *v = o;
    for (char *p = buf; v && *p;) {
        if (*p == '[') {
            v = json_array_get(v, strtoul(p + 1, &p, 10));
            p += *p == ']';
        } else {
            size_t n = strcspn(p, ".[ ");
            char c = p[n];
            p[n] = '\0';
            v = json_object_get(v, p);
            p += n + (c == '.');
            if (c == ' ') {
                break;
            }
        }
        if (*p == '.') {
            p++;
        }
    }
    return v;
}

/* What a line is about, for the report. */
static void about(const json_t *l, char *out, size_t len)
{
    const char *k = rp_str(l, "k");
    const char *id = strcmp(k, "trigger") == 0    ? rp_str(l, "key")
                     : strcmp(k, "verdict") == 0  ? rp_str(l, "intent")
                     : strcmp(k, "feedback") == 0 ? rp_str(l, "decision")
                                                  : rp_str(l, "id");
    snprintf(out, len, "%s %s", k, id);
}

void rp_compare(replay *r, const char *mine, size_t *counts)
{
    FILE *f = fopen(mine, "r");
    if (!f) {
        rp_diverged(r, "the replay's own session file %s cannot be read: %s", mine,
                    strerror(errno));
        return;
    }
    char *buf = NULL;
    size_t cap = 0, i = 0;
    ssize_t len;
    bool header = true;
    while ((len = getline(&buf, &cap, f)) >= 0 && !r->divergence) {
        if (header) {
            header = false;
            continue;
        }
        json_t *now = json_loads(buf, 0, NULL);
        if (now && strcmp(rp_str(now, "k"), "end") == 0) {
            json_decref(now); /* the replay's engine began to stop */
            break;
        }
        if (!now || !compared(rp_str(now, "k"))) {
            json_decref(now);
            continue;
        }
        while (i < r->n && !compared(rp_str(r->lines[i], "k"))) {
            i++;
        }
        char what[160];
        about(now, what, sizeof(what));
        if (i == r->n) {
            rp_diverged(r, "the replay made a %s the recording does not have", what);
        } else {
            json_t *a = content(r->lines[i]), *b = content(now);
            if (!json_equal(a, b) && r->ai_miss && strcmp(rp_str(now, "k"), "ai") == 0) {
                json_decref(a); /* the call it could not answer: ai_miss says how */
                json_decref(b);
                json_decref(now);
                break;
            }
            if (!json_equal(a, b) && strcmp(rp_str(a, "k"), rp_str(b, "k")) != 0) {
                char was[160];
                about(r->lines[i], was, sizeof(was));
                rp_diverged(r,
                            "line %zu of the recording is %s, the replay made %s there "
                            "instead",
                            i + 2, was, what);
            } else if (!json_equal(a, b)) {
                char path[512] = "", was[160];
                about(r->lines[i], was, sizeof(was));
                field_diff(a, b, path, sizeof(path), 0);
                char *sa = show(at_path(a, path)), *sb = show(at_path(b, path));
                rp_diverged(r, "line %zu of the recording (%s): %s: recorded %.300s, replay %.300s",
                            i + 2, was, path[0] ? path : "(the line)", sa ? sa : "?",
                            sb ? sb : "?");
                free(sa);
                free(sb);
            }
            json_decref(a);
            json_decref(b);
            counts[rp_kind_index(rp_str(now, "k"))]++;
            i++;
        }
        json_decref(now);
    }
    free(buf);
    fclose(f);
    /* The replay stopped at an AI call it could not answer: what the
     * recording has after it was never going to be made. */
    while (!r->divergence && !r->ai_miss && i < r->n) {
        if (compared(rp_str(r->lines[i], "k"))) {
            char was[160];
            about(r->lines[i], was, sizeof(was));
            rp_diverged(r, "line %zu of the recording (%s) was not made by the replay", i + 2, was);
        }
        i++;
    }
}
