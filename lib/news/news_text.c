/* HTML to one line of plain text (news_plain). Feeds put HTML in their
 * descriptions (often inside CDATA, so the XML parser hands it over as
 * text): paragraphs, links, images, inline styles and scripts. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "news.h"

typedef struct out_buf {
    char *p;
    size_t cap, n;
    bool space; /* a blank is pending before the next character */
    bool full;
} out_buf;

/* Room for `n` more bytes and the NUL, keeping 3 for "…". */
static bool fits(const out_buf *o, size_t n)
{
    return o->n + n + 3 < o->cap;
}

static void put_bytes(out_buf *o, const char *s, size_t n)
{
    if (o->full) {
        return;
    }
    size_t lead = o->space && o->n > 0;
    if (!fits(o, n + lead)) {
        o->full = true;
        return;
    }
    if (lead) {
        o->p[o->n++] = ' ';
    }
    o->space = false;
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

/* One code point as UTF-8 (a bad one as '?'). */
static void put_cp(out_buf *o, unsigned long cp)
{
    char b[4];
    size_t n;
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        b[0] = '?';
        n = 1;
    } else if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    put_bytes(o, b, n);
}

/* The length of a valid UTF-8 sequence at s (at most `left` bytes), 0 when
 * it is not one. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    size_t n = s[0] < 0x80             ? 1
               : (s[0] & 0xE0) == 0xC0 ? 2
               : (s[0] & 0xF0) == 0xE0 ? 3
               : (s[0] & 0xF8) == 0xF0 ? 4
                                       : 0;
    if (n == 0 || n > left || (n == 2 && s[0] < 0xC2) || (n == 4 && s[0] > 0xF4)) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    if ((n == 3 && s[0] == 0xE0 && s[1] < 0xA0) || (n == 3 && s[0] == 0xED && s[1] >= 0xA0) ||
        (n == 4 && s[0] == 0xF0 && s[1] < 0x90) || (n == 4 && s[0] == 0xF4 && s[1] >= 0x90)) {
        return 0; /* overlong, surrogate, past U+10FFFF */
    }
    return n;
}

/* An entity at s ('&' … ';'): its length, the code point in *cp; 0 when
 * it is not one this knows (then '&' is kept as it is). */
static size_t entity(const char *s, size_t left, unsigned long *cp)
{
    static const struct {
        const char *name;
        unsigned long cp;
    } named[] = {{"amp", '&'},      {"lt", '<'},       {"gt", '>'},        {"quot", '"'},
                 {"apos", '\''},    {"nbsp", ' '},     {"hellip", 0x2026}, {"mdash", 0x2014},
                 {"ndash", 0x2013}, {"rsquo", 0x2019}, {"lsquo", 0x2018},  {"rdquo", 0x201D},
                 {"ldquo", 0x201C}};
    size_t end = 1;
    while (end < left && end < 12 && s[end] != ';') {
        end++;
    }
    if (end >= left || s[end] != ';' || end < 2) {
        return 0;
    }
    if (s[1] == '#') {
        bool hex = end > 2 && (s[2] == 'x' || s[2] == 'X');
        unsigned long v = 0;
        size_t i = hex ? 3 : 2;
        if (i == end) {
            return 0;
        }
        for (; i < end; i++) {
            char c = s[i];
            int d = c >= '0' && c <= '9'          ? c - '0'
                    : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                  : -1;
            if (d < 0 || v > 0x10FFFF) {
                return 0;
            }
            v = v * (hex ? 16 : 10) + (unsigned long)d;
        }
        *cp = v;
        return end + 1;
    }
    for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++) {
        if (strlen(named[k].name) == end - 1 && strncmp(s + 1, named[k].name, end - 1) == 0) {
            *cp = named[k].cp;
            return end + 1;
        }
    }
    return 0;
}

/* Whether '<' at s opens markup: a comment, or a tag of HTML's elements a
 * feed puts in its texts ("<b>", "</p>", "<img src=…>"). Anything else
 * ("Ether <flat>", "a < b") is text. */
