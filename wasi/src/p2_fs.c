/*
 * p2_fs.c: wasi:filesystem 0.2 (types, preopens) on the preview1 host code
 * (host.c, path.c): descriptors are the context's descriptors, so every
 * path resolves beneath a preopen with the same RESOLVE_BENEATH discipline
 * and rights as preview1. Implemented: preopens.get-directories;
 * descriptor read-via-stream, write-via-stream, append-via-stream,
 * get-type, get-flags, stat, stat-at, open-at, create-directory-at,
 * remove-directory-at, unlink-file-at, rename-at, readlink-at, read,
 * write, set-size, advise, is-same-object, read-directory with
 * directory-entry-stream.read-directory-entry, metadata-hash(-at), sync,
 * sync-data, set-times, set-times-at, link-at, symlink-at: every
 * method of wasi:filesystem/types 0.2.x; filesystem-error-code.
 */
#include <stdlib.h>
#include <string.h>

#include "p2.h"

#define V P2_V
#define FS "wasi:filesystem/types" V

static wg_trap *oom(void) { return wg_trap_new(WG_TRAP_RESOURCE, "out of memory"); }

/* wasi:filesystem error-code, by preview1 errno. */
static uint32_t error_code(int we) {
  switch (we) {
  case WE_ACCES: return 0;
  case WE_AGAIN: return 1;
  case WE_BADF: return 3;
  case WE_EXIST: return 7;
  case WE_INVAL: return 12;
  case WE_ISDIR: return 14;
  case WE_LOOP: return 15;
  case WE_NAMETOOLONG: return 18;
  case WE_NOENT: return 20;
  case WE_NOMEM: return 22;
  case WE_NOSPC: return 23;
  case WE_NOTDIR: return 24;
  case WE_NOTEMPTY: return 25;
  case WE_NOTSUP: case WE_NOSYS: return 27;
  case WE_OVERFLOW: return 30;
  case WE_PERM: case WE_NOTCAPABLE: return 31;
  case WE_SPIPE: return 34;
  default: return 13; /* io */
  }
}

/* descriptor-type, by preview1 filetype. */
static uint32_t dtype(uint8_t ft) {
  switch (ft) {
  case FT_BLOCK: return 1;
  case FT_CHAR: return 2;
  case FT_DIR: return 3;
  case FT_SYMLINK: return 5;
  case FT_REG: return 6;
  case FT_SOCK_DGRAM: case FT_SOCK_STREAM: return 7;
  default: return 0;
  }
}

static wg_cval *box(wg_cval v) {
  wg_cval *p = wg_cval_array(1);
  if (p) *p = v;
  return p;
}

/* result<T, error-code>: ok(v) (v NULL: no payload) or err(we) */
static wg_trap *result(wg_cval *r, int we, wg_cval *v) {
  r->kind = WG_CVAL_RESULT;
  if (we) {
    if (v) wg_cval_free(v), free(v);
    r->of.var.disc = 1;
    r->of.var.val = box((wg_cval){.kind = WG_CVAL_ENUM, .of.var.disc = error_code(we)});
    return r->of.var.val ? NULL : oom();
  }
  r->of.var.disc = 0;
  r->of.var.val = v;
  return NULL;
}

static wg_cval handle(const wg_component_resource_type *t, uint32_t rep) {
  return (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {rep, t}};
}

/* path strings arrive as UTF-8 with a length: NUL-terminate them */
static char *path_of(const wg_cval *v) {
  if (memchr(v->of.str.ptr, 0, v->of.str.len)) return NULL;
  return strndup(v->of.str.ptr, v->of.str.len);
}

/* ---------------------------------------------------------------- preopens */

static wg_trap *get_directories(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  p2 *p = P2(env);
  const char *name;
  uint32_t n = 0;
  while (!wasi_fd_prestat(p->w, 3 + n, &name)) n++;
  r->kind = WG_CVAL_LIST;
  if (!(r->of.seq.ptr = wg_cval_array(n))) return oom();
  r->of.seq.len = n;
  for (uint32_t i = 0; i < n; i++) {
    wasi_fd_prestat(p->w, 3 + i, &name);
    wg_cval *t = &r->of.seq.ptr[i];
    t->kind = WG_CVAL_TUPLE;
    if (!(t->of.seq.ptr = wg_cval_array(2))) return oom();
    t->of.seq.len = 2;
    t->of.seq.ptr[0] = handle(p->descriptor, 3 + i);
    if (!wg_cval_string(&t->of.seq.ptr[1], name, strlen(name))) return oom();
  }
  return NULL;
}

