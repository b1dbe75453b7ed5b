/*
 * fuzz_localstorage.c: bindings.localstorage's name resolution and data
 * decoding (gate/components/bindings/localstorage.c) on hostile input.
 * Input: a file name, then optionally '\n' and request data. Checks, beyond
 * memory safety, the property the binding's safety rests on: whatever the
 * name (with "..", absolute parts, NUL-free bytes), the resolved path is the
 * root or below it, and is the root joined with the relative name answered;
 * also through symlinks planted in the root that point at "/", at ".." and
 * at each other (a loop).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "components/bindings/localstorage.h"

/* The component lookup, unused by what this target calls. */
const char *wgg_component_meta(const wgg_component *c, const char *name) {
  (void)c, (void)name;
  return NULL;
}

static char root[256];

static void setup(void) {
  char tmpl[] = "/tmp/wg-fuzz-ls-XXXXXX";
  if (!mkdtemp(tmpl)) abort();
  char *r = NULL;
  wgg_err e = {0};
  if (wgg_localstorage_root(tmpl, &r, &e)) abort();
  snprintf(root, sizeof root, "%s", r);
  free(r);
  char p[512];
  snprintf(p, sizeof p, "%s/sub", root);
  if (mkdir(p, 0700)) abort();
  snprintf(p, sizeof p, "%s/sub/up", root);
  if (symlink("../..", p)) abort();
  snprintf(p, sizeof p, "%s/slash", root);
  if (symlink("/", p)) abort();
  snprintf(p, sizeof p, "%s/loop1", root);
  if (symlink("loop2", p)) abort();
  snprintf(p, sizeof p, "%s/loop2", root);
  if (symlink("loop1/x", p)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!*root) setup();
  const uint8_t *nl = memchr(data, '\n', size);
  size_t nlen = nl ? (size_t)(nl - data) : size;
  char *name = malloc(nlen + 1);
  if (!name) return 0;
  memcpy(name, data, nlen);
  name[nlen] = 0;
  name[strlen(name)] = 0; /* a C string: stop at the first NUL, as the JSON metadata value would */
  char *abs = NULL, *rel = NULL;
  wgg_err e = {0};
  if (!wgg_localstorage_join(root, name, &abs, &rel, &e)) {
    size_t rl = strlen(root);
    if (strncmp(abs, root, rl) || (abs[rl] && abs[rl] != '/')) abort(); /* below the root */
    if (!strcmp(rel, ".")) {
      if (abs[rl]) abort();
    } else if (strcmp(abs + rl + 1, rel) || strstr(rel, "//") || !strcmp(rel, "..") || !strncmp(rel, "../", 3) ||
               strstr(rel, "/../") || (strlen(rel) >= 3 && !strcmp(rel + strlen(rel) - 3, "/.."))) {
      abort();
    }
  }
  free(abs);
  free(rel);
  free(name);
  if (nl) {
    const char *d = (const char *)nl + 1;
    size_t dl = size - nlen - 1;
    wgg_buf a = {0}, b = {0};
    wgg_go_unquote(d, dl, &a);
    wgg_go_base64_std(d, dl, &b);
    if (b.len > dl) abort(); /* base64 never grows */
    free(a.data);
    free(b.data);
  }
  return 0;
}
