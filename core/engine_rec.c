/* Session recording on the engine's side ([core] record = DIR; the format is
 * in core/trading/session.h): the recorder is started before the traders,
 * whose AI operations then go through a tap that writes each answer. */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "engine_internal.h"
#include "log.h"
#include "util.h"
#include "trading/session.h"

int engine_rec_start(engine *e)
{
    if (!e->core.record) {
        return AT_OK;
    }
    /* The market frames: instances that record them themselves (exchange_okx's
     * `record = FILE`), named in the header for the replay. */
    session_frames *fr = calloc(e->ninstances ? e->ninstances : 1, sizeof(*fr));
    size_t n = 0;
    for (const at_instance *in = e->instances; in && fr; in = in->next) {
        const conf_entry *en = conf_entry_get(conf_section_get(e->conf, in->name), "record");
        if (en && en->value[0]) {
            fr[n++] = (session_frames){in->name, en->value};
        }
    }
    at_instance *self = engine_virtual_instance(e, "core.recorder");
    char why[512] = "out of memory";
    if (fr && self) {
        e->rec = session_rec_new(engine_host(), self, e->core.record, e->config_path, fr, n, why,
                                 sizeof(why));
    }
    free(fr);
    int rc = e->rec ? session_rec_start(e->rec) : AT_EIO;
    if (rc != AT_OK) {
        log_msg("core", AT_LOG_ERROR, "[core] record: %s", e->rec ? at_strerror(rc) : why);
        return rc;
    }
    if (n == 0) {
        log_msg("core", AT_LOG_WARN,
                "[core] record: no exchange instance records its market frames (`record = FILE` "
                "in its section): a replay of this session will have no market data");
    }
    e->taps = calloc(e->ntraders ? e->ntraders : 1, sizeof(*e->taps));
    return e->taps ? AT_OK : AT_ENOMEM;
}

bool engine_rec_wrap(engine *e, size_t idx, const at_ai_ops **ops, void **ctx)
{
    if (!e->rec) {
        return true;
    }
    session_tap *t = session_tap_new(e->rec, *ops, *ctx);
    if (!t) {
        return false;
    }
    session_tap_free(e->taps[idx]);
    e->taps[idx] = t;
    *ops = session_tap_ops(*ops);
    *ctx = t;
    return true;
}

void engine_rec_stop(engine *e)
{
    session_rec_stop(e->rec);
}

void engine_rec_free(engine *e)
{
    for (size_t i = 0; e->taps && i < e->ntraders; i++) {
        session_tap_free(e->taps[i]);
    }
    free(e->taps);
    e->taps = NULL;
    session_rec_free(e->rec);
    e->rec = NULL;
}
