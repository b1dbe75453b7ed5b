/*
 * spec_driver.c: `wasmgate spec-driver`, the engine's side of the JSON-lines
 * protocol that ../shared/tools/spec/run_v8.mjs speaks (see its README):
 * one request per line on stdin, exactly one response line on stdout.
 *
 * Ops: beginFile (a new store with the `spectest` module), validate, module,
 * instantiate, register, invoke, get. Values travel as unsigned decimal bit
 * patterns; externref N is the host pointer N+1 (so 0 stays distinct from
 * null). v128 arguments come as lanes ({"lane_type":"i16","value":[...]}),
 * v128 results go back as 32 hex digits of the little-endian bytes.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wasmgate.h"

typedef struct named {
  char *name;
  wg_instance *inst; /* NULL: the spectest host module */
} named;

typedef struct driver {
  char *dir;
  uint32_t features; /* WG_FEATURE_* modules are decoded with (--wasm2: none) */
  wg_store *store;
  wg_module **modules; /* kept alive for the store's lifetime */
  size_t nmodules;
  named *registry, *instances;
  size_t nregistry, ninstances;
  wg_instance *current;
  /* spectest */
  wg_func *print[7];
  wg_global *globals[4];
  wg_table *table;
  wg_memory *memory;
} driver;

static const char *const print_names[] = {"print",     "print_i32",     "print_i64",    "print_f32",
                                          "print_f64", "print_i32_f32", "print_f64_f64"};

static wg_trap *no_op(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)env, (void)caller, (void)args, (void)results;
  return NULL;
}

static void reset(driver *dv) {
  wg_store_delete(dv->store);
  dv->store = NULL;
  for (size_t i = 0; i < dv->nmodules; i++) wg_module_delete(dv->modules[i]);
  free(dv->modules);
  dv->modules = NULL;
  dv->nmodules = 0;
  for (size_t i = 0; i < dv->nregistry; i++) free(dv->registry[i].name);
  for (size_t i = 0; i < dv->ninstances; i++) free(dv->instances[i].name);
  free(dv->registry);
  free(dv->instances);
  dv->registry = dv->instances = NULL;
  dv->nregistry = dv->ninstances = 0;
  dv->current = NULL;
}

static bool make_spectest(driver *dv) {
  static const wg_valtype sigs[7][2] = {{0}, {WG_I32}, {WG_I64}, {WG_F32}, {WG_F64}, {WG_I32, WG_F32}, {WG_F64, WG_F64}};
  static const uint32_t counts[7] = {0, 1, 1, 1, 1, 2, 2};
  for (int i = 0; i < 7; i++) {
    wg_functype_desc t = {counts[i], 0, sigs[i], NULL};
    if (!(dv->print[i] = wg_func_new_host(dv->store, &t, no_op, NULL, NULL))) return false;
  }
  wg_val g[4] = {{.kind = WG_I32, .of.i32 = 666},
                 {.kind = WG_I64, .of.i64 = 666},
                 {.kind = WG_F32, .of.f32 = 666.6f},
                 {.kind = WG_F64, .of.f64 = 666.6}};
  for (int i = 0; i < 4; i++)
    if (!(dv->globals[i] = wg_global_new(dv->store, &g[i], false))) return false;
  dv->table = wg_table_new(dv->store, WG_FUNCREF, 10, true, 20, NULL);
  dv->memory = wg_memory_new(dv->store, 1, true, 2);
  return dv->table && dv->memory;
}

static bool spectest_export(const driver *dv, const char *name, size_t len, wg_extern *out) {
  static const char *const globals[] = {"global_i32", "global_i64", "global_f32", "global_f64"};
#define IS(s) (len == strlen(s) && !memcmp(name, s, len))
  for (int i = 0; i < 7; i++)
    if (IS(print_names[i])) return *out = (wg_extern){WG_EXTERN_FUNC, {.func = dv->print[i]}}, true;
  for (int i = 0; i < 4; i++)
    if (IS(globals[i])) return *out = (wg_extern){WG_EXTERN_GLOBAL, {.global = dv->globals[i]}}, true;
  if (IS("table")) return *out = (wg_extern){WG_EXTERN_TABLE, {.table = dv->table}}, true;
  if (IS("memory")) return *out = (wg_extern){WG_EXTERN_MEMORY, {.memory = dv->memory}}, true;
#undef IS
  return false;
}

