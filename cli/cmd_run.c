/*
 * cmd_run.c: `wasmgate run`, the sidecar. The sidecar lives in gate/; this
 * file only parses daprd's flags and starts it.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int wg_cmd_run(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    printf("usage: wasmgate run [flags]\n\nThe sidecar is not built yet (issue: sidecar core).\n");
    return 0;
  }
  fprintf(stderr, "wasmgate run: the sidecar is not built yet\n");
  return 2;
}
