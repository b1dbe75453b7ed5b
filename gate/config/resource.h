/*
 * resource.h: Dapr resources of any kind (Configuration, Subscription,
 * Resiliency, Component ...) read from Dapr-format YAML into JSON documents
 * (jansson), as Dapr decodes its YAML (sigs.k8s.io/yaml: YAML -> JSON ->
 * typed structs). Consumers read the JSON; every node keeps its YAML line so
 * errors can name file:line (docs reference/resource-specs/).
 */
#ifndef WGG_CONFIG_RESOURCE_H
#define WGG_CONFIG_RESOURCE_H

#include <jansson.h>
#include <stddef.h>
#include <yaml.h>

#include "util/buf.h"
#include "wggate.h"

typedef struct wgg_resource {
  char *kind;        /* "Configuration", "Subscription", "Resiliency", "Component", ... */
  char *api_version; /* e.g. "dapr.io/v2alpha1"; "" when absent */
  char *name;        /* metadata.name; "" when absent */
  json_t *doc;       /* the whole document (owned). Plain YAML scalars are typed as the YAML 1.2
                        core schema does (true/false -> bool, 3 -> integer, 1.5 -> real, null/~/empty
                        -> null); quoted and block scalars stay strings. */
  char *file;        /* the file it was read from */
  int line;          /* 1-based line of the document's root */
  json_t *lines;     /* private: JSON pointer -> line (object of integers) */
} wgg_resource;

typedef struct wgg_resource_list {
  wgg_resource *items;
  size_t n;
} wgg_resource_list;

/* Lists the YAML files (*.yaml, *.yml; hidden files skipped) of directory
 * dir, sorted by name, as full paths "dir/name". Returns 0 and *names (n of
 * them, each and the array malloc'd; free with wgg_resource_files_free), or -1
 * with err ("resources path DIR: <strerror>", out of memory). */
int wgg_resource_files(const char *dir, char ***names, size_t *n, wgg_err *err);

/* Frees what wgg_resource_files returned. */
void wgg_resource_files_free(char **names, size_t n);

/* go-yaml's nesting limits (max_flow_level, max_indents), applied by a
 * pre-scan before libyaml sees a file. */
#define WGG_YAML_MAX_DEPTH 10000
/* The largest resource file read (Dapr resources are a few KB). */
#define WGG_YAML_MAX_BYTES (16u << 20)

/* Checks YAML text before it is parsed, in one linear pass: at most
 * WGG_YAML_MAX_BYTES bytes, and flow collections and block levels each
 * nested at most WGG_YAML_MAX_DEPTH deep (libyaml's scanner is quadratic in
 * flow depth). Returns 0, or -1 with err "FILE:LINE: YAML nesting deeper
 * than 10000 flow collections|block levels" / "FILE: resource file is N
 * bytes, larger than the 16777216-byte limit" / out of memory. */
int wgg_yaml_guard(const char *file, const char *text, size_t len, wgg_err *err);

/* Reads a resource file into b (appended, NUL-terminated), at most
 * WGG_YAML_MAX_BYTES. Returns 0, or -1 with err naming the file (open/read
 * error, too large, out of memory). */
int wgg_yaml_read_file(wgg_buf *b, const char *path, wgg_err *err);

/* Loads each YAML document of text (len bytes; file names it in messages)
 * with libyaml and calls fn(doc, user) on it (doc is freed after fn returns)
 * until fn returns non-zero. Returns 0, fn's non-zero result, or -1 with err
 * "FILE:LINE:COL: YAML error: ..." / "FILE: out of memory" / an error of
 * wgg_yaml_guard, which runs first. err->msg is cleared first. */
int wgg_yaml_each_document(const char *file, const char *text, size_t len,
                           int (*fn)(yaml_document_t *doc, void *user), void *user, wgg_err *err);

/* Parses every YAML document of text (len bytes; file names it in messages)
 * whose `kind` is kind (NULL: every kind) and appends it to out. Documents
 * with a non-empty top-level `scopes` list that does not contain app_id are
 * skipped (app_id NULL: no filtering). Returns 0, or -1 with err:
 * "FILE:LINE:COL: YAML error: ...", "FILE:LINE: a resource must be a YAML
 * mapping", "FILE:LINE: kind is required", out of memory. On error the
 * documents already appended stay in out. */
int wgg_resources_parse(const char *file, const char *text, size_t len, const char *kind, const char *app_id,
                        wgg_resource_list *out, wgg_err *err);

/* Loads the documents of kind (NULL = all) from the YAML files of each
 * directory in paths (directories in order, files sorted by name;
 * multi-document files allowed), filtering by scopes as wgg_resources_parse.
 * Returns 0 and fills *out (free with wgg_resource_list_free), or -1 with err
 * (an unreadable directory or file, YAML errors with file:line); *out is
 * empty then. */
int wgg_resources_load(const char *const *paths, size_t n_paths, const char *kind, const char *app_id,
                       wgg_resource_list *out, wgg_err *err);

/* Loads the documents of kind (NULL = all) from one file (daprd's --config).
 * Same results and errors as wgg_resources_load, without scope filtering. */
int wgg_resource_file_load(const char *file, const char *kind, wgg_resource_list *out, wgg_err *err);

/* Frees the list's documents and array; l is left empty. */
void wgg_resource_list_free(wgg_resource_list *l);

/* Returns the 1-based YAML line of the node at JSON pointer ptr (RFC 6901,
 * e.g. "/spec/routes/rules/0"), or the document's line when there is no such
 * node. */
int wgg_resource_line(const wgg_resource *r, const char *ptr);

/* Returns the text of scalar v: a string's value, or a number/bool formatted
 * into tmp (tmp_size bytes; "3", "1.5", "true"). NULL for null, objects,
 * arrays and NULL v. The result is borrowed from v or tmp. */
const char *wgg_json_scalar(const json_t *v, char *tmp, size_t tmp_size);

#endif
