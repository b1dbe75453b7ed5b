/*
 * cmd_wasm_run.c: `wasmgate wasm run`: runs a WASI program (its _start) or,
 * with --invoke, one exported function, with only the capabilities granted on
 * the command line, under optional fuel, timeout and memory limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "wasmgate_component.h"
#include "wasmgate.h"
#include "wgwasi.h"

#define TICK_MS 5 /* epoch period for --timeout */

static int usage(FILE *out, int status) {
  fprintf(out,
          "usage: wasmgate wasm run [options] MODULE.wasm [ARGS...]\n"
          "\n"
          "Runs a WASI (preview1) program: its _start, or --invoke FUNC. The guest sees\n"
          "only what the options grant. Exit status: the guest's proc_exit code (0 when\n"
          "_start returns); 134 after a trap (message and wasm backtrace on stderr);\n"
          "2 for a bad command line; 1 when the module cannot be loaded or linked.\n"
          "\n"
          "options:\n"
          "  --dir HOST[:GUEST]   preopen directory HOST, seen by the guest as GUEST\n"
          "                       (default: HOST as written); repeatable\n"
          "  --env K=V            an environment variable for the guest; repeatable\n"
          "  --stdin FILE         the guest's standard input is FILE (a regular file,\n"
          "                       seekable, as with a shell's < FILE)\n"
          "  --fuel N             stop after N units of fuel (function entries and loop\n"
          "                       iterations): \"all fuel consumed\"\n"
          "  --timeout DURATION   stop after DURATION (e.g. 500ms, 2s, 1m): \"interrupted\"\n"
          "  --max-memory SIZE    cap on linear memory (e.g. 64Mi, 1Gi; 64 KiB pages)\n"
          "  --strict-sandbox     deterministic clocks and random bytes, no sleeping\n"
          "  --tier interp|jit    execution tier: the interpreter, or compiled code\n"
          "                       (x86-64; other functions and CPUs fall back to the\n"
          "                       interpreter); default: $WASMGATE_TIER, else interp\n"
          "  --invoke FUNC        call exported FUNC (after _initialize, if exported) with\n"
          "                       ARGS parsed by its parameter types (v128: 0x + up to\n"
          "                       32 hex digits); print its results\n"
          "  --preload NAME=FILE  instantiate FILE first (with the same WASI) and satisfy\n"
          "                       imports from module NAME with its exports; repeatable\n"
          "  --resources-path DIR a component's wasi:keyvalue, wasi:config and wasi:messaging\n"
          "                       are served by the Dapr components of DIR; repeatable\n"
          "  --app-id ID          the app ID they are loaded for (scopes, key prefix)\n"
          "\n"
          "network (a component's wasi:sockets; denied unless granted):\n"
          "  --inherit-network    any address may be bound, connected and sent to\n"
          "  --allow-socket PAT   only addresses matching PAT: ADDR[/PREFIX]:PORT with ADDR\n"
          "                       *, an IPv4 address or [IPv6], PORT a number or *\n"
          "                       (127.0.0.1:*, 10.0.0.0/8:443, [::1]:8080); repeatable\n"
          "  --allow-ip-name-lookup  ip-name-lookup may resolve names\n"
          "  -S KEY[=y|n]         wasmtime's spelling: -S inherit-network,\n"
          "                       -S allow-ip-name-lookup, -S tcp=n, -S udp=n\n");
  return status;
}

/* "500ms", "2s", "1m", "1.5s" -> milliseconds; -1 when malformed. */
static long long parse_duration_ms(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0) return -1;
  if (!strcmp(end, "ms")) return (long long)v;
  if (!strcmp(end, "s") || !*end) return (long long)(v * 1000);
  if (!strcmp(end, "m")) return (long long)(v * 60000);
  return -1;
}

/* "64Mi", "1Gi", "65536", "10Ki" -> bytes; 0 when malformed. */
static unsigned long long parse_size(const char *s) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s) return 0;
  if (!strcmp(end, "Ki")) return v << 10;
  if (!strcmp(end, "Mi")) return v << 20;
  if (!strcmp(end, "Gi")) return v << 30;
  return *end ? 0 : v;
}

typedef struct ticker {
  wg_engine *engine;
  atomic_int stop; /* set by the main thread when the run ends */
} ticker;

