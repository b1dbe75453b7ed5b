/*
 * localstorage.c: the bindings.localstorage output binding (Dapr docs
 * reference/components-reference/supported-bindings/localstorage.md; the
 * behaviour follows components-contrib bindings/localstorage). Files live
 * under the component's `rootPath`; every file name is resolved inside it as
 * if rootPath were the file system's root (symlinks included), so no request
 * reaches outside it.
 *
 * Component metadata: rootPath (required; relative paths are taken from the
 * working directory; symlinks in its existing part are resolved; /proc, /sys,
 * /boot and /var/run/secrets are refused; the directory is created).
 *
 * Operations (request metadata `fileName`):
 *   create  writes the data to fileName (a random UUID when absent), creating
 *           parent directories; data that is a quoted Go string literal is
 *           unquoted, then data that is valid standard base64 is decoded (as
 *           daprd does). Answers {"fileName": "<path relative to rootPath>"}.
 *   get     answers the file's bytes; "file not found: <abs path>" when absent.
 *   delete  removes the file; answers nothing.
 *   list    answers a JSON array of the absolute paths of every non-directory
 *           below fileName (the root when absent), in lexical walk order;
 *           `null` when there is none, as Go's encoding/json.
 * Invoked on the libuv thread pool; holds no shared mutable state.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "components/bindings/binding.h"
#include "components/bindings/localstorage.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct ls_binding {
  wgg_binding base;
  char *root; /* absolute, cleaned, no trailing slash (except "/") */
} ls_binding;

static const char *const operations[] = {"create", "get", "list", "delete", NULL};

/* ---- paths ---- */

/* Lexically cleans an absolute path in place (Go's filepath.Clean). */
static void clean_abs(char *p) {
  char *out = p, *in = p;
  size_t n = 0; /* length written */
  while (*in) {
    while (*in == '/') in++;
    if (!*in) break;
    char *e = strchr(in, '/');
    size_t len = e ? (size_t)(e - in) : strlen(in);
    if (len == 1 && in[0] == '.') {
    } else if (len == 2 && in[0] == '.' && in[1] == '.') {
      while (n > 0 && out[n - 1] != '/') n--;
      if (n > 0) n--; /* the slash */
    } else {
      out[n++] = '/';
      memmove(out + n, in, len);
      n += len;
    }
    in += len;
  }
  if (n == 0) out[n++] = '/';
  out[n] = 0;
}

int wgg_localstorage_root(const char *root_path, char **out, wgg_err *err) {
  *out = NULL;
  if (!root_path || !*root_path) return wgg_err_set(err, "property rootPath must not be empty"), -1;
  char *p;
  if (root_path[0] == '/') {
    p = strdup(root_path);
  } else {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return wgg_err_set(err, "failed to obtain current working directory: %s", strerror(errno)), -1;
    if (asprintf(&p, "%s/%s", cwd, root_path) < 0) p = NULL;
  }
  if (!p) return wgg_err_set(err, "out of memory"), -1;
  clean_abs(p);
  /* resolve symlinks in the longest existing prefix */
  size_t cut = strlen(p);
  for (;;) {
    char save = p[cut];
    p[cut] = 0;
    struct stat st;
    int rc = stat(cut ? p : "/", &st);
    if (rc == 0) {
      p[cut] = save;
      if (!S_ISDIR(st.st_mode)) return free(p), wgg_err_set(err, "property rootPath represents a file and not a directory"), -1;
      break;
    }
    p[cut] = save;
    if (errno != ENOENT) return wgg_err_set(err, "error getting stat for path %s: %s", p, strerror(errno)), free(p), -1;
    while (cut > 0 && p[cut - 1] != '/') cut--;
    if (cut > 0) cut--; /* at the slash before the missing component */
  }
  char head[PATH_MAX];
  char save = p[cut];
  p[cut] = 0;
  if (!realpath(cut ? p : "/", head)) {
    p[cut] = save;
    wgg_err_set(err, "failed to evaluate symlinks in rootPath: %s", strerror(errno));
    return free(p), -1;
  }
  p[cut] = save;
  char *r;
  if (asprintf(&r, "%s%s", strcmp(head, "/") ? head : "", p + cut) < 0) return free(p), wgg_err_set(err, "out of memory"), -1;
  free(p);
  if (!*r) {
    free(r);
    r = strdup("/");
    if (!r) return wgg_err_set(err, "out of memory"), -1;
  }
  static const char *const disallowed[] = {"/proc", "/sys", "/boot", "/var/run/secrets"};
  for (size_t i = 0; i < sizeof disallowed / sizeof disallowed[0]; i++) {
    size_t dl = strlen(disallowed[i]);
    if (!strncmp(r, disallowed[i], dl) && (r[dl] == 0 || r[dl] == '/'))
      return free(r), wgg_err_set(err, "property rootPath points to a disallowed location"), -1;
  }
  *out = r;
  return 0;
}

