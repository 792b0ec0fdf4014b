/* aitrader command line (CONTRACTS §1). Exit codes: 0 ok, 1 runtime
 * failure, 2 usage or config error. */
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <aitrader/failpoint.h>
#include <aitrader/version.h>

#include "conf.h"
#include "engine.h"
#include "loader.h"
#include "backtest.h"
#include "replay.h"
#include "log.h"
#include "ta.h"
#include "ta_csv.h"
#include "util.h"
/* The kill switch file's one format, shared with the risk_breaker plugin. */
#include "../plugins/risk_breaker/kill_switch.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: aitrader [COMMAND] [OPTIONS]\n"
        "\n"
        "commands:\n"
        "  run                      run the engine until SIGINT/SIGTERM (default)\n"
        "  check-config             validate the config and plugin schemas, start nothing\n"
        "  plugins [--describe NAME]\n"
        "                           list the plugins found, or one plugin's config schema\n"
        "  indicators --csv FILE [--inst ID]\n"
        "                           one JSON line per candle: ema12 ema26 rsi14 macd bb atr14\n"
        "                           vol_rv (TA-Lib conventions, null in warm-up); --inst keeps\n"
        "                           the rows of one instrument when FILE has an instId column\n"
        "  replay --recording FILE  play a session file ([core] record) through the pipeline on\n"
        "                           the simulated clock, offline; exit 0 when it reproduces the\n"
        "                           session, 1 at the first divergence (printed)\n"
        "  backtest --data [INST=]FILE... [--from T] [--to T] [--report FILE.json|FILE.html]\n"
        "           [--instruments FILE] [--spread-bps N] [--funding [INST=]FILE...]\n"
        "           [--set SECTION.KEY=V1,V2...]  (several values: a sweep, a row each)\n"
        "                           run the config's traders, indicators, risk and paper venues\n"
        "                           over candle files on the simulated clock, offline; prints\n"
        "                           the summary (the same inputs give the same report)\n"
        "  kill-switch on|off|status [REASON]\n"
        "                           stop every new entry of running and future engines\n"
        "                           (data_dir/kill-switch; closes pass), allow them again, or\n"
        "                           say which it is\n"
        "\n"
        "options:\n"
        "  -c, --config FILE        config file (default ./modules.ini, env AITRADER_CONFIG)\n"
        "      --log-level LEVEL    debug | info | warn | error (overrides [core] log_level)\n"
        "      --log-json           log JSON lines instead of text\n"
        "  -V, --version            print version and plugin ABI\n"
        "  -h, --help               this help\n"
        "\n"
        "exit status: 0 ok, 1 runtime failure, 2 usage or config error\n");
}

static int print_errors(const conf_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++) {
        fprintf(stderr, "%s\n", errs->msgs[i]);
    }
    if (errs->n) {
        fprintf(stderr, "aitrader: %zu configuration error%s\n", errs->n, errs->n == 1 ? "" : "s");
    }
    return errs->n ? 2 : 0;
}

/* One malloc arena for every thread (the loop, the net thread, storage
 * workers) instead of glibc's one per thread, each holding its own free
 * memory: ~150-200 KB less resident. The threads are few and mostly idle,
 * so they rarely wait on each other. MALLOC_ARENA_MAX or
 * GLIBC_TUNABLES=glibc.malloc.arena_max=N still choose otherwise. */
static void malloc_policy(void)
{
    const char *t = getenv("GLIBC_TUNABLES");
    if (!getenv("MALLOC_ARENA_MAX") && !(t && strstr(t, "arena_max"))) {
        mallopt(M_ARENA_MAX, 1);
    }
}

static int cmd_run(engine_opts *o)
{
    malloc_policy();
    char armed[512];
    if (at_failpoints_check(armed, sizeof(armed)) < 0) {
        fprintf(stderr, "aitrader: %s\n", armed);
        return 2;
    }
    conf_errors errs = {0};
    engine *e = engine_new(o);
    if (!e) {
        fprintf(stderr, "aitrader: out of memory\n");
        return 1;
    }
    int rc = engine_load(e, &errs);
    if (rc != AT_OK) {
        print_errors(&errs);
        conf_errors_free(&errs);
        engine_free(e);
        log_shutdown();
        return 2;
    }
    conf_errors_free(&errs);
    if (armed[0]) {
        log_msg("core", AT_LOG_WARN, "%s", armed);
    }
    int code;
    if (engine_start(e) != AT_OK) {
        log_msg("core", AT_LOG_ERROR, "start failed; stopping what was started");
        code = 1;
    } else {
        code = engine_run(e);
    }
    engine_free(e);
    log_shutdown();
    return code;
}