static void *tick(void *arg) {
  ticker *t = arg;
  struct timespec ts = {0, TICK_MS * 1000000L};
  while (!atomic_load(&t->stop)) {
    nanosleep(&ts, NULL);
    wg_engine_increment_epoch(t->engine);
  }
  return NULL;
}

/* A v128 argument as wasmtime takes it: one 128-bit integer in hex ("0x",
 * up to 32 digits), stored little-endian. */
static bool parse_v128(const char *s, wg_val *v) {
  if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2]) return false;
  size_t n = strlen(s + 2);
  if (n > 32) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[2 + n - 1 - i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return false;
    v->of.v128[i / 2] |= (uint8_t)(d << (4 * (i % 2)));
  }
  return true;
}

static bool parse_arg(wg_valtype t, const char *s, wg_val *v) {
  char *end;
  memset(v, 0, sizeof *v);
  v->kind = t;
  errno = 0;
  switch (t) {
    case WG_V128: return parse_v128(s, v);
    case WG_I32: v->of.i32 = (int32_t)strtoll(s, &end, 0); break;
    case WG_I64: v->of.i64 = strtoll(s, &end, 0); break;
    case WG_F32: v->of.f32 = strtof(s, &end); break;
    case WG_F64: v->of.f64 = strtod(s, &end); break;
    default: return false;
  }
  return *end == '\0' && errno == 0;
}

static void print_val(const wg_val *v) {
  switch (v->kind) {
    case WG_I32: printf("%" PRId32 "\n", v->of.i32); break;
    case WG_I64: printf("%" PRId64 "\n", v->of.i64); break;
    case WG_F32: printf("%.9g\n", (double)v->of.f32); break;
    case WG_F64: printf("%.17g\n", v->of.f64); break;
    case WG_V128: /* the 128-bit integer the little-endian bytes make, as wasmtime prints it */
      printf("0x");
      for (int i = 15; i >= 0; i--) printf("%02x", v->of.v128[i]);
      printf("\n");
      break;
    default: printf("%s\n", v->of.ref ? "<ref>" : "null"); break;
  }
}

/* Reports a trap; returns the exit status. */
static int report_trap(const char *module, wg_trap *t, wg_wasi *w) {
  int code = 0;
  if (wg_wasi_exited(w, &code)) {
    wg_trap_delete(t);
    return code;
  }
  wg_trap_code c = wg_trap_code_of(t);
  if (c == WG_TRAP_OUT_OF_FUEL || c == WG_TRAP_INTERRUPTED)
    fprintf(stderr, "wasmgate: %s: limit reached: %s\n", module, wg_trap_message(t));
  else
    fprintf(stderr, "wasmgate: %s: trap: %s\n", module, wg_trap_message(t));
  fputs(wg_trap_backtrace(t), stderr);
  wg_trap_delete(t);
  return 134;
}

typedef struct preload {
  const char *name, *file;
  wg_module *module;
  wg_instance *inst;
} preload;

/* Fills the imports of `m`: WASI from the context, the rest from preloaded
 * instances by module name. false (with a message) when one is missing. */
