/* unit_trace.c: W3C trace context made for calls (observe/trace.h): a child of a valid incoming
 * traceparent keeps its trace ID and flags with a new span ID; without one, a new trace. Many
 * calls in a row (past the per-thread random buffer's refills) give well-formed, distinct IDs. */
#include <stdlib.h>

#include "check.h"
#include "observe/trace.h"

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

int main(void) {
  char out[WGG_TRACEPARENT_LEN + 1];
  const char *in = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  wgg_traceparent_child(in, 0, out);
  CHECK(wgg_traceparent_valid(out));
  CHECK(!strncmp(out, in, 36) && strcmp(out + 55 - 3, "-01") == 0 && strncmp(out + 36, in + 36, 16));
  /* only the sampled bit of the caller's flags is kept (as before: 0x03 -> 01, 0xfe -> 00) */
  wgg_traceparent_child("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03", 0, out);
  CHECK(wgg_traceparent_valid(out) && !strcmp(out + 52, "-01") && strlen(out) == WGG_TRACEPARENT_LEN);
  wgg_traceparent_child("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-fe", 1.0, out);
  CHECK(wgg_traceparent_valid(out) && !strcmp(out + 52, "-00") && !strncmp(out, "00-0af7651916cd43dd", 19));
  enum { N = 2000 };
  static char ids[N][WGG_TRACEPARENT_LEN + 1];
  for (int i = 0; i < N; i++) {
    wgg_traceparent_child(i % 2 ? "garbage" : NULL, 1.0, ids[i]);
    CHECK(wgg_traceparent_valid(ids[i]) && !strcmp(ids[i] + 52, "-01")); /* sampled at rate 1 */
  }
  qsort(ids, N, sizeof ids[0], cmp);
  int dup = 0;
  for (int i = 1; i < N; i++) dup += !strncmp(ids[i - 1], ids[i], 35); /* trace IDs */
  CHECK(dup == 0);
  wgg_traceparent_child(NULL, 0, out);
  CHECK(wgg_traceparent_valid(out) && !strcmp(out + 52, "-00"));
  printf("%d checks, %d failed\n", check_count, check_failures);
  return check_failures != 0;
}
