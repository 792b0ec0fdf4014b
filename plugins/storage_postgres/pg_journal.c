/* The journal: writes that do not fit in memory while PostgreSQL is away, and
 * whatever stop() could not send. Append-only, one JSON object per line:
 *
 *   {"sql":"INSERT …","types":"isd","params":["1","x","0.1"]}      a write
 *   {"sql":…,"types":…,"params":…,"inflight":true}                in flight at a loss
 *   {"ack":K}        records 1..K (counted since the file was last emptied) are done
 *   {"clean":true}   first line of a journal written by stop(): the inflight
 *                    flags of the records are exact
 *
 * params are the exact text sent to PostgreSQL (decimals as exact strings,
 * NULL as null); types are the letters n i r s d b. Records are fsync'd once
 * per loop turn that appended any. The file is truncated once every record in
 * it is committed (or failed for good); a journal found at start is replayed
 * first. After an unclean stop, the records that follow the last ack may have
 * been committed by a batch that was in flight at the crash: the first
 * PG_BATCH_MAX of them count as "in flight" (a unique violation on replay means
 * "already applied"). A journal written by stop() needs no such guess, until
 * a run starts replaying it: that run appends an ack first, which reopens the
 * window should it crash. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "pg.h"

static int journal_open(pg *p)
{
    if (p->jfd >= 0) {
        return AT_OK;
    }
    p->jfd = open(p->journal_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (p->jfd < 0) {
        p->host->log(p->inst, AT_LOG_ERROR, "cannot open journal %s: %s", p->journal_path,
                     strerror(errno));
        return AT_EIO;
    }
    struct stat st;
    if (fstat(p->jfd, &st) != 0) {
        close(p->jfd);
        p->jfd = -1;
        return AT_EIO;
    }
    p->jsize = st.st_size;
    return AT_OK;
}

void pg_journal_close(pg *p)
{
    pg_journal_sync(p);
    if (p->jfd >= 0) {
        close(p->jfd);
        p->jfd = -1;
    }
}

/* The record of a materialised write, or NULL (out of memory, or text that is
 * not UTF-8: JSON cannot carry it, and PostgreSQL would refuse it anyway). */
static char *record_text(const pg_item *it)
{
    json_t *o = json_object();
    json_t *params = json_array();
    char *line = NULL;
    if (!o || !params) {
        goto done;
    }
    for (int i = 0; i < it->n; i++) {
        json_t *v = it->vals[i] ? json_string(it->vals[i]) : json_null();
        if (!v || json_array_append_new(params, v) != 0) {
            goto done;
        }
    }
    json_t *sql = json_string(it->sql);
    if (!sql || json_object_set_new(o, "sql", sql) != 0 ||
        json_object_set_new(o, "types", json_string(it->types)) != 0 ||
        json_object_set(o, "params", params) != 0) {
        goto done;
    }
    if (it->inflight && json_object_set_new(o, "inflight", json_true()) != 0) {
        goto done;
    }
    line = json_dumps(o, JSON_COMPACT);
done:
    json_decref(params);
    json_decref(o);
    return line;
}

/* Parse one line: a write (into the item's payload when `it` is not NULL),
 * an ack (*ack >= 0) or the clean marker (*ack == -2). AT_EINVAL for anything
 * malformed. */
static int record_parse(pg_item *it, const char *line, size_t len, bool *inflight, long *ack)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    const char **vals = NULL;
    int err = AT_EINVAL;
    *ack = -1;
    if (!json_is_object(o)) {
        goto done;
    }
    if (json_is_true(json_object_get(o, "clean"))) {
        *ack = -2;
        err = AT_OK;
        goto done;
    }
    json_t *a = json_object_get(o, "ack");
    if (a) {
        if (json_is_integer(a) && json_integer_value(a) >= 0) {
            *ack = (long)json_integer_value(a);
            err = AT_OK;
        }
        goto done;
    }
    const char *sql = json_string_value(json_object_get(o, "sql"));
    const char *types = json_string_value(json_object_get(o, "types"));
    json_t *params = json_object_get(o, "params");
    if (!sql || !*sql || !types || !json_is_array(params) ||
        strlen(types) != json_array_size(params) || json_array_size(params) > 65535) {
        goto done;
    }
    size_t n = json_array_size(params);
    vals = calloc(n ? n : 1, sizeof(*vals));
    if (!vals) {
        err = AT_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(params, i);
        if (!strchr("nirsdb", types[i]) || (types[i] == 'n') != json_is_null(v) ||
            (!json_is_null(v) && !json_is_string(v))) {
            goto done;
        }
        vals[i] = json_string_value(v);
    }
    *inflight = json_is_true(json_object_get(o, "inflight"));
    err = it ? pg_item_set_payload(it, sql, types, vals, (int)n) : AT_OK;
done:
    free(vals);
    json_decref(o);
    return err;
}

static int append_line(pg *p, const char *text);

