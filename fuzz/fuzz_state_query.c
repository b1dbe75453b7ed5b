/*
 * fuzz_state_query.c: libFuzzer target for the state query language
 * (gate/components/state/query.c) and its in-memory evaluation
 * (query_eval.c). The input is a query body; it is parsed and, when valid,
 * run over a fixed set of JSON rows (objects, scalars, nested paths, text
 * that is not JSON). Invariants: a failed parse leaves an error message; a
 * run never returns more rows than it was given nor more than the page limit;
 * every returned key is one of the rows'.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/state/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "invariant failed: %s\n", what);
    abort();
  }
}

static const char *const rows[][2] = {
    {"a||1", "{\"person\":{\"org\":\"Dev Ops\",\"id\":1036},\"state\":\"CA\"}"},
    {"a||2", "{\"person\":{\"org\":\"Finance\",\"id\":1.5e3},\"state\":null,\"x\":[1,2]}"},
    {"a||3", "\"just a string\""},
    {"a||4", "42"},
    {"a||5", "not json {"},
    {"a||6", "{\"person\":{\"org\":{\"nested\":true}},\"state\":\"WA\",\"b\":false}"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wgg_query q;
  wgg_err err = {0};
  if (wgg_query_parse((const char *)data, size, &q, &err)) {
    check(err.msg[0] != 0, "a parse error has a message");
    return 0;
  }
  size_t n = sizeof rows / sizeof *rows;
  wgg_qresult in = {0}, out = {0};
  for (size_t i = 0; i < n; i++)
    if (wgg_qresult_add(&in, rows[i][0], rows[i][1], strlen(rows[i][1]), "e")) abort();
  if (wgg_query_run_json(&q, &in, &out) == 0) {
    check(out.n <= n, "no more rows than given");
    check(q.limit <= 0 || out.n <= (size_t)q.limit, "page limit");
    for (size_t i = 0; i < out.n; i++) {
      int known = 0;
      for (size_t j = 0; j < n; j++) known |= !strcmp(out.items[i].key, rows[j][0]);
      check(known, "returned keys are the rows'");
    }
  }
  wgg_qresult_free(&out);
  wgg_qresult_free(&in);
  wgg_query_free(&q);
  return 0;
}