static bool is_tag(const char *s, size_t left)
{
    static const char *const names[] = {
        "a",       "abbr",   "article", "aside", "audio",  "b",          "blockquote", "br",
        "center",  "cite",   "code",    "div",   "em",     "figcaption", "figure",     "font",
        "footer",  "h1",     "h2",      "h3",    "h4",     "h5",         "h6",         "header",
        "hr",      "i",      "iframe",  "img",   "li",     "noscript",   "ol",         "p",
        "picture", "pre",    "q",       "s",     "script", "section",    "small",      "source",
        "span",    "strike", "strong",  "style", "sub",    "sup",        "table",      "tbody",
        "td",      "th",     "thead",   "tr",    "u",      "ul",         "video",      "wbr"};
    if (left >= 4 && strncmp(s, "<!--", 4) == 0) {
        return true;
    }
    size_t i = 1 + (left > 1 && s[1] == '/');
    size_t b = i;
    while (i < left && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                        (s[i] >= '0' && s[i] <= '9'))) {
        i++;
    }
    if (i == b || i >= left ||
        !(s[i] == '>' || s[i] == ' ' || s[i] == '/' || s[i] == '\t' || s[i] == '\n' ||
          s[i] == '\r')) {
        return false;
    }
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        if (strlen(names[k]) == i - b && strncasecmp(s + b, names[k], i - b) == 0) {
            return true;
        }
    }
    return false;
}

/* At '<': the end of the tag (past '>'), and whether it opens script or
 * style (whose content is no text). */
static size_t tag_end(const char *s, size_t left, const char **skip_to)
{
    *skip_to = NULL;
    size_t i = 1;
    if (left >= 4 && strncmp(s, "<!--", 4) == 0) {
        const char *e = memmem(s + 4, left - 4, "-->", 3);
        return e ? (size_t)(e - s) + 3 : left;
    }
    while (i < left && s[i] != '>') {
        i++;
    }
    size_t end = i < left ? i + 1 : left;
    if (left > 7 && (strncasecmp(s, "<script", 7) == 0 || strncasecmp(s, "<style", 6) == 0)) {
        *skip_to = strncasecmp(s, "<script", 7) == 0 ? "</script" : "</style";
    }
    return end;
}

size_t news_plain(const char *in, size_t len, char *out, size_t cap)
{
    if (cap == 0) {
        return 0;
    }
    out_buf o = {.p = out, .cap = cap};
    if (cap < 8) {
        out[0] = '\0';
        return 0;
    }
    size_t i = 0;
    while (i < len && !o.full) {
        unsigned char c = (unsigned char)in[i];
        if (c == '<' && is_tag(in + i, len - i)) {
            const char *skip_to;
            i += tag_end(in + i, len - i, &skip_to);
            o.space = true; /* a tag parts words: "a<br>b" */
            if (skip_to) {
                size_t sl = strlen(skip_to);
                while (i < len && !(i + sl <= len && strncasecmp(in + i, skip_to, sl) == 0)) {
                    i++;
                }
            }
            continue;
        }
        if (c == '&') {
            unsigned long cp;
            size_t n = entity(in + i, len - i, &cp);
            if (n > 0) {
                if (cp == ' ' || (cp >= '\t' && cp <= '\r')) {
                    o.space = true; /* &#10; is a blank like a newline */
                } else if (cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp < 0xA0)) {
                    put_cp(&o, cp); /* control characters (&#27; …), C0 and C1: dropped */
                }
                i += n;
                continue;
            }
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            o.space = true;
            i++;
            continue;
        }
        if (c < 0x20 || c == 0x7F) {
            i++; /* other control characters: dropped */
            continue;
        }
        size_t n = utf8_len((const unsigned char *)in + i, len - i);
        if (n == 0) {
            put_bytes(&o, "?", 1);
            i++;
        } else {
            put_bytes(&o, in + i, n);
            i += n;
        }
    }
    if (o.full) {
        memcpy(o.p + o.n, "\xE2\x80\xA6", 3); /* … */
        o.n += 3;
    }
    out[o.n] = '\0';
    return o.n;
}
