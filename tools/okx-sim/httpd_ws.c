/* WebSocket (RFC 6455) frames for httpd: the upgrade, reading masked client
 * frames (fragments, ping, close) and writing server frames. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "httpd_int.h"

#define SH_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static bool ws_accept_key(const char *key, char out[64])
{
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "%s%s", key, SH_WS_GUID);
    if (n <= 0 || (size_t)n >= sizeof(buf)) {
        return false;
    }
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)buf, (size_t)n, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
    return true;
}

bool sh_ws_try_upgrade(sh_conn *c)
{
    const char *up = sh_conn_header(c, "Upgrade");
    if (!up || strcasecmp(up, "websocket") != 0) {
        return false;
    }
    const char *key = sh_conn_header(c, "Sec-WebSocket-Key");
    char acc[64];
    sh_req r = {c->method, c->path, c->query, c->hdrs, c->nhdrs, c->body, c->body_len};
    if (!key || !ws_accept_key(key, acc) || !c->srv->cbs.on_upgrade ||
        !c->srv->cbs.on_upgrade(c->srv->arg, c, &r)) {
        sh_plain_answer(c, 404, "Not found");
        return true;
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out,
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                        acc);
    sh_req_reset(c);
    c->st = ST_WS;
    return true;
}

/* Queue a frame; false when the client was dropped instead because it does
 * not read (sh_conn_output_ok: OKX drops such a slow consumer rather than
 * buffer for it). */
static bool ws_frame(sh_conn *c, int opcode, const char *data, size_t len)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (!sh_conn_output_ok(c, evbuffer_get_length(out) + len + 10)) {
        sh_conn_overflow(c);
        return false;
    }
    unsigned char hdr[10];
    size_t hl = 2;
    hdr[0] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        hdr[1] = (unsigned char)len;
    } else if (len < 65536) {
        hdr[1] = 126;
        hdr[2] = (unsigned char)(len >> 8);
        hdr[3] = (unsigned char)len;
        hl = 4;
    } else {
        hdr[1] = 127;
        for (int i = 0; i < 8; i++) {
            hdr[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
        }
        hl = 10;
    }
    evbuffer_add(out, hdr, hl);
    if (len) {
        evbuffer_add(out, data, len);
    }
    return true;
}

int sh_ws_send(sh_conn *c, const char *data, size_t len)
{
    if (!c || c->st != ST_WS || c->dead || c->closing) {
        return -1;
    }
    return ws_frame(c, 1, data, len) ? 0 : -1;
}

void sh_ws_close(sh_conn *c, int code, const char *reason)
{
    if (!c || c->st != ST_WS || c->dead || c->closing) {
        return;
    }
    char buf[125];
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > sizeof(buf) - 2) {
        rl = sizeof(buf) - 2;
    }
    buf[0] = (char)(code >> 8);
    buf[1] = (char)code;
    if (rl) {
        memcpy(buf + 2, reason, rl);
    }
    if (!ws_frame(c, 8, buf, rl + 2)) {
        return;
    }
    c->closing = true;
    bufferevent_disable(c->bev, EV_READ);
    sh_conn_arm(c); /* a client that never takes the close frame is dropped */
}

void sh_ws_feed(sh_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (!c->dead && !c->closing) {
        size_t avail = evbuffer_get_length(in);
        unsigned char h[14];
        if (avail < 2) {
            return;
        }
        evbuffer_copyout(in, h, avail < 14 ? avail : 14);
        bool fin = h[0] & 0x80;
        int op = h[0] & 0x0f;
        bool masked = h[1] & 0x80;
        uint64_t len = h[1] & 0x7f;
        size_t hl = 2;
        if (len == 126) {
            hl = 4;
            if (avail < hl) {
                return;
            }
            len = ((uint64_t)h[2] << 8) | h[3];
        } else if (len == 127) {
            hl = 10;
            if (avail < hl) {
                return;
            }
            len = 0;
            for (int i = 0; i < 8; i++) {
                len = (len << 8) | h[2 + i];
            }
        }
        if (!masked || len > c->srv->max_body || (op >= 8 && (len > 125 || !fin))) {
            /* RFC 6455 5.1: clients must mask; control frames are short. */
            sh_ws_close(c, 1002, "protocol error");
            return;
        }
        if (avail < hl + 4 + len) {
            return;
        }
        unsigned char mask[4];
        evbuffer_drain(in, hl);
        evbuffer_remove(in, mask, 4);
        char *p = malloc((size_t)len + 1);
        if (!p) {
            sh_conn_kill(c);
            return;
        }
        evbuffer_remove(in, p, (size_t)len);
        for (uint64_t i = 0; i < len; i++) {
            p[i] ^= (char)mask[i & 3];
        }
        p[len] = '\0';
        if (op == 8) {
            free(p);
            sh_ws_close(c, 1000, "");
            return;
        }
        if (op == 9) {
            bool queued = ws_frame(c, 10, p, (size_t)len);
            free(p);
            if (!queued) {
                return;
            }
            continue;
        }
        if (op == 10) {
            free(p);
            continue;
        }
        if (op != 0 && op != 1 && op != 2) {
            free(p);
            sh_ws_close(c, 1002, "unknown opcode");
            return;
        }
        if (op != 0 || c->msg) {
            /* Append to the message being assembled. */
            if (op != 0 && c->msg) {
                free(p);
                sh_ws_close(c, 1002, "expected continuation");
                return;
            }
            char *m = realloc(c->msg, c->msg_len + (size_t)len + 1);
            if (!m || c->msg_len + len > c->srv->max_body) {
                free(m ? m : c->msg);
                c->msg = NULL;
                free(p);
                sh_ws_close(c, 1009, "message too big");
                return;
            }
            memcpy(m + c->msg_len, p, (size_t)len);
            c->msg = m;
            c->msg_len += (size_t)len;
            c->msg[c->msg_len] = '\0';
            free(p);
        } else {
            free(p);
            sh_ws_close(c, 1002, "unexpected continuation");
            return;
        }
        if (fin) {
            char *m = c->msg;
            size_t ml = c->msg_len;
            c->msg = NULL;
            c->msg_len = 0;
            if (c->srv->cbs.on_ws_message) {
                c->srv->cbs.on_ws_message(c->srv->arg, c, m, ml);
            }
            free(m);
        }
    }
}
