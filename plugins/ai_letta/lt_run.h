/* ai_letta on the host: the instance, one agent per trader and its queue
 * of jobs (a trader's message, a journal write). Letta must not get two
 * requests for one agent at once, so each agent runs one job at a time, in
 * arrival order; agents of different traders run side by side. */
#ifndef AI_LETTA_LT_RUN_H
#define AI_LETTA_LT_RUN_H

#include "aic.h"
#include "lt.h"

#define LT_MAX_FILES 32

typedef struct lt_ctx lt_ctx;
typedef struct lt_agent lt_agent;
typedef struct lt_job lt_job;
/* What a job does when its request ended. */
typedef void (*lt_step_cb)(lt_job *j, const aic_res *res);
/* What a job does after a 404 under an agent that is still there (`error`
 * the 404's text). */
typedef void (*lt_there_cb)(lt_job *j, const char *error);

typedef enum lt_job_kind { LT_JOB_MESSAGE, LT_JOB_FEEDBACK } lt_job_kind;

struct lt_job {
    lt_agent *a;
    lt_job *next;
    lt_job_kind kind;
    char *id; /* a message's request id; a journal write's decision id */
    at_ai_done_cb done;
    void *arg;
    char *system, *user; /* a message's prompts */
    char *entry;         /* a journal write's line */
    char *told;          /* its "decision <id>: <text>", folded: written already? */
    int64_t start_us, deadline_ms;
    at_timer *limit;   /* a message's deadline */
    int attempts;      /* HTTP attempts of its ended requests */
    const char *doing; /* the step under way, for errors: "finding the agent" */
    aic_xfer *xfer;    /* the request in flight, or NULL */
    bool restarted;    /* the agent went away mid-job: found (or created) again once */
    bool read_files;
    lt_file files[LT_MAX_FILES];
    size_t nfiles;
    size_t sync_next;            /* the next block to sync: files, then the system prompt */
    char *new_label, *new_value; /* a block being created and attached */
    lt_step_cb step;             /* when the request in flight ends */
    lt_there_cb there;           /* after a 404: the agent is still there */
    char *error404;              /* that 404's text */
    const char *doing404;        /* and its step */
};

/* A block as the agent has it, as far as this run knows. */
typedef struct lt_known {
    char label[LT_LABEL_MAX];
    uint64_t hash;
} lt_known;

struct lt_agent {
    lt_ctx *L;
    lt_agent *next;
    char trader[AT_ID_LEN];
    char name[160];
    const char *model;  /* the configured handle (config-owned) */
    char id[LT_ID_MAX]; /* "" until known */
    char *server_model; /* the model the server says the agent has */
    bool verified;      /* the id was checked with the server in this run */
    int stored;         /* 0: not read yet, 1: reading, 2: read */
    lt_known *known;
    size_t nknown;
    lt_job *head, *tail, *running;
    /* The request of a job given up (deadline, cancel, stop) still in
     * flight: Letta may still run that turn, so the next job waits for its
     * end (an answer or its attempt's timeout). */
    aic_xfer *orphan;
    size_t queued;
    at_timer *kick;
};

struct lt_ctx {
    lt_cfg cfg; /* first: the schema's offsets */
    at_instance *inst;
    const at_host *h;
    aic_http http;
    aic_metrics m;
    char *root;       /* base_url without trailing slashes */
    char *auth;       /* "Authorization: Bearer …" or NULL */
    char *memory_dir; /* resolved */
    lt_agent *agents;
    bool running, stopping;
    char files_said[512]; /* the last word on the memory files, said once */
    lt_known *said;       /* per file: the hash of the last word on it */
    size_t nsaid;
};

/* lt_agent.c */
lt_agent *lt_agent_get(lt_ctx *L, const char *trader);
/* Queue a job (transferred) behind the agent's others: AT_OK, or
 * AT_EAGAIN when queue_max jobs wait (the job is not taken). */
int lt_agent_push(lt_agent *a, lt_job *j);
/* Find a message job by request id anywhere; NULL when none. */
lt_job *lt_job_find(lt_ctx *L, const char *request_id);
/* End a message job with an error (its done runs), the queue moves on. */
void lt_job_fail(lt_job *j, int err, const char *text);
void lt_job_free(lt_job *j);
/* Stop: every message answered AT_ESTATE, journal writes dropped. */
void lt_agents_stop(lt_ctx *L);
void lt_agents_free(lt_ctx *L);

/* lt_agent.c, for lt_sync.c */
lt_known *lt_known_of(lt_agent *a, const char *label);
void lt_known_set(lt_agent *a, const char *label, const char *value);
/* The agent is gone on the server: nothing of it is known any more. */
void lt_forget(lt_agent *a);
/* Run the job's next step (find the agent, sync, send, journal). */
void lt_job_run(lt_job *j);
/* The job is done: out of the queue, freed, the next one starts. */
void lt_job_end(lt_job *j);
/* A message answered with r (r->err says how); the job ends. */
void lt_job_answer(lt_job *j, at_ai_reply *r);
/* The step under way failed for good: the job ends saying which step. */
void lt_step_fail(lt_job *j, int err, const char *what);
/* Whether a request failed because the agent (or id) is not there: 404, 422. */
bool lt_gone(const aic_res *res);
/* A request under the agent got a 404 (res): is the agent itself gone?
 * GET /v1/agents/{id}: gone, it is found (or created) again and the job
 * restarted, once; there, there(j, res's error) runs. */
void lt_check_gone(lt_job *j, const aic_res *res, lt_there_cb there);
/* One HTTP request of the job (`path` under base_url, `body` may be
 * NULL), retried within its deadline; next(j, res) when it ended. */
void lt_request(lt_job *j, const char *doing, const char *method, const char *path,
                const char *body, lt_step_cb next);

/* lt_sync.c */
/* The memory files, read once per job (what is left out said once). */
void lt_read_files(lt_job *j);
/* Whether a file goes to the agent: it fits block_limit and its block can
 * be built (else it is left out, said once per file and reason). */
bool lt_file_usable(lt_job *j, const lt_file *f);
/* The system prompt's block limit: block_limit, or its length if more. */
int64_t lt_system_limit(const lt_ctx *L, const char *system);
/* The next block that changed, else the message. */
void lt_sync_next(lt_job *j);
/* trade_journal read, the entry appended, PATCHed. */
void lt_journal_write(lt_job *j);

/* lt_store.c: the agent ids in the ai_agents table. */
/* Reads the agent's stored id; next(a) runs once it is known (also when
 * there is no storage or nothing stored). */
void lt_store_read(lt_agent *a, void (*next)(lt_agent *a));
void lt_store_write(lt_agent *a);

#endif
