/*
 * spec_driver.c: `wasmgate spec-driver`, the engine's side of the JSON-lines
 * protocol that ../shared/tools/spec/run_v8.mjs speaks (see its README):
 * one request per line on stdin, exactly one response line on stdout.
 *
 * Implemented: beginFile, validate, module (decode + validate; compile
 * errors answer {"error":"compile"}). Instantiation, register, invoke and get
 * need the execution engine and answer {"error":"other","msg":"not
 * implemented"} until it exists.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wasmgate.h"

typedef struct driver {
  char *dir;
} driver;

static void reply(json_t *r) {
  char *s = json_dumps(r, JSON_COMPACT);
  if (s) {
    fputs(s, stdout);
    free(s);
  } else {
    fputs("{\"error\":\"other\",\"msg\":\"out of memory\"}", stdout);
  }
  fputc('\n', stdout);
  fflush(stdout);
  json_decref(r);
}

static json_t *error_reply(const char *kind, const char *msg) {
  return json_pack("{s:s, s:s}", "error", kind, "msg", msg);
}

static json_t *ok_reply(void) { return json_pack("{s:b}", "ok", 1); }

/* Loads `file` (relative to the current directory of the script) and
 * compiles it; returns the module or NULL with *res set to the reply. */
static wg_module *compile_file(driver *dv, json_t *req, json_t **res) {
  const char *file = json_string_value(json_object_get(req, "file"));
  if (!file || !dv->dir) {
    *res = error_reply("other", "missing file or beginFile");
    return NULL;
  }
  size_t plen = strlen(dv->dir) + strlen(file) + 2;
  char *path = malloc(plen);
  if (!path) {
    *res = error_reply("other", "out of memory");
    return NULL;
  }
  snprintf(path, plen, "%s/%s", dv->dir, file);
  size_t len;
  unsigned char *bytes = wg_cli_read_file(path, &len);
  free(path);
  if (!bytes) {
    *res = error_reply("other", "cannot read module file");
    return NULL;
  }
  wg_error *err = NULL;
  wg_module *m = wg_module_new(bytes, len, &err);
  free(bytes);
  if (!m) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s (at byte %zu)", wg_error_message(err), wg_error_offset(err));
    *res = error_reply("compile", msg);
    wg_error_delete(err);
  }
  return m;
}

static json_t *handle(driver *dv, json_t *req) {
  const char *op = json_string_value(json_object_get(req, "op"));
  if (!op) return error_reply("other", "request has no op");
  if (!strcmp(op, "beginFile")) {
    const char *dir = json_string_value(json_object_get(req, "dir"));
    if (!dir) return error_reply("other", "beginFile needs dir");
    free(dv->dir);
    dv->dir = strdup(dir);
    return dv->dir ? ok_reply() : error_reply("other", "out of memory");
  }
  if (!strcmp(op, "validate") || !strcmp(op, "module") || !strcmp(op, "instantiate")) {
    json_t *res = NULL;
    wg_module *m = compile_file(dv, req, &res);
    if (!m) return res;
    wg_module_delete(m);
    /* Instantiation (linking, start function, segment initialisation) needs
     * the execution engine. */
    if (!strcmp(op, "instantiate")) return error_reply("other", "not implemented: instantiation");
    return ok_reply();
  }
  if (!strcmp(op, "register") || !strcmp(op, "invoke") || !strcmp(op, "get"))
    return error_reply("other", "not implemented: execution");
  return error_reply("other", "unknown op");
}

int wg_cmd_spec_driver(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    printf("usage: wasmgate spec-driver\n\n"
           "Speaks the JSON-lines protocol of the spec testsuite runner (run_v8.mjs --driver)\n"
           "on stdin/stdout: one request per line, one response line each.\n");
    return 0;
  }
  driver dv = {0};
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    json_error_t jerr;
    json_t *req = json_loads(line, 0, &jerr);
    if (!req) {
      reply(error_reply("other", "malformed request"));
      continue;
    }
    reply(handle(&dv, req));
    json_decref(req);
  }
  free(line);
  free(dv.dir);
  return 0;
}
