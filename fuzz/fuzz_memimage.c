/*
 * fuzz_memimage.c: libFuzzer target, differential, for copy-on-write memory images (wasmgate.h
 * wg_memimage_new, engine/src/memimage.c). Each valid module without imports for which an image
 * can be made is instantiated three times under the same small limits and fuel: the ordinary
 * way, from its copy-on-write image, and from the heap-copy image (twice for the cow one, so the
 * second reuses the reset mapping of the first). Instantiation must succeed or fail alike, and
 * memory 0 must have the same size and bytes in all; a refused image must give a reason. Then the
 * image instances have every exported function called (zero arguments, bounded fuel: they write,
 * grow, drop segments, trap) and are reset (wg_instance_reset, engine/src/reset.c): the reset must
 * succeed and give the memory and exported globals of a new instance again. Crashes, sanitizer
 * reports, leaks and any difference are findings.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasmgate.h"

typedef struct run {
  wg_store *s;
  wg_instance *i;
} run;

static run instantiate(const wg_module *m, wg_memimage *img) {
  wg_store_config cfg = {.value_stack_slots = 1u << 14, .max_call_depth = 200, .max_memory_pages = 16,
                         .max_table_elems = 10000};
  run r = {wg_store_new(NULL, &cfg), NULL};
  if (!r.s) abort();
  wg_store_set_fuel(r.s, 20000); /* the start function, if any, runs bounded */
  wg_store_set_memimage(r.s, img);
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  r.i = wg_instance_new(r.s, m, NULL, 0, &err, &trap);
  wg_error_delete(err);
  wg_trap_delete(trap);
  return r;
}

static void same(run *a, run *b) {
  if (!a->i != !b->i) abort(); /* one instantiated, the other did not */
  if (!a->i) return;
  wg_memory *ma = wg_instance_memory(a->i), *mb = wg_instance_memory(b->i);
  if (!ma || !mb) abort();
  uint64_t n = wg_memory_size(ma);
  if (n != wg_memory_size(mb) || memcmp(wg_memory_data(ma), wg_memory_data(mb), n)) abort();
  const wg_module *m = wg_instance_module(a->i);
  for (uint32_t k = 0; k < wg_module_export_count(m); k++) { /* exported globals too */
    wg_extern_desc d;
    wg_extern ga, gb;
    if (!wg_module_export(m, k, &d) || d.kind != WG_EXTERN_GLOBAL) continue;
    if (!wg_instance_extern(a->i, WG_EXTERN_GLOBAL, d.index, &ga) || !wg_instance_extern(b->i, WG_EXTERN_GLOBAL, d.index, &gb))
      abort();
    wg_val va, vb;
    wg_global_get(ga.of.global, &va);
    wg_global_get(gb.of.global, &vb);
    if (va.kind != vb.kind || (va.kind != WG_FUNCREF && va.kind != WG_EXTERNREF && memcmp(&va.of, &vb.of, sizeof va.of)))
      abort();
  }
}

/* Calls every exported function of r once with zero arguments (each with bounded fuel). */
static void mutate(run *r) {
  if (!r->i) return;
  const wg_module *m = wg_instance_module(r->i);
  for (uint32_t k = 0; k < wg_module_export_count(m); k++) {
    wg_extern_desc d;
    wg_extern f;
    if (!wg_module_export(m, k, &d) || d.kind != WG_EXTERN_FUNC || !wg_instance_extern(r->i, WG_EXTERN_FUNC, d.index, &f))
      continue;
    wg_functype_desc t = wg_func_type(f.of.func);
    if (t.nparams > 16 || t.nresults > 16) continue;
    wg_val args[16], res[16];
    memset(args, 0, sizeof args);
    for (uint32_t i = 0; i < t.nparams; i++) args[i].kind = t.params[i];
    wg_store_set_fuel(r->s, 20000);
    wg_trap_delete(wg_func_call(r->s, f.of.func, args, t.nparams, res, t.nresults));
  }
}

/* Resets r's instance with the fuel it was instantiated with: it must succeed (its start function
 * ran the same way at instantiation). */
static void reset(run *r) {
  if (!r->i) return;
  wg_store_set_fuel(r->s, 20000);
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  if (!wg_instance_reset(r->i, &err, &trap)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wg_module *m = wg_module_new(data, size, NULL);
  if (!m) return 0;
  if (wg_module_import_count(m) != 0) {
    wg_module_delete(m);
    return 0;
  }
  wg_error *err = NULL;
  wg_memimage *cow = wg_memimage_new(m, 0, &err), *copy = cow ? wg_memimage_new(m, WG_MEMIMAGE_NO_COW, NULL) : NULL;
  if (!cow) {
    if (!err || !wg_error_message(err)[0]) abort(); /* a refusal names its reason */
    wg_error_delete(err);
    wg_module_delete(m);
    return 0;
  }
  run plain = instantiate(m, NULL), c1 = instantiate(m, cow);
  same(&plain, &c1);
  wg_store_delete(c1.s); /* its mapping goes back to the image, reset */
  run c2 = instantiate(m, cow), cp = instantiate(m, copy);
  same(&plain, &c2);
  same(&plain, &cp);
  mutate(&c2);
  mutate(&cp);
  reset(&c2);
  reset(&cp);
  same(&plain, &c2);
  same(&plain, &cp);
  wg_store_delete(plain.s);
  wg_store_delete(c2.s);
  wg_store_delete(cp.s);
  wg_memimage_delete(cow);
  wg_memimage_delete(copy);
  wg_module_delete(m);
  return 0;
}
