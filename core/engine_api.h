/* The engine's control API (host->engine_call, ABI 1.5): what a plugin such
 * as the dashboard shows and changes about the engine itself — instances and
 * their states, traders, the kill switch. Methods and answers are listed in
 * README "Engine control API"; the contract is the comment of engine_call in
 * include/aitrader/host.h. */
#ifndef AT_CORE_ENGINE_API_H
#define AT_CORE_ENGINE_API_H

#include <aitrader/host.h>

/* host->engine_call: `method` with `params` (a JSON object as text, or NULL)
 * answers AT_OK with a JSON text in *result, or a negative code with
 * {"code", "message"} in *result (AT_ENOENT unknown method or target,
 * AT_EINVAL bad params, AT_ESTATE not now, AT_EIO the kill switch's file);
 * *result is transferred, NULL only on AT_ENOMEM. Main loop. */
int engine_api_call(at_instance *inst, const char *method, const char *params, char **result);

#endif
