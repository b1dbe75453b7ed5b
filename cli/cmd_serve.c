/*
 * cmd_serve.c: `wasmgate serve [--addr HOST:PORT] COMPONENT`, as `wasmtime
 * serve`: a wasi:http component (or any wasm app, docs/wasm-apps.md) answers
 * every request on one address (default 0.0.0.0:8080, wasmtime's), hosted
 * by the sidecar with its embedded default components (no resources path,
 * no gRPC API, no metrics port) so that its host calls reach them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "wggate.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: wasmgate serve [options] COMPONENT\n"
          "\n"
          "Serves HTTP with a wasm app: a component exporting wasi:http/incoming-handler 0.2.x\n"
          "(as `wasmtime serve`), an http-wasm handler or a WAGI command. Every path goes to it.\n"
          "COMPONENT is a file path, file://PATH, http:// or https:// URL.\n"
          "\n"
          "options:\n"
          "  --addr HOST:PORT                    address to listen on (default 0.0.0.0:8080)\n"
          "  --app-id ID                         the app's ID (default: the file name without .wasm)\n"
          "  --instances fresh|pooled            a new instance per request (default), or warm ones reused\n"
          "  --allowed-outbound-hosts L          hosts outgoing-handler may call: SCHEME://HOST[:PORT],...\n"
          "  --threads N                         event-loop threads (default: half the cores, at least 1)\n"
          "  --max-body-size Q                   request body limit (default 4Mi; a wasi:http component\n"
          "                                      streams its body, so a large one costs no memory)\n"
          "  --log-level debug|info|warn|error   (default info)\n"
          "  --state-file PATH                   file of the embedded default state store\n");
}

static int bad(const char *flag, const char *val, const char *why) {
  fprintf(stderr, "wasmgate serve: invalid value '%s' for %s: %s\n", val ? val : "", flag, why);
  return 2;
}

int wg_cmd_serve(int argc, char **argv) {
  wgg_options o;
  wgg_options_init(&o);
  o.grpc_port = 0;
  o.enable_metrics = false;
  o.serve_app = true;
  const char *addr = "0.0.0.0:8080", *comp = NULL, *app_id = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
    if (a[0] != '-') {
      if (comp) {
        fprintf(stderr, "wasmgate serve: one component only ('%s' and '%s')\n", comp, a);
        return 2;
      }
      comp = a;
      continue;
    }
    const char *name = a + (a[1] == '-' ? 2 : 1), *eq = strchr(name, '=');
    size_t nl = eq ? (size_t)(eq - name) : strlen(name);
    if (eq) val = eq + 1;
    else if (i + 1 < argc) val = argv[++i];
    else {
      fprintf(stderr, "wasmgate serve: %s needs a value\n", a);
      return 2;
    }
#define IS(s) (nl == strlen(s) && !strncmp(name, s, nl))
    if (IS("addr")) addr = val;
    else if (IS("app-id")) app_id = val;
    else if (IS("allowed-outbound-hosts")) o.app_wasm_allowed_outbound_hosts = val;
    else if (IS("instances")) {
      if (strcmp(val, "fresh") && strcmp(val, "pooled")) return bad("--instances", val, "expected fresh or pooled");
      o.app_wasm_pooled = !strcmp(val, "pooled");
    } else if (IS("threads")) {
      char *end;
      long n = strtol(val, &end, 10);
      if (*end || n < 1 || n > 256) return bad("--threads", val, "expected 1..256");
      o.threads = (int)n;
    } else if (IS("log-level")) {
      if ((o.log_level = wgg_parse_log_level(val)) < 0) return bad("--log-level", val, "expected debug, info, warn or error");
    } else if (IS("max-body-size")) {
      wgg_err e;
      if (wgg_parse_quantity(val, &o.max_body_size, &e)) return bad("--max-body-size", val, e.msg);
    } else if (IS("state-file")) {
      o.state_file = val;
    } else {
      fprintf(stderr, "wasmgate serve: unknown flag '%s' (see --help)\n", a);
      return 2;
    }
#undef IS
  }
  if (!comp) {
    usage(stderr);
    return 2;
  }
  /* HOST:PORT, [V6]:PORT */
  static char host[256];
  const char *colon = strrchr(addr, ':');
  char *end;
  long port = colon ? strtol(colon + 1, &end, 10) : -1;
  if (!colon || !colon[1] || *end || port < 0 || port > 65535 || (size_t)(colon - addr) >= sizeof host)
    return bad("--addr", addr, "expected HOST:PORT");
  memcpy(host, addr, (size_t)(colon - addr));
  host[colon - addr] = 0;
  if (host[0] == '[' && host[strlen(host) - 1] == ']') {
    memmove(host, host + 1, strlen(host) - 2);
    host[strlen(host) - 2] = 0;
  }
  o.http_port = (int)port;
  o.listen_addresses = host;
  o.app_wasm = comp;
  static char id[128];
  if (!app_id) { /* the file name without directory and .wasm */
    const char *base = strrchr(comp, '/');
    base = base ? base + 1 : comp;
    size_t bl = strcspn(base, "?#");
    if (bl > 5 && !strncmp(base + bl - 5, ".wasm", 5)) bl -= 5;
    snprintf(id, sizeof id, "%.*s", (int)bl, base);
    for (char *c = id; *c; c++)
      if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", *c)) *c = '-';
    app_id = id;
  }
  o.app_id = app_id;
  o.api_token = getenv("DAPR_API_TOKEN");
  wgg_err err = {{0}};
  if (wgg_run(&o, &err)) {
    fprintf(stderr, "wasmgate serve: %s\n", err.msg);
    return 1;
  }
  return 0;
}
