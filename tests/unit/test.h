/*
 * test.h: a minimal unit-test harness. Each test file defines test functions
 * with TEST(name), lists them in main with RUN(name), and ends with
 * return test_summary(); which prints "N passed, N failed" and returns the
 * process status. CHECK records a failure and goes on; REQUIRE stops the test.
 */
#ifndef WG_TEST_H
#define WG_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_checks, test_passed, test_failed;
static const char *test_current;

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                  \
  do {                                                             \
    int before_ = test_failed_checks;                              \
    test_current = #name;                                          \
    test_##name();                                                 \
    if (test_failed_checks == before_) test_passed++;              \
    else test_failed++, fprintf(stderr, "FAIL %s\n", #name);       \
  } while (0)

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      test_failed_checks++;                                                            \
      fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, test_current, #cond); \
    }                                                                                  \
  } while (0)

#define REQUIRE(cond)          \
  do {                         \
    int f_ = test_failed_checks; \
    CHECK(cond);               \
    if (f_ != test_failed_checks) return; \
  } while (0)

#define CHECK_STR(got, want)                                                                   \
  do {                                                                                         \
    const char *g_ = (got), *w_ = (want);                                                      \
    if (!g_ || strcmp(g_, w_)) {                                                               \
      test_failed_checks++;                                                                    \
      fprintf(stderr, "%s:%d: %s: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, test_current, \
              g_ ? g_ : "(null)", w_);                                                         \
    }                                                                                          \
  } while (0)

static inline int test_summary(void) {
  printf("%d passed, %d failed\n", test_passed, test_failed);
  return test_failed ? 1 : 0;
}

#endif