static void add_stub(pg *p, off_t off, size_t len, uint64_t seq, bool inflight)
{
    pg_item *it = calloc(1, sizeof(*it));
    if (!it) {
        p->host->log(p->inst, AT_LOG_ERROR, "journal: out of memory loading records");
        return;
    }
    it->kind = PG_WRITE;
    it->journaled = true;
    it->joff = off;
    it->jlen = len;
    it->jseq = seq;
    it->inflight = inflight;
    pg_queue_push(p, it);
}

int pg_journal_load(pg *p)
{
    if (access(p->journal_path, F_OK) != 0) {
        return AT_OK;
    }
    int err = journal_open(p);
    if (err != AT_OK) {
        return err;
    }
    FILE *f = fdopen(dup(p->jfd), "r");
    if (!f) {
        return AT_EIO;
    }
    char *line = NULL;
    size_t cap = 0;
    off_t off = 0, good_end = 0;
    long acked = 0;
    bool clean = false, has_ack = false;
    size_t bad = 0, nline = 0;
    ssize_t got;
    /* First pass: find the last ack, so records it covers are not queued. */
    while ((got = getline(&line, &cap, f)) > 0) {
        bool inflight;
        long ack;
        if (line[got - 1] == '\n' &&
            record_parse(NULL, line, (size_t)got - 1, &inflight, &ack) == AT_OK) {
            if (ack >= 0) {
                acked = ack > acked ? ack : acked;
                has_ack = true;
            } else if (ack == -2 && nline == 0) {
                clean = true;
            }
        }
        nline++;
    }
    rewind(f);
    /* no crash window for a journal stop() wrote and nobody replayed since */
    size_t window = clean && !has_ack ? PG_BATCH_MAX : 0;
    uint64_t seq = 0;
    while ((got = getline(&line, &cap, f)) > 0) {
        bool inflight = false, torn = line[got - 1] != '\n';
        long ack;
        size_t len = (size_t)got - (torn ? 0 : 1);
        if (torn) {
            p->host->log(p->inst, AT_LOG_WARN,
                         "journal %s: ignoring a torn last record at offset %lld (crash while "
                         "appending)",
                         p->journal_path, (long long)off);
            break;
        }
        if (record_parse(NULL, line, len, &inflight, &ack) != AT_OK) {
            p->host->log(p->inst, AT_LOG_ERROR,
                         "journal %s: skipping a malformed record at offset %lld", p->journal_path,
                         (long long)off);
            bad++;
            seq++; /* most likely a damaged record: keep the numbering acks use */
        } else if (ack == -1 && ++seq > (uint64_t)acked) {
            bool crash_window = window++ < PG_BATCH_MAX;
            add_stub(p, off, len, seq, inflight || crash_window);
        }
        off += got;
        good_end = off;
    }
    free(line);
    fclose(f);
    p->jseq = seq;
    /* appends must start on a line boundary */
    if (good_end < p->jsize && ftruncate(p->jfd, good_end) == 0) {
        p->jsize = good_end;
    }
    p->jloaded = p->journal_pending;
    if (p->journal_pending == 0) {
        pg_journal_done(p, 0);
        return AT_OK;
    }
    p->jspill = true;
    /* this run replays it: a crash from here on leaves an unclean journal */
    char ack[48];
    snprintf(ack, sizeof(ack), "{\"ack\":%ld}", acked);
    append_line(p, ack);
    pg_journal_sync(p);
    p->host->log(p->inst, AT_LOG_INFO,
                 "journal %s: %zu writes left by a previous run will be replayed first%s",
                 p->journal_path, p->journal_pending, bad ? " (some records were malformed)" : "");
    return AT_OK;
}

static int append_line(pg *p, const char *text)
{
    size_t len = strlen(text);
    char *buf = malloc(len + 1);
    if (!buf) {
        return AT_ENOMEM;
    }
    memcpy(buf, text, len);
    buf[len] = '\n';
    size_t done = 0;
    while (done < len + 1) {
        ssize_t w = write(p->jfd, buf + done, len + 1 - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            p->host->log(p->inst, AT_LOG_ERROR, "cannot append to journal %s: %s", p->journal_path,
                         w < 0 ? strerror(errno) : "short write");
            /* drop a partial line so the next append starts clean */
            if (ftruncate(p->jfd, p->jsize) != 0) {
                p->host->log(p->inst, AT_LOG_ERROR, "journal %s: cannot undo a partial append",
                             p->journal_path);
            }
            free(buf);
            return AT_EIO;
        }
        done += (size_t)w;
    }
    free(buf);
    p->jsize += (off_t)(len + 1);
    p->jdirty = true;
    return AT_OK;
}

int pg_journal_append(pg *p, pg_item *it)
{
    int err = journal_open(p);
    if (err != AT_OK) {
        return err;
    }
    char *text = record_text(it);
    if (!text) {
        return AT_EINVAL;
    }
    off_t off = p->jsize;
    err = append_line(p, text);
    size_t len = strlen(text);
    free(text);
    if (err != AT_OK) {
        return err;
    }
    it->journaled = true;
    it->joff = off;
    it->jlen = len;
    it->jseq = ++p->jseq;
    p->jspill = true;
    pg_item_drop_payload(it);
    pg_kick(p); /* the fsync happens on the next turn, once for all appends */
    return AT_OK;
}

