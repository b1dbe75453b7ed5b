/*
 * httpwasm_module.c: compiling and validating http-wasm guests, making
 * instances (WASI + http_handler imports, start section, _start), and calling
 * handle_request / handle_response under the per-request deadline
 * (shared/reference/http-wasm-abi.md 1.1, 1.6; host-go handler/middleware.go:
 * compileGuest, newGuest, HandleRequest, HandleResponse).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "wasmhost/httpwasm_internal.h"
#include "wasmhost/slice.h"
#include "wasmhost/wasmhost.h"

/* Value stack of an instance: guests compiled from C or TinyGo keep their own
 * stack in linear memory, so 64K slots (512 KiB) suffice and keep pools small. */
enum { HW_STACK_SLOTS = 1u << 16 };

static bool is_valtypes(uint32_t n, const wg_valtype *v, uint32_t want_n, wg_valtype a, wg_valtype b) {
  if (n != want_n) return false;
  if (n > 0 && v[0] != a) return false;
  if (n > 1 && v[1] != b) return false;
  return true;
}

/* Finds export `name` of `kind`; false when absent. */
static bool find_export(const wg_module *m, const char *name, wg_extern_kind kind, wg_externtype *t) {
  uint32_t n = wg_module_export_count(m);
  for (uint32_t i = 0; i < n; i++) {
    wg_extern_desc d;
    if (!wg_module_export(m, i, &d) || d.kind != kind || d.name_len != strlen(name) || memcmp(d.name, name, d.name_len))
      continue;
    return wg_module_extern_type(m, kind, d.index, t);
  }
  return false;
}

wgg_hw_module *wgg_hw_module_new(const uint8_t *bytes, size_t len, const wgg_hw_settings *s, wgg_err *err) {
  /* wazero's wording for a file that is not a module at all (Dapr users and
   * tests match it); the engine says "magic header not detected" as the spec does */
  if (len < 4 || memcmp(bytes, "\0asm", 4)) return wgg_err_set(err, "wasm: error compiling guest: invalid magic number"), NULL;
  if (len < 8 || memcmp(bytes + 4, "\1\0\0\0", 4))
    return wgg_err_set(err, "wasm: error compiling guest: invalid version header"), NULL;
  wg_error *e = NULL;
  wg_module *mod = wg_module_new(bytes, len, &e);
  if (!mod) {
    wgg_err_set(err, "wasm: error compiling guest: %s", wg_error_message(e));
    wg_error_delete(e);
    return NULL;
  }
  wg_externtype t;
  const char *why = NULL;
  if (!find_export(mod, "handle_request", WG_EXTERN_FUNC, &t))
    why = "wasm: guest doesn't export func[handle_request]";
  else if (t.func.nparams != 0 || !is_valtypes(t.func.nresults, t.func.results, 1, WG_I64, 0))
    why = "wasm: guest exports the wrong signature for func[handle_request]. should be () -> (i64)";
  else if (!find_export(mod, "handle_response", WG_EXTERN_FUNC, &t))
    why = "wasm: guest doesn't export func[handle_response]";
  else if (!is_valtypes(t.func.nparams, t.func.params, 2, WG_I32, WG_I32) || t.func.nresults != 0)
    why = "wasm: guest exports the wrong signature for func[handle_response]. should be (i32, 32) -> ()";
  else if (!find_export(mod, "memory", WG_EXTERN_MEMORY, &t))
    why = "wasm: guest doesn't export memory[memory]";
  /* Compiled now, once for every loop's instances, so that no request pays
   * for compiling the guest (wasmgate.h, issue 18.8). */
  wg_error *ce = NULL;
  if (!why && !wg_module_compile_all(mod, &ce)) why = "wasm: out of memory compiling the guest";
  wg_error_delete(ce);
  if (why) {
    wg_module_delete(mod);
    return wgg_err_set(err, "%s", why), NULL;
  }
  wgg_hw_module *m = calloc(1, sizeof *m);
  if (!m || !(m->name = strdup(s->name ? s->name : "guest")) ||
      (s->config_len && !(m->config = malloc(s->config_len)))) {
    if (m) free(m->name);
    free(m);
    wg_module_delete(mod);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  if (s->config_len) memcpy(m->config, s->config, s->config_len);
  m->config_len = s->config_len;
  m->mod = mod;
  m->strict = s->strict;
  m->deadline_ms = s->deadline_ms;
  m->max_memory_pages = s->max_memory_pages;
  m->refs = 1;
  if (m->strict && !(m->walltime = wg_wasi_walltime_new())) {
    wgg_hw_module_unref(m);
    return wgg_err_set(err, "out of memory"), NULL;
  }
  uint32_t ni = wg_module_import_count(mod);
  for (uint32_t i = 0; i < ni; i++) {
    wg_extern_desc d;
    if (!wg_module_import(mod, i, &d)) continue;
    if (d.module_len == 22 && !memcmp(d.module, "wasi_snapshot_preview1", 22)) m->imports_wasi = true;
    if (d.module_len == 12 && !memcmp(d.module, "http_handler", 12) && d.name_len == 9 &&
        (!memcmp(d.name, "read_body", 9) || !memcmp(d.name, "write_body", 9)))
      m->touches_body = true;
  }
  /* New instances (a pool growing, one replacing a discarded instance) map memory 0 from a
   * copy-on-write image of its initial contents when that is larger than 2 pages, as wasm apps do
   * (app_module.c memimage_make, bench/README.md): the guest's data is not copied again and only
   * the pages it writes become its own. WASMGATE_MEMORY_IMAGE=off turns it off. */
  wg_externtype mt;
  const char *how = getenv("WASMGATE_MEMORY_IMAGE");
  if (!(how && !strcmp(how, "off")) && wg_module_extern_type(mod, WG_EXTERN_MEMORY, 0, &mt) && mt.min > 2) {
    m->memimage = wg_memimage_new(mod, 0, NULL);
    if (m->memimage && !wg_memimage_is_cow(m->memimage)) { /* no memfd: the heap copy would cost more */
      wg_memimage_delete(m->memimage);
      m->memimage = NULL;
    }
  }
  wgg_wasm_ticker_start();
  return m;
}

void wgg_hw_module_ref(wgg_hw_module *m) { __atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED); }

