/*
 * check.h: a minimal assertion helper for the sidecar's C unit tests. A
 * failed CHECK prints the expression with file and line and counts a
 * failure; main returns check_failures != 0.
 */
#ifndef WGG_TEST_CHECK_H
#define WGG_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures, check_count;

#define CHECK(cond)                                                              \
  do {                                                                           \
    check_count++;                                                               \
    if (!(cond)) {                                                               \
      check_failures++;                                                          \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
    }                                                                            \
  } while (0)

#define CHECK_STR(a, b)                                                                                \
  do {                                                                                                 \
    const char *a_ = (a), *b_ = (b);                                                                   \
    check_count++;                                                                                     \
    if (!a_ || !b_ || strcmp(a_, b_)) {                                                                \
      check_failures++;                                                                                \
      fprintf(stderr, "%s:%d: CHECK_STR failed: %s = \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
              a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                                 \
    }                                                                                                  \
  } while (0)

#define CHECK_DONE()                                                                     \
  do {                                                                                   \
    fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures);              \
    return check_failures != 0;                                                          \
  } while (0)

#endif
