/*
 * main.c: the `wasmgate` command line. Dispatches to one subcommand per
 * concern (see cli.h); `wasmgate --help` lists them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
} commands[] = {
    {"run", wg_cmd_run, "run the sidecar (Dapr HTTP API v1.0)"},
    {"serve", wg_cmd_serve, "serve HTTP with a wasi:http component (as `wasmtime serve`)"},
    {"wasm", wg_cmd_wasm, "work with WebAssembly modules: validate, dump"},
    {"spec-driver", wg_cmd_spec_driver, "JSON-lines driver for the WebAssembly spec testsuite"},
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: wasmgate <command> [options]\n"
          "\n"
          "wasmgate is a Dapr-compatible sidecar extended with WebAssembly, on its own engine.\n"
          "\n"
          "commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nRun 'wasmgate <command> --help' for a command's options.\n");
}

unsigned char *wg_cli_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "wasmgate: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    unsigned char *grown = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
    if (!grown) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = grown;
    cap *= 2;
  }
  int failed = ferror(f) || !buf;
  fclose(f);
  if (failed) {
    fprintf(stderr, "wasmgate: %s: %s\n", path, buf ? "read error" : "out of memory");
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return argc < 2 ? 2 : 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "wasmgate: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