void wgg_hw_module_unref(wgg_hw_module *m) {
  if (!m || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL)) return;
  wg_memimage_delete(m->memimage); /* memories made from it keep it until they go */
  wg_module_delete(m->mod);
  if (m->walltime) wg_wasi_walltime_delete(m->walltime);
  free(m->name);
  free(m->config);
  free(m);
}

const char *wgg_hw_module_name(const wgg_hw_module *m) { return m->name; }
uint32_t wgg_hw_module_features(const wgg_hw_module *m) { return __atomic_load_n(&m->features, __ATOMIC_RELAXED); }
uint64_t wgg_hw_module_deadline_ms(const wgg_hw_module *m) { return m->deadline_ms; }
wgg_hw_module *wgg_hw_instance_module(const wgg_hw_instance *i) { return i->m; }

/* Arms the store's deadline for what is left of budget_ms after used_ns. */
static void arm_deadline(wgg_hw_instance *i, uint64_t used_ns) {
  uint64_t ms = i->m->deadline_ms;
  if (!ms) {
    wg_store_clear_deadline(i->store);
    return;
  }
  uint64_t used_ms = used_ns / 1000000u, left = used_ms >= ms ? 1 : ms - used_ms;
  wg_store_set_deadline(i->store, (left + WGG_WASM_TICK_MS - 1) / WGG_WASM_TICK_MS + 1);
}

/* Formats a trap as wazero does ("wasm error: unreachable"), logs it with the
 * backtrace, and consumes it. */
