#include "latest.h"

void latest_keep(const at_host *h, const at_ev_indicator **slots, size_t n,
                 const at_ev_indicator *ev)
{
    size_t slot = n;
    for (size_t b = 0; b < n && slot == n; b++) {
        if (slots[b] && slots[b]->bar_s == ev->bar_s) {
            slot = b;
        }
    }
    for (size_t b = 0; b < n && slot == n; b++) {
        if (!slots[b]) {
            slot = b;
        }
    }
    if (slot == n) {
        return; /* more bar sizes than kept: the first ones win */
    }
    h->event_retain(&ev->h);
    if (slots[slot]) {
        h->event_release(&slots[slot]->h);
    }
    slots[slot] = ev;
}

void latest_release(const at_host *h, const at_ev_indicator **slots, size_t n)
{
    for (size_t b = 0; b < n; b++) {
        if (slots[b]) {
            h->event_release(&slots[b]->h);
            slots[b] = NULL;
        }
    }
}