/* ---------------------------------------------------------------- descriptor */

static wg_trap *via_stream(p2 *p, const wg_cval *a, wg_cval *r, bool out, bool append) {
  uint32_t fd = a[0].of.handle.rep;
  int err = WE_BADF;
  wasi_fdstat st;
  if ((err = wasi_fd_fdstat(p->w, fd, &st))) return result(r, err, NULL);
  if (st.type == FT_DIR) return result(r, WE_ISDIR, NULL);
  uint64_t off = append ? 0 : a[1].of.u;
  uint32_t rep = p2_stream_new(p, fd, off, append);
  if (rep == UINT32_MAX) return oom();
  return result(r, 0, box(handle(out ? p->output : p->input, rep)));
}
static wg_trap *read_via_stream(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return via_stream(P2(env), a, r, false, false);
}
static wg_trap *write_via_stream(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return via_stream(P2(env), a, r, true, false);
}
static wg_trap *append_via_stream(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  uint64_t end;
  int e = wasi_fd_seek(p->w, a[0].of.handle.rep, 0, 2, &end); /* the appends use the descriptor's position */
  if (e) return result(r, e, NULL);
  return via_stream(p, a, r, true, true);
}

static wg_trap *get_type(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  wasi_fdstat st;
  int e = wasi_fd_fdstat(P2(env)->w, a[0].of.handle.rep, &st);
  return result(r, e, e ? NULL : box((wg_cval){.kind = WG_CVAL_ENUM, .of.var.disc = dtype(st.type)}));
}

static wg_trap *get_flags(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  wasi_fdstat st;
  int e = wasi_fd_fdstat(P2(env)->w, a[0].of.handle.rep, &st);
  uint32_t f = 0;
  if (!e) {
    if (st.rights_base & (R_FD_READ | R_FD_READDIR)) f |= 1;   /* read */
    if (st.rights_base & R_FD_WRITE) f |= 2;                   /* write */
    if (st.rights_base & R_PATH_CREATE_FILE) f |= 32;          /* mutate-directory */
  }
  return result(r, e, e ? NULL : box((wg_cval){.kind = WG_CVAL_FLAGS, .of.flags = f}));
}

static wg_cval datetime(uint64_t ns) {
  wg_cval v = {.kind = WG_CVAL_OPTION, .of.var.disc = 1};
  wg_cval *rec = box((wg_cval){.kind = WG_CVAL_RECORD});
  if (rec && (rec->of.seq.ptr = wg_cval_array(2))) {
    rec->of.seq.len = 2;
    rec->of.seq.ptr[0] = (wg_cval){.kind = WG_CVAL_U64, .of.u = ns / 1000000000u};
    rec->of.seq.ptr[1] = (wg_cval){.kind = WG_CVAL_U32, .of.u = ns % 1000000000u};
  }
  v.of.var.val = rec;
  return v;
}

static wg_trap *stat_result(wg_cval *r, int e, const wasi_filestat *st) {
  if (e) return result(r, e, NULL);
  wg_cval *rec = box((wg_cval){.kind = WG_CVAL_RECORD});
  if (!rec || !(rec->of.seq.ptr = wg_cval_array(6))) return free(rec), oom();
  rec->of.seq.len = 6;
  rec->of.seq.ptr[0] = (wg_cval){.kind = WG_CVAL_ENUM, .of.var.disc = dtype(st->type)};
  rec->of.seq.ptr[1] = (wg_cval){.kind = WG_CVAL_U64, .of.u = st->nlink};
  rec->of.seq.ptr[2] = (wg_cval){.kind = WG_CVAL_U64, .of.u = st->size};
  rec->of.seq.ptr[3] = datetime(st->atim);
  rec->of.seq.ptr[4] = datetime(st->mtim);
  rec->of.seq.ptr[5] = datetime(st->ctim);
  return result(r, 0, rec);
}

static wg_trap *stat_(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  wasi_filestat st;
  int e = wasi_fd_filestat(P2(env)->w, a[0].of.handle.rep, &st);
  return stat_result(r, e, &st);
}