/* Appends component (len bytes) to path (a buffer of PATH_MAX, length *n). */
static int push(char *path, size_t *n, const char *c, size_t len) {
  if (*n + 1 + len >= PATH_MAX) return -1;
  path[(*n)++] = '/';
  memcpy(path + *n, c, len);
  *n += len;
  path[*n] = 0;
  return 0;
}

int wgg_localstorage_join(const char *root, const char *name, char **abs, char **rel, wgg_err *err) {
  *abs = *rel = NULL;
  /* `rest` is the part of the name still to walk; symlinks get spliced in */
  char *rest = strdup(name ? name : "");
  char path[PATH_MAX]; /* relative to root, "" or "/a/b" */
  size_t n = 0, links = 0;
  path[0] = 0;
  if (!rest) return wgg_err_set(err, "out of memory"), -1;
  size_t rl = strlen(root);
  if (rl == 1) rl = 0; /* root "/" */
  char *cur = rest;
  while (*cur) {
    while (*cur == '/') cur++;
    if (!*cur) break;
    char *e = strchr(cur, '/');
    size_t len = e ? (size_t)(e - cur) : strlen(cur);
    if (len == 1 && cur[0] == '.') {
      cur += len;
      continue;
    }
    if (len == 2 && cur[0] == '.' && cur[1] == '.') {
      while (n > 0 && path[n - 1] != '/') n--;
      if (n > 0) n--;
      path[n] = 0;
      cur += len;
      continue;
    }
    size_t before = n;
    if (push(path, &n, cur, len)) goto toolong;
    cur += len;
    char full[PATH_MAX];
    if (rl + n >= sizeof full) goto toolong;
    memcpy(full, root, rl);
    memcpy(full + rl, path, n + 1);
    char target[PATH_MAX];
    ssize_t tl = readlink(full, target, sizeof target - 1);
    if (tl < 0) continue; /* not a link (or missing): keep the component */
    if (++links > 255) {
      free(rest);
      return wgg_err_set(err, "securejoin: too many links"), -1;
    }
    target[tl] = 0;
    if (target[0] == '/') before = 0; /* absolute targets are relative to root */
    n = before;
    path[n] = 0;
    char *next;
    if (asprintf(&next, "%s/%s", target, cur) < 0) {
      free(rest);
      return wgg_err_set(err, "out of memory"), -1;
    }
    free(rest);
    rest = cur = next;
  }
  free(rest);
  if (asprintf(abs, "%.*s%s", (int)rl, root, n ? path : (rl ? "" : "/")) < 0) *abs = NULL;
  *rel = strdup(n ? path + 1 : ".");
  if (!*abs || !*rel) {
    free(*abs), free(*rel);
    *abs = *rel = NULL;
    return wgg_err_set(err, "out of memory"), -1;
  }
  return 0;
toolong:
  free(rest);
  return wgg_err_set(err, "error getting absolute path for file %s: file name too long", name), -1;
}

/* ---- data decoding (what daprd's create does to the request data) ---- */

static int hexval(int c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void put_utf8(wgg_buf *b, unsigned long cp, int *bad) {
  char u[4];
  size_t k;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    *bad = 1;
    return;
  }
  if (cp < 0x80) u[0] = (char)cp, k = 1;
  else if (cp < 0x800) u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), k = 2;
  else if (cp < 0x10000)
    u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[2] = (char)(0x80 | (cp & 0x3F)), k = 3;
  else
    u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)), u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)),
    u[3] = (char)(0x80 | (cp & 0x3F)), k = 4;
  if (wgg_buf_append(b, u, k)) *bad = 1;
}

