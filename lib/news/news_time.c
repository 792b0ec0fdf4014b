/* News times: RSS's RFC 822/2822 dates and Atom's RFC 3339 ones
 * (news_time). Read by hand, not with strptime: its %z and %Z depend on the
 * C library and the locale, and a feed's date is input to be checked. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "news.h"

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t to_ms(int y, int mo, int d, int h, int mi, int s, int ms, int off_min)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 || s > 60 || ms > 999) {
        return -1;
    }
    int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
                (s == 60 ? 59 : s) - (int64_t)off_min * 60;
    return t < 0 ? -1 : t * 1000 + ms;
}

/* n digits at *p into *v; false when they are not there. */
static bool digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return false;
        }
        x = x * 10 + ((*p)[i] - '0');
    }
    *v = x;
    *p += n;
    return true;
}

/* "2019-12-25T02:20:31Z", "…31.123456+02:00", "2019-12-25 02:20:31Z",
 * "2019-12-25" (midnight UTC). */
static int64_t rfc3339(const char *p)
{
    int y, mo, d, h = 0, mi = 0, s = 0, ms = 0, off = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d)) {
        return -1;
    }
    if (*p == '\0') {
        return to_ms(y, mo, d, 0, 0, 0, 0, 0);
    }
    if ((*p != 'T' && *p != 't' && *p != ' ') || (p++, !digits(&p, 2, &h)) || *p++ != ':' ||
        !digits(&p, 2, &mi)) {
        return -1;
    }
    if (*p == ':') {
        p++;
        if (!digits(&p, 2, &s)) {
            return -1;
        }
        if (*p == '.' || *p == ',') {
            p++;
            int n = 0;
            for (; isdigit((unsigned char)*p); p++, n++) {
                if (n < 3) {
                    ms = ms * 10 + (*p - '0');
                }
            }
            if (n == 0) {
                return -1;
            }
            for (; n < 3; n++) {
                ms *= 10;
            }
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (!digits(&p, 2, &oh)) {
            return -1;
        }
        if (*p == ':') {
            p++;
        }
        if (isdigit((unsigned char)*p) && !digits(&p, 2, &om)) {
            return -1;
        }
        if (oh > 23 || om > 59) {
            return -1;
        }
        off = sign * (oh * 60 + om);
    } else {
        return -1; /* a time without its offset says nothing exact */
    }
    while (*p == ' ') {
        p++;
    }
    return *p == '\0' ? to_ms(y, mo, d, h, mi, s, ms, off) : -1;
}

static int month_of(const char *p)
{
    static const char *const names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                        "jul", "aug", "sep", "oct", "nov", "dec"};
    for (int i = 0; i < 12; i++) {
        if (strncasecmp(p, names[i], 3) == 0) {
            return i + 1;
        }
    }
    return 0;
}

/* The zone of an RFC 822 date in minutes east of UTC; false when unknown. */
static bool zone_of(const char *p, int *off)
{
    static const struct {
        const char *name;
        int off;
    } zones[] = {{"UT", 0},        {"UTC", 0},       {"GMT", 0},       {"Z", 0},
                 {"EST", -5 * 60}, {"EDT", -4 * 60}, {"CST", -6 * 60}, {"CDT", -5 * 60},
                 {"MST", -7 * 60}, {"MDT", -6 * 60}, {"PST", -8 * 60}, {"PDT", -7 * 60}};
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, hh, mm;
        const char *q = p + 1;
        if (!digits(&q, 2, &hh)) {
            return false;
        }
        if (*q == ':') {
            q++;
        }
        if (!digits(&q, 2, &mm) || hh > 23 || mm > 59) {
            return false;
        }
        *off = sign * (hh * 60 + mm);
        return *q == '\0' || *q == ' ';
    }
    size_t n = 0;
    while (isalpha((unsigned char)p[n])) {
        n++;
    }
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        if (strlen(zones[i].name) == n && strncasecmp(p, zones[i].name, n) == 0) {
            *off = zones[i].off;
            return true;
        }
    }
    /* another zone's name (CET, BST, JST …): RFC 2822 reads it as -0000, UTC
     * of an unknown local time — a date, not none */
    *off = 0;
    return n >= 1 && n <= 5;
}

/* "Wed, 25 Dec 2019 02:20:31 +0000", "25 Dec 2019 02:20 GMT",
 * "Wed, 5 Dec 19 02:20:31 EST" (two-digit years: 19xx from 50). */
static int64_t rfc822(const char *p)
{
    while (*p == ' ') {
        p++;
    }
    if (isalpha((unsigned char)*p)) { /* the weekday, not checked */
        while (isalpha((unsigned char)*p)) {
            p++;
        }
        if (*p == ',') {
            p++;
        }
        while (*p == ' ') {
            p++;
        }
    }
    int d = 0, y = 0, h, mi, s = 0, off, n = 0;
    while (isdigit((unsigned char)*p) && n < 2) {
        d = d * 10 + (*p++ - '0');
        n++;
    }
    if (n == 0 || *p++ != ' ') {
        return -1;
    }
    int mo = month_of(p);
    if (mo == 0) {
        return -1;
    }
    while (isalpha((unsigned char)*p)) {
        p++;
    }
    if (*p++ != ' ') {
        return -1;
    }
    for (n = 0; isdigit((unsigned char)*p) && n < 4; n++) {
        y = y * 10 + (*p++ - '0');
    }
    if (n == 2) {
        y += y < 50 ? 2000 : 1900;
    } else if (n != 4) {
        return -1;
    }
    if (*p++ != ' ' || !digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi)) {
        return -1;
    }
    if (*p == ':' && (p++, !digits(&p, 2, &s))) {
        return -1;
    }
    if (*p++ != ' ' || !zone_of(p, &off)) {
        return -1;
    }
    return to_ms(y, mo, d, h, mi, s, 0, off);
}

int64_t news_time(const char *s)
{
    if (!s) {
        return -1;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
        s++;
    }
    char buf[64];
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) {
        n--;
    }
    if (n == 0 || n >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return isdigit((unsigned char)buf[0]) && n >= 10 && buf[4] == '-' ? rfc3339(buf) : rfc822(buf);
}