static wg_trap *stat_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  char *path = path_of(&a[2]);
  if (!path) return result(r, WE_INVAL, NULL);
  wasi_filestat st;
  int e = wasi_path_filestat(P2(env)->w, a[0].of.handle.rep, a[1].of.flags & 1, path, &st);
  free(path);
  return stat_result(r, e, &st);
}

/* open-at(self, path-flags, path, open-flags, flags): open-flags are
 * preview1's oflags bit for bit (create, directory, exclusive, truncate). */
static wg_trap *open_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  char *path = path_of(&a[2]);
  if (!path) return result(r, WE_INVAL, NULL);
  uint32_t df = a[4].of.flags;
  uint64_t rights = R_ALL;
  if (!(df & 2)) rights &= ~(R_FD_WRITE | R_FD_ALLOCATE | R_FD_FILESTAT_SET_SIZE); /* not opened for writing */
  if (!(df & 1) && (df & 2)) rights &= ~(R_FD_READ | R_FD_READDIR);
  uint32_t fd = 0;
  int e = wasi_path_open(p->w, a[0].of.handle.rep, a[1].of.flags & 1, path, (uint16_t)(a[3].of.flags & 15), rights,
                         R_ALL, 0, &fd);
  free(path);
  return result(r, e, e ? NULL : box(handle(p->descriptor, fd)));
}

static wg_trap *path_op(void *env, const wg_cval *a, wg_cval *r, int (*op)(wg_wasi *, uint32_t, const char *)) {
  char *path = path_of(&a[1]);
  if (!path) return result(r, WE_INVAL, NULL);
  int e = op(P2(env)->w, a[0].of.handle.rep, path);
  free(path);
  return result(r, e, NULL);
}
static wg_trap *mkdir_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return path_op(env, a, r, wasi_path_mkdir);
}
static wg_trap *rmdir_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return path_op(env, a, r, wasi_path_rmdir);
}
static wg_trap *unlink_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return path_op(env, a, r, wasi_path_unlink);
}

static wg_trap *sync_(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return result(r, wasi_fd_sync(P2(env)->w, a[0].of.handle.rep, false), NULL);
}

static wg_trap *hash_result(wg_cval *r, int e, const wasi_filestat *st) {
  if (e) return result(r, e, NULL);
  wg_cval *rec = box((wg_cval){.kind = WG_CVAL_RECORD});
  if (!rec || !(rec->of.seq.ptr = wg_cval_array(2))) return free(rec), oom();
  rec->of.seq.len = 2;
  rec->of.seq.ptr[0] = (wg_cval){.kind = WG_CVAL_U64, .of.u = st->ino};
  rec->of.seq.ptr[1] = (wg_cval){.kind = WG_CVAL_U64, .of.u = st->dev};
  return result(r, 0, rec);
}
static wg_trap *metadata_hash(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  wasi_filestat st;
  int e = wasi_fd_filestat(P2(env)->w, a[0].of.handle.rep, &st);
  return hash_result(r, e, &st);
}
static wg_trap *metadata_hash_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  char *path = path_of(&a[2]);
  if (!path) return result(r, WE_INVAL, NULL);
  wasi_filestat st;
  int e = wasi_path_filestat(P2(env)->w, a[0].of.handle.rep, a[1].of.flags & 1, path, &st);
  free(path);
  return hash_result(r, e, &st);
}

static wg_trap *rename_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  char *from = path_of(&a[1]), *to = path_of(&a[3]);
  int e = from && to ? wasi_path_rename(P2(env)->w, a[0].of.handle.rep, from, a[2].of.handle.rep, to) : WE_INVAL;
  free(from);
  free(to);
  return result(r, e, NULL);
}

static wg_trap *readlink_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  char *path = path_of(&a[1]), buf[4096];
  size_t used = 0;
  int e = path ? wasi_path_readlink(P2(env)->w, a[0].of.handle.rep, path, buf, sizeof buf, &used) : WE_INVAL;
  free(path);
  if (e) return result(r, e, NULL);
  wg_cval *s = box((wg_cval){0});
  if (!s || !wg_cval_string(s, buf, used)) return free(s), oom();
  return result(r, 0, s);
}