/* Go's strconv.Unquote for a double-quoted or back-quoted literal: 1 and
 * the decoded bytes in out when s is one, else 0. */
int wgg_go_unquote(const char *s, size_t len, wgg_buf *out) {
  if (len < 2 || s[0] != s[len - 1] || (s[0] != '"' && s[0] != '`')) return 0;
  const char *p = s + 1, *end = s + len - 1;
  int bad = 0;
  if (s[0] == '`') {
    for (const char *q = p; q < end; q++)
      if (*q == '`') return 0;
    for (const char *q = p; q < end && !bad; q++)
      if (*q != '\r' && wgg_buf_append(out, q, 1)) bad = 1;
    return !bad;
  }
  while (p < end && !bad) {
    unsigned char c = (unsigned char)*p;
    if (c == '"' || c == '\n') return 0;
    if (c != '\\') {
      if (wgg_buf_append(out, p, 1)) return 0;
      p++;
      continue;
    }
    if (++p >= end) return 0;
    char e = *p++;
    unsigned long v = 0;
    int digits = 0;
    switch (e) {
      case 'a': v = 7; break;
      case 'b': v = 8; break;
      case 'f': v = 12; break;
      case 'n': v = 10; break;
      case 'r': v = 13; break;
      case 't': v = 9; break;
      case 'v': v = 11; break;
      case '\\': v = '\\'; break;
      case '"': v = '"'; break;
      case 'x': digits = 2; break;
      case 'u': digits = 4; break;
      case 'U': digits = 8; break;
      default:
        if (e >= '0' && e <= '7') { /* three octal digits */
          if (end - p < 2 || p[0] < '0' || p[0] > '7' || p[1] < '0' || p[1] > '7') return 0;
          v = (unsigned long)((e - '0') * 64 + (p[0] - '0') * 8 + (p[1] - '0'));
          p += 2;
          if (v > 255) return 0;
          char byte = (char)v;
          if (wgg_buf_append(out, &byte, 1)) return 0;
          continue;
        }
        return 0;
    }
    if (digits) {
      if (end - p < digits) return 0;
      for (int i = 0; i < digits; i++) {
        int h = hexval((unsigned char)p[i]);
        if (h < 0) return 0;
        v = v * 16 + (unsigned long)h;
      }
      p += digits;
      if (e == 'x') {
        char byte = (char)v;
        if (wgg_buf_append(out, &byte, 1)) return 0;
        continue;
      }
      put_utf8(out, v, &bad);
      continue;
    }
    char byte = (char)v;
    if (wgg_buf_append(out, &byte, 1)) return 0;
  }
  return !bad;
}

static int b64val(int c) {
  return c >= 'A' && c <= 'Z' ? c - 'A'
         : c >= 'a' && c <= 'z' ? c - 'a' + 26
         : c >= '0' && c <= '9' ? c - '0' + 52
         : c == '+' ? 62
         : c == '/' ? 63
                    : -1;
}

/* Go's base64.StdEncoding.DecodeString (padded; CR and LF ignored; the
 * unused bits of the last quantum may be anything): 1 and the bytes in out
 * when s decodes, else 0. */
int wgg_go_base64_std(const char *s, size_t len, wgg_buf *out) {
  unsigned q[4];
  size_t k = 0;
  int pad = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\r' || c == '\n') continue;
    if (c == '=') {
      if (k < 2) return 0;
      pad++;
      q[k++] = 0;
    } else {
      if (pad) return 0;
      int v = b64val(c);
      if (v < 0) return 0;
      q[k++] = (unsigned)v;
    }
    if (k == 4) {
      unsigned char b[3] = {(unsigned char)(q[0] << 2 | q[1] >> 4), (unsigned char)(q[1] << 4 | q[2] >> 2),
                            (unsigned char)(q[2] << 6 | q[3])};
      if (wgg_buf_append(out, b, (size_t)(3 - pad))) return 0;
      k = 0;
      if (pad) { /* only line breaks may follow */
        for (size_t j = i + 1; j < len; j++)
          if (s[j] != '\r' && s[j] != '\n') return 0;
        return 1;
      }
    }
  }
  return k == 0;
}

