/* Exact decimal arithmetic (at_dec). The host table exposes these to plugins;
 * semantics are documented on the matching host.h entries. Pure functions,
 * thread-safe, no allocation. */
#ifndef AT_CORE_DECIMAL_H
#define AT_CORE_DECIMAL_H

#include <aitrader/types.h>

int at_dec_parse(const char *s, size_t len, at_dec *out);
int at_dec_format(at_dec d, char out[AT_DEC_STRLEN]);
int at_dec_cmp(at_dec a, at_dec b);
int at_dec_add(at_dec a, at_dec b, at_dec *out);
int at_dec_sub(at_dec a, at_dec b, at_dec *out);
int at_dec_mul(at_dec a, at_dec b, at_dec *out);
/* a * b rounded to at most `scale` digits (exact when it fits). */
int at_dec_mul_round(at_dec a, at_dec b, int scale, at_round mode, at_dec *out);
int at_dec_div(at_dec a, at_dec b, int scale, at_round mode, at_dec *out);
int at_dec_round_step(at_dec a, at_dec step, at_round mode, at_dec *out);
int at_dec_from_double(double v, int scale, at_dec *out);
double at_dec_to_double(at_dec d);
/* Helpers for core code. */
/* d as text into out, or "?" when it cannot be formatted; returns out. For
 * messages and prompts, never for what is sent to a venue. */
const char *at_dec_text(at_dec d, char out[AT_DEC_STRLEN]);
bool at_dec_is_zero(at_dec d);
/* Remove trailing fractional zeros (1.500 -> 1.5); value unchanged. */
at_dec at_dec_normalize(at_dec d);

#endif
