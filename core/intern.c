#include "intern.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char **names; /* names[id - 1] */
static size_t count, cap;
static uint32_t *table; /* open addressing: id or 0 */
static size_t tcap;

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

static int grow_table(void)
{
    size_t ncap = tcap ? tcap * 2 : 256;
    uint32_t *nt = calloc(ncap, sizeof(*nt));
    if (!nt) {
        return AT_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        size_t j = hash(names[i]) & (ncap - 1);
        while (nt[j]) {
            j = (j + 1) & (ncap - 1);
        }
        nt[j] = (uint32_t)(i + 1);
    }
    free(table);
    table = nt;
    tcap = ncap;
    return AT_OK;
}

at_inst intern_get(const char *name)
{
    if (!name) {
        return 0;
    }
    size_t len = strlen(name);
    if (len == 0 || len > 63) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)name[i] <= ' ' || (unsigned char)name[i] >= 0x7f) {
            return 0;
        }
    }
    pthread_mutex_lock(&lock);
    at_inst id = 0;
    if ((count + 1) * 2 > tcap && grow_table() != AT_OK) {
        goto out;
    }
    size_t j = hash(name) & (tcap - 1);
    while (table[j]) {
        if (strcmp(names[table[j] - 1], name) == 0) {
            id = table[j];
            goto out;
        }
        j = (j + 1) & (tcap - 1);
    }
    if (count == cap) {
        size_t ncap = cap ? cap * 2 : 64;
        char **nn = realloc(names, ncap * sizeof(*nn));
        if (!nn) {
            goto out;
        }
        names = nn;
        cap = ncap;
    }
    char *copy = at_strdup(name);
    if (!copy) {
        goto out;
    }
    names[count++] = copy;
    table[j] = (uint32_t)count;
    id = (at_inst)count;
out:
    pthread_mutex_unlock(&lock);
    return id;
}

const char *intern_name(at_inst id)
{
    pthread_mutex_lock(&lock);
    /* Names are never freed before shutdown, so the pointer stays valid. */
    const char *n = (id >= 1 && id <= count) ? names[id - 1] : NULL;
    pthread_mutex_unlock(&lock);
    return n;
}

void intern_shutdown(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < count; i++) {
        free(names[i]);
    }
    free(names);
    free(table);
    names = NULL;
    table = NULL;
    count = cap = tcap = 0;
    pthread_mutex_unlock(&lock);
}
