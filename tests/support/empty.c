/* keeps the support library non-empty */
typedef int at_test_support_empty;
