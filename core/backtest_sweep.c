/* Parameter sweeps of a backtest (backtest_internal.h): `--set
 * trader.alpha.long_period=12m,20m,30m` (several --set: their product)
 * runs every combination, each in a process of its own forked after the
 * candle files are read, as many at once as there are cores, and prints a
 * row per combination in their order — the same inputs, the same table. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backtest_internal.h"
#include "log.h"
#include "util.h"

int bt_parse_sets(backtest *b)
{
    if (b->a->nsets > BT_MAX_SETS) {
        fprintf(stderr, "aitrader: backtest: at most %d --set\n", BT_MAX_SETS);
        return 2;
    }
    for (size_t i = 0; i < b->a->nsets; i++) {
        const char *arg = b->a->sets[i];
        bt_set *s = &b->sets[b->nsets];
        s->text = at_strdup(arg);
        if (!s->text) {
            return 1;
        }
        b->nsets++;
        char *eq = strchr(s->text, '='), *dot = NULL;
        for (char *p = s->text; eq && p < eq; p++) {
            dot = *p == '.' ? p : dot; /* the last dot before '=' */
        }
        if (!eq || !dot || dot == s->text || dot + 1 == eq || !eq[1]) {
            fprintf(stderr,
                    "aitrader: backtest: --set %s: expected SECTION.KEY=VALUE[,VALUE…] "
                    "(trader.alpha.long_period=12m,20m)\n",
                    arg);
            return 2;
        }
        *dot = *eq = '\0';
        s->section = s->text;
        s->key = dot + 1;
        for (char *save = NULL, *v = strtok_r(eq + 1, ",", &save); v;
             v = strtok_r(NULL, ",", &save)) {
            while (*v == ' ') {
                v++;
            }
            if (s->nvalues == BT_MAX_VALUES) {
                fprintf(stderr, "aitrader: backtest: --set %s: at most %d values\n", arg,
                        BT_MAX_VALUES);
                return 2;
            }
            s->values[s->nvalues++] = v;
        }
        if (s->nvalues == 0) {
            fprintf(stderr, "aitrader: backtest: --set %s: no value\n", arg);
            return 2;
        }
    }
    return 0;
}

#define MAX_COMBINATIONS 10000

size_t bt_combinations(const backtest *b)
{
    size_t n = 1;
    for (size_t i = 0; i < b->nsets && n <= MAX_COMBINATIONS; i++) {
        n *= b->sets[i].nvalues;
    }
    return n;
}

/* Combination k's choice of each set (the last set varies fastest). */
static void choose(backtest *b, size_t k)
{
    for (size_t i = b->nsets; i-- > 0;) {
        b->choice[i] = k % b->sets[i].nvalues;
        k /= b->sets[i].nvalues;
    }
}

static void label(const backtest *b, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < b->nsets && n < cap; i++) {
        const bt_set *s = &b->sets[i];
        int w = snprintf(out + n, cap - n, "%s%s.%s=%s", i ? " " : "", s->section, s->key,
                         s->values[b->choice[i]]);
        n += w > 0 ? (size_t)w : 0;
    }
}

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
    stop_sig = sig;
}

/* A child: one combination, its report to path; never returns. */
static void child(backtest *b, engine_opts *o, size_t k, const char *path)
{
    choose(b, k);
    b->quiet = true;
    json_t *report = NULL;
    int code = bt_run_one(b, o, &report);
    if (code == 0) {
        json_object_del(report, "equity"); /* the table needs the figures only */
        json_object_del(report, "fills");
        code = json_dump_file(report, path, JSON_COMPACT | JSON_REAL_PRECISION(15)) == 0 ? 0 : 1;
    }
    json_decref(report);
    bt_cleanup_run(b);
    fflush(NULL);
    _exit(code);
}

