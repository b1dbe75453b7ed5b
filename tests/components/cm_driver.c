/*
 * cm_driver.c: runs the execution commands of the component-model test
 * suite's .wast scripts against one component (run_wast.mjs feeds it).
 *
 *   cm_driver FILE.wasm [--no-wasi] < commands
 *
 * Each input line is one command as an s-expression: `(invoke "f" ARGS)`,
 * `(assert_return (invoke "f" ARGS) RESULT?)` or `(assert_trap (invoke "f"
 * ARGS) "message")`, with the suite's value forms (`(u32.const 1)`,
 * `(str.const "a")`, `(list.const ...)`, `(record.const (field "k" ...))`,
 * `(variant.const "c" v)`, `(enum.const "e")`, `(flags.const "a" ...)`,
 * `(option.some v)`, `(option.none)`, `(result.ok v)`, `(result.err v)`,
 * `(tuple.const ...)`, `(char.const "c")`, `(bool.const true)`). Values are
 * read by the function's types. One output line per command: `pass`,
 * `fail WHY` or `error WHY`. The component is instantiated once (imports it
 * has are defined as trapping functions, after WASI 0.2 at 0.2.12 unless
 * --no-wasi, its output captured); exit 2 when that fails.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/src/component/cm_rt.h"
#include "wgwasi.h"

/* ------------------------------------------------------------ s-expressions */

typedef struct sx {
  bool list, str;
  char *atom; /* atoms and strings (decoded) */
  size_t len;
  struct sx *kids;
  size_t n;
} sx;

static void sx_free(sx *s) {
  for (size_t i = 0; i < s->n; i++) sx_free(&s->kids[i]);
  free(s->kids);
  free(s->atom);
}

static int hexv(int c) { return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10; }