static void reply(json_t *r) {
  char *s = json_dumps(r, JSON_COMPACT);
  fputs(s ? s : "{\"error\":\"other\",\"msg\":\"out of memory\"}", stdout);
  free(s);
  fputc('\n', stdout);
  fflush(stdout);
  json_decref(r);
}

static json_t *error_reply(const char *kind, const char *msg) {
  return json_pack("{s:s, s:s}", "error", kind, "msg", msg);
}

static json_t *ok_reply(void) { return json_pack("{s:b}", "ok", 1); }

static json_t *trap_reply(wg_trap *t) {
  wg_trap_code c = wg_trap_code_of(t);
  json_t *r = error_reply(c == WG_TRAP_STACK_EXHAUSTED ? "exhaustion" : c == WG_TRAP_EXCEPTION ? "exception" : "trap",
                          wg_trap_message(t));
  wg_trap_delete(t);
  return r;
}

/* Loads and compiles `file` (relative to the script's dir). */
static wg_module *compile_file(driver *dv, json_t *req, json_t **res) {
  const char *file = json_string_value(json_object_get(req, "file"));
  if (!file || !dv->dir) {
    *res = error_reply("other", "missing file or beginFile");
    return NULL;
  }
  size_t plen = strlen(dv->dir) + strlen(file) + 2;
  char *path = malloc(plen);
  if (!path) return *res = error_reply("other", "out of memory"), NULL;
  snprintf(path, plen, "%s/%s", dv->dir, file);
  size_t len;
  unsigned char *bytes = wg_cli_read_file(path, &len);
  free(path);
  if (!bytes) return *res = error_reply("other", "cannot read module file"), NULL;
  wg_error *err = NULL;
  wg_module *m = wg_module_new_features(bytes, len, dv->features, &err);
  free(bytes);
  if (!m) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s (at byte %zu)", wg_error_message(err), wg_error_offset(err));
    *res = error_reply("compile", msg);
    wg_error_delete(err);
  }
  return m;
}

static wg_instance *find_instance(const named *list, size_t n, const char *name) {
  for (size_t i = n; i-- > 0;)
    if (!strcmp(list[i].name, name)) return list[i].inst;
  return NULL;
}

static bool add_named(named **list, size_t *n, const char *name, wg_instance *inst) {
  named *l = realloc(*list, (*n + 1) * sizeof *l);
  if (!l) return false;
  *list = l;
  if (!(l[*n].name = strdup(name))) return false;
  l[(*n)++].inst = inst;
  return true;
}

/* Resolves the module's imports from the registry and instantiates it. */
static wg_instance *instantiate(driver *dv, wg_module *m, json_t **res) {
  uint32_t n = wg_module_import_count(m);
  wg_extern *imports = calloc(n + 1, sizeof *imports);
  if (!imports) return *res = error_reply("other", "out of memory"), NULL;
  for (uint32_t i = 0; i < n; i++) {
    wg_extern_desc d;
    wg_module_import(m, i, &d);
    bool found = false;
    for (size_t k = dv->nregistry; k-- > 0 && !found;) {
      const named *r = &dv->registry[k];
      if (strlen(r->name) != d.module_len || memcmp(r->name, d.module, d.module_len)) continue;
      found = r->inst ? wg_instance_export(r->inst, d.name, d.name_len, &imports[i])
                      : spectest_export(dv, d.name, d.name_len, &imports[i]);
      break;
    }
    if (!found) {
      char msg[256];
      snprintf(msg, sizeof msg, "unknown import %.*s.%.*s", (int)d.module_len, d.module, (int)d.name_len, d.name);
      free(imports);
      return *res = error_reply("link", msg), NULL;
    }
  }
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  wg_instance *inst = wg_instance_new(dv->store, m, imports, n, &err, &trap);
  free(imports);
  if (trap) *res = trap_reply(trap);
  if (err) {
    *res = error_reply(wg_error_kind_of(err) == WG_ERROR_INVALID ? "link" : "other", wg_error_message(err));
    wg_error_delete(err);
  }
  return inst;
}