int bt_sweep(backtest *b, engine_opts *o)
{
    size_t n = bt_combinations(b);
    if (n > MAX_COMBINATIONS) {
        fprintf(stderr, "aitrader: backtest: more than %d combinations: narrow the --set values\n",
                MAX_COMBINATIONS);
        return 2;
    }
    size_t rl = b->a->report ? strlen(b->a->report) : 0;
    if (rl > 5 && strcasecmp(b->a->report + rl - 5, ".html") == 0) {
        fprintf(stderr, "aitrader: backtest: a sweep's --report is JSON (FILE.json): a row per "
                        "combination\n");
        return 2;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t jobs = cores > 0 ? (size_t)cores : 1;
    const char *tmpdir = getenv("TMPDIR");
    char *dir = at_asprintf("%s/aitrader-sweep-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    pid_t *pids = calloc(n, sizeof(*pids));
    int *codes = calloc(n, sizeof(*codes));
    if (!dir || !pids || !codes || !mkdtemp(dir)) {
        fprintf(stderr, "aitrader: backtest: cannot make a scratch directory: %s\n",
                strerror(errno));
        free(dir);
        free(pids);
        free(codes);
        return 1;
    }
    fprintf(stderr, "aitrader: backtest: %zu combinations, %zu at a time\n", n,
            jobs < n ? jobs : n);
    fflush(NULL);
    /* Ctrl-C or a TERM: passed on to the runs, which end; then the table
     * of what finished and the scratch directory removed */
    struct sigaction sa = {.sa_handler = on_stop}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    size_t next = 0, running = 0, done = 0;
    while (done < n) {
        while (!stop_sig && running < jobs && next < n) {
            char *path = at_asprintf("%s/%zu.json", dir, next);
            pid_t pid = path ? fork() : -1;
            if (pid == 0) {
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                child(b, o, next, path);
            }
            free(path);
            if (pid < 0 && running > 0 && errno == EAGAIN) {
                break; /* too many processes: a run's end makes room */
            }
            if (pid < 0) {
                fprintf(stderr, "aitrader: backtest: combination %zu: cannot start a process: %s\n",
                        next + 1, strerror(errno));
                codes[next] = 1;
                done++;
            } else {
                pids[next] = pid;
                running++;
            }
            next++;
        }
        if (stop_sig && next < n) {
            done += n - next; /* never started */
            next = n;
        }
        if (running == 0) {
            break;
        }
        int st;
        pid_t pid = wait(&st);
        if (pid < 0 && errno == EINTR) {
            for (size_t k = 0; k < n; k++) {
                if (pids[k] > 0 && codes[k] == 0) {
                    kill(pids[k], stop_sig ? stop_sig : SIGTERM);
                }
            }
            continue;
        }
        if (pid < 0) {
            break;
        }
        for (size_t k = 0; k < n; k++) {
            if (pids[k] == pid) {
                codes[k] = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
                pids[k] = -1;
                running--;
                done++;
            }
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    /* the table, in the combinations' order */
    int code = stop_sig == SIGINT ? 130 : stop_sig == SIGTERM ? 143 : 0;
    json_t *all = json_array();
    printf("%-40s %9s %9s %8s %7s %8s %9s\n", "combination", "return %", "max dd %", "sharpe",
           "trades", "win %", "calls/day");
    for (size_t k = 0; k < n; k++) {
        char lab[512], *path = at_asprintf("%s/%zu.json", dir, k);
        choose(b, k);
        label(b, lab, sizeof(lab));
        json_t *r = codes[k] == 0 && path ? json_load_file(path, 0, NULL) : NULL;
        if (!r) {
            printf("%-40s %s\n", lab,
                   pids[k] == 0 && codes[k] == 0 ? "not run (stopped)"
                   : codes[k] != 0               ? "failed (its reason is above)"
                                                 : "failed (no report written)");
            code = code ? code : (codes[k] ? codes[k] : 1);
        } else {
            char f1[32], f2[32], f3[32], f4[32], f5[32];
            printf("%-40s %9s %9s %8s %7lld %8s %9s\n", lab,
                   bt_fig(f1, sizeof(f1), "%+.2f", bt_num(r, "return_pct")),
                   bt_fig(f2, sizeof(f2), "%.2f", bt_num(r, "max_drawdown_pct")),
                   bt_fig(f3, sizeof(f3), "%.2f", bt_num(r, "sharpe")),
                   (long long)json_integer_value(json_object_get(r, "trades")),
                   bt_fig(f4, sizeof(f4), "%.1f", bt_num(r, "win_rate") * 100),
                   bt_fig(f5, sizeof(f5), "%.1f", bt_num(r, "ai_calls_per_day")));
            json_t *set = json_object();
            for (size_t i = 0; i < b->nsets; i++) {
                char name[256];
                snprintf(name, sizeof(name), "%s.%s", b->sets[i].section, b->sets[i].key);
                json_object_set_new(set, name, json_string(b->sets[i].values[b->choice[i]]));
            }
            json_object_set_new(r, "set", set);
            json_array_append_new(all, r);
        }
        if (path) {
            remove(path);
        }
        free(path);
    }
    rmdir(dir);
    if (code == 0 && b->a->report) {
        char *text =
            json_dumps(all, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
        FILE *f = text ? fopen(b->a->report, "w") : NULL;
        if (!f || fputs(text, f) < 0 || fputc('\n', f) == EOF || fclose(f) != 0) {
            fprintf(stderr, "aitrader: backtest: cannot write %s\n", b->a->report);
            code = 1;
        }
        free(text);
    }
    json_decref(all);
    free(dir);
    free(pids);
    free(codes);
    return code;
}
