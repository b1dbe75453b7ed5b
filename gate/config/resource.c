/*
 * resource.c: Dapr resources from YAML to JSON with libyaml's document API.
 * Scalars are typed by the YAML 1.2 core schema (yaml.org/spec/1.2.2/
 * #1032-core-schema), which is what Dapr's YAML decoder yields for the values
 * users write; aliases are expanded under a node budget (a "billion laughs"
 * file fails instead of exhausting memory).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/resource.h"
#include "util/buf.h"
#include "util/err.h"

#define MAX_DEPTH 200
#define MAX_NODES 200000 /* Dapr resources are small; this bounds alias expansion */

typedef struct conv {
  yaml_document_t *doc;
  const char *file;
  json_t *lines;
  size_t nodes;
  wgg_err *err;
} conv;

static bool is_one_of(const char *s, const char *a, const char *b, const char *c) {
  return !strcmp(s, a) || !strcmp(s, b) || !strcmp(s, c);
}

/* [-+]?[0-9]+ */
static bool is_decimal(const char *s) {
  if (*s == '-' || *s == '+') s++;
  if (!*s) return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return false;
  return true;
}

/* 0x[0-9a-fA-F]+ or 0o[0-7]+ (after the prefix) */
static bool is_radix(const char *s, int base) {
  if (!*s) return false;
  for (; *s; s++) {
    int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
            : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : 99;
    if (d >= base) return false;
  }
  return true;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s) {
  if (*s == '-' || *s == '+') s++;
  size_t int_digits = 0, frac_digits = 0;
  while (*s >= '0' && *s <= '9') s++, int_digits++;
  if (*s == '.') {
    s++;
    while (*s >= '0' && *s <= '9') s++, frac_digits++;
  }
  if (!int_digits && !frac_digits) return false;
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '-' || *s == '+') s++;
    if (*s < '0' || *s > '9') return false;
    while (*s >= '0' && *s <= '9') s++;
  }
  return !*s;
}

/* A plain scalar as the core schema types it. */
static json_t *plain_scalar(const char *s) {
  if (!*s || !strcmp(s, "~") || is_one_of(s, "null", "Null", "NULL")) return json_null();
  if (is_one_of(s, "true", "True", "TRUE")) return json_true();
  if (is_one_of(s, "false", "False", "FALSE")) return json_false();
  int base = is_decimal(s) ? 10 : s[0] == '0' && s[1] == 'x' && is_radix(s + 2, 16) ? 16
             : s[0] == '0' && s[1] == 'o' && is_radix(s + 2, 8) ? 8 : 0;
  if (base) {
    errno = 0;
    char *end;
    long long v = strtoll(base == 10 ? s : s + 2, &end, base);
    if (!errno && !*end) return json_integer((json_int_t)v);
    return json_string(s); /* out of range: keep the text */
  }
  if (is_float(s)) return json_real(strtod(s, NULL));
  /* .inf and .nan have no JSON form: keep the text */
  return json_string(s);
}

/* Appends /key (escaped per RFC 6901) to the pointer in p (restored by the caller). */
static void ptr_push(wgg_buf *p, const char *key) {
  wgg_buf_append(p, "/", 1);
  for (const char *k = key; *k; k++) {
    if (*k == '~') wgg_buf_append(p, "~0", 2);
    else if (*k == '/') wgg_buf_append(p, "~1", 2);
    else wgg_buf_append(p, k, 1);
  }
}

static json_t *convert(conv *c, yaml_node_t *n, wgg_buf *ptr, int depth) {
  if (depth > MAX_DEPTH || ++c->nodes > MAX_NODES) {
    wgg_err_set(c->err, "%s:%zu: document too deeply nested or too large (alias expansion?)", c->file,
                n->start_mark.line + 1);
    return NULL;
  }
  json_object_set_new(c->lines, ptr->len ? ptr->data : "", json_integer((json_int_t)n->start_mark.line + 1));
  if (n->type == YAML_SCALAR_NODE) {
    const char *s = (const char *)n->data.scalar.value;
    json_t *v = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s)
                                                                : json_stringn(s, n->data.scalar.length);
    if (!v) wgg_err_set(c->err, "%s:%zu: invalid scalar (not UTF-8?)", c->file, n->start_mark.line + 1);
    return v;
  }
  size_t base = ptr->len;
  if (n->type == YAML_SEQUENCE_NODE) {
    json_t *a = json_array();
    size_t i = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; a && it < n->data.sequence.items.top; it++, i++) {
      char idx[24];
      snprintf(idx, sizeof idx, "%zu", i);
      ptr_push(ptr, idx);
      json_t *v = convert(c, yaml_document_get_node(c->doc, *it), ptr, depth + 1);
      ptr->len = base;
      if (ptr->data) ptr->data[base] = '\0';
      if (!v) return json_decref(a), NULL;
      json_array_append_new(a, v);
    }
    return a;
  }
  json_t *o = json_object();
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; o && p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
    if (!k || k->type != YAML_SCALAR_NODE) {
      wgg_err_set(c->err, "%s:%zu: mapping keys must be scalars", c->file, (k ? k : n)->start_mark.line + 1);
      return json_decref(o), NULL;
    }
    const char *key = (const char *)k->data.scalar.value;
    ptr_push(ptr, key);
    json_t *v = convert(c, yaml_document_get_node(c->doc, p->value), ptr, depth + 1);
    ptr->len = base;
    if (ptr->data) ptr->data[base] = '\0';
    if (!v) return json_decref(o), NULL;
    json_object_set_new(o, key, v);
  }
  return o;
}

