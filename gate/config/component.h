/*
 * component.h: Dapr `Component` resources (apiVersion dapr.io/v1alpha1) read
 * from Dapr-format YAML (docs reference/resource-specs/component-schema.md).
 */
#ifndef WGG_CONFIG_COMPONENT_H
#define WGG_CONFIG_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>

#include "wggate.h"

/* One spec.metadata entry, with any secretKeyRef already resolved. A value
 * is bytes (Dapr's metadata values are Go strings: a double-quoted YAML
 * scalar may carry "\0" or any other byte): value_len bytes at value, always
 * followed by a NUL the length does not count. value_len 0 with a non-empty
 * value means "a C string" (entries built in code with only .value set). */
typedef struct wgg_meta_kv {
  char *name;
  char *value;       /* NULL until a secretKeyRef is resolved */
  size_t value_len;  /* bytes of value (see above) */
  char *secret_name; /* secretKeyRef.name, or NULL */
  char *secret_key;  /* secretKeyRef.key, or NULL */
  int line;
} wgg_meta_kv;

typedef struct wgg_component {
  bool endpoint;       /* kind HTTPEndpoint (docs reference/resource-specs/httpendpoints-schema.md):
                          base_url is spec.baseUrl, meta holds spec.headers, type is "HTTPEndpoint" */
  char *base_url;
  char *name;          /* metadata.name */
  char *type;          /* spec.type, e.g. "state.sqlite" */
  char *version;       /* spec.version, "" when absent */
  bool ignore_errors;  /* spec.ignoreErrors */
  char *secret_store;  /* auth.secretStore or NULL */
  wgg_meta_kv *meta;   /* spec.metadata */
  size_t n_meta;
  char **scopes;       /* scopes: app IDs allowed to load it (none = all) */
  size_t n_scopes;
  char *file;          /* where it was declared, for messages */
  int line;
} wgg_component;

/* A list of components, owned. */
typedef struct wgg_component_list {
  wgg_component *items;
  size_t n;
} wgg_component_list;

/* Returns the bytes of metadata entry `name` (case-insensitive, as Dapr's
 * metadata decoding is) and their count in *len, or NULL (*len 0) when
 * absent. The bytes may hold NULs; a NUL follows them. Borrowed from c. */
const char *wgg_component_meta_bytes(const wgg_component *c, const char *name, size_t *len);

/* The value of metadata entry `name` as a C string, for fields that are
 * text (URLs, numbers, names). NULL when absent, and NULL too when the value
 * holds a NUL byte, which a C string cannot carry: rather than cut the value
 * there, the entry is rejected, with an error logged naming the component,
 * the field and its file:line (a required field then fails the component's
 * init as missing). Byte-valued fields (guestConfig) use
 * wgg_component_meta_bytes. Borrowed from c. */
const char *wgg_component_meta(const wgg_component *c, const char *name);

/* The length of kv's value (see wgg_meta_kv). */
size_t wgg_meta_kv_len(const wgg_meta_kv *kv);

/* Loads every Component in the YAML files (*.yaml, *.yml; sorted by name) of
 * each directory in paths. Other kinds (Configuration, Subscription,
 * Resiliency) are skipped. Components whose scopes exclude
 * app_id are skipped. secretKeyRef values are resolved through a component of
 * type secretstores.local.env named by auth.secretStore. The templates
 * {appID} and {uuid} in metadata values are expanded.
 *
 * Returns 0 and fills *out (free with wgg_component_list_free), or -1 with err
 * naming the file and line: YAML syntax errors, a missing metadata.name or
 * spec.type, a malformed spec.metadata, an unresolvable secretKeyRef, two
 * components with the same name, an unreadable directory. */
int wgg_components_load(const char *const *paths, size_t n_paths, const char *app_id, wgg_component_list *out,
                        wgg_err *err);

/* Parses the YAML text of one file (name used in messages) and appends its
 * components to *out. Same rules and errors as wgg_components_load, without
 * secret resolution. Returns 0 or -1. */
int wgg_components_parse(const char *file, const char *text, size_t len, const char *app_id,
                         wgg_component_list *out, wgg_err *err);

/* Resolves secretKeyRef placeholders left by wgg_components_parse (see above).
 * Returns 0 or -1 with err. */
int wgg_components_resolve_secrets(wgg_component_list *list, wgg_err *err);

/* Appends a deep copy of c to list. Returns 0 or -1 (out of memory). */
int wgg_component_list_add(wgg_component_list *list, const wgg_component *c);

/* Frees every component and the array. */
void wgg_component_list_free(wgg_component_list *list);

#endif