static int trap_error(wgg_hw_instance *i, wg_trap *t, const char *fn, wgg_err *err) {
  wg_trap_code code = wg_trap_code_of(t);
  int exit_code = 0;
  if (i->wasi && wg_wasi_exited(i->wasi, &exit_code)) /* proc_exit: wazero closes the module */
    wgg_err_set(err, "module closed with exit_code(%d)", exit_code);
  else if (code == WG_TRAP_INTERRUPTED || code == WG_TRAP_YIELDED) /* yielded: the budget ran out over slices */
    wgg_err_set(err, "wasm error: interrupted (deadline of %llu ms)", (unsigned long long)i->m->deadline_ms);
  else if (code == WG_TRAP_HOST)
    wgg_err_set(err, "%s", wg_trap_message(t));
  else
    wgg_err_set(err, "wasm error: %s", wg_trap_message(t));
  const char *bt = wg_trap_backtrace(t);
  /* the innermost frames only (deep recursion would give thousands) */
  int frames = 0, len = 0;
  for (const char *p = bt ? bt : ""; *p && frames < 12; p++, len++) frames += *p == '\n';
  wgg_error("wasm: guest %s: %s failed: %s%s%.*s%s", i->m->name, fn, err ? err->msg : wg_trap_message(t),
            len ? "\nwasm stack trace:\n" : "", len, bt ? bt : "", bt && bt[len] ? "  ..." : "");
  wg_trap_delete(t);
  return -1;
}

wgg_hw_instance *wgg_hw_instance_new(wgg_hw_module *m, wgg_err *err) {
  wgg_hw_instance *i = calloc(1, sizeof *i);
  if (!i) return wgg_err_set(err, "out of memory"), NULL;
  wgg_hw_module_ref(m);
  i->m = m;
  char msg[256];
  uint32_t n = wg_module_import_count(m->mod);
  wg_extern *imports = calloc(n + 1, sizeof *imports);
  /* maxMemory bounds everything the guest's store holds (memory, tables,
   * globals, functions: wasmgate.h max_bytes), not its memory alone. */
  i->store = wg_store_new(NULL, &(wg_store_config){.value_stack_slots = HW_STACK_SLOTS,
                                                    .max_memory_pages = m->max_memory_pages,
                                                    .max_bytes = (uint64_t)m->max_memory_pages * 65536});
  if (!imports || !i->store) {
    wgg_err_set(err, "out of memory");
    goto fail;
  }
  if (m->memimage) wg_store_set_memimage(i->store, m->memimage);
  if (m->imports_wasi) {
    /* stdout/stderr are logged after each request: keep at most 64 KiB of each */
    wg_wasi_config cfg = {.use_stdin_buf = true, .capture_output = true, .capture_max = 64u << 10, .strict = m->strict,
                          .strict_walltime = m->walltime};
    if (!(i->wasi = wg_wasi_new(&cfg, msg, sizeof msg)) || !wg_wasi_link(i->wasi, i->store, m->mod, imports, msg, sizeof msg)) {
      wgg_err_set(err, "wasm: error instantiating wasi: %s", msg);
      goto fail;
    }
  }
  if (!wgg_hw_link_host(i, i->store, m->mod, imports, msg, sizeof msg)) {
    wgg_err_set(err, "wasm: error instantiating guest: %s", msg);
    goto fail;
  }
  for (uint32_t k = 0; k < n; k++)
    if (!imports[k].of.func) {
      wg_extern_desc d;
      wg_module_import(m->mod, k, &d);
      wgg_err_set(err, "wasm: error instantiating guest: module[%.*s] not instantiated", (int)d.module_len, d.module);
      goto fail;
    }
  /* instantiation (start section, _start, first-call compilation) gets ten
   * request budgets, at least a second */
  if (m->deadline_ms) {
    uint64_t ms = m->deadline_ms * 10 < 1000 ? 1000 : m->deadline_ms * 10;
    wg_store_set_deadline(i->store, (ms + WGG_WASM_TICK_MS - 1) / WGG_WASM_TICK_MS + 1);
  }
  wg_error *e = NULL;
  wg_trap *t = NULL;
  i->inst = wg_instance_new(i->store, m->mod, imports, n, &e, &t);
  wg_extern x;
  /* Host functions called from _start (get_config, real guests do) write into memory: know it first. */
  if (i->inst && wg_instance_export(i->inst, "memory", 6, &x) && x.kind == WG_EXTERN_MEMORY) i->mem = x.of.memory;
  /* a command's _start (host-go), or else a reactor's _initialize (the WASI
   * application ABI: it must run before any other export; host-go skips it) */
  const char *init = "_start";
  if (i->inst && !(wg_instance_export(i->inst, init, strlen(init), &x) && x.kind == WG_EXTERN_FUNC))
    init = "_initialize";
  if (i->inst && wg_instance_export(i->inst, init, strlen(init), &x) && x.kind == WG_EXTERN_FUNC)
    t = wg_func_call(i->store, x.of.func, NULL, 0, NULL, 0);
  int code = 0;
  if (t && i->wasi && wg_wasi_exited(i->wasi, &code) && code == 0) { /* proc_exit(0) ends _start normally */
    wg_trap_delete(t);
    t = NULL;
  }
  wgg_hw_flush_output(i);
  if (t) {
    wgg_err e2;
    trap_error(i, t, init, &e2);
    wgg_err_set(err, "wasm: error instantiating guest: module[%s] function[%s] failed: %s", m->name, init, e2.msg);
    goto fail;
  }
  if (!i->inst) {
    wgg_err_set(err, "wasm: error instantiating guest: %s", e ? wg_error_message(e) : "out of memory");
    wg_error_delete(e);
    goto fail;
  }
  wg_extern hr, hs, mem;
  wg_instance_export(i->inst, "handle_request", 14, &hr);
  wg_instance_export(i->inst, "handle_response", 15, &hs);
  wg_instance_export(i->inst, "memory", 6, &mem);
  i->handle_request = hr.of.func;
  i->handle_response = hs.of.func;
  i->mem = mem.of.memory;
  free(imports);
  return i;
fail:
  free(imports);
  wgg_hw_instance_free(i);
  return NULL;
}

