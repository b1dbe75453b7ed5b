/*
 * fuzz_protojson.c: a gRPC app's grpc-status-details-bin as the sidecar turns
 * it into the body of an HTTP caller's answer (gate/grpc/protojson.c, with
 * wire.c's base64): the input is either the trailer's text (first byte odd)
 * or the serialized google.rpc.Status itself. Beyond memory safety: the
 * result, when there is one, is JSON that parses back.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/protojson.h"
#include "grpc/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!size) return 0;
  uint8_t *bin = NULL;
  size_t len = 0;
  const uint8_t *in = data + 1;
  size_t n = size - 1;
  if (data[0] & 1) {
    char *s = malloc(n + 1);
    if (!s) return 0;
    memcpy(s, in, n);
    s[n] = '\0';
    bin = wgg_grpc_unbase64(s, &len);
    free(s);
    if (!bin) return 0;
    in = bin;
    n = len;
  }
  char err[256];
  char *out = wgg_protojson_status(3, "m", in, n, err, sizeof err);
  if (out) {
    json_t *j = json_loads(out, 0, NULL);
    if (!j) abort();
    json_decref(j);
  } else if (!err[0]) {
    abort(); /* a failure always says why */
  }
  free(out);
  free(bin);
  return 0;
}