static int cmd_check(engine_opts *o)
{
    conf_errors errs = {0};
    engine *e = engine_new(o);
    if (!e) {
        return 1;
    }
    int rc = engine_load(e, &errs);
    int code = print_errors(&errs);
    if (rc == AT_OK) {
        size_t n = 0;
        for (at_instance *in = engine_instances(e); in; in = in->next) {
            n++;
        }
        const char **traders;
        size_t nt = engine_traders(e, &traders);
        printf("%s: OK, %zu plugin instance%s, %zu trader%s\n",
               o->config_path ? o->config_path : "modules.ini", n, n == 1 ? "" : "s", nt,
               nt == 1 ? "" : "s");
        for (at_instance *in = engine_instances(e); in; in = in->next) {
            printf("  %-28s %s %s (%s)\n", in->name, in->lp.plugin->name,
                   in->lp.plugin->version ? in->lp.plugin->version : "", in->lp.path);
        }
        for (size_t i = 0; i < nt; i++) {
            printf("  %-28s trader\n", traders[i]);
        }
    }
    conf_errors_free(&errs);
    engine_free(e);
    log_shutdown();
    return code;
}

/* Plugin directories: [core] plugin_dir of the config when it can be read,
 * else the engine's default. Other sections are not validated here. */
static int plugin_dirs(const engine_opts *o, engine **out_e, const char ***dirs, size_t *n)
{
    engine *e = engine_new(o);
    if (!e) {
        return AT_ENOMEM;
    }
    *out_e = e;
    conf_errors errs = {0};
    engine_load(e, &errs); /* errors of other sections do not matter here */
    conf_errors_free(&errs);
    const core_settings *cs = engine_core(e);
    static const char *list[16];
    size_t k = 0;
    for (size_t i = 0; i < cs->plugin_dirs.n && k < 15; i++) {
        list[k++] = cs->plugin_dirs.items[i];
    }
    list[k++] = cs->plugin_dir_first;
    *dirs = list;
    *n = k;
    return AT_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_plugins(engine_opts *o, const char *describe)
{
    engine *e = NULL;
    const char **dirs;
    size_t ndirs;
    /* Loading the config may log (missing plugins …); keep the listing clean. */
    log_set_level(AT_LOG_ERROR);
    if (plugin_dirs(o, &e, &dirs, &ndirs) != AT_OK) {
        return 1;
    }
    int code = describe ? 2 : 0;
    if (!describe) {
        printf("%-10s %-12s %-8s %-5s %s\n", "KIND", "NAME", "VERSION", "ABI", "FILE");
    }
    for (size_t d = 0; d < ndirs; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir) {
            fprintf(stderr, "aitrader: cannot open plugin dir %s\n", dirs[d]);
            continue;
        }
        char **files = NULL;
        size_t nf = 0;
        struct dirent *de;
        while ((de = readdir(dir))) {
            size_t len = strlen(de->d_name);
            if (len > 3 && strcmp(de->d_name + len - 3, ".so") == 0) {
                char **g = realloc(files, (nf + 1) * sizeof(*g));
                if (!g) {
                    break;
                }
                files = g;
                files[nf++] = at_asprintf("%s/%s", dirs[d], de->d_name);
            }
        }
        closedir(dir);
        qsort(files, nf, sizeof(*files), cmp_str);
        for (size_t i = 0; i < nf; i++) {
            loaded_plugin lp;
            char err[512];
            if (loader_open(files[i], &lp, err, sizeof(err)) != AT_OK) {
                if (!describe) {
                    printf("%-10s %-12s %-8s %-5s %s\n", "-", "-", "-", "-", err);
                }
                free(files[i]);
                continue;
            }
            const at_plugin *p = lp.plugin;
            char full[128], dotted[128];
            snprintf(full, sizeof(full), "%s_%s", loader_kind_name(p->kind), p->name);
            snprintf(dotted, sizeof(dotted), "%s.%s", loader_kind_name(p->kind), p->name);
            if (!describe) {
                char abi[16];
                snprintf(abi, sizeof(abi), "%u.%u", p->abi_major, p->abi_minor);
                printf("%-10s %-12s %-8s %-5s %s\n", loader_kind_name(p->kind), p->name,
                       p->version ? p->version : "", abi, files[i]);
                if (p->description) {
                    printf("%-10s %s\n", "", p->description);
                }
            } else if (code != 0 &&
                       (strcmp(describe, p->name) == 0 || strcmp(describe, full) == 0 ||
                        strcmp(describe, dotted) == 0)) {
                printf("%s %s — %s\nsection: [%s.<instance>] (module = %s when the instance "
                       "name differs)\nfile: %s\n\n",
                       full, p->version ? p->version : "", p->description ? p->description : "",
                       loader_kind_name(p->kind), p->name, files[i]);
                if (lp.schema[0].name) {
                    conf_describe(lp.schema, stdout);
                } else {
                    printf("(no configuration keys)\n");
                }
                code = 0;
            }
            loader_close(&lp);
            free(files[i]);
        }
        free(files);
    }
    if (describe && code != 0) {
        fprintf(stderr, "aitrader: no plugin named '%s' (try 'aitrader plugins')\n", describe);
    }
    engine_free(e);
    log_shutdown();
    return code;
}