static json_t *do_module(driver *dv, json_t *req, bool keep) {
  json_t *res = NULL;
  wg_module *m = compile_file(dv, req, &res);
  if (!m) return res;
  wg_module **mods = realloc(dv->modules, (dv->nmodules + 1) * sizeof *mods);
  if (!mods) {
    wg_module_delete(m);
    return error_reply("other", "out of memory");
  }
  dv->modules = mods;
  dv->modules[dv->nmodules++] = m;
  wg_instance *inst = instantiate(dv, m, &res);
  if (keep) dv->current = inst; /* a failed module leaves no current one */
  if (!inst) return res;
  const char *name = json_string_value(json_object_get(req, "name"));
  if (keep && name && !add_named(&dv->instances, &dv->ninstances, name, inst)) return error_reply("other", "oom");
  return ok_reply();
}

static bool parse_u64(json_t *v, uint64_t *out) {
  const char *s = json_string_value(v);
  if (!s) return false;
  char *end;
  *out = strtoull(s, &end, 10);
  return *end == '\0';
}

/* A v128 argument: its lanes, decimal (negative values wrap to the lane). */
static bool v128_from_json(json_t *a, wg_val *out) {
  const char *lt = json_string_value(json_object_get(a, "lane_type"));
  json_t *lanes = json_object_get(a, "value");
  if (!lt || !json_is_array(lanes)) return false;
  unsigned w = !strcmp(lt, "i8") ? 1 : !strcmp(lt, "i16") ? 2 : !strcmp(lt, "i32") || !strcmp(lt, "f32") ? 4 : 8;
  if (json_array_size(lanes) != 16 / w) return false;
  out->kind = WG_V128;
  for (unsigned i = 0; i < 16 / w; i++) {
    const char *s = json_string_value(json_array_get(lanes, i));
    if (!s) return false;
    char *end;
    uint64_t x = s[0] == '-' ? (uint64_t)strtoll(s, &end, 10) : strtoull(s, &end, 10);
    if (*end) return false;
    for (unsigned b = 0; b < w; b++) out->of.v128[i * w + b] = (uint8_t)(x >> (8 * b));
  }
  return true;
}

static bool arg_from_json(json_t *a, wg_val *out) {
  const char *type = json_string_value(json_object_get(a, "type"));
  json_t *v = json_object_get(a, "value");
  uint64_t bits = 0;
  if (!type) return false;
  memset(out, 0, sizeof *out);
  if (!strcmp(type, "v128")) return v128_from_json(a, out);
  if (!strcmp(type, "externref") || !strcmp(type, "funcref")) {
    out->kind = type[0] == 'e' ? WG_EXTERNREF : WG_FUNCREF;
    if (json_is_string(v) && !strcmp(json_string_value(v), "null")) return true;
    if (!parse_u64(v, &bits) || out->kind == WG_FUNCREF) return false;
    out->of.ref = (wg_ref)(uintptr_t)(bits + 1);
    return true;
  }
  if (!parse_u64(v, &bits)) return false;
  if (!strcmp(type, "i32")) {
    out->kind = WG_I32;
    out->of.i32 = (int32_t)(uint32_t)bits;
  } else if (!strcmp(type, "i64")) {
    out->kind = WG_I64;
    out->of.i64 = (int64_t)bits;
  } else if (!strcmp(type, "f32")) {
    uint32_t b = (uint32_t)bits;
    out->kind = WG_F32;
    memcpy(&out->of.f32, &b, 4);
  } else if (!strcmp(type, "f64")) {
    out->kind = WG_F64;
    memcpy(&out->of.f64, &bits, 8);
  } else {
    return false;
  }
  return true;
}

