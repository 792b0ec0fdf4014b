/* Column readers for rows of the at_host db: SQLite gives integers and
 * booleans as integers, PostgreSQL gives them as text. Shared by the trader's
 * and the scheduler's storage. */
#ifndef AT_CORE_TRADING_DBCOL_H
#define AT_CORE_TRADING_DBCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <aitrader/host.h>

/* Column i as text, NULL when absent or not text. */
static inline const char *dbcol_text(const at_db_row *row, size_t i)
{
    return i < row->ncols && row->cols[i].type == AT_DB_TEXT ? row->cols[i].u.s : NULL;
}

/* Column i as an integer; false when absent or not a number. */
static inline bool dbcol_int(const at_db_row *row, size_t i, int64_t *out)
{
    if (i >= row->ncols) {
        return false;
    }
    const at_db_value *v = &row->cols[i];
    if (v->type == AT_DB_INT) {
        *out = v->u.i;
        return true;
    }
    if (v->type == AT_DB_TEXT && v->u.s) {
        char *end;
        long long x = strtoll(v->u.s, &end, 10);
        *out = x;
        return end != v->u.s;
    }
    return false;
}

/* Column i as a double: REAL, INT, or text (PostgreSQL); NaN when absent or NULL. */
static inline double dbcol_real(const at_db_row *row, size_t i)
{
    if (i >= row->ncols) {
        return __builtin_nan("");
    }
    const at_db_value *v = &row->cols[i];
    if (v->type == AT_DB_REAL) {
        return v->u.r;
    }
    if (v->type == AT_DB_INT) {
        return (double)v->u.i;
    }
    if (v->type == AT_DB_TEXT && v->u.s) {
        char *end;
        double d = strtod(v->u.s, &end);
        return end != v->u.s ? d : __builtin_nan("");
    }
    return __builtin_nan("");
}

/* SQLite gives 0/1, PostgreSQL's boolean may come back as "t"/"f"; absent
 * or anything else is false. */
static inline bool dbcol_bool(const at_db_row *row, size_t i)
{
    if (i >= row->ncols) {
        return false;
    }
    const at_db_value *v = &row->cols[i];
    if (v->type == AT_DB_INT) {
        return v->u.i != 0;
    }
    if (v->type == AT_DB_TEXT && v->u.s) {
        return v->u.s[0] == 't' || v->u.s[0] == 'T' || v->u.s[0] == '1';
    }
    return false;
}

#endif