/* read(self, length, offset) -> result<tuple<list<u8>, bool>, error-code> */
static wg_trap *read_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  size_t want = a[1].of.u > (1u << 20) ? (1u << 20) : (size_t)a[1].of.u, got = 0;
  uint8_t *buf = malloc(want ? want : 1);
  if (!buf) return oom();
  struct iovec iov = {buf, want};
  int e = want ? wasi_fd_read(P2(env)->w, a[0].of.handle.rep, &iov, 1, (int64_t)a[2].of.u, &got) : 0;
  if (e) return free(buf), result(r, e, NULL);
  wg_cval *t = box((wg_cval){.kind = WG_CVAL_TUPLE});
  if (!t || !(t->of.seq.ptr = wg_cval_array(2))) return free(t), free(buf), oom();
  t->of.seq.len = 2;
  t->of.seq.ptr[0] = (wg_cval){.kind = WG_CVAL_BYTES, .of.bytes = {buf, got}}; /* buf becomes the value's */
  t->of.seq.ptr[1] = (wg_cval){.kind = WG_CVAL_BOOL, .of.b = want && !got};
  return result(r, 0, t);
}

/* write(self, buffer, offset) -> result<filesize, error-code> */
static wg_trap *write_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  /* buffer: list<u8> (typed), so BYTES: a view of the guest's memory */
  size_t done = 0;
  struct iovec iov = {a[1].of.bytes.ptr, a[1].of.bytes.len};
  int e = wasi_fd_write(P2(env)->w, a[0].of.handle.rep, &iov, 1, (int64_t)a[2].of.u, &done);
  return result(r, e, e ? NULL : box((wg_cval){.kind = WG_CVAL_U64, .of.u = done}));
}

static wg_trap *set_size(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return result(r, wasi_fd_set_size(P2(env)->w, a[0].of.handle.rep, a[1].of.u), NULL);
}

/* advise(self, offset, length, advice): the advice enum has preview1's order */
static wg_trap *advise(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return result(r, wasi_fd_advise(P2(env)->w, a[0].of.handle.rep, a[1].of.u, a[2].of.u, (uint8_t)a[3].of.var.disc),
                NULL);
}

static wg_trap *is_same(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  wasi_filestat x, y;
  p2 *p = P2(env);
  bool same = !wasi_fd_filestat(p->w, a[0].of.handle.rep, &x) && !wasi_fd_filestat(p->w, a[1].of.handle.rep, &y) &&
              x.dev == y.dev && x.ino == y.ino;
  *r = (wg_cval){.kind = WG_CVAL_BOOL, .of.b = same};
  return NULL;
}

/* new-timestamp (variant no-change, now, timestamp(datetime)) as one half of
 * preview1's fstflags (`set`, `now`: the bits for this timestamp) and the
 * nanoseconds; false when the datetime does not fit in 64-bit nanoseconds. */
static bool new_timestamp(const wg_cval *v, uint16_t set, uint16_t now, uint16_t *fst, uint64_t *ns) {
  *ns = 0;
  if (v->of.var.disc == 1) *fst |= now;
  if (v->of.var.disc != 2) return true;
  const wg_cval *dt = v->of.var.val;
  uint64_t s = dt->of.seq.ptr[0].of.u, n = dt->of.seq.ptr[1].of.u;
  if (s > (UINT64_MAX - n) / 1000000000u) return false; /* nanoseconds past 1e9 carry, as a Duration */
  *ns = s * 1000000000u + n;
  *fst |= set;
  return true;
}

/* set-times(self, data-access-timestamp, data-modification-timestamp) */
static wg_trap *set_times(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  uint16_t fst = 0;
  uint64_t at, mt;
  if (!new_timestamp(&a[1], 1, 2, &fst, &at) || !new_timestamp(&a[2], 4, 8, &fst, &mt))
    return result(r, WE_OVERFLOW, NULL);
  return result(r, wasi_fd_set_times(P2(env)->w, a[0].of.handle.rep, at, mt, fst), NULL);
}

/* set-times-at(self, path-flags, path, data-access-timestamp, data-modification-timestamp) */
static wg_trap *set_times_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  uint16_t fst = 0;
  uint64_t at, mt;
  if (!new_timestamp(&a[3], 1, 2, &fst, &at) || !new_timestamp(&a[4], 4, 8, &fst, &mt))
    return result(r, WE_OVERFLOW, NULL);
  char *path = path_of(&a[2]);
  if (!path) return result(r, WE_INVAL, NULL);
  int e = wasi_path_set_times(P2(env)->w, a[0].of.handle.rep, a[1].of.flags & 1, path, at, mt, fst);
  free(path);
  return result(r, e, NULL);
}