static json_t *val_to_json(const wg_val *v) {
  char buf[40];
  uint32_t b32;
  uint64_t b64;
  switch (v->kind) {
    case WG_I32: snprintf(buf, sizeof buf, "%u", (uint32_t)v->of.i32); break;
    case WG_I64: snprintf(buf, sizeof buf, "%llu", (unsigned long long)(uint64_t)v->of.i64); break;
    case WG_F32: memcpy(&b32, &v->of.f32, 4); snprintf(buf, sizeof buf, "%u", b32); break;
    case WG_F64: memcpy(&b64, &v->of.f64, 8); snprintf(buf, sizeof buf, "%llu", (unsigned long long)b64); break;
    case WG_FUNCREF: snprintf(buf, sizeof buf, "%s", v->of.ref ? "func" : "null"); break;
    case WG_EXTERNREF:
      if (v->of.ref) snprintf(buf, sizeof buf, "%llu", (unsigned long long)((uintptr_t)v->of.ref - 1));
      else snprintf(buf, sizeof buf, "null");
      break;
    case WG_V128:
      for (int i = 0; i < 16; i++) snprintf(buf + 2 * i, 3, "%02x", v->of.v128[i]);
      break;
    default: snprintf(buf, sizeof buf, "?"); break;
  }
  return json_pack("{s:s, s:s}", "type", wg_valtype_name(v->kind), "value", buf);
}

static bool lookup(driver *dv, json_t *req, wg_extern *out, json_t **res) {
  const char *mod = json_string_value(json_object_get(req, "module"));
  json_t *jfield = json_object_get(req, "field");
  const char *field = json_string_value(jfield);
  wg_instance *inst = mod ? find_instance(dv->instances, dv->ninstances, mod) : dv->current;
  if (!inst || !field) return *res = error_reply("other", "no such module instance"), false;
  /* Names may contain NUL: use the JSON string's length. */
  if (!wg_instance_export(inst, field, json_string_length(jfield), out))
    return *res = error_reply("other", "no such export"), false;
  return true;
}

static json_t *do_invoke(driver *dv, json_t *req) {
  json_t *res = NULL;
  wg_extern ex;
  if (!lookup(dv, req, &ex, &res)) return res;
  if (ex.kind != WG_EXTERN_FUNC) return error_reply("other", "export is not a function");
  json_t *args = json_object_get(req, "args");
  size_t nargs = json_array_size(args);
  wg_functype_desc ft = wg_func_type(ex.of.func);
  wg_val *vals = calloc(nargs + ft.nresults + 1, sizeof *vals);
  if (!vals) return error_reply("other", "out of memory");
  for (size_t i = 0; i < nargs; i++)
    if (!arg_from_json(json_array_get(args, i), &vals[i])) {
      free(vals);
      return error_reply("other", "unsupported argument");
    }
  wg_trap *t = wg_func_call(dv->store, ex.of.func, vals, nargs, vals + nargs, ft.nresults);
  if (t) {
    free(vals);
    return trap_reply(t);
  }
  json_t *results = json_array();
  for (uint32_t i = 0; i < ft.nresults; i++) json_array_append_new(results, val_to_json(&vals[nargs + i]));
  free(vals);
  return json_pack("{s:b, s:o}", "ok", 1, "results", results);
}

static json_t *do_get(driver *dv, json_t *req) {
  json_t *res = NULL;
  wg_extern ex;
  if (!lookup(dv, req, &ex, &res)) return res;
  if (ex.kind != WG_EXTERN_GLOBAL) return error_reply("other", "export is not a global");
  wg_val v;
  wg_global_get(ex.of.global, &v);
  return json_pack("{s:b, s:[o]}", "ok", 1, "results", val_to_json(&v));
}