bool wgg_hw_module_touches_body(const wgg_hw_module *m) {
  return m->touches_body;
}

void wgg_hw_instance_free(wgg_hw_instance *i) {
  if (!i) return;
  wg_store_delete(i->store);
  wg_wasi_delete(i->wasi);
  wgg_hw_module_unref(i->m);
  free(i);
}

void wgg_hw_flush_output(wgg_hw_instance *i) {
  if (!i->wasi) return;
  for (int fd = 1; fd <= 2; fd++) {
    size_t len = 0;
    const uint8_t *o = wg_wasi_output(i->wasi, fd, &len);
    if (!len) continue;
    while (len && (o[len - 1] == '\n')) len--;
    wgg_debug("wasm %s: %.*s", fd == 1 ? "stdout" : "stderr", (int)(len > 900 ? 900 : len), (const char *)o);
    wg_wasi_output_clear(i->wasi, fd);
  }
}

/* Runs one guest call with the deadline armed for the request's remaining budget
 * (sliced: for one slice, yielding at its end). */
static wg_trap *timed_call(wgg_hw_instance *i, wgg_hw_call *c, wg_func *f, const wg_val *args, size_t nargs,
                           wg_val *res, size_t nres, bool sliced) {
  wg_store_set_yield(i->store, sliced);
  if (sliced) wg_store_set_deadline(i->store, WGG_SLICE_DEADLINE);
  else arm_deadline(i, c->guest_ns);
  uint64_t t0 = uv_hrtime();
  i->call = c;
  wg_trap *t = f ? wg_func_call(i->store, f, args, nargs, res, nres) : wg_func_resume(i->store, NULL, 0, res, nres);
  i->call = NULL;
  c->guest_ns += uv_hrtime() - t0;
  return t;
}

/* After a slice: 1 when the guest yielded with budget left (parked), else
 * NULL/the trap to report (a yield past the budget is abandoned and reported
 * as the deadline). */
static int yielded(wgg_hw_instance *i, wgg_hw_call *c, wg_trap **t, uint8_t phase) {
  if (!*t || wg_trap_code_of(*t) != WG_TRAP_YIELDED) {
    c->parked = 0;
    return 0;
  }
  uint64_t budget = i->m->deadline_ms * 1000000u;
  if (budget && c->guest_ns >= budget) {
    wg_store_abandon(i->store);
    c->parked = 0;
    return 0; /* *t (YIELDED) reports as the deadline */
  }
  wg_trap_delete(*t);
  *t = NULL;
  c->parked = phase;
  return 1;
}