/* link-at(self, old-path-flags, old-path, new-descriptor, new-path) */
static wg_trap *link_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  char *from = path_of(&a[2]), *to = path_of(&a[4]);
  int e = from && to ? wasi_path_link(P2(env)->w, a[0].of.handle.rep, a[1].of.flags & 1, from,
                                      a[3].of.handle.rep, to)
                     : WE_INVAL;
  free(from);
  free(to);
  return result(r, e, NULL);
}

/* symlink-at(self, old-path, new-path): old-path is the link's text */
static wg_trap *symlink_at(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  char *target = path_of(&a[1]), *path = path_of(&a[2]);
  int e = target && path ? wasi_path_symlink(P2(env)->w, target, a[0].of.handle.rep, path) : WE_INVAL;
  free(target);
  free(path);
  return result(r, e, NULL);
}

/* ---------------------------------------------------------------- directories */

static wg_trap *read_directory(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  wasi_fdstat st;
  int e = wasi_fd_fdstat(p->w, a[0].of.handle.rep, &st);
  if (!e && st.type != FT_DIR) e = WE_NOTDIR;
  if (e) return result(r, e, NULL);
  uint32_t i = 0;
  while (i < p->ndirs && p->dirs[i].used) i++;
  if (i == p->ndirs) {
    void *v = realloc(p->dirs, (p->ndirs + 1) * sizeof *p->dirs);
    if (!v) return oom();
    p->dirs = v;
    p->ndirs++;
  }
  p->dirs[i].used = true;
  p->dirs[i].fd = a[0].of.handle.rep;
  p->dirs[i].cookie = 0;
  return result(r, 0, box(handle(p->dirstream, i)));
}

typedef struct one_entry {
  bool got;
  wasi_dirent d;
  char name[4096];
} one_entry;

static bool take_one(void *ctx, const wasi_dirent *d) {
  one_entry *o = ctx;
  if (d->namelen >= sizeof o->name) return false;
  o->d = *d;
  memcpy(o->name, d->name, d->namelen);
  o->name[d->namelen] = 0;
  o->got = true;
  return false;
}

/* read-directory-entry: option<directory-entry>, "." and ".." skipped (as wasmtime). */
static wg_trap *read_entry(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  uint32_t i = a[0].of.handle.rep;
  if (i >= p->ndirs || !p->dirs[i].used) return result(r, WE_BADF, NULL);
  one_entry *o = malloc(sizeof *o);
  if (!o) return oom();
  for (;;) {
    o->got = false;
    int e = wasi_fd_readdir(p->w, p->dirs[i].fd, p->dirs[i].cookie, take_one, o);
    if (e) {
      free(o);
      return result(r, e, NULL);
    }
    if (!o->got) {
      free(o);
      return result(r, 0, box((wg_cval){.kind = WG_CVAL_OPTION}));
    }
    p->dirs[i].cookie = o->d.next;
    if (strcmp(o->name, ".") && strcmp(o->name, "..")) break;
  }
  wg_cval *ent = box((wg_cval){.kind = WG_CVAL_RECORD});
  if (!ent || !(ent->of.seq.ptr = wg_cval_array(2))) return free(o), free(ent), oom();
  ent->of.seq.len = 2;
  ent->of.seq.ptr[0] = (wg_cval){.kind = WG_CVAL_ENUM, .of.var.disc = dtype(o->d.type)};
  bool ok = wg_cval_string(&ent->of.seq.ptr[1], o->name, strlen(o->name));
  free(o);
  if (!ok) return oom();
  return result(r, 0, box((wg_cval){.kind = WG_CVAL_OPTION, .of.var = {1, ent}}));
}

static void dir_drop(void *env, uint32_t rep) {
  p2 *p = P2(env);
  if (rep < p->ndirs) p->dirs[rep].used = false;
}

static void descriptor_drop(void *env, uint32_t rep) {
  p2 *p = P2(env);
  const char *name;
  if (rep > 2 && wasi_fd_prestat(p->w, rep, &name)) wasi_fd_close(p->w, rep); /* preopens stay */
}

