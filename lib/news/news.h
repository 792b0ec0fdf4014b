/* News items as the engine keeps them, from any source (RSS and Atom feeds,
 * CryptoPanic): their text made plain, their times read, the currencies
 * they mention, a canonical URL and a title key for deduplication, and a
 * lexicon sentiment score. Pure code (libc, libm, OpenSSL's SHA-256), no
 * engine state: used by the source plugins, their tests and fuzzers. */
#ifndef AT_NEWS_H
#define AT_NEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- text */

/* HTML (or plain text) to one line of plain text into out (cap bytes with
 * the NUL): tags dropped (script and style with their content), entities
 * decoded (the five of XML, &nbsp; and numeric ones; unknown ones kept as
 * written), whitespace collapsed, trimmed, cut at a UTF-8 boundary with
 * "…" when it does not fit. Invalid UTF-8 bytes become '?'. Returns the
 * length written. */
size_t news_plain(const char *in, size_t len, char *out, size_t cap);

/* ---------------------------------------------------------------- times */

/* An RFC 822/2822 date (RSS pubDate: "Wed, 25 Dec 2019 02:20:31 +0000",
 * "GMT", "UT", the US zones, the weekday optional, seconds optional) or an
 * RFC 3339 / ISO 8601 time (Atom, dc:date: "2019-12-25T02:20:31Z",
 * "...31.123+02:00"): milliseconds since the epoch, or -1 when it is
 * neither. */
int64_t news_time(const char *s);

/* ---------------------------------------------------------------- tags */

/* The currencies a text mentions, comma-separated in a fixed order ("BTC,
 * ETH") into out: a currency by its name in any case as a whole word
 * ("Bitcoin", "ether") or by its ticker in capitals or after '$' ("BTC",
 * "$sol"). Returns how many. */
int news_tags(const char *text, char *out, size_t cap);

/* ---------------------------------------------------------------- ids */

/* `link` resolved against the feed's URL `base` (absolute, scheme-relative
 * "//host/x", host-relative "/x" or relative "x") into out; false when it
 * cannot be (no base for a relative one, too long). */
bool news_resolve(const char *base, const char *link, char *out, size_t cap);
/* The URL as a key: scheme and host in lower case, the default port, the
 * fragment and tracking parameters (utm_*, fbclid, gclid …) dropped, a
 * trailing '/' of the path dropped. false when it is not an http(s) URL. */
bool news_canonical_url(const char *url, char *out, size_t cap);
/* 32 hex digits of SHA-256 of `what`'s key: for an URL its canonical form,
 * for a title its words in lower case (letters and digits only) — the same
 * story under two URLs, or retitled punctuation, is one item. */
void news_key(const char *prefix, const char *text, bool is_url, char out[64]);

/* ---------------------------------------------------------------- sentiment */

/* A lexicon score of `text` by VADER's method (valences summed with its
 * boosters, capitals, negation, "but" and punctuation emphasis, then
 * normalised: compound in [-1, 1]) with this engine's crypto lexicon
 * (news_lexicon.c). `hits` (may be NULL): the words that counted. */
double news_sentiment(const char *text, int *hits);

#endif