/* What handle_request's result means for the request body. */
static void request_done(wgg_hw_call *c, uint64_t ctx_next) {
  if ((uint32_t)ctx_next != 0 && !c->req_written && !(c->features & WGG_HW_BUFFER_REQUEST) && c->req_read) {
    /* host-go without buffer_request: next reads the rest of the consumed stream */
    wgg_buf *b = &c->ex->req_body;
    size_t k = c->req_read < b->len ? c->req_read : b->len;
    memmove(b->data, b->data + k, b->len - k);
    b->len -= k;
    b->data[b->len] = '\0';
    c->ex->req_changed = true;
  }
}

static int request(wgg_hw_instance *i, wgg_hw_call *c, uint64_t *ctx_next, wgg_err *err, bool sliced) {
  c->features = wgg_hw_module_features(i->m);
  c->after_next = false;
  c->parked = 0;
  wg_val res = {.kind = WG_I64};
  wg_trap *t = timed_call(i, c, i->handle_request, NULL, 0, &res, 1, sliced);
  if (sliced && yielded(i, c, &t, WGG_HW_PARKED_REQUEST)) return WGG_HW_PARKED;
  if (t) return trap_error(i, t, "handle_request", err);
  *ctx_next = (uint64_t)res.of.i64;
  request_done(c, *ctx_next);
  return 0;
}

static int response(wgg_hw_instance *i, wgg_hw_call *c, uint32_t req_ctx, bool is_error, wgg_err *err,
                    bool sliced) {
  c->after_next = true;
  c->resp_read = 0;
  c->parked = 0;
  wg_val args[2] = {{.kind = WG_I32, .of.i32 = (int32_t)req_ctx}, {.kind = WG_I32, .of.i32 = is_error ? 1 : 0}};
  wg_trap *t = timed_call(i, c, i->handle_response, args, 2, NULL, 0, sliced);
  if (sliced && yielded(i, c, &t, WGG_HW_PARKED_RESPONSE)) return WGG_HW_PARKED;
  if (t) return trap_error(i, t, "handle_response", err);
  return 0;
}

int wgg_hw_handle_request(wgg_hw_instance *i, wgg_hw_call *c, uint64_t *ctx_next, wgg_err *err) {
  return request(i, c, ctx_next, err, false);
}

int wgg_hw_handle_response(wgg_hw_instance *i, wgg_hw_call *c, uint32_t req_ctx, bool is_error, wgg_err *err) {
  return response(i, c, req_ctx, is_error, err, false);
}

int wgg_hw_handle_request_sliced(wgg_hw_instance *i, wgg_hw_call *c, uint64_t *ctx_next, wgg_err *err) {
  return request(i, c, ctx_next, err, true);
}

int wgg_hw_handle_response_sliced(wgg_hw_instance *i, wgg_hw_call *c, uint32_t req_ctx, bool is_error,
                                  wgg_err *err) {
  return response(i, c, req_ctx, is_error, err, true);
}

int wgg_hw_continue(wgg_hw_instance *i, wgg_hw_call *c, uint64_t *ctx_next, wgg_err *err) {
  uint8_t phase = c->parked;
  if (!phase || !wg_store_suspended(i->store)) {
    c->parked = 0;
    return wgg_err_set(err, "wasm: no parked guest call to continue");
  }
  bool req = phase == WGG_HW_PARKED_REQUEST;
  wg_val res = {.kind = WG_I64};
  wg_trap *t = timed_call(i, c, NULL, NULL, 0, &res, req ? 1 : 0, true);
  if (yielded(i, c, &t, phase)) return WGG_HW_PARKED;
  if (t) return trap_error(i, t, req ? "handle_request" : "handle_response", err);
  if (req) {
    *ctx_next = (uint64_t)res.of.i64;
    request_done(c, *ctx_next);
  }
  return 0;
}

void wgg_hw_abandon(wgg_hw_instance *i, wgg_hw_call *c) {
  if (!c->parked) return;
  if (wg_store_suspended(i->store)) wg_store_abandon(i->store);
  c->parked = 0;
}