/* ---- operations ---- */

static int mkdirs(const char *dir) {
  char p[PATH_MAX];
  size_t n = strlen(dir);
  if (n >= sizeof p) return errno = ENAMETOOLONG, -1;
  memcpy(p, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (p[i] != '/' && p[i] != 0) continue;
    char save = p[i];
    p[i] = 0;
    if (mkdir(p, 0777) && errno != EEXIST) return -1;
    p[i] = save;
  }
  struct stat st;
  if (stat(dir, &st)) return -1;
  return S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
}

static int uuid4(char out[37]) {
  unsigned char r[16];
  if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) return -1;
  r[6] = (unsigned char)((r[6] & 0x0F) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3F) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
           r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
  return 0;
}

static int op_create(ls_binding *b, const char *name, const char *data, size_t len, wgg_binding_result *out, wgg_err *err) {
  wgg_buf unq = {0}, dec = {0};
  if (wgg_go_unquote(data, len, &unq)) data = unq.data ? unq.data : "", len = unq.len;
  if (wgg_go_base64_std(data, len, &dec)) data = dec.data ? dec.data : "", len = dec.len;
  char *abs = NULL, *rel = NULL;
  int rc = -1;
  if (wgg_localstorage_join(b->root, name, &abs, &rel, err)) goto done;
  char *slash = strrchr(abs, '/');
  *slash = 0;
  int mk = mkdirs(*abs ? abs : "/");
  if (mk) wgg_err_set(err, "error creating directory %s: %s", *abs ? abs : "/", strerror(errno));
  *slash = '/';
  if (mk) goto done;
  int fd = open(abs, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    wgg_err_set(err, "error creating file %s: %s", abs, strerror(errno));
    goto done;
  }
  for (size_t off = 0; off < len;) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      wgg_err_set(err, "error writing to file %s: %s", abs, w < 0 ? strerror(errno) : "short write");
      close(fd);
      goto done;
    }
    off += (size_t)w;
  }
  if (close(fd)) {
    wgg_err_set(err, "error writing to file %s: %s", abs, strerror(errno));
    goto done;
  }
  json_t *resp = json_pack("{s:s}", "fileName", rel);
  out->data = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
  json_decref(resp);
  if (!out->data) {
    wgg_err_set(err, "error encoding response as JSON: out of memory");
    goto done;
  }
  out->len = strlen(out->data);
  rc = 0;
done:
  free(abs), free(rel), free(unq.data), free(dec.data);
  return rc;
}

static int op_get(ls_binding *b, const char *name, wgg_binding_result *out, wgg_err *err) {
  char *abs = NULL, *rel = NULL;
  if (wgg_localstorage_join(b->root, name, &abs, &rel, err)) return -1;
  int rc = -1, fd = open(abs, O_RDONLY | O_CLOEXEC);
  wgg_buf body = {0};
  if (fd < 0) {
    if (errno == ENOENT) wgg_err_set(err, "file not found: %s", abs);
    else wgg_err_set(err, "error opening path %s: %s", abs, strerror(errno));
    goto done;
  }
  char chunk[65536];
  for (;;) {
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      wgg_err_set(err, "error reading file %s: %s", abs, strerror(errno));
      close(fd);
      goto done;
    }
    if (r == 0) break;
    if (wgg_buf_append(&body, chunk, (size_t)r)) {
      wgg_err_set(err, "error reading file %s: out of memory", abs);
      close(fd);
      goto done;
    }
  }
  close(fd);
  out->data = body.data;
  out->len = body.len;
  body.data = NULL;
  rc = 0;
done:
  free(body.data), free(abs), free(rel);
  return rc;
}