void pg_journal_sync(pg *p)
{
    if (p->jfd >= 0 && p->jdirty) {
        if (fdatasync(p->jfd) != 0) {
            p->host->log(p->inst, AT_LOG_ERROR, "journal %s: fsync: %s", p->journal_path,
                         strerror(errno));
        }
        p->jdirty = false;
    }
}

int pg_journal_materialise(pg *p, pg_item *it)
{
    if (it->payload || !it->journaled) {
        return AT_OK;
    }
    if (journal_open(p) != AT_OK) {
        return AT_EIO;
    }
    char *buf = malloc(it->jlen + 1);
    if (!buf) {
        return AT_ENOMEM;
    }
    size_t got = 0;
    while (got < it->jlen) {
        ssize_t r = pread(p->jfd, buf + got, it->jlen - got, it->joff + (off_t)got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            p->host->log(p->inst, AT_LOG_ERROR, "journal %s: cannot read record at %lld: %s",
                         p->journal_path, (long long)it->joff,
                         r < 0 ? strerror(errno) : "file shrank");
            free(buf);
            return AT_EIO;
        }
        got += (size_t)r;
    }
    bool inflight = false;
    long ack;
    int err = record_parse(it, buf, it->jlen, &inflight, &ack);
    free(buf);
    if (err == AT_OK && ack >= 0) {
        err = AT_EINVAL;
    }
    if (err != AT_OK) {
        p->host->log(p->inst, AT_LOG_ERROR, "journal %s: record at %lld is unreadable",
                     p->journal_path, (long long)it->joff);
    }
    return err;
}

void pg_journal_done(pg *p, uint64_t acked_seq)
{
    if (p->jfd < 0) {
        return;
    }
    if (p->journal_pending == 0) {
        /* everything in it is committed or failed for good */
        if (ftruncate(p->jfd, 0) != 0) {
            p->host->log(p->inst, AT_LOG_ERROR, "journal %s: cannot truncate: %s", p->journal_path,
                         strerror(errno));
            return;
        }
        if (p->jsize > 0) {
            p->host->log(p->inst, AT_LOG_INFO, "journal %s drained", p->journal_path);
        }
        p->jsize = 0;
        p->jseq = 0;
        p->jspill = false;
        p->jdirty = true;
        pg_journal_sync(p);
        return;
    }
    if (acked_seq > 0) {
        char ack[48];
        snprintf(ack, sizeof(ack), "{\"ack\":%llu}", (unsigned long long)acked_seq);
        /* not worth an fsync: losing it only widens the replay window */
        append_line(p, ack);
    }
}

static void fsync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy) {
        return;
    }
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

int pg_journal_rewrite(pg *p, size_t *count)
{
    *count = 0;
    size_t pending = p->mem_writes + p->journal_pending;
    if (pending == 0) {
        if (truncate(p->journal_path, 0) != 0 && errno != ENOENT) {
            p->host->log(p->inst, AT_LOG_ERROR, "journal %s: cannot truncate: %s", p->journal_path,
                         strerror(errno));
        }
        return AT_OK;
    }
    size_t plen = strlen(p->journal_path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        return AT_ENOMEM;
    }
    memcpy(tmp, p->journal_path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int err = AT_EIO;
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        p->host->log(p->inst, AT_LOG_ERROR, "cannot create %s: %s", tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        goto done;
    }
    fprintf(f, "{\"clean\":true}\n");
    for (pg_item *it = p->head; it; it = it->next) {
        if (it->kind != PG_WRITE) {
            continue;
        }
        bool was_stub = !it->payload;
        char *text = pg_journal_materialise(p, it) == AT_OK ? record_text(it) : NULL;
        if (was_stub) {
            pg_item_drop_payload(it);
        }
        if (!text) {
            p->host->log(p->inst, AT_LOG_ERROR, "journal: cannot keep a write: %.200s",
                         it->sql ? it->sql : "(unreadable record)");
            continue;
        }
        fprintf(f, "%s\n", text);
        free(text);
        (*count)++;
    }
    if (fflush(f) != 0 || fdatasync(fileno(f)) != 0) {
        p->host->log(p->inst, AT_LOG_ERROR, "cannot write %s: %s", tmp, strerror(errno));
        fclose(f);
        goto done;
    }
    fclose(f);
    if (rename(tmp, p->journal_path) != 0) {
        p->host->log(p->inst, AT_LOG_ERROR, "cannot rename %s: %s", tmp, strerror(errno));
        goto done;
    }
    fsync_dir(p->journal_path);
    err = AT_OK;
done:
    if (err != AT_OK) {
        unlink(tmp);
    }
    free(tmp);
    return err;
}