/* aitrader kill-switch on|off|status [REASON]: the file every risk_breaker
 * instance watches (data_dir/kill-switch, read within a second and at every
 * intent). Written even when other sections of the config have errors: in
 * an emergency only [core] data_dir matters. */
static int cmd_kill_switch(engine_opts *o, int argc, char **argv)
{
    const char *what = argc > 0 ? argv[0] : "";
    bool on = strcmp(what, "on") == 0, off = strcmp(what, "off") == 0;
    if (!on && !off && strcmp(what, "status") != 0) {
        fprintf(stderr, "aitrader: kill-switch needs on, off or status\n");
        return 2;
    }
    if (!on && !off && argc > 1) {
        fprintf(stderr, "aitrader: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    char reason[256] = "";
    for (int i = 1; i < argc; i++) {
        size_t n = strlen(reason);
        snprintf(reason + n, sizeof(reason) - n, "%s%s", n ? " " : "", argv[i]);
    }
    const char *env = getenv("AITRADER_CONFIG");
    const char *path = o->config_path ? o->config_path : env ? env : "modules.ini";
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "aitrader: cannot read %s: %s (the kill switch lives in its data_dir)\n",
                path, strerror(errno));
        return 2;
    }
    log_set_level(AT_LOG_ERROR); /* loading the config may log (missing plugins …) */
    engine *e = engine_new(o);
    if (!e) {
        return 1;
    }
    conf_errors errs = {0};
    engine_load(e, &errs);
    const char *data_dir = engine_core(e)->data_dir;
    bool watched = false;
    for (at_instance *in = engine_instances(e); in; in = in->next) {
        watched |= in->lp.plugin && in->lp.plugin->kind == AT_KIND_RISK &&
                   strcmp(in->lp.plugin->name, "breaker") == 0;
    }
    char file[PATH_MAX], abs[PATH_MAX];
    int code = 0;
    if (!ks_path(data_dir, file, sizeof(file))) {
        fprintf(stderr, "aitrader: data_dir is too long\n");
        code = 2;
        goto done;
    }
    if (on || off) {
        char by[128], host[64] = "", err[256];
        const struct passwd *pw = getpwuid(geteuid());
        const char *user = getenv("SUDO_USER") ? getenv("SUDO_USER") : pw ? pw->pw_name : "?";
        gethostname(host, sizeof(host) - 1);
        snprintf(by, sizeof(by), "%.40s@%.40s (aitrader kill-switch, pid %ld)", user, host,
                 (long)getpid());
        if (ks_write(data_dir, on, at_wall_us() / 1000, by, reason[0] ? reason : "no reason given",
                     err, sizeof(err)) != 0) {
            fprintf(stderr, "aitrader: kill-switch: %s: %s\n", file, err);
            code = 1;
            goto done;
        }
    }
    ks_state st;
    ks_read(file, &st);
    char since[32];
    ks_time_text(st.since_ms, since);
    printf("kill switch %s", st.on ? "ON" : "off");
    if (st.present && st.since_ms) {
        printf(" since %s", since);
    }
    if (st.by[0]) {
        printf(" by %s", st.by);
    }
    if (st.reason[0]) {
        printf(": %s", st.reason);
    }
    char dir_abs[PATH_MAX];
    if (!realpath(file, abs) &&
        !(realpath(data_dir, dir_abs) && ks_path(dir_abs, abs, sizeof(abs)))) {
        snprintf(abs, sizeof(abs), "%s", file);
    }
    printf("\n  file: %s%s\n", abs, st.present ? "" : " (absent)");
    if (on || off) {
        printf("  %s\n", on ? "every new entry is refused within a second; closes and reductions "
                              "pass"
                            : "entries pass again within a second");
    }
    if (errs.n) {
        fprintf(stderr,
                "aitrader: warning: %s has %zu configuration error%s (`aitrader check-config` "
                "lists them); data_dir = %s was used\n",
                path, errs.n, errs.n == 1 ? "" : "s", data_dir);
    }
    if (!watched) {
        fprintf(stderr,
                "aitrader: warning: no enabled [risk.*] section of %s uses the breaker module: "
                "no engine of this config reads the switch\n",
                path);
    }
done:
    conf_errors_free(&errs);
    engine_free(e);
    log_shutdown();
    return code;
}

