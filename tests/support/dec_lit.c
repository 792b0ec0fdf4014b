#include "dec_lit.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "decimal.h"

at_dec dec_lit(const char *s)
{
    at_dec d = {0, 0};
    if (at_dec_parse(s, (size_t)-1, &d) != AT_OK) {
        fail_msg("bad decimal literal %s", s);
    }
    return d;
}
