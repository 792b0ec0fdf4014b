/* Exact decimals written as literals in tests: D("0.0001") is the decimal,
 * and a literal that does not parse fails the running cmocka test. */
#ifndef AT_TEST_DEC_LIT_H
#define AT_TEST_DEC_LIT_H

#include <aitrader/types.h>

at_dec dec_lit(const char *s);
#define D(s) dec_lit(s)

#endif
