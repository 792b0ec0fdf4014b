/* Helper processes of engine tests and HTTP with them (fake_proc.h). */
#include "fake_proc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"

void fake_proc_start(fake_proc *p, const char *script, const char *const *args)
{
    int out[2], in[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(in), 0);
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/%s", AT_TEST_SOURCE_DIR, script);
    const char *argv[16] = {"python3", path, "--stdin-exit"};
    size_t n = 3;
    for (size_t i = 0; args && args[i] && n < 15; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        dup2(out[1], 1);
        dup2(in[0], 0);
        close(out[0]);
        close(in[1]);
        execvp("python3", (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    close(in[0]);
    p->in = in[1];
    size_t k = 0;
    struct pollfd pfd = {.fd = out[0], .events = POLLIN};
    while (k < sizeof(p->url) - 1 && poll(&pfd, 1, 10000) == 1) {
        char c;
        if (read(out[0], &c, 1) != 1 || c == '\n') {
            break;
        }
        p->url[k++] = c;
    }
    p->url[k] = '\0';
    close(out[0]);
    if (strncmp(p->url, "http://127.0.0.1:", 17) != 0) {
        fail_msg("%s did not start (printed '%s')", script, p->url);
    }
}

void fake_proc_stop(fake_proc *p)
{
    if (p->pid > 0) {
        close(p->in);
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
}

typedef struct xfer {
    int done, status;
    char *body;
} xfer;

static void on_xfer(void *arg, const at_http_resp *r)
{
    xfer *x = arg;
    x->status = r->status;
    x->body = strdup(r->body ? r->body : "");
    x->done = 1;
}

char *fake_http(harness *h, const char *method, const char *url, const char *body, int *status)
{
    xfer x = {0};
    at_http_req req = {.method = method,
                       .url = url,
                       .body = body,
                       .body_len = body ? strlen(body) : 0,
                       .timeout_ms = 5000,
                       .proxy = "none"};
    assert_true(harness_host(h)->http_request(harness_inst(h), &req, on_xfer, &x) > 0);
    assert_true(harness_run_until(h, harness_flag_set, &x.done, 10000));
    if (status) {
        *status = x.status;
    } else {
        assert_int_equal(x.status, 200);
    }
    return x.body;
}

char *fake_subst(const char *text, const char *from, const char *to)
{
    char *out = strdup(text);
    char *p;
    while ((p = strstr(out, from))) {
        char *next = NULL;
        assert_true(asprintf(&next, "%.*s%s%s", (int)(p - out), out, to, p + strlen(from)) > 0);
        free(out);
        out = next;
    }
    return out;
}

at_instance *fake_instance(const char *name)
{
    for (at_instance *in = engine_instances(engine_current()); in; in = in->next) {
        if (strcmp(in->name, name) == 0) {
            return in;
        }
    }
    fail_msg("no instance %s", name);
    return NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void ai_answer_done(void *arg, const at_ai_reply *r)
{
    ai_answer *a = arg;
    a->calls++;
    a->err = r->err;
    a->error = dup_or_null(r->error);
    a->content = dup_or_null(r->content);
    a->reasoning = dup_or_null(r->reasoning);
    a->refusal = dup_or_null(r->refusal);
    a->model = dup_or_null(r->model);
    a->finish = dup_or_null(r->finish_reason);
    a->tin = r->tokens_in;
    a->tout = r->tokens_out;
    a->cost = r->cost_usd;
    a->latency_ms = r->latency_ms;
    a->attempts = r->attempts;
}

void ai_answer_clear(ai_answer *a)
{
    free(a->error);
    free(a->content);
    free(a->reasoning);
    free(a->refusal);
    free(a->model);
    free(a->finish);
    memset(a, 0, sizeof(*a));
}

bool ai_answer_came(void *arg)
{
    return ((ai_answer *)arg)->calls > 0;
}
