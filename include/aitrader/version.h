/**
 * @file version.h
 * @brief Engine version and plugin ABI version, and what they promise.
 *
 * The plugin ABI is the set of headers in include/aitrader/. Its version is
 * MAJOR.MINOR (AT_ABI_MAJOR, AT_ABI_MINOR), stamped into every plugin by
 * AT_PLUGIN_HEADER. The engine checks it at load; plugins never need to:
 *
 * - **Major**: any change that could break a built plugin (a field removed,
 *   moved or retyped, a meaning changed, an event renumbered) bumps it. A
 *   plugin loads only into an engine of the same major; rebuild it for a new one.
 * - **Minor**: only additions. Fields are appended to the end of the SDK
 *   structs (at_plugin, at_host, at_storage_ops, event payloads), new event
 *   types, new host functions, new error codes and config types, never
 *   anything else. A plugin built against minor m loads and runs unchanged
 *   in every engine of the same major with minor >= m; an engine refuses a
 *   plugin of a newer minor (it would use what the engine lacks).
 *
 * So a plugin can use every field of the headers it was built with, without
 * checks. The engine, in turn, reads what a plugin of an older minor hands it
 * (at_plugin, at_storage_ops, at_ai_ops) only as far as that plugin's `struct_size`
 * says, so fields added later read as absent (NULL, zero); see AT_STRUCT_HAS.
 * at_cfg_field is the exception: it is frozen for the whole major (config.h).
 * Event payloads are allocated by the engine at its own (newest) size and
 * zeroed, so a publisher built against an older minor leaves the newer fields
 * zero, and `h.version` is the engine's payload version (AT_EV_VERSION).
 *
 * History: 1.1 added host->dec_mul_round and host->metrics_text; 1.2 added
 * at_ev_trigger.deadline_ms and at_ev_decision.trigger_key/cost_usd (payload
 * version 2); 1.3 added at_plugin.check_config, the order gate's operations
 * (at_exchange_ops, at_risk_ops) and at_ev_risk_verdict.verdict/sz/name
 * (payload version 3), at_http_req.proxy and host->ws_open_proxy; 1.4 added
 * AT_EV_ALGO_ORDER, at_ev_order_intent.ttl_ms and the algo ids of
 * at_ev_order/at_ev_fill (payload version 4); 1.5 added host->engine_call,
 * at_httpd_req.origin/host and at_httpd_opts.ws_origins (aitrader/origin.h);
 * 1.6 added at_ai_ops.feedback and at_ai_feedback (what became of an AI
 * provider's decisions; read only from a plugin whose at_ai_ops has it) and
 * host->timer_at (a one-shot timer at an absolute core-clock microsecond)
 * and at_storage_ops.snapshot (a consistent copy of the database); 1.7
 * added at_ev_news.impact/llm_score/scorer (payload version 5) and
 * host->ai_request/ai_cancel (a plugin asks an [ai.*] instance: a news
 * scorer).
 */
#ifndef AITRADER_VERSION_H
#define AITRADER_VERSION_H

#define AT_VERSION_MAJOR 0
#define AT_VERSION_MINOR 1
#define AT_VERSION_PATCH 0
#define AT_VERSION "0.1.0"

/** Plugin ABI major: any incompatible change bumps it; the loader requires an exact match. */
#define AT_ABI_MAJOR 1
/** Plugin ABI minor: appended fields; the loader accepts plugins with minor <= the engine's. */
#define AT_ABI_MINOR 7

#endif
