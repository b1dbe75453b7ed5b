/*
 * cmd_wasm.c: `wasmgate wasm SUBCOMMAND`, tools for WebAssembly modules:
 *   validate FILE.wasm...   decode and validate modules and components; errors as
 *                           FILE:OFFSET: message
 *   dump FILE.wasm          sections, imports, exports and disassembly (components:
 *                           sections, counts, imports/exports as WIT-like text)
 *   run [options] FILE ...  a WASI program (cmd_wasm_run.c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wasmgate.h"
#include "wasmgate_component.h"

static int usage(FILE *out, int status) {
  fprintf(out,
          "usage: wasmgate wasm <subcommand> [options]\n"
          "\n"
          "subcommands:\n"
          "  validate FILE.wasm...  decode and validate modules (WebAssembly 2.0)\n"
          "                         and components (Component Model, layer 1);\n"
          "                         exit 0 when all are valid, otherwise print\n"
          "                         FILE:OFFSET: message (OFFSET in hex) and exit 1\n"
          "  dump FILE.wasm         print sections, imports, exports and each\n"
          "                         function's instructions\n"
          "  run [options] FILE.wasm [ARGS...]\n"
          "                         run a WASI program (see 'wasmgate wasm run --help')\n");
  return status;
}

static bool is_help(const char *a) { return !strcmp(a, "--help") || !strcmp(a, "-h"); }

/* Prints FILE:OFFSET: message (OFFSET in hex) for a load error. */
static void print_load_error(const char *path, const wg_error *err) {
  size_t off = wg_error_offset(err);
  if (off == SIZE_MAX) fprintf(stderr, "%s: %s\n", path, wg_error_message(err));
  else fprintf(stderr, "%s:0x%zx: %s\n", path, off, wg_error_message(err));
}

/* Loads one file as a module or a component (by its preamble); prints
 * FILE:OFFSET: message on failure. Exactly one of *m, *c is set on success. */
static bool load_any(const char *path, wg_module **m, wg_component **c) {
  size_t len;
  *m = NULL;
  *c = NULL;
  unsigned char *bytes = wg_cli_read_file(path, &len);
  if (!bytes) return false;
  wg_error *err = NULL;
  if (wg_binary_kind_of(bytes, len) == WG_BINARY_COMPONENT) *c = wg_component_new(bytes, len, &err);
  else *m = wg_module_new(bytes, len, &err);
  free(bytes);
  if (!*m && !*c) {
    print_load_error(path, err);
    wg_error_delete(err);
    return false;
  }
  return true;
}

static int cmd_validate(int argc, char **argv) {
  if (argc < 2 || is_help(argv[1])) {
    printf("usage: wasmgate wasm validate FILE.wasm...\n\n"
           "Decodes and validates each module (WebAssembly 2.0, SIMD included)\n"
           "or component (Component Model binary, version 0x0d, layer 1).\n"
           "Exit status 0 when every module is valid; otherwise 1, with\n"
           "FILE:OFFSET: message on stderr for each invalid one (OFFSET is the\n"
           "byte offset in hex, message the spec testsuite's wording).\n");
    return argc < 2 ? 2 : 0;
  }
  int status = 0;
  for (int i = 1; i < argc; i++) {
    wg_module *m;
    wg_component *c;
    if (!load_any(argv[i], &m, &c)) status = 1;
    wg_module_delete(m);
    wg_component_delete(c);
  }
  return status;
}

static int cmd_dump(int argc, char **argv) {
  if (argc != 2 || is_help(argv[1])) {
    printf("usage: wasmgate wasm dump FILE.wasm\n\n"
           "Prints the module's sections, their entries (types, imports, functions,\n"
           "tables, memories, globals, exports, start, segments) and every\n"
           "function's instructions with byte offsets. For a component: its\n"
           "sections, definition counts, core modules, and imports and exports\n"
           "as WIT-like text. The binary must be valid.\n");
    return argc != 2 ? 2 : 0;
  }
  wg_module *m;
  wg_component *c;
  if (!load_any(argv[1], &m, &c)) return 1;
  bool ok = m ? wg_module_dump(m, stdout) : wg_component_dump(c, stdout);
  wg_module_delete(m);
  wg_component_delete(c);
  if (!ok || fflush(stdout)) {
    fprintf(stderr, "wasmgate wasm dump: write error\n");
    return 1;
  }
  return 0;
}

int wg_cmd_wasm(int argc, char **argv) {
  if (argc < 2) return usage(stderr, 2);
  if (is_help(argv[1])) return usage(stdout, 0);
  if (!strcmp(argv[1], "validate")) return cmd_validate(argc - 1, argv + 1);
  if (!strcmp(argv[1], "dump")) return cmd_dump(argc - 1, argv + 1);
  if (!strcmp(argv[1], "run")) return wg_cmd_wasm_run(argc - 1, argv + 1);
  fprintf(stderr, "wasmgate wasm: unknown subcommand '%s'\n\n", argv[1]);
  return usage(stderr, 2);
}