/* filesystem-error-code(err: borrow<error>) -> option<error-code>: stream
 * errors carry none. */
static wg_trap *fs_error_code(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na, (void)nr;
  *r = (wg_cval){.kind = WG_CVAL_OPTION};
  return NULL;
}

/* The named types of wasi:filesystem/types 0.2.x (WIT), for the functions' types. */
static const char *const fs_types[][2] = {
    {"input-stream", "wasi:io/streams" V "#input-stream"},
    {"output-stream", "wasi:io/streams" V "#output-stream"},
    {"error", "wasi:io/error" V "#error"},
    {"datetime", "wasi:clocks/wall-clock" V "#datetime"},
    {"descriptor-type",
     "enum { unknown, block-device, character-device, directory, fifo, symbolic-link, regular-file, socket }"},
    {"descriptor-flags", "flags { read, write, file-integrity-sync, data-integrity-sync, requested-write-sync, "
                         "mutate-directory }"},
    {"descriptor-stat", "record { type: descriptor-type, link-count: u64, size: u64, "
                        "data-access-timestamp: option<datetime>, data-modification-timestamp: option<datetime>, "
                        "status-change-timestamp: option<datetime> }"},
    {"path-flags", "flags { symlink-follow }"},
    {"open-flags", "flags { create, directory, exclusive, truncate }"},
    {"new-timestamp", "variant { no-change, now, timestamp(datetime) }"},
    {"directory-entry", "record { type: descriptor-type, name: string }"},
    {"error-code", "enum { access, would-block, already, bad-descriptor, busy, deadlock, quota, exist, "
                   "file-too-large, illegal-byte-sequence, in-progress, interrupted, invalid, io, is-directory, loop, "
                   "too-many-links, message-size, name-too-long, no-device, no-entry, no-lock, insufficient-memory, "
                   "insufficient-space, not-directory, not-empty, not-recoverable, unsupported, no-tty, "
                   "no-such-device, overflow, not-permitted, pipe, read-only, invalid-seek, text-file-busy, "
                   "cross-device }"},
    {"advice", "enum { normal, sequential, random, will-need, dont-need, no-reuse }"},
    {"metadata-hash-value", "record { lower: u64, upper: u64 }"},
};

/* Each function with its type (WIT wasi:filesystem 0.2.x), checked against
 * the component's import at instantiation: the functions rely on their
 * arguments' kinds (flags, enums, strings, list<u8> as BYTES, descriptors). */