static void resource_free(wgg_resource *r) {
  free(r->kind);
  free(r->api_version);
  free(r->name);
  free(r->file);
  json_decref(r->doc);
  json_decref(r->lines);
}

static bool in_scope(json_t *doc, const char *app_id) {
  json_t *scopes = json_object_get(doc, "scopes");
  if (!app_id || !json_is_array(scopes) || !json_array_size(scopes)) return true;
  size_t i;
  json_t *s;
  json_array_foreach(scopes, i, s) if (json_is_string(s) && !strcmp(json_string_value(s), app_id)) return true;
  return false;
}

static const char *str_at(json_t *o, const char *k1, const char *k2) {
  json_t *v = json_object_get(o, k1);
  if (k2) v = json_object_get(v, k2);
  return json_is_string(v) ? json_string_value(v) : "";
}

/* Converts one loaded document and appends it when it matches. */
static int take_doc(yaml_document_t *d, const char *file, const char *kind, const char *app_id,
                    wgg_resource_list *out, wgg_err *err) {
  yaml_node_t *root = yaml_document_get_root_node(d);
  if (root->type != YAML_MAPPING_NODE)
    return wgg_err_set(err, "%s:%zu: a resource must be a YAML mapping", file, root->start_mark.line + 1);
  wgg_resource r = {0};
  r.lines = json_object();
  wgg_buf ptr = {0};
  conv c = {d, file, r.lines, 0, err};
  r.doc = r.lines ? convert(&c, root, &ptr, 0) : NULL;
  wgg_buf_free(&ptr);
  if (!r.doc) {
    if (!err || !err->msg[0]) wgg_err_set(err, "%s: out of memory", file);
    resource_free(&r);
    return -1;
  }
  r.line = (int)root->start_mark.line + 1;
  const char *k = str_at(r.doc, "kind", NULL);
  if (!*k) {
    resource_free(&r);
    return wgg_err_set(err, "%s:%d: kind is required", file, (int)root->start_mark.line + 1);
  }
  if ((kind && strcmp(k, kind)) || !in_scope(r.doc, app_id)) {
    resource_free(&r);
    return 0;
  }
  r.kind = strdup(k);
  r.api_version = strdup(str_at(r.doc, "apiVersion", NULL));
  r.name = strdup(str_at(r.doc, "metadata", "name"));
  r.file = strdup(file);
  wgg_resource *grown = r.kind && r.api_version && r.name && r.file
                            ? realloc(out->items, (out->n + 1) * sizeof *out->items)
                            : NULL;
  if (!grown) {
    resource_free(&r);
    return wgg_err_set(err, "%s: out of memory", file);
  }
  out->items = grown;
  out->items[out->n++] = r;
  return 0;
}

int wgg_yaml_each_document(const char *file, const char *text, size_t len,
                           int (*fn)(yaml_document_t *doc, void *user), void *user, wgg_err *err) {
  yaml_parser_t parser;
  if (err) err->msg[0] = '\0';
  if (wgg_yaml_guard(file, text, len, err)) return -1;
  if (!yaml_parser_initialize(&parser)) return wgg_err_set(err, "%s: out of memory", file);
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  int rc = 0;
  for (;;) {
    yaml_document_t doc;
    if (!yaml_parser_load(&parser, &doc)) {
      rc = wgg_err_set(err, "%s:%zu:%zu: YAML error: %s%s%s", file, parser.problem_mark.line + 1,
                       parser.problem_mark.column + 1, parser.problem ? parser.problem : "invalid YAML",
                       parser.context ? " " : "", parser.context ? parser.context : "");
      break;
    }
    if (!yaml_document_get_root_node(&doc)) {
      yaml_document_delete(&doc);
      break;
    }
    rc = fn(&doc, user);
    yaml_document_delete(&doc);
    if (rc) break;
  }
  yaml_parser_delete(&parser);
  return rc;
}

typedef struct take_ctx {
  const char *file, *kind, *app_id;
  wgg_resource_list *out;
  wgg_err *err;
} take_ctx;