/* WASMGATE_JIT_STRICT set (with the compiled tier): a command that ran any
 * function on the interpreter because the compiled tier could not compile
 * it answers an error naming the reason, so a spec run proves that the
 * suite ran compiled (wg_store_jit_fallbacks). */
static json_t *strict_check(driver *dv, const wg_store *store, uint64_t before, json_t *res) {
  static int strict = -1;
  if (strict < 0) strict = getenv("WASMGATE_JIT_STRICT") != NULL;
  const char *why = NULL;
  if (!strict || !dv->store || dv->store != store || wg_store_jit_fallbacks(dv->store, &why) <= before) return res;
  char msg[256];
  snprintf(msg, sizeof msg, "ran on the interpreter (WASMGATE_JIT_STRICT): %s", why ? why : "not compiled");
  json_decref(res);
  return error_reply("other", msg);
}

static json_t *handle_op(driver *dv, json_t *req);

static json_t *handle(driver *dv, json_t *req) {
  const wg_store *store = dv->store;
  uint64_t before = store ? wg_store_jit_fallbacks(store, NULL) : 0;
  json_t *res = handle_op(dv, req);
  return strict_check(dv, store, before, res);
}

static json_t *handle_op(driver *dv, json_t *req) {
  const char *op = json_string_value(json_object_get(req, "op"));
  if (!op) return error_reply("other", "request has no op");
  if (!strcmp(op, "beginFile")) {
    const char *dir = json_string_value(json_object_get(req, "dir"));
    if (!dir) return error_reply("other", "beginFile needs dir");
    reset(dv);
    free(dv->dir);
    dv->dir = strdup(dir);
    dv->store = wg_store_new(NULL, NULL);
    if (!dv->dir || !dv->store || !make_spectest(dv) || !add_named(&dv->registry, &dv->nregistry, "spectest", NULL))
      return error_reply("other", "out of memory");
    return ok_reply();
  }
  if (!dv->store) return error_reply("other", "beginFile first");
  if (!strcmp(op, "validate")) {
    json_t *res = NULL;
    wg_module *m = compile_file(dv, req, &res);
    if (!m) return res;
    wg_module_delete(m);
    return ok_reply();
  }
  if (!strcmp(op, "module")) return do_module(dv, req, true);
  if (!strcmp(op, "instantiate")) return do_module(dv, req, false);
  if (!strcmp(op, "register")) {
    const char *name = json_string_value(json_object_get(req, "name"));
    const char *as = json_string_value(json_object_get(req, "as"));
    wg_instance *inst = name ? find_instance(dv->instances, dv->ninstances, name) : dv->current;
    if (!inst || !as) return error_reply("other", "no module to register");
    return add_named(&dv->registry, &dv->nregistry, as, inst) ? ok_reply() : error_reply("other", "out of memory");
  }
  if (!strcmp(op, "invoke")) return do_invoke(dv, req);
  if (!strcmp(op, "get")) return do_get(dv, req);
  return error_reply("other", "unknown op");
}

int wg_cmd_spec_driver(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    printf("usage: wasmgate spec-driver [--wasm2]\n\n"
           "Speaks the JSON-lines protocol of the spec testsuite runner (run_v8.mjs --driver)\n"
           "on stdin/stdout: one request per line, one response line each.\n"
           "--wasm2 decodes modules as WebAssembly 2.0 (no multi-memory, no exception handling),\n"
           "as the 2.0 suite expects; without it, with every feature the engine has.\n");
    return 0;
  }
  driver dv = {.features = WG_FEATURES_ALL};
  if (argc > 1 && !strcmp(argv[1], "--wasm2")) dv.features = WG_FEATURES_WASM2;
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    json_error_t jerr;
    json_t *req = json_loads(line, JSON_ALLOW_NUL, &jerr);
    if (!req) {
      reply(error_reply("other", "malformed request"));
      continue;
    }
    reply(handle(&dv, req));
    json_decref(req);
  }
  free(line);
  reset(&dv);
  free(dv.dir);
  return 0;
}