static const struct {
  const char *inst, *name;
  wg_component_host_fn fn;
  const char *type;
} funcs[] = {
    {"wasi:filesystem/preopens" V, "get-directories", get_directories,
     "func() -> list<tuple<descriptor, string>>"},
    {FS, "[method]descriptor.read-via-stream", read_via_stream,
     "func(self: borrow<descriptor>, offset: u64) -> result<input-stream, error-code>"},
    {FS, "[method]descriptor.write-via-stream", write_via_stream,
     "func(self: borrow<descriptor>, offset: u64) -> result<output-stream, error-code>"},
    {FS, "[method]descriptor.append-via-stream", append_via_stream,
     "func(self: borrow<descriptor>) -> result<output-stream, error-code>"},
    {FS, "[method]descriptor.get-type", get_type,
     "func(self: borrow<descriptor>) -> result<descriptor-type, error-code>"},
    {FS, "[method]descriptor.get-flags", get_flags,
     "func(self: borrow<descriptor>) -> result<descriptor-flags, error-code>"},
    {FS, "[method]descriptor.stat", stat_,
     "func(self: borrow<descriptor>) -> result<descriptor-stat, error-code>"},
    {FS, "[method]descriptor.stat-at", stat_at,
     "func(self: borrow<descriptor>, path-flags: path-flags, path: string) -> result<descriptor-stat, error-code>"},
    {FS, "[method]descriptor.open-at", open_at,
     "func(self: borrow<descriptor>, path-flags: path-flags, path: string, open-flags: open-flags, flags: descriptor-flags) -> result<descriptor, error-code>"},
    {FS, "[method]descriptor.create-directory-at", mkdir_at,
     "func(self: borrow<descriptor>, path: string) -> result<_, error-code>"},
    {FS, "[method]descriptor.remove-directory-at", rmdir_at,
     "func(self: borrow<descriptor>, path: string) -> result<_, error-code>"},
    {FS, "[method]descriptor.unlink-file-at", unlink_at,
     "func(self: borrow<descriptor>, path: string) -> result<_, error-code>"},
    {FS, "[method]descriptor.sync", sync_,
     "func(self: borrow<descriptor>) -> result<_, error-code>"},
    {FS, "[method]descriptor.sync-data", sync_,
     "func(self: borrow<descriptor>) -> result<_, error-code>"},
    {FS, "[method]descriptor.metadata-hash", metadata_hash,
     "func(self: borrow<descriptor>) -> result<metadata-hash-value, error-code>"},
    {FS, "[method]descriptor.metadata-hash-at", metadata_hash_at,
     "func(self: borrow<descriptor>, path-flags: path-flags, path: string) -> result<metadata-hash-value, error-code>"},
    {FS, "[method]descriptor.read-directory", read_directory,
     "func(self: borrow<descriptor>) -> result<directory-entry-stream, error-code>"},
    {FS, "[method]directory-entry-stream.read-directory-entry", read_entry,
     "func(self: borrow<directory-entry-stream>) -> result<option<directory-entry>, error-code>"},
    {FS, "filesystem-error-code", fs_error_code,
     "func(err: borrow<error>) -> option<error-code>"},
    {FS, "[method]descriptor.rename-at", rename_at,
     "func(self: borrow<descriptor>, old-path: string, new-descriptor: borrow<descriptor>, new-path: string) -> result<_, error-code>"},
    {FS, "[method]descriptor.readlink-at", readlink_at,
     "func(self: borrow<descriptor>, path: string) -> result<string, error-code>"},
    {FS, "[method]descriptor.read", read_at,
     "func(self: borrow<descriptor>, length: u64, offset: u64) -> result<tuple<list<u8>, bool>, error-code>"},
    {FS, "[method]descriptor.write", write_at,
     "func(self: borrow<descriptor>, buffer: list<u8>, offset: u64) -> result<u64, error-code>"},
    {FS, "[method]descriptor.set-size", set_size,
     "func(self: borrow<descriptor>, size: u64) -> result<_, error-code>"},
    {FS, "[method]descriptor.advise", advise,
     "func(self: borrow<descriptor>, offset: u64, length: u64, advice: advice) -> result<_, error-code>"},
    {FS, "[method]descriptor.is-same-object", is_same,
     "func(self: borrow<descriptor>, other: borrow<descriptor>) -> bool"},
    {FS, "[method]descriptor.set-times", set_times,
     "func(self: borrow<descriptor>, data-access-timestamp: new-timestamp, data-modification-timestamp: new-timestamp) -> result<_, error-code>"},
    {FS, "[method]descriptor.set-times-at", set_times_at,
     "func(self: borrow<descriptor>, path-flags: path-flags, path: string, data-access-timestamp: new-timestamp, data-modification-timestamp: new-timestamp) -> result<_, error-code>"},
    {FS, "[method]descriptor.link-at", link_at,
     "func(self: borrow<descriptor>, old-path-flags: path-flags, old-path: string, new-descriptor: borrow<descriptor>, new-path: string) -> result<_, error-code>"},
    {FS, "[method]descriptor.symlink-at", symlink_at,
     "func(self: borrow<descriptor>, old-path: string, new-path: string) -> result<_, error-code>"},
};

bool p2_fs_define(p2 *p, wg_component_linker *l, wg_error **e) {
  bool ok = wg_component_linker_define_resource(l, FS, "descriptor", descriptor_drop, p, &p->descriptor, e) &&
            wg_component_linker_define_resource(l, FS, "directory-entry-stream", dir_drop, p, &p->dirstream, e) &&
            wg_component_linker_define_type(l, "wasi:filesystem/preopens" V, "descriptor", FS "#descriptor", e);
  for (size_t i = 0; ok && i < sizeof fs_types / sizeof *fs_types; i++)
    ok = wg_component_linker_define_type(l, FS, fs_types[i][0], fs_types[i][1], e);
  for (size_t i = 0; ok && i < sizeof funcs / sizeof *funcs; i++)
    ok = wg_component_linker_define_func_typed(l, funcs[i].inst, funcs[i].name, funcs[i].type, funcs[i].fn, p, NULL, e);
  return ok;
}