/* A JSON number that reads back as the same double (or null for NaN/inf):
 * %.15g when that round-trips, so 87594.1 stays 87594.1, else %.17g. */
static void json_num(const char *key, double v)
{
    char buf[40];
    if (!isfinite(v)) {
        snprintf(buf, sizeof(buf), "null");
    } else {
        snprintf(buf, sizeof(buf), "%.15g", v);
        if (strtod(buf, NULL) != v) {
            snprintf(buf, sizeof(buf), "%.17g", v);
        }
    }
    printf(",\"%s\":%s", key, buf);
}

/* aitrader indicators --csv FILE [--inst ID] (CONTRACTS §1). */
static int cmd_indicators(const char *csv, const char *inst)
{
    if (!csv) {
        fprintf(stderr, "aitrader: indicators needs --csv FILE\n");
        return 2;
    }
    char err[512];
    ta_csv *r = ta_csv_open(csv, inst, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    ta_set set;
    ta_set_init(&set);
    ta_bar b;
    int rc;
    while ((rc = ta_csv_next(r, &b, err, sizeof(err))) == 1) {
        ta_set_out o;
        ta_set_update(&set, &b, &o);
        printf("{\"ts\":%lld", (long long)b.open_ms);
        json_num("close", b.c);
        json_num("ema12", o.ema12);
        json_num("ema26", o.ema26);
        json_num("rsi14", o.rsi14);
        json_num("macd", o.macd);
        json_num("macd_signal", o.macd_signal);
        json_num("macd_hist", o.macd_hist);
        json_num("bb_upper", o.bb_upper);
        json_num("bb_mid", o.bb_mid);
        json_num("bb_lower", o.bb_lower);
        json_num("atr14", o.atr14);
        json_num("vol_rv", o.vol_rv);
        printf("}\n");
    }
    ta_csv_close(r);
    if (rc < 0) {
        fflush(stdout);
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "aitrader: indicators: write error\n");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    engine_opts o = {0};
    const char *describe = NULL;
    const char *csv = NULL, *inst = NULL, *recording = NULL;
    static const char *data[64], *funding[64], *sets[8];
    backtest_args bt = {.data = data, .funding = funding, .sets = sets, .spread_bps = -1};
    bool bt_opt = false;
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"log-level", required_argument, NULL, 'l'},
        {"log-json", no_argument, NULL, 'j'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {"describe", required_argument, NULL, 'd'},
        {"csv", required_argument, NULL, 'C'},
        {"inst", required_argument, NULL, 'I'},
        {"recording", required_argument, NULL, 'R'},
        {"data", required_argument, NULL, 'D'},
        {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'T'},
        {"report", required_argument, NULL, 'P'},
        {"instruments", required_argument, NULL, 'N'},
        {"spread-bps", required_argument, NULL, 'S'},
        {"funding", required_argument, NULL, 'U'},
        {"set", required_argument, NULL, 'E'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.config_path = optarg;
            break;
        case 'l':
            if (log_level_parse(optarg) < 0) {
                fprintf(stderr, "aitrader: --log-level: expected debug, info, warn or error\n");
                return 2;
            }
            o.log_level = optarg;
            break;
        case 'j':
            o.log_json = true;
            log_set_json(true);
            break;
        case 'V':
            printf("aitrader %s (plugin ABI %d.%d)\n", AT_VERSION, AT_ABI_MAJOR, AT_ABI_MINOR);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        case 'd':
            describe = optarg;
            break;
        case 'C':
            csv = optarg;
            break;
        case 'I':
            inst = optarg;
            break;
        case 'R':
            recording = optarg;
            break;
        case 'D':
            if (bt.ndata == sizeof(data) / sizeof(data[0])) {
                fprintf(stderr, "aitrader: --data: at most %zu files\n", bt.ndata);
                return 2;
            }
            data[bt.ndata++] = optarg;
            bt_opt = true;
            break;
        case 'E':
            if (bt.nsets == sizeof(sets) / sizeof(sets[0])) {
                fprintf(stderr, "aitrader: --set: at most %zu\n", bt.nsets);
                return 2;
            }
            sets[bt.nsets++] = optarg;
            bt_opt = true;
            break;
        case 'U':
            if (bt.nfunding == sizeof(funding) / sizeof(funding[0])) {
                fprintf(stderr, "aitrader: --funding: at most %zu files\n", bt.nfunding);
                return 2;
            }
            funding[bt.nfunding++] = optarg;
            bt_opt = true;
            break;
        case 'F':
            bt.from = optarg;
            bt_opt = true;
            break;
        case 'T':
            bt.to = optarg;
            bt_opt = true;
            break;
        case 'P':
            bt.report = optarg;
            bt_opt = true;
            break;
        case 'N':
            bt.instruments = optarg;
            bt_opt = true;
            break;
        case 'S': {
            char *end;
            bt.spread_bps = strtod(optarg, &end);
            if (*end || end == optarg || !isfinite(bt.spread_bps) || bt.spread_bps < 0) {
                fprintf(stderr, "aitrader: --spread-bps: expected a number of basis points, 0 "
                                "or more\n");
                return 2;
            }
            bt_opt = true;
            break;
        }
        default:
            usage(stderr);
            return 2;
        }
    }
    const char *cmd = optind < argc ? argv[optind++] : "run";
    if (strcmp(cmd, "kill-switch") == 0) {
        if (describe || csv || inst) {
            fprintf(stderr, "aitrader: kill-switch takes -c FILE only\n");
            return 2;
        }
        return cmd_kill_switch(&o, argc - optind, argv + optind);
    }
    if (optind < argc) {
        fprintf(stderr, "aitrader: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (describe && strcmp(cmd, "plugins") != 0) {
        fprintf(stderr, "aitrader: --describe goes with 'plugins'\n");
        return 2;
    }
    if ((csv || inst) && strcmp(cmd, "indicators") != 0) {
        fprintf(stderr, "aitrader: --csv and --inst go with 'indicators'\n");
        return 2;
    }
    if (bt_opt && strcmp(cmd, "backtest") != 0) {
        fprintf(stderr, "aitrader: --data, --from, --to, --report, --instruments, --spread-bps, "
                        "--funding and --set go with 'backtest'\n");
        return 2;
    }
    if (recording && strcmp(cmd, "replay") != 0) {
        fprintf(stderr, "aitrader: --recording goes with 'replay'\n");
        return 2;
    }
    if (strcmp(cmd, "indicators") == 0) {
        return cmd_indicators(csv, inst);
    }
    if (strcmp(cmd, "replay") == 0) {
        malloc_policy();
        return replay_main(&o, recording);
    }
    if (strcmp(cmd, "run") == 0) {
        return cmd_run(&o);
    }
    if (strcmp(cmd, "check-config") == 0) {
        return cmd_check(&o);
    }
    if (strcmp(cmd, "plugins") == 0) {
        return cmd_plugins(&o, describe);
    }
    if (strcmp(cmd, "backtest") == 0) {
        malloc_policy();
        return backtest_main(&o, &bt);
    }
    fprintf(stderr, "aitrader: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
