/* The latest INDICATOR of each bar size of one symbol, kept retained in a
 * small slot array: shared by the trader's context and its scheduler. */
#ifndef AT_CORE_TRADING_LATEST_H
#define AT_CORE_TRADING_LATEST_H

#include <stddef.h>

#include <aitrader/host.h>

/* Keeps ev (retained) in the slot of its bar size, replacing (and releasing)
 * the one there, or in the first free slot; with all n slots taken by other
 * bar sizes it is dropped: the first bar sizes seen win. */
void latest_keep(const at_host *h, const at_ev_indicator **slots, size_t n,
                 const at_ev_indicator *ev);
/* Releases every kept indicator and empties the slots. */
void latest_release(const at_host *h, const at_ev_indicator **slots, size_t n);

#endif