static int take_one(yaml_document_t *doc, void *user) {
  take_ctx *t = user;
  return take_doc(doc, t->file, t->kind, t->app_id, t->out, t->err);
}

int wgg_resources_parse(const char *file, const char *text, size_t len, const char *kind, const char *app_id,
                        wgg_resource_list *out, wgg_err *err) {
  take_ctx t = {file, kind, app_id, out, err};
  return wgg_yaml_each_document(file, text, len, take_one, &t, err);
}

static int has_yaml_ext(const char *n) {
  size_t l = strlen(n);
  return (l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml"));
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void wgg_resource_files_free(char **names, size_t n) {
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

int wgg_resource_files(const char *dir, char ***names_out, size_t *n_out, wgg_err *err) {
  *names_out = NULL;
  *n_out = 0;
  DIR *d = opendir(dir);
  if (!d) return wgg_err_set(err, "resources path %s: %s", dir, strerror(errno));
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !has_yaml_ext(e->d_name)) continue;
    char **g = realloc(names, (n + 1) * sizeof *g);
    size_t sz = strlen(dir) + strlen(e->d_name) + 2;
    if (g) names = g;
    if (!g || !(names[n] = malloc(sz))) {
      closedir(d);
      wgg_resource_files_free(names, n);
      return wgg_err_set(err, "out of memory");
    }
    snprintf(names[n++], sz, "%s/%s", dir, e->d_name);
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_str);
  *names_out = names;
  *n_out = n;
  return 0;
}

int wgg_yaml_read_file(wgg_buf *b, const char *path, wgg_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return wgg_err_set(err, "%s: %s", path, strerror(errno));
  char chunk[16384];
  size_t total = 0, n;
  int rc = 0;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if ((total += n) > WGG_YAML_MAX_BYTES) {
      rc = wgg_err_set(err, "%s: resource file is larger than the %u-byte limit", path, (unsigned)WGG_YAML_MAX_BYTES);
      break;
    }
    if (wgg_buf_append(b, chunk, n)) {
      rc = wgg_err_set(err, "%s: out of memory", path);
      break;
    }
  }
  if (!rc && ferror(f)) rc = wgg_err_set(err, "%s: read error", path);
  fclose(f);
  return rc;
}

static int load_one(const char *file, const char *kind, const char *app_id, wgg_resource_list *out, wgg_err *err) {
  wgg_buf text = {0};
  int rc = wgg_yaml_read_file(&text, file, err);
  if (!rc) rc = wgg_resources_parse(file, text.data ? text.data : "", text.len, kind, app_id, out, err);
  wgg_buf_free(&text);
  return rc;
}

int wgg_resources_load(const char *const *paths, size_t n_paths, const char *kind, const char *app_id,
                       wgg_resource_list *out, wgg_err *err) {
  *out = (wgg_resource_list){0};
  for (size_t i = 0; i < n_paths; i++) {
    char **files;
    size_t n;
    if (wgg_resource_files(paths[i], &files, &n, err)) goto fail;
    int rc = 0;
    for (size_t j = 0; j < n && !rc; j++) rc = load_one(files[j], kind, app_id, out, err);
    wgg_resource_files_free(files, n);
    if (rc) goto fail;
  }
  return 0;
fail:
  wgg_resource_list_free(out);
  return -1;
}

int wgg_resource_file_load(const char *file, const char *kind, wgg_resource_list *out, wgg_err *err) {
  *out = (wgg_resource_list){0};
  if (!load_one(file, kind, NULL, out, err)) return 0;
  wgg_resource_list_free(out);
  return -1;
}

void wgg_resource_list_free(wgg_resource_list *l) {
  for (size_t i = 0; i < l->n; i++) resource_free(&l->items[i]);
  free(l->items);
  *l = (wgg_resource_list){0};
}

int wgg_resource_line(const wgg_resource *r, const char *ptr) {
  json_t *v = json_object_get(r->lines, ptr ? ptr : "");
  return json_is_integer(v) ? (int)json_integer_value(v) : r->line;
}

const char *wgg_json_scalar(const json_t *v, char *tmp, size_t tmp_size) {
  if (json_is_string(v)) return json_string_value(v);
  if (json_is_integer(v)) snprintf(tmp, tmp_size, "%lld", (long long)json_integer_value(v));
  else if (json_is_real(v)) {
    /* the shortest of %.15g..%.17g that reads back as the same double */
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(tmp, tmp_size, "%.*g", prec, json_real_value(v));
      if (strtod(tmp, NULL) == json_real_value(v)) break;
    }
  }
  else if (json_is_boolean(v)) snprintf(tmp, tmp_size, "%s", json_is_true(v) ? "true" : "false");
  else return NULL;
  return tmp;
}