static int op_delete(ls_binding *b, const char *name, wgg_err *err) {
  char *abs = NULL, *rel = NULL;
  if (wgg_localstorage_join(b->root, name, &abs, &rel, err)) return -1;
  /* os.Remove: a file, or an empty directory */
  int rc = unlink(abs);
  if (rc && (errno == EISDIR || errno == EPERM)) rc = rmdir(abs);
  if (rc) wgg_err_set(err, "error deleting file %s: %s", abs, strerror(errno));
  free(abs), free(rel);
  return rc ? -1 : 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* filepath.Walk: lexical order, symlinks not followed, non-directories listed. */
static int walk(const char *dir, json_t *files, int depth) {
  if (depth > 256) return 0;
  DIR *d = opendir(dir);
  if (!d) return 0; /* Walk's callback ignores errors */
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (n == cap) {
      char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *nn);
      if (!nn) break;
      names = nn;
    }
    if (!(names[n] = strdup(e->d_name))) break;
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_names);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    char *p;
    if (!rc && asprintf(&p, "%s/%s", strcmp(dir, "/") ? dir : "", names[i]) >= 0) {
      struct stat st;
      if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) rc = walk(p, files, depth + 1);
      else if (json_array_append_new(files, json_string(p))) rc = -1;
      free(p);
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

static int op_list(ls_binding *b, const char *name, wgg_binding_result *out, wgg_err *err) {
  char *abs = NULL, *rel = NULL;
  if (wgg_localstorage_join(b->root, name, &abs, &rel, err)) return -1;
  int rc = -1;
  struct stat st;
  json_t *files = json_array();
  if (stat(abs, &st)) {
    wgg_err_set(err, "error getting stats for path %s: %s", abs, strerror(errno));
  } else if (!S_ISDIR(st.st_mode)) {
    wgg_err_set(err, "unable to list files as the file specified is not a directory: %s", abs);
  } else if (!files || walk(abs, files, 0)) {
    wgg_err_set(err, "error listing files in the directory %s: out of memory", abs);
  } else {
    out->data = json_array_size(files) ? json_dumps(files, JSON_COMPACT) : strdup("null");
    if (out->data) out->len = strlen(out->data), rc = 0;
    else wgg_err_set(err, "error encoding response as JSON: out of memory");
  }
  json_decref(files);
  free(abs), free(rel);
  return rc;
}

static int ls_invoke(wgg_binding *base, const char *operation, const char *data, size_t len, json_t *metadata,
                     wgg_cancel *cancel, wgg_binding_result *out, wgg_err *err) {
  (void)cancel;
  ls_binding *b = (ls_binding *)base;
  const char *name = json_string_value(json_object_get(metadata, "fileName"));
  char uuid[37];
  if ((!name || !*name) && !strcmp(operation, "create")) {
    if (uuid4(uuid)) return wgg_err_set(err, "failed to generate UUID: %s", strerror(errno)), -1;
    name = uuid;
  }
  if (!name) name = "";
  if (!strcmp(operation, "create")) return op_create(b, name, data ? data : "", len, out, err);
  if (!strcmp(operation, "get")) return op_get(b, name, out, err);
  if (!strcmp(operation, "delete")) return op_delete(b, name, err);
  if (!strcmp(operation, "list")) return op_list(b, name, out, err);
  return wgg_err_set(err, "unsupported operation %s", operation), -1;
}

static void ls_destroy(wgg_binding *base) {
  ls_binding *b = (ls_binding *)base;
  free(b->root);
  free(b);
}

static const wgg_binding_ops ls_ops = {ls_invoke, ls_destroy};

wgg_binding *wgg_binding_localstorage_new(const wgg_component *c, const wgg_binding_opts *opts, wgg_err *err) {
  (void)opts;
  const char *root = wgg_component_meta(c, "rootPath");
  char *abs;
  wgg_err e = {0};
  if (wgg_localstorage_root(root, &abs, &e)) return wgg_err_set(err, "failed to parse metadata: %s", e.msg), NULL;
  if (mkdirs(abs)) {
    wgg_err_set(err, "unable to create directory specified by 'rootPath' %s: %s", abs, strerror(errno));
    free(abs);
    return NULL;
  }
  ls_binding *b = calloc(1, sizeof *b);
  if (!b) return free(abs), wgg_err_set(err, "out of memory"), NULL;
  b->base.ops = &ls_ops;
  b->base.operations = operations;
  b->root = abs;
  return &b->base;
}