static bool link_all(const char *path, wg_wasi *w, wg_store *store, const wg_module *m, wg_extern *imports,
                     const preload *pre, int npre) {
  char err[256];
  if (!wg_wasi_link(w, store, m, imports, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", path, err);
    return false;
  }
  for (uint32_t k = 0; k < wg_module_import_count(m); k++) {
    if (imports[k].of.func) continue;
    wg_extern_desc d;
    wg_module_import(m, k, &d);
    bool found = false;
    for (int p = 0; p < npre && !found; p++)
      if (pre[p].inst && strlen(pre[p].name) == d.module_len && !memcmp(pre[p].name, d.module, d.module_len))
        found = wg_instance_export(pre[p].inst, d.name, d.name_len, &imports[k]);
    if (!found) {
      fprintf(stderr, "%s: unknown import %.*s.%.*s\n", path, (int)d.module_len, d.module, (int)d.name_len, d.name);
      return false;
    }
  }
  return true;
}

int wg_cmd_wasm_run(int argc, char **argv) {
  preload pre[16];
  int npreload = 0;
  wg_wasi_preopen preopens[64];
  const char *envs[256];
  const char *resources[16], *app_id = "";
  size_t nres = 0;
  int npre = 0, nenv = 0, i = 1;
  const char *stdin_file = NULL, *invoke = NULL;
  long long fuel = -1, timeout_ms = -1;
  unsigned long long max_mem = 0;
  bool strict = false, inherit_net = false;
  uint32_t tier = WG_TIER_DEFAULT;
  const char *allow[64];
  wg_wasi_p2_network net = {.allow = allow};
  bool any_net = false;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *o = argv[i];
    bool more = i + 1 < argc;
    if (!strcmp(o, "--help") || !strcmp(o, "-h")) return usage(stdout, 0);
    if (!strcmp(o, "--strict-sandbox")) {
      strict = true;
      continue;
    }
    if (!strcmp(o, "--inherit-network")) {
      inherit_net = any_net = true;
      continue;
    }
    if (!strcmp(o, "--allow-ip-name-lookup")) {
      net.ip_name_lookup = any_net = true;
      continue;
    }
    if (!more) return fprintf(stderr, "wasmgate wasm run: %s needs a value\n", o), 2;
    const char *v = argv[++i];
    if (!strcmp(o, "--dir")) {
      if (npre == 64) return fprintf(stderr, "wasmgate wasm run: too many --dir\n"), 2;
      char *colon = strchr(v, ':');
      char *host = strdup(v);
      if (!host) return 1;
      if (colon) host[colon - v] = 0;
      preopens[npre++] = (wg_wasi_preopen){host, colon ? colon + 1 : v};
    } else if (!strcmp(o, "--env")) {
      if (nenv == 256 || !strchr(v, '=')) return fprintf(stderr, "wasmgate wasm run: --env wants K=V\n"), 2;
      envs[nenv++] = v;
    } else if (!strcmp(o, "--stdin")) {
      stdin_file = v;
    } else if (!strcmp(o, "--fuel")) {
      char *end;
      fuel = strtoll(v, &end, 10);
      if (*end || fuel < 0) return fprintf(stderr, "wasmgate wasm run: bad --fuel '%s'\n", v), 2;
    } else if (!strcmp(o, "--timeout")) {
      if ((timeout_ms = parse_duration_ms(v)) < 0)
        return fprintf(stderr, "wasmgate wasm run: bad --timeout '%s' (e.g. 500ms, 2s)\n", v), 2;
    } else if (!strcmp(o, "--max-memory")) {
      if (!(max_mem = parse_size(v))) return fprintf(stderr, "wasmgate wasm run: bad --max-memory '%s'\n", v), 2;
    } else if (!strcmp(o, "--tier")) {
      if (!strcmp(v, "interp")) tier = WG_TIER_INTERP;
      else if (!strcmp(v, "jit")) tier = WG_TIER_JIT;
      else return fprintf(stderr, "wasmgate wasm run: bad --tier '%s' (interp or jit)\n", v), 2;
    } else if (!strcmp(o, "--resources-path")) {
      if (nres == 16) return fprintf(stderr, "wasmgate wasm run: too many --resources-path\n"), 2;
      resources[nres++] = v;
    } else if (!strcmp(o, "--app-id")) {
      app_id = v;
    } else if (!strcmp(o, "--allow-socket")) {
      if (net.nallow == 64) return fprintf(stderr, "wasmgate wasm run: too many --allow-socket\n"), 2;
      allow[net.nallow++] = v;
      any_net = true;
    } else if (!strcmp(o, "-S")) { /* wasmtime's -S KEY[=VALUE] for the network grants */
      const char *eq = strchr(v, '=');
      size_t kl = eq ? (size_t)(eq - v) : strlen(v);
      const char *val = eq ? eq + 1 : "y";
      bool on = !strcmp(val, "y") || !strcmp(val, "yes") || !strcmp(val, "true");
      if (!on && strcmp(val, "n") && strcmp(val, "no") && strcmp(val, "false"))
        return fprintf(stderr, "wasmgate wasm run: bad -S value '%s' (y or n)\n", v), 2;
      if (kl == 15 && !strncmp(v, "inherit-network", kl)) inherit_net = on;
      else if (kl == 20 && !strncmp(v, "allow-ip-name-lookup", kl)) net.ip_name_lookup = on;
      else if (kl == 3 && !strncmp(v, "tcp", kl)) net.no_tcp = !on;
      else if (kl == 3 && !strncmp(v, "udp", kl)) net.no_udp = !on;
      else return fprintf(stderr, "wasmgate wasm run: unknown -S option '%s' (inherit-network, "
                                  "allow-ip-name-lookup, tcp, udp)\n", v), 2;
      any_net = true;
    } else if (!strcmp(o, "--invoke")) {
      invoke = v;
    } else if (!strcmp(o, "--preload")) {
      const char *eq = strchr(v, '=');
      if (!eq || eq == v || npreload == 16) return fprintf(stderr, "wasmgate wasm run: --preload wants NAME=FILE\n"), 2;
      char *name = strndup(v, (size_t)(eq - v));
      if (!name) return 1;
      pre[npreload++] = (preload){name, eq + 1, NULL, NULL};
    } else {
      fprintf(stderr, "wasmgate wasm run: unknown option '%s'\n\n", o);
      return usage(stderr, 2);
    }
  }
  if (i >= argc) return usage(stderr, 2);
  const char *path = argv[i];
  int status = 1;
  size_t len = 0;
  int in_fd = -1;
  unsigned char *bytes = wg_cli_read_file(path, &len);
  wg_module *m = NULL;
  wg_engine *engine = wg_engine_new(NULL);
  wg_store *store = NULL;
  wg_wasi *w = NULL;
  wg_extern *imports = NULL;
  ticker tk = {engine, 0};
  pthread_t th;
  bool ticking = false;
  char err[256];
  if (!bytes || !engine) goto done;
  if (stdin_file && (in_fd = open(stdin_file, O_RDONLY | O_CLOEXEC)) < 0) {
    fprintf(stderr, "wasmgate wasm run: cannot open %s: %s\n", stdin_file, strerror(errno));
    goto done;
  }
  wg_error *e = NULL;
  bool is_component = wg_binary_kind_of(bytes, len) == WG_BINARY_COMPONENT;
  if (!is_component && nres) {
    fprintf(stderr, "wasmgate wasm run: --resources-path serves components (the WASI cloud interfaces), and %s is a module\n", path);
    goto done;
  }
  if (!is_component && !(m = wg_module_new(bytes, len, &e))) {
    fprintf(stderr, "%s:0x%zx: %s\n", path, wg_error_offset(e), wg_error_message(e));
    wg_error_delete(e);
    goto done;
  }
  wg_store_config cfg = {.max_memory_pages = max_mem ? (uint32_t)((max_mem + 65535) >> 16) : 0, .tier = tier};
  store = wg_store_new(engine, &cfg);
  wg_wasi_config wc = {.argc = argc - i, .argv = (const char *const *)argv + i, .envc = nenv, .envp = envs,
                       .npreopens = npre, .preopens = preopens, .stdin_fd = in_fd,
                       .use_stdin_fd = in_fd >= 0, .strict = strict};
  if (!store || !(w = wg_wasi_new(&wc, err, sizeof err))) {
    fprintf(stderr, "wasmgate wasm run: %s\n", store ? err : "out of memory");
    goto done;
  }
  if (is_component) { /* WASI 0.2: the wasi:cli/run export */
    if (fuel >= 0) wg_store_set_fuel(store, (uint64_t)fuel);
    if (timeout_ms >= 0) {
      wg_store_set_deadline(store, (uint64_t)(timeout_ms + TICK_MS - 1) / TICK_MS + 1);
      ticking = pthread_create(&th, NULL, tick, &tk) == 0;
    }
    if (inherit_net) {
      static const char *const all[] = {"*"};
      net.allow = all;
      net.nallow = 1;
    }
    status = wg_cli_run_component(path, bytes, len, w, store, app_id, resources, nres, any_net ? &net : NULL);
    store = NULL; /* deleted by wg_cli_run_component */
    goto done;
  }
  /* Preloaded modules first, each linked against WASI and the ones before it. */
  for (int p = 0; p < npreload; p++) {
    size_t plen;
    unsigned char *pb = wg_cli_read_file(pre[p].file, &plen);
    if (!pb) goto done;
    pre[p].module = wg_module_new(pb, plen, &e);
    free(pb);
    if (!pre[p].module) {
      fprintf(stderr, "%s:0x%zx: %s\n", pre[p].file, wg_error_offset(e), wg_error_message(e));
      wg_error_delete(e);
      goto done;
    }
    uint32_t n = wg_module_import_count(pre[p].module);
    wg_extern *pimp = calloc(n + 1, sizeof *pimp);
    wg_trap *ptrap = NULL;
    if (pimp && link_all(pre[p].file, w, store, pre[p].module, pimp, pre, p))
      pre[p].inst = wg_instance_new(store, pre[p].module, pimp, n, &e, &ptrap);
    free(pimp);
    if (!pre[p].inst) {
      if (ptrap) status = report_trap(pre[p].file, ptrap, w);
      else if (e) fprintf(stderr, "%s: %s\n", pre[p].file, wg_error_message(e));
      wg_error_delete(e);
      goto done;
    }
  }
  uint32_t nimp = wg_module_import_count(m);
  imports = calloc(nimp + 1, sizeof *imports);
  if (!imports || !link_all(path, w, store, m, imports, pre, npreload)) goto done;
  if (fuel >= 0) wg_store_set_fuel(store, (uint64_t)fuel);
  if (timeout_ms >= 0) {
    wg_store_set_deadline(store, (uint64_t)(timeout_ms + TICK_MS - 1) / TICK_MS + 1);
    ticking = pthread_create(&th, NULL, tick, &tk) == 0;
  }
  wg_trap *trap = NULL;
  wg_instance *inst = wg_instance_new(store, m, imports, nimp, &e, &trap);
  if (!inst) {
    if (trap) {
      status = report_trap(path, trap, w);
    } else {
      fprintf(stderr, "%s: %s\n", path, e ? wg_error_message(e) : "cannot instantiate");
      wg_error_delete(e);
    }
    goto done;
  }
  wg_extern ex;
  if (!invoke) {
    if (!wg_instance_export(inst, "_start", 6, &ex) || ex.kind != WG_EXTERN_FUNC) {
      fprintf(stderr, "%s: no _start export (a reactor? use --invoke FUNC)\n", path);
      goto done;
    }
    trap = wg_func_call(store, ex.of.func, NULL, 0, NULL, 0);
    status = trap ? report_trap(path, trap, w) : 0;
    goto done;
  }
  if (wg_instance_export(inst, "_initialize", 11, &ex) && ex.kind == WG_EXTERN_FUNC &&
      (trap = wg_func_call(store, ex.of.func, NULL, 0, NULL, 0))) {
    status = report_trap(path, trap, w);
    goto done;
  }
  if (!wg_instance_export(inst, invoke, strlen(invoke), &ex) || ex.kind != WG_EXTERN_FUNC) {
    fprintf(stderr, "%s: no exported function '%s'\n", path, invoke);
    goto done;
  }
  wg_functype_desc ft = wg_func_type(ex.of.func);
  int nargs = argc - i - 1;
  if ((uint32_t)nargs != ft.nparams || ft.nparams > 64 || ft.nresults > 64) {
    fprintf(stderr, "%s: '%s' takes %u arguments, got %d\n", path, invoke, ft.nparams, nargs);
    status = 2;
    goto done;
  }
  wg_val args[64], results[64];
  for (int k = 0; k < nargs; k++)
    if (!parse_arg(ft.params[k], argv[i + 1 + k], &args[k])) {
      fprintf(stderr, "%s: bad argument '%s' for a %s\n", path, argv[i + 1 + k], wg_valtype_name(ft.params[k]));
      status = 2;
      goto done;
    }
  trap = wg_func_call(store, ex.of.func, args, ft.nparams, results, ft.nresults);
  if (trap) {
    status = report_trap(path, trap, w);
    goto done;
  }
  for (uint32_t k = 0; k < ft.nresults; k++) print_val(&results[k]);
  status = 0;
done:
  fflush(stdout);
  if (ticking) {
    atomic_store(&tk.stop, 1);
    pthread_join(th, NULL);
  }
  free(imports);
  wg_store_delete(store);
  wg_wasi_delete(w);
  wg_module_delete(m);
  wg_engine_delete(engine);
  free(bytes);
  if (in_fd >= 0) close(in_fd);
  for (int k = 0; k < npre; k++) free((void *)preopens[k].host);
  for (int k = 0; k < npreload; k++) {
    free((void *)pre[k].name);
    wg_module_delete(pre[k].module);
  }
  return status;
}
