/*
 * bench_httpwasm.c: what one http-wasm guest costs per request, in process,
 * without HTTP: for each iteration, a fresh exchange like a small GET (method,
 * URI, four headers copied in, as the pipeline copies a request), then
 * handle_request and, when the guest continues, handle_response on one pooled
 * instance (the host's wgg_hw_* calls that the pipeline makes), then the
 * exchange freed. A baseline loop does the same exchange work without a
 * guest; the difference is the guest's cost. The target for a no-op
 * guest is < 1 us per request (the reference host on wazero: 0.5-1 us for
 * WAT guests, 1-2 us for TinyGo ones).
 * usage: bench_httpwasm [-t SECONDS] [-r RUNS] [-u URI] NAME=FILE.wasm ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#include "util/buf.h"
#include "wasmhost/httpwasm.h"

static const char *uri = "/v1.0/healthz?msg=:metal:";

/* The exchange of a small GET, as wgg_exchange_from_req would build it. */
static void fill(wgg_exchange *ex) {
  memset(ex, 0, sizeof *ex);
  ex->method = strdup("GET");
  ex->uri = strdup(uri);
  ex->protocol = "HTTP/1.1";
  strcpy(ex->source_addr, "127.0.0.1:40000");
  static const char *const h[][2] = {
      {"Host", "127.0.0.1:3500"}, {"User-Agent", "wrk"}, {"Accept", "*/*"}, {"Connection", "keep-alive"}};
  for (size_t k = 0; k < 4; k++) wgg_hdrs_add(&ex->req_headers, h[k][0], strlen(h[k][0]), h[k][1], strlen(h[k][1]));
}

/* One request through instance i (NULL: the baseline). 0, or -1 after printing why. */
static int one(wgg_hw_instance *i) {
  wgg_exchange ex;
  fill(&ex);
  int rc = 0;
  if (i) {
    wgg_hw_call c = {.ex = &ex, .features = wgg_hw_module_features(wgg_hw_instance_module(i))};
    uint64_t ctx_next = 0;
    wgg_err err;
    rc = wgg_hw_handle_request(i, &c, &ctx_next, &err);
    if (rc == 0 && (uint32_t)ctx_next) {
      ex.status = 200; /* what next would answer */
      rc = wgg_hw_handle_response(i, &c, (uint32_t)(ctx_next >> 32), false, &err);
    }
    if (rc) fprintf(stderr, "bench_httpwasm: %s\n", err.msg);
  }
  wgg_exchange_free(&ex);
  return rc;
}

/* Median ns per request over `runs` runs of >= secs each. */
static double measure(wgg_hw_instance *i, double secs, int runs, double *lo, double *hi) {
  double ns[99];
  for (int k = 0; k < 1000; k++)
    if (one(i)) exit(1); /* warm up (lazy compilation of the guest's functions) */
  for (int r = 0; r < runs; r++) {
    long n = 0;
    double t0 = bench_now_s(), t;
    do {
      for (int k = 0; k < 1000; k++, n++)
        if (one(i)) exit(1);
    } while ((t = bench_now_s()) - t0 < secs);
    ns[r] = (t - t0) * 1e9 / (double)n;
  }
  qsort(ns, (size_t)runs, sizeof ns[0], bench_cmp_double);
  *lo = ns[0];
  *hi = ns[runs - 1];
  return ns[runs / 2];
}

int main(int argc, char **argv) {
  double secs = 0.3;
  int runs = 7, a = 1;
  for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
    if (!strcmp(argv[a], "-t")) secs = atof(argv[a + 1]);
    else if (!strcmp(argv[a], "-r")) runs = atoi(argv[a + 1]);
    else if (!strcmp(argv[a], "-u")) uri = argv[a + 1];
  }
  if (a >= argc || runs < 1 || runs > 99) {
    fprintf(stderr, "usage: bench_httpwasm [-t SECONDS] [-r RUNS] [-u URI] NAME=FILE.wasm ...\n");
    return 2;
  }
  double lo, hi, base = measure(NULL, secs, runs, &lo, &hi);
  printf("exchange only (no guest): %.0f ns per request (median of %d)\n", base, runs);
  for (; a < argc; a++) {
    const char *eq = strchr(argv[a], '=');
    const char *path = eq ? eq + 1 : argv[a];
    wgg_buf bytes = {0};
    wgg_err err;
    if (wgg_buf_read_file(&bytes, path, &err)) {
      fprintf(stderr, "bench_httpwasm: %s\n", err.msg);
      return 1;
    }
    wgg_hw_settings s = {.name = "bench", .deadline_ms = 0};
    wgg_hw_module *m = wgg_hw_module_new((const uint8_t *)bytes.data, bytes.len, &s, &err);
    wgg_buf_free(&bytes);
    wgg_hw_instance *i = m ? wgg_hw_instance_new(m, &err) : NULL;
    if (!i) {
      fprintf(stderr, "bench_httpwasm: %s: %s\n", path, err.msg);
      return 1;
    }
    double t = measure(i, secs, runs, &lo, &hi);
    printf("%-10.*s guest: %.0f ns per request, %.0f ns over the exchange alone (median of %d; min %.0f, max %.0f)\n",
           eq ? (int)(eq - argv[a]) : (int)strlen(path), argv[a], t, t - base, runs, lo - base, hi - base);
    wgg_hw_instance_free(i);
    wgg_hw_module_unref(m);
  }
  return 0;
}
