/*
 * component_yaml.c: parses Dapr `Component` resources out of YAML text with
 * libyaml's document API (docs reference/resource-specs/component-schema.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "config/component.h"
#include "config/resource.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/uuid.h"

typedef struct ctx {
  yaml_document_t *doc;
  const char *file;
  wgg_err *err;
} ctx;

static int fail(ctx *c, yaml_node_t *at, const char *fmt, const char *what) {
  char m[300];
  snprintf(m, sizeof m, fmt, what);
  return wgg_err_set(c->err, "%s:%zu: %s", c->file, at ? at->start_mark.line + 1 : 0, m);
}

/* Returns the value node for key in mapping node m, or NULL. */
static yaml_node_t *map_get(ctx *c, yaml_node_t *m, const char *key) {
  if (!m || m->type != YAML_MAPPING_NODE) return NULL;
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
    if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
      return yaml_document_get_node(c->doc, p->value);
  }
  return NULL;
}

/* The scalar text of node n, or NULL when n is not a scalar. */
static const char *scalar(yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Reads a scalar field; returns 0 (found or optional) or -1. */
static int get_str(ctx *c, yaml_node_t *m, const char *key, const char *path, bool required, char **out) {
  yaml_node_t *n = map_get(c, m, key);
  *out = NULL;
  if (!n) return required ? fail(c, m, "%s is required", path) : 0;
  const char *s = scalar(n);
  if (!s) return fail(c, n, "%s must be a string", path);
  if (required && !*s) return fail(c, n, "%s must not be empty", path);
  *out = strdup(s);
  return *out ? 0 : fail(c, n, "%s", "out of memory");
}

/* Expands {appID} and {uuid} in the n bytes at v (which may hold NULs);
 * returns a malloc'd, NUL-terminated copy with its length in *out_len, or
 * NULL (OOM). */
static char *expand(const char *v, size_t n, const char *app_id, size_t *out_len) {
  wgg_buf b = {0};
  for (size_t k = 0; k < n;) {
    if (n - k >= 7 && !memcmp(v + k, "{appID}", 7)) {
      if (wgg_buf_append(&b, app_id, strlen(app_id))) goto oom;
      k += 7;
    } else if (n - k >= 6 && !memcmp(v + k, "{uuid}", 6)) {
      char u[37];
      wgg_uuid_new(u);
      if (wgg_buf_append(&b, u, 36)) goto oom;
      k += 6;
    } else {
      if (wgg_buf_append(&b, v + k, 1)) goto oom;
      k++;
    }
  }
  *out_len = b.len;
  if (!b.data) return strdup("");
  return b.data;
oom:
  wgg_buf_free(&b);
  return NULL;
}

static void component_free(wgg_component *c) {
  free(c->base_url);
  free(c->name);
  free(c->type);
  free(c->version);
  free(c->secret_store);
  free(c->file);
  for (size_t i = 0; i < c->n_meta; i++) {
    free(c->meta[i].name);
    free(c->meta[i].value);
    free(c->meta[i].secret_name);
    free(c->meta[i].secret_key);
  }
  free(c->meta);
  for (size_t i = 0; i < c->n_scopes; i++) free(c->scopes[i]);
  free(c->scopes);
  memset(c, 0, sizeof *c);
}

static int parse_metadata(ctx *c, yaml_node_t *spec, wgg_component *comp, const char *app_id) {
  yaml_node_t *md = map_get(c, spec, comp->endpoint ? "headers" : "metadata");
  if (!md) return 0; /* Dapr requires it in the schema but loads components without it */
  if (md->type == YAML_SCALAR_NODE && !*scalar(md)) return 0;
  if (md->type != YAML_SEQUENCE_NODE) return fail(c, md, "%s must be a list of {name, value}", "spec.metadata");
  size_t n = (size_t)(md->data.sequence.items.top - md->data.sequence.items.start);
  comp->meta = calloc(n ? n : 1, sizeof *comp->meta);
  if (!comp->meta) return fail(c, md, "%s", "out of memory");
  for (yaml_node_item_t *it = md->data.sequence.items.start; it < md->data.sequence.items.top; it++) {
    yaml_node_t *e = yaml_document_get_node(c->doc, *it);
    if (!e || e->type != YAML_MAPPING_NODE) return fail(c, e, "%s must be a mapping", "spec.metadata entry");
    wgg_meta_kv *kv = &comp->meta[comp->n_meta++];
    kv->line = (int)e->start_mark.line + 1;
    if (get_str(c, e, "name", "spec.metadata[].name", true, &kv->name)) return -1;
    yaml_node_t *ref = map_get(c, e, "secretKeyRef");
    if (ref) {
      if (ref->type != YAML_MAPPING_NODE) return fail(c, ref, "%s must be a mapping", "secretKeyRef");
      if (get_str(c, ref, "name", "secretKeyRef.name", true, &kv->secret_name)) return -1;
      if (get_str(c, ref, "key", "secretKeyRef.key", false, &kv->secret_key)) return -1;
      continue;
    }
    yaml_node_t *v = map_get(c, e, "value");
    const char *s = v ? scalar(v) : "";
    if (!s) return fail(c, v, "metadata '%s' value must be a scalar", kv->name);
    /* the scalar's length, not strlen: "\0" in a double-quoted scalar is a byte of the value */
    size_t slen = v ? v->data.scalar.length : 0;
    if (!(kv->value = expand(s, slen, app_id, &kv->value_len))) return fail(c, v, "%s", "out of memory");
  }
  return 0;
}

/* Parses one YAML document; appends a component when it is one. */
static int parse_doc(ctx *c, const char *app_id, wgg_component_list *out) {
  yaml_node_t *root = yaml_document_get_root_node(c->doc);
  if (!root) return 0;
  if (root->type != YAML_MAPPING_NODE) return fail(c, root, "%s", "a resource must be a YAML mapping");
  const char *kind = scalar(map_get(c, root, "kind"));
  if (!kind) return fail(c, root, "%s", "kind is required");
  bool endpoint = !strcmp(kind, "HTTPEndpoint");
  if (strcmp(kind, "Component") && !endpoint) return 0; /* other resource kinds are not ours to load here */
  wgg_component comp = {0};
  comp.endpoint = endpoint;
  comp.line = (int)root->start_mark.line + 1;
  yaml_node_t *meta = map_get(c, root, "metadata"), *spec = map_get(c, root, "spec");
  if (!meta || meta->type != YAML_MAPPING_NODE) {
    fail(c, root, "%s", "metadata.name is required");
    goto bad;
  }
  if (get_str(c, meta, "name", "metadata.name", true, &comp.name)) goto bad;
  if (!spec || spec->type != YAML_MAPPING_NODE) {
    fail(c, root, "component '%s': spec is required", comp.name);
    goto bad;
  }
  if (endpoint) {
    if (get_str(c, spec, "baseUrl", "spec.baseUrl", true, &comp.base_url)) goto bad;
    if (strncmp(comp.base_url, "http://", 7) && strncmp(comp.base_url, "https://", 8)) {
      fail(c, map_get(c, spec, "baseUrl"), "spec.baseUrl '%s' must start with http:// or https://", comp.base_url);
      goto bad;
    }
    if (!(comp.type = strdup("HTTPEndpoint"))) goto bad;
  } else if (get_str(c, spec, "type", "spec.type", true, &comp.type)) {
    goto bad;
  }
  if (get_str(c, spec, "version", "spec.version", false, &comp.version)) goto bad;
  if (!comp.version && !(comp.version = strdup(""))) goto bad;
  const char *ign = scalar(map_get(c, spec, "ignoreErrors"));
  comp.ignore_errors = ign && (!strcasecmp(ign, "true") || !strcmp(ign, "1"));
  yaml_node_t *auth = map_get(c, root, "auth");
  if (auth && get_str(c, auth, "secretStore", "auth.secretStore", false, &comp.secret_store)) goto bad;
  if (parse_metadata(c, spec, &comp, app_id)) goto bad;

  yaml_node_t *scopes = map_get(c, root, "scopes");
  bool in_scope = true;
  if (scopes && scopes->type == YAML_SEQUENCE_NODE) {
    size_t n = (size_t)(scopes->data.sequence.items.top - scopes->data.sequence.items.start);
    if (n) in_scope = false;
    comp.scopes = calloc(n ? n : 1, sizeof *comp.scopes);
    if (!comp.scopes) goto bad;
    for (yaml_node_item_t *it = scopes->data.sequence.items.start; it < scopes->data.sequence.items.top; it++) {
      const char *s = scalar(yaml_document_get_node(c->doc, *it));
      if (!s) {
        fail(c, scopes, "%s", "scopes must be a list of app IDs");
        goto bad;
      }
      if (!(comp.scopes[comp.n_scopes++] = strdup(s))) goto bad;
      if (!strcmp(s, app_id)) in_scope = true;
    }
  } else if (scopes && !(scopes->type == YAML_SCALAR_NODE && !*scalar(scopes))) {
    fail(c, scopes, "%s", "scopes must be a list of app IDs");
    goto bad;
  }
  if (!(comp.file = strdup(c->file))) goto bad;
  for (size_t i = 0; i < out->n; i++)
    if (in_scope && out->items[i].endpoint == comp.endpoint && !strcmp(out->items[i].name, comp.name)) {
      wgg_err_set(c->err, "%s:%d: component '%s' is already declared in %s:%d", c->file, comp.line, comp.name,
                  out->items[i].file, out->items[i].line);
      goto bad;
    }
  if (in_scope) {
    wgg_component *grown = realloc(out->items, (out->n + 1) * sizeof *grown);
    if (!grown) goto bad;
    out->items = grown;
    out->items[out->n++] = comp;
  } else {
    component_free(&comp);
  }
  return 0;
bad:
  if (!c->err || !c->err->msg[0]) wgg_err_set(c->err, "%s: out of memory", c->file);
  component_free(&comp);
  return -1;
}

typedef struct parse_ctx {
  const char *file, *app_id;
  wgg_component_list *out;
  wgg_err *err;
} parse_ctx;

static int parse_one(yaml_document_t *doc, void *user) {
  parse_ctx *p = user;
  ctx c = {doc, p->file, p->err};
  return parse_doc(&c, p->app_id, p->out);
}

int wgg_components_parse(const char *file, const char *text, size_t len, const char *app_id,
                         wgg_component_list *out, wgg_err *err) {
  parse_ctx p = {file, app_id, out, err};
  return wgg_yaml_each_document(file, text, len, parse_one, &p, err);
}

size_t wgg_meta_kv_len(const wgg_meta_kv *kv) {
  if (!kv->value) return 0;
  return kv->value_len ? kv->value_len : strlen(kv->value);
}

static const wgg_meta_kv *meta_find(const wgg_component *c, const char *name) {
  for (size_t i = 0; i < c->n_meta; i++)
    if (!strcasecmp(c->meta[i].name, name)) return &c->meta[i];
  return NULL;
}

const char *wgg_component_meta_bytes(const wgg_component *c, const char *name, size_t *len) {
  const wgg_meta_kv *kv = meta_find(c, name);
  *len = kv ? wgg_meta_kv_len(kv) : 0;
  return kv ? kv->value : NULL;
}

const char *wgg_component_meta(const wgg_component *c, const char *name) {
  const wgg_meta_kv *kv = meta_find(c, name);
  if (!kv || !kv->value) return NULL;
  size_t len = wgg_meta_kv_len(kv);
  const char *nul = memchr(kv->value, '\0', len);
  if (nul) {
    wgg_error("%s:%d: component %s: metadata '%s' holds a NUL byte (at %zu of %zu); it is a text field, so the "
              "value is rejected rather than cut there",
              c->file ? c->file : "?", kv->line, c->name, kv->name, (size_t)(nul - kv->value), len);
    return NULL;
  }
  return kv->value;
}

int wgg_component_list_add(wgg_component_list *list, const wgg_component *c) {
  wgg_component copy = {0};
  copy.ignore_errors = c->ignore_errors;
  copy.endpoint = c->endpoint;
  if (c->base_url && !(copy.base_url = strdup(c->base_url))) goto oom;
  copy.line = c->line;
  if (!(copy.name = strdup(c->name)) || !(copy.type = strdup(c->type)) ||
      !(copy.version = strdup(c->version ? c->version : "")) || !(copy.file = strdup(c->file ? c->file : "")))
    goto oom;
  if (c->n_meta) {
    if (!(copy.meta = calloc(c->n_meta, sizeof *copy.meta))) goto oom;
    for (; copy.n_meta < c->n_meta; copy.n_meta++) {
      wgg_meta_kv *d = &copy.meta[copy.n_meta];
      const wgg_meta_kv *s = &c->meta[copy.n_meta];
      d->line = s->line;
      size_t vl = wgg_meta_kv_len(s);
      if (!(d->name = strdup(s->name)) || (s->value && !(d->value = wgg_strndup(s->value, vl)))) {
        copy.n_meta++;
        goto oom;
      }
      d->value_len = vl;
    }
  }
  wgg_component *grown = realloc(list->items, (list->n + 1) * sizeof *grown);
  if (!grown) goto oom;
  list->items = grown;
  list->items[list->n++] = copy;
  return 0;
oom:
  component_free(&copy);
  return -1;
}

void wgg_component_list_free(wgg_component_list *list) {
  for (size_t i = 0; i < list->n; i++) component_free(&list->items[i]);
  free(list->items);
  list->items = NULL;
  list->n = 0;
}
