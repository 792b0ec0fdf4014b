/* Interned instrument ids: "BTC-USDT-SWAP" <-> small integer, stable for the
 * process. Thread-safe. */
#ifndef AT_CORE_INTERN_H
#define AT_CORE_INTERN_H

#include <aitrader/types.h>

at_inst intern_get(const char *name); /* 0 for NULL, "", or > 63 bytes / non-printable */
const char *intern_name(at_inst id);  /* NULL when unknown */
void intern_shutdown(void);

#endif