static size_t put_utf8(char *o, uint32_t c) {
  if (c < 0x80) { o[0] = (char)c; return 1; }
  if (c < 0x800) { o[0] = (char)(0xC0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
  if (c < 0x10000) { o[0] = (char)(0xE0 | c >> 12); o[1] = (char)(0x80 | ((c >> 6) & 0x3F)); o[2] = (char)(0x80 | (c & 0x3F)); return 3; }
  o[0] = (char)(0xF0 | c >> 18); o[1] = (char)(0x80 | ((c >> 12) & 0x3F)); o[2] = (char)(0x80 | ((c >> 6) & 0x3F)); o[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

static bool parse(const char **p, sx *out) {
  memset(out, 0, sizeof *out);
  while (isspace((unsigned char)**p)) (*p)++;
  if (**p == '(') {
    (*p)++;
    out->list = true;
    for (;;) {
      while (isspace((unsigned char)**p)) (*p)++;
      if (!**p) return false;
      if (**p == ')') { (*p)++; return true; }
      out->kids = realloc(out->kids, (out->n + 1) * sizeof *out->kids);
      if (!parse(p, &out->kids[out->n++])) return false;
    }
  }
  if (**p == '"') {
    (*p)++;
    out->str = true;
    out->atom = malloc(strlen(*p) * 4 + 1);
    size_t n = 0;
    while (**p && **p != '"') {
      if (**p == '\\') {
        (*p)++;
        char c = **p;
        if (c == 'n') out->atom[n++] = '\n', (*p)++;
        else if (c == 't') out->atom[n++] = '\t', (*p)++;
        else if (c == 'r') out->atom[n++] = '\r', (*p)++;
        else if (c == 'u') {
          *p += 2;
          uint32_t cp = (uint32_t)strtoul(*p, (char **)p, 16);
          (*p)++;
          n += put_utf8(out->atom + n, cp);
        } else if (isxdigit((unsigned char)c) && isxdigit((unsigned char)(*p)[1])) {
          out->atom[n++] = (char)(hexv(c) * 16 + hexv((*p)[1]));
          *p += 2;
        } else out->atom[n++] = c, (*p)++;
      } else {
        out->atom[n++] = *(*p)++;
      }
    }
    if (**p != '"') return false;
    (*p)++;
    out->atom[n] = 0;
    out->len = n;
    return true;
  }
  const char *s = *p;
  while (**p && !isspace((unsigned char)**p) && **p != '(' && **p != ')') (*p)++;
  if (*p == s) return false;
  out->len = (size_t)(*p - s);
  out->atom = strndup(s, out->len);
  return true;
}

static const char *head(const sx *s) { return s->list && s->n && !s->kids[0].list ? s->kids[0].atom : ""; }

/* ------------------------------------------------------------ values */

static bool num(const char *a, bool sign, uint64_t *out) {
  char buf[128];
  size_t n = 0;
  for (; *a && n < sizeof buf - 1; a++)
    if (*a != '_') buf[n++] = *a;
  buf[n] = 0;
  char *end;
  if (sign && buf[0] == '-') *out = (uint64_t)strtoll(buf, &end, 0);
  else *out = strtoull(buf[0] == '+' ? buf + 1 : buf, &end, 0);
  return *end == 0;
}

static bool label_index(const cm_type *t, const char *name, uint32_t *out) {
  for (uint32_t i = 0; i < t->n; i++)
    if (t->fields[i].name && !strcmp(t->fields[i].name, name)) { *out = i; return true; }
  return false;
}

static bool to_val(const cm_type *t, const sx *s, wg_cval *v);

/* The value of `(field "k" str.const "a")`: items [from, n) of s. */
static bool inline_val(const cm_type *t, const sx *s, size_t from, wg_cval *v) {
  if (from < s->n && s->kids[from].list) return to_val(t, &s->kids[from], v);
  sx tmp = {.list = true, .kids = s->kids + from, .n = s->n - from};
  return to_val(t, &tmp, v);
}

static bool payload(const cm_type *ct, const sx *s, size_t at, wg_cval *v) {
  if (!ct) return true;
  v->of.var.val = wg_cval_array(1);
  return at < s->n && to_val(ct, &s->kids[at], v->of.var.val);
}

static bool to_val(const cm_type *t, const sx *s, wg_cval *v) {
  t = cm_root(t);
  const char *h = head(s);
  memset(v, 0, sizeof *v);
  const char *arg = s->n > 1 && !s->kids[1].list ? s->kids[1].atom : NULL;
  uint64_t u = 0;
  switch (t->kind) {
  case CM_BOOL: v->kind = WG_CVAL_BOOL; v->of.b = arg && !strcmp(arg, "true"); return !strcmp(h, "bool.const");
  case CM_S8: case CM_S16: case CM_S32: case CM_S64:
    v->kind = (wg_cval_kind)(WG_CVAL_S8 + (t->kind - CM_S8));
    if (!arg || !num(arg, true, &u)) return false;
    v->of.s = (int64_t)u;
    return true;
  case CM_U8: case CM_U16: case CM_U32: case CM_U64:
    v->kind = (wg_cval_kind)(WG_CVAL_S8 + (t->kind - CM_S8));
    if (!arg || !num(arg, false, &u)) return false;
    v->of.u = u;
    return true;
  case CM_F32: case CM_F64: {
    v->kind = t->kind == CM_F32 ? WG_CVAL_F32 : WG_CVAL_F64;
    if (!arg) return false;
    double d = strstr(arg, "nan") ? NAN : strtod(arg, NULL);
    if (t->kind == CM_F32) v->of.f32 = (float)d; else v->of.f64 = d;
    return true;
  }
  case CM_CHAR: {
    v->kind = WG_CVAL_CHAR;
    if (!arg) return false;
    const unsigned char *p = (const unsigned char *)arg;
    uint32_t c = p[0];
    if (c >= 0xF0) c = (c & 7u) << 18 | (p[1] & 0x3Fu) << 12 | (p[2] & 0x3Fu) << 6 | (p[3] & 0x3Fu);
    else if (c >= 0xE0) c = (c & 15u) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
    else if (c >= 0xC0) c = (c & 31u) << 6 | (p[1] & 0x3Fu);
    v->of.c = c;
    return true;
  }
  case CM_STRING: return arg && wg_cval_string(v, arg, s->kids[1].len);
  case CM_LIST: case CM_FIXED_LIST: case CM_TUPLE: case CM_MAP: {
    cm_type tmp;
    cm_field mf[2];
    const cm_type *le = t->kind == CM_TUPLE ? NULL : cm_list_elem(t, &tmp, mf);
    v->kind = t->kind == CM_TUPLE ? WG_CVAL_TUPLE : WG_CVAL_LIST;
    size_t n = s->n ? s->n - 1 : 0;
    v->of.seq.ptr = wg_cval_array(n);
    v->of.seq.len = n;
    for (size_t i = 0; i < n; i++) {
      const cm_type *et = t->kind == CM_TUPLE ? (i < t->n ? t->fields[i].type : NULL) : le;
      if (!et || !to_val(et, &s->kids[i + 1], &v->of.seq.ptr[i])) return false;
    }
    return true;
  }
  case CM_RECORD: {
    v->kind = WG_CVAL_RECORD;
    v->of.seq.ptr = wg_cval_array(t->n);
    v->of.seq.len = t->n;
    for (size_t i = 1; i < s->n; i++) {
      const sx *f = &s->kids[i];
      uint32_t k;
      if (f->n < 3 || !label_index(t, f->kids[1].atom, &k)) return false;
      if (!inline_val(t->fields[k].type, f, 2, &v->of.seq.ptr[k])) return false;
    }
    return true;
  }
  case CM_VARIANT: case CM_ENUM: {
    v->kind = t->kind == CM_VARIANT ? WG_CVAL_VARIANT : WG_CVAL_ENUM;
    if (!arg || !label_index(t, arg, &v->of.var.disc)) return false;
    return t->kind == CM_ENUM || payload(t->fields[v->of.var.disc].type, s, 2, v);
  }
  case CM_FLAGS:
    v->kind = WG_CVAL_FLAGS;
    for (size_t i = 1; i < s->n; i++) {
      uint32_t k;
      if (!label_index(t, s->kids[i].atom, &k)) return false;
      v->of.flags |= 1u << k;
    }
    return true;
  case CM_OPTION:
    v->kind = WG_CVAL_OPTION;
    v->of.var.disc = !strcmp(h, "option.some");
    return !v->of.var.disc || payload(t->elem, s, 1, v);
  case CM_RESULT:
    v->kind = WG_CVAL_RESULT;
    v->of.var.disc = !strcmp(h, "result.err");
    return payload(v->of.var.disc ? t->elem2 : t->elem, s, 1, v);
  default: return false;
  }
}

/* A list<u8> comes back from the engine as BYTES; the script's values are
 * LISTs of U8: the same value when the bytes agree. */
static bool same_bytes(const wg_cval *bytes, const wg_cval *v) {
  if (v->kind == WG_CVAL_BYTES)
    return v->of.bytes.len == bytes->of.bytes.len && !memcmp(v->of.bytes.ptr, bytes->of.bytes.ptr, v->of.bytes.len);
  if (v->kind != WG_CVAL_LIST || v->of.seq.len != bytes->of.bytes.len) return false;
  for (size_t i = 0; i < v->of.seq.len; i++)
    if (v->of.seq.ptr[i].kind != WG_CVAL_U8 || v->of.seq.ptr[i].of.u != bytes->of.bytes.ptr[i]) return false;
  return true;
}

static bool same(const wg_cval *a, const wg_cval *b) {
  if (a->kind == WG_CVAL_BYTES) return same_bytes(a, b);
  if (b->kind == WG_CVAL_BYTES) return same_bytes(b, a);
  if (a->kind != b->kind) return false;
  switch (a->kind) {
  case WG_CVAL_BOOL: return a->of.b == b->of.b;
  case WG_CVAL_S8: case WG_CVAL_S16: case WG_CVAL_S32: case WG_CVAL_S64: return a->of.s == b->of.s;
  case WG_CVAL_U8: case WG_CVAL_U16: case WG_CVAL_U32: case WG_CVAL_U64: return a->of.u == b->of.u;
  case WG_CVAL_F32: return a->of.f32 == b->of.f32 || (isnan(a->of.f32) && isnan(b->of.f32));
  case WG_CVAL_F64: return a->of.f64 == b->of.f64 || (isnan(a->of.f64) && isnan(b->of.f64));
  case WG_CVAL_CHAR: return a->of.c == b->of.c;
  case WG_CVAL_STRING: return a->of.str.len == b->of.str.len && !memcmp(a->of.str.ptr, b->of.str.ptr, a->of.str.len);
  case WG_CVAL_LIST: case WG_CVAL_RECORD: case WG_CVAL_TUPLE:
    if (a->of.seq.len != b->of.seq.len) return false;
    for (size_t i = 0; i < a->of.seq.len; i++)
      if (!same(&a->of.seq.ptr[i], &b->of.seq.ptr[i])) return false;
    return true;
  case WG_CVAL_FLAGS: return a->of.flags == b->of.flags;
  case WG_CVAL_ENUM: return a->of.var.disc == b->of.var.disc;
  case WG_CVAL_VARIANT: case WG_CVAL_OPTION: case WG_CVAL_RESULT:
    if (a->of.var.disc != b->of.var.disc || !a->of.var.val != !b->of.var.val) return false;
    return !a->of.var.val || same(a->of.var.val, b->of.var.val);
  default: return a->of.handle.rep == b->of.handle.rep;
  }
}

/* ------------------------------------------------------------ host functions */

/* wasmgate:test/host str-len: func(s: string, extra: u32) -> u32: the
 * string's length in bytes plus `extra` (a string and a scalar together) */
static wg_trap *host_str_len(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)nr;
  if (na != 2 || a[0].kind != WG_CVAL_STRING || a[1].kind != WG_CVAL_U32) return wg_trap_new(WG_TRAP_HOST, "str-len: bad arguments");
  *r = (wg_cval){.kind = WG_CVAL_U32, .of.u = a[0].of.str.len + a[1].of.u};
  return NULL;
}

/* bytes-sum: func(b: list<u8>) -> u32: the sum of the bytes (a list<u8>
 * arrives as one BYTES value) */
static wg_trap *host_bytes_sum(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)nr;
  if (na != 1 || a[0].kind != WG_CVAL_BYTES) return wg_trap_new(WG_TRAP_HOST, "bytes-sum: not BYTES");
  uint64_t sum = 0;
  for (size_t i = 0; i < a[0].of.bytes.len; i++) sum += a[0].of.bytes.ptr[i];
  *r = (wg_cval){.kind = WG_CVAL_U32, .of.u = (uint32_t)sum};
  return NULL;
}

/* char-id: func(c: char) -> char */
static wg_trap *host_char_id(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)na, (void)nr;
  *r = a[0];
  return NULL;
}

/* ------------------------------------------------------------ commands */

static wg_component_instance *inst;

static void run(const sx *cmd) {
  const char *h = head(cmd);
  const sx *inv = !strcmp(h, "invoke") ? cmd : cmd->n > 1 ? &cmd->kids[1] : NULL;
  if (!inv || strcmp(head(inv), "invoke") || inv->n < 2 || !inv->kids[1].str) {
    printf("error unsupported command\n");
    return;
  }
  wg_component_func *f = wg_component_instance_func(inst, NULL, inv->kids[1].atom);
  if (!f) {
    printf("error no export `%s`\n", inv->kids[1].atom);
    return;
  }
  size_t np = f->type->n, nr = f->type->elem ? 1 : 0;
  wg_cval args[32] = {0}, res = {0}, want = {0};
  bool ok = np <= 32 && inv->n - 2 == np;
  for (size_t i = 0; ok && i < np; i++) ok = to_val(f->type->fields[i].type, &inv->kids[i + 2], &args[i]);
  if (ok && !strcmp(h, "assert_return") && nr) ok = cmd->n > 2 && to_val(f->type->elem, &cmd->kids[2], &want);
  if (!ok) {
    printf("error cannot read the values\n");
  } else {
    wg_trap *tr = wg_component_func_call(f, args, np, &res, nr);
    if (!strcmp(h, "assert_trap")) {
      const char *m = cmd->n > 2 ? cmd->kids[2].atom : "";
      if (!strncmp(m, "wasm trap: ", 11)) m += 11;
      if (!tr) printf("fail expected a trap \"%s\", returned\n", m);
      else if (!strstr(wg_trap_message(tr), m)) printf("fail trapped with \"%s\", expected \"%s\"\n", wg_trap_message(tr), m);
      else printf("pass\n");
    } else if (tr) {
      printf("fail trapped: %s\n", wg_trap_message(tr));
    } else if (!strcmp(h, "assert_return") && nr && !same(&res, &want)) {
      if (res.kind == WG_CVAL_STRING) printf("fail wrong result \"%.*s\"\n", (int)res.of.str.len, res.of.str.ptr);
      else printf("fail wrong result\n");
    } else {
      printf("pass\n");
    }
    wg_trap_delete(tr);
  }
  for (size_t i = 0; i < np && i < 32; i++) wg_cval_free(&args[i]);
  wg_cval_free(&res);
  wg_cval_free(&want);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: cm_driver FILE.wasm < commands\n");
    return 2;
  }
  FILE *fp = fopen(argv[1], "rb");
  if (!fp) return 2;
  static uint8_t buf[16 << 20];
  size_t len = fread(buf, 1, sizeof buf, fp);
  fclose(fp);
  wg_error *err = NULL;
  wg_trap *trap = NULL;
  wg_component *c = wg_component_new(buf, len, &err);
  if (!c) {
    printf("error load: %s\n", wg_error_message(err));
    return 2;
  }
  wg_component_linker *l = wg_component_linker_new();
  wg_wasi *w = NULL;
  if (!(argc > 2 && !strcmp(argv[2], "--no-wasi"))) {
    const char *args[] = {argv[1]};
    wg_wasi_config wc = {.argc = 1, .argv = args, .capture_output = true};
    char e[256];
    if (!(w = wg_wasi_new(&wc, e, sizeof e)) || !wg_wasi_p2_define(w, l, e, sizeof e)) {
      printf("error wasi: %s\n", e);
      return 2;
    }
  }
  /* a host interface for the scripts' guest -> host calls (typed: checked at instantiation) */
  wg_component_linker_define_func_typed(l, "wasmgate:test/host", "str-len", "func(s: string, extra: u32) -> u32",
                                        host_str_len, NULL, NULL, NULL);
  wg_component_linker_define_func_typed(l, "wasmgate:test/host", "bytes-sum", "func(b: list<u8>) -> u32",
                                        host_bytes_sum, NULL, NULL, NULL);
  wg_component_linker_define_func_typed(l, "wasmgate:test/host", "char-id", "func(c: char) -> char", host_char_id,
                                        NULL, NULL, NULL);
  /* every type text (WASI 0.2's included) must parse, also those no script imports */
  if (!wg_component_linker_check_types(l, &err)) {
    printf("error types: %s\n", wg_error_message(err));
    return 2;
  }
  wg_component_linker_allow_unknown_imports(l, true);
  wg_store *s = wg_store_new(NULL, NULL);
  inst = wg_component_linker_instantiate(l, s, c, &err, &trap);
  int rc = 0;
  if (!inst) {
    printf("error instantiate: %s\n", err ? wg_error_message(err) : trap ? wg_trap_message(trap) : "?");
    rc = 2;
  } else {
    char line[1 << 16];
    while (fgets(line, sizeof line, stdin)) {
      const char *p = line;
      sx cmd;
      if (parse(&p, &cmd)) run(&cmd);
      else printf("error parse\n");
      sx_free(&cmd);
      fflush(stdout);
    }
  }
  wg_error_delete(err);
  wg_trap_delete(trap);
  wg_store_delete(s);
  wg_component_linker_delete(l);
  wg_wasi_delete(w);
  wg_component_delete(c);
  return rc;
}
