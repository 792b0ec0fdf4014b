/* Small containers of the net module: id maps, refcounted frame buffers,
 * send queues and message reassembly. None of them locks: each instance is
 * used by one thread at a time (see net_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

/* ------------------------------------------------------------ id maps */

static size_t map_slot(uint64_t key, size_t cap)
{
    /* splitmix64 finaliser: ids are sequential, so spread them */
    key ^= key >> 30;
    key *= 0xbf58476d1ce4e5b9ULL;
    key ^= key >> 27;
    key *= 0x94d049bb133111ebULL;
    key ^= key >> 31;
    return (size_t)key & (cap - 1);
}

void *net_map_get(const net_map *m, uint64_t key)
{
    if (!m->cap || !key) {
        return NULL;
    }
    for (size_t i = map_slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) {
            return m->vals[i];
        }
        if (!m->keys[i]) {
            return NULL;
        }
    }
}

static int map_grow(net_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    uint64_t *keys = calloc(cap, sizeof(*keys));
    void **vals = calloc(cap, sizeof(*vals));
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return AT_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i]) {
            size_t j = map_slot(m->keys[i], cap);
            while (keys[j]) {
                j = (j + 1) & (cap - 1);
            }
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return AT_OK;
}

int net_map_put(net_map *m, uint64_t key, void *val)
{
    if (!key) {
        return AT_EINVAL;
    }
    /* keep the load under 1/2 so probe runs stay short */
    if ((m->len + 1) * 2 > m->cap && map_grow(m) < 0) {
        return AT_ENOMEM;
    }
    size_t i = map_slot(key, m->cap);
    while (m->keys[i] && m->keys[i] != key) {
        i = (i + 1) & (m->cap - 1);
    }
    if (!m->keys[i]) {
        m->len++;
    }
    m->keys[i] = key;
    m->vals[i] = val;
    return AT_OK;
}

void *net_map_del(net_map *m, uint64_t key)
{
    if (!m->cap || !key) {
        return NULL;
    }
    size_t mask = m->cap - 1;
    size_t i = map_slot(key, m->cap);
    while (m->keys[i] != key) {
        if (!m->keys[i]) {
            return NULL;
        }
        i = (i + 1) & mask;
    }
    void *val = m->vals[i];
    /* Backward-shift deletion: pull later members of the probe run into the
     * hole so lookups never need tombstones. */
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!m->keys[j]) {
            break;
        }
        size_t home = map_slot(m->keys[j], m->cap);
        bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->keys[i] = 0;
    m->vals[i] = NULL;
    m->len--;
    return val;
}

bool net_map_any(const net_map *m, uint64_t *key, void **val)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i]) {
            *key = m->keys[i];
            *val = m->vals[i];
            return true;
        }
    }
    return false;
}

void net_map_free(net_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------- buffers */

net_buf *net_buf_new(const void *data, size_t len)
{
    if (len > SIZE_MAX - sizeof(net_buf) - LWS_PRE - 1) {
        return NULL;
    }
    net_buf *b = malloc(sizeof(*b) + LWS_PRE + len + 1);
    if (!b) {
        return NULL;
    }
    b->refs = 1;
    b->len = len;
    if (len) {
        memcpy(NET_BUF_DATA(b), data, len);
    }
    NET_BUF_DATA(b)[len] = '\0';
    return b;
}

void net_buf_unref(net_buf *b)
{
    if (b && --b->refs == 0) {
        free(b);
    }
}

int net_txq_push(net_txq *q, net_buf *b)
{
    net_frame *f = malloc(sizeof(*f));
    if (!f) {
        return AT_ENOMEM;
    }
    b->refs++;
    f->buf = b;
    f->next = NULL;
    if (q->tail) {
        q->tail->next = f;
    } else {
        q->head = f;
    }
    q->tail = f;
    q->bytes += b->len;
    return AT_OK;
}

net_buf *net_txq_front(const net_txq *q)
{
    return q->head ? q->head->buf : NULL;
}

void net_txq_pop(net_txq *q)
{
    net_frame *f = q->head;
    if (!f) {
        return;
    }
    q->head = f->next;
    if (!q->head) {
        q->tail = NULL;
    }
    q->bytes -= f->buf->len;
    net_buf_unref(f->buf);
    free(f);
}

void net_txq_clear(net_txq *q)
{
    while (q->head) {
        net_txq_pop(q);
    }
}

int net_rx_append(net_rx *rx, const void *in, size_t len, size_t remaining)
{
    if (len > NET_MAX_MSG - rx->len || remaining > NET_MAX_MSG - rx->len - len) {
        return AT_ERANGE;
    }
    size_t need = rx->len + len + remaining + 1;
    if (need > rx->cap) {
        /* a later frame of a fragmented message: grow geometrically */
        size_t cap = rx->cap ? rx->cap : need;
        while (cap < need) {
            cap = cap > NET_MAX_MSG / 2 ? NET_MAX_MSG + 1 : cap * 2;
        }
        char *p = realloc(rx->data, cap);
        if (!p) {
            return AT_ENOMEM;
        }
        rx->data = p;
        rx->cap = cap;
    }
    if (len) {
        memcpy(rx->data + rx->len, in, len);
    }
    rx->len += len;
    return AT_OK;
}

char *net_rx_take(net_rx *rx, size_t *len)
{
    char *p = rx->data;
    if (!p) {
        p = malloc(1); /* an empty message */
        if (!p) {
            return NULL;
        }
    }
    p[rx->len] = '\0';
    *len = rx->len;
    rx->data = NULL;
    rx->len = rx->cap = 0;
    return p;
}

void net_rx_clear(net_rx *rx)
{
    free(rx->data);
    rx->data = NULL;
    rx->len = rx->cap = 0;
    rx->binary = false;
}

/* ------------------------------------------------------- request data */

void net_resp_free(net_resp *r)
{
    if (!r) {
        return;
    }
    free(r->ctype);
    for (size_t i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i]);
    }
    free(r->hdrs);
    net_buf_unref(r->body);
    free(r);
}

void net_req_info_clear(net_req_info *ri)
{
    free(ri->method);
    free(ri->path);
    free(ri->query);
    free(ri->auth);
    free(ri->ctype);
    free(ri->peer);
    free(ri->origin);
    free(ri->host);
    free(ri->body);
    memset(ri, 0, sizeof(*ri));
}
