/*
 * abi.c: WASI preview1's thin layer: decodes guest arguments, checks every
 * guest pointer through one helper (guest()), calls the host layer (host.c)
 * and writes results back in the ABI's layouts (wasi_snapshot_preview1.witx:
 * little-endian, iovec {buf u32, len u32}, fdstat 24 bytes, filestat 64,
 * prestat 8, dirent 24 + name, subscription 48, event 32). Sockets: the
 * runtime hands none out, so the sock_* calls answer ENOTSOCK (or EBADF).
 * proc_raise is not supported (ENOSYS), as signals have no meaning here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

typedef struct gmem {
  uint8_t *base;
  uint64_t size;
} gmem;

/* The one bounds check: [ptr, ptr+len) inside memory, or NULL. Zero-length
 * ranges are valid at any offset. */
static uint8_t *guest(const gmem *m, uint32_t ptr, uint64_t len) {
  static uint8_t empty;
  if (len == 0) return &empty;
  if ((uint64_t)ptr + len > m->size) return NULL;
  return m->base + ptr;
}

static bool put32(const gmem *m, uint32_t ptr, uint32_t v) {
  uint8_t *p = guest(m, ptr, 4);
  if (p) memcpy(p, &v, 4);
  return p != NULL;
}

static bool put64(const gmem *m, uint32_t ptr, uint64_t v) {
  uint8_t *p = guest(m, ptr, 8);
  if (p) memcpy(p, &v, 8);
  return p != NULL;
}

/* A guest path as a NUL-terminated copy (caller frees), or an errno. */
static int path_arg(const gmem *m, uint32_t ptr, uint32_t len, char **out) {
  uint8_t *p = guest(m, ptr, len);
  if (!p) return WE_FAULT;
  if (memchr(p, 0, len)) return WE_INVAL;
  if (!(*out = strndup((const char *)p, len))) return WE_NOMEM;
  return 0;
}

/* iovecs from guest memory, each buffer bounds-checked. */
static int iovecs(const gmem *m, uint32_t ptr, uint32_t n, struct iovec **out) {
  if (n > 1024) return WE_INVAL;
  uint8_t *v = guest(m, ptr, (uint64_t)n * 8);
  if (!v) return WE_FAULT;
  struct iovec *iov = calloc(n ? n : 1, sizeof *iov);
  if (!iov) return WE_NOMEM;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t buf, len;
    memcpy(&buf, v + 8 * i, 4);
    memcpy(&len, v + 8 * i + 4, 4);
    uint8_t *b = guest(m, buf, len);
    if (!b) {
      free(iov);
      return WE_FAULT;
    }
    iov[i] = (struct iovec){b, len};
  }
  *out = iov;
  return 0;
}

#define U32(i) ((uint32_t)a[i].of.i32)
#define U64(i) ((uint64_t)a[i].of.i64)

/* ---------------------------------------------------------------- args, environ */

static int strings_get(const gmem *m, int n, const char *const *v, uint32_t ptrs, uint32_t buf) {
  for (int i = 0; i < n; i++) {
    size_t len = strlen(v[i]) + 1;
    uint8_t *dst = guest(m, buf, len);
    if (!dst || !put32(m, ptrs + 4 * (uint32_t)i, buf)) return WE_FAULT;
    memcpy(dst, v[i], len);
    buf += (uint32_t)len;
  }
  return 0;
}

static int strings_sizes(const gmem *m, int n, const char *const *v, uint32_t count, uint32_t size) {
  uint64_t total = 0;
  for (int i = 0; i < n; i++) total += strlen(v[i]) + 1;
  return put32(m, count, (uint32_t)n) && put32(m, size, (uint32_t)total) ? 0 : WE_FAULT;
}

static int args_get(wg_wasi *w, const gmem *m, const wg_val *a) {
  const char *const *v;
  int n = wasi_args(w, &v);
  return strings_get(m, n, v, U32(0), U32(1));
}
static int args_sizes_get(wg_wasi *w, const gmem *m, const wg_val *a) {
  const char *const *v;
  int n = wasi_args(w, &v);
  return strings_sizes(m, n, v, U32(0), U32(1));
}
static int environ_get(wg_wasi *w, const gmem *m, const wg_val *a) {
  const char *const *v;
  int n = wasi_env(w, &v);
  return strings_get(m, n, v, U32(0), U32(1));
}
static int environ_sizes_get(wg_wasi *w, const gmem *m, const wg_val *a) {
  const char *const *v;
  int n = wasi_env(w, &v);
  return strings_sizes(m, n, v, U32(0), U32(1));
}

/* ---------------------------------------------------------------- clocks, random, yield */

static int clock_res_get(wg_wasi *w, const gmem *m, const wg_val *a) {
  uint64_t ns;
  int r = wasi_clock_res(w, U32(0), &ns);
  return r ? r : put64(m, U32(1), ns) ? 0 : WE_FAULT;
}
static int clock_time_get(wg_wasi *w, const gmem *m, const wg_val *a) {
  uint64_t ns;
  int r = wasi_clock_time(w, U32(0), &ns);
  return r ? r : put64(m, U32(2), ns) ? 0 : WE_FAULT;
}
static int random_get(wg_wasi *w, const gmem *m, const wg_val *a) {
  uint8_t *p = guest(m, U32(0), U32(1));
  return p ? wasi_random(w, p, U32(1)) : WE_FAULT;
}
static int sched_yield_(wg_wasi *w, const gmem *m, const wg_val *a) {
  (void)w, (void)m, (void)a;
  return 0;
}

/* ---------------------------------------------------------------- descriptors */

static int fd_close(wg_wasi *w, const gmem *m, const wg_val *a) {
  (void)m;
  return wasi_fd_close(w, U32(0));
}

static int rw(wg_wasi *w, const gmem *m, uint32_t fd, uint32_t iov, uint32_t n, int64_t off, uint32_t out, bool write) {
  struct iovec *v;
  int r = iovecs(m, iov, n, &v);
  if (r) return r;
  size_t done = 0;
  r = write ? wasi_fd_write(w, fd, v, (int)n, off, &done) : wasi_fd_read(w, fd, v, (int)n, off, &done);
  free(v);
  if (r) return r;
  return put32(m, out, (uint32_t)done) ? 0 : WE_FAULT;
}
static int fd_read(wg_wasi *w, const gmem *m, const wg_val *a) { return rw(w, m, U32(0), U32(1), U32(2), -1, U32(3), false); }
static int fd_write(wg_wasi *w, const gmem *m, const wg_val *a) { return rw(w, m, U32(0), U32(1), U32(2), -1, U32(3), true); }
static int fd_pread(wg_wasi *w, const gmem *m, const wg_val *a) {
  return a[3].of.i64 < 0 ? WE_INVAL : rw(w, m, U32(0), U32(1), U32(2), a[3].of.i64, U32(4), false);
}
static int fd_pwrite(wg_wasi *w, const gmem *m, const wg_val *a) {
  return a[3].of.i64 < 0 ? WE_INVAL : rw(w, m, U32(0), U32(1), U32(2), a[3].of.i64, U32(4), true);
}

static int fd_seek(wg_wasi *w, const gmem *m, const wg_val *a) {
  uint64_t pos;
  uint32_t whence = U32(2);
  if (whence > 2) return WE_INVAL;
  int r = wasi_fd_seek(w, U32(0), a[1].of.i64, (int)whence, &pos); /* 0 set, 1 cur, 2 end = SEEK_* */
  return r ? r : put64(m, U32(3), pos) ? 0 : WE_FAULT;
}
static int fd_tell(wg_wasi *w, const gmem *m, const wg_val *a) {
  uint64_t pos;
  int r = wasi_fd_seek(w, U32(0), 0, 1, &pos);
  return r ? r : put64(m, U32(1), pos) ? 0 : WE_FAULT;
}
static int fd_sync(wg_wasi *w, const gmem *m, const wg_val *a) {
  (void)m;
  return wasi_fd_sync(w, U32(0), false);
}
static int fd_datasync(wg_wasi *w, const gmem *m, const wg_val *a) {
  (void)m;
  return wasi_fd_sync(w, U32(0), true);
}

static int fd_fdstat_get(wg_wasi *w, const gmem *m, const wg_val *a) {
  wasi_fdstat st;
  int r = wasi_fd_fdstat(w, U32(0), &st);
  if (r) return r;
  uint8_t *p = guest(m, U32(1), 24);
  if (!p) return WE_FAULT;
  memset(p, 0, 24);
  p[0] = st.type;
  memcpy(p + 2, &st.flags, 2);
  memcpy(p + 8, &st.rights_base, 8);
  memcpy(p + 16, &st.rights_inheriting, 8);
  return 0;
}
static int fd_fdstat_set_flags(wg_wasi *w, const gmem *m, const wg_val *a) {
  (void)m;
  return wasi_fd_set_flags(w, U32(0), (uint16_t)U32(1));
}

/* filestat: preview1 is 64 bytes with a u64 link count at 24; preview0
 * (wasi_unstable) is 56 bytes with a u32 link count at 20, the rest moved up. */
static int write_filestat_v(const gmem *m, uint32_t ptr, const wasi_filestat *st, bool preview0) {
  uint32_t size = preview0 ? 56 : 64, after = preview0 ? 24 : 32;
  uint8_t *p = guest(m, ptr, size);
  if (!p) return WE_FAULT;
  memset(p, 0, size);
  memcpy(p, &st->dev, 8);
  memcpy(p + 8, &st->ino, 8);
  p[16] = st->type;
  if (preview0) {
    uint32_t nlink = st->nlink > UINT32_MAX ? UINT32_MAX : (uint32_t)st->nlink;
    memcpy(p + 20, &nlink, 4);
  } else {
    memcpy(p + 24, &st->nlink, 8);
  }
  memcpy(p + after, &st->size, 8);
  memcpy(p + after + 8, &st->atim, 8);
  memcpy(p + after + 16, &st->mtim, 8);
  memcpy(p + after + 24, &st->ctim, 8);
  return 0;
}
static int write_filestat(const gmem *m, uint32_t ptr, const wasi_filestat *st) {
  return write_filestat_v(m, ptr, st, false);
}
static int fd_filestat_get(wg_wasi *w, const gmem *m, const wg_val *a) {
  wasi_filestat st;
  int r = wasi_fd_filestat(w, U32(0), &st);
  return r ? r : write_filestat(m, U32(1), &st);
}

static int fd_prestat_get(wg_wasi *w, const gmem *m, const wg_val *a) {
  const char *name;
  int r = wasi_fd_prestat(w, U32(0), &name);
  if (r) return r;
  uint8_t *p = guest(m, U32(1), 8);
  if (!p) return WE_FAULT;
  uint32_t len = (uint32_t)strlen(name);
  memset(p, 0, 8); /* tag 0: a directory */
  memcpy(p + 4, &len, 4);
  return 0;
}
static int fd_prestat_dir_name(wg_wasi *w, const gmem *m, const wg_val *a) {
  const char *name;
  int r = wasi_fd_prestat(w, U32(0), &name);
  if (r) return r;
  size_t len = strlen(name);
  if (U32(2) < len) return WE_NAMETOOLONG;
  uint8_t *p = guest(m, U32(1), len);
  if (!p) return WE_FAULT;
  memcpy(p, name, len);
  return 0;
}

typedef struct dirbuf {
  const gmem *m;
  uint32_t ptr, len, used;
} dirbuf;

/* Writes one dirent (24-byte header, then the name), truncating at the
 * buffer's end as the ABI says: a full buffer tells the guest to come back. */
static bool emit_dirent(void *ctx, const wasi_dirent *d) {
  dirbuf *b = ctx;
  uint8_t hdr[24] = {0};
  memcpy(hdr, &d->next, 8);
  memcpy(hdr + 8, &d->ino, 8);
  memcpy(hdr + 16, &d->namelen, 4);
  hdr[20] = d->type;
  const uint8_t *parts[2] = {hdr, (const uint8_t *)d->name};
  uint32_t sizes[2] = {24, d->namelen};
  for (int i = 0; i < 2; i++) {
    uint32_t n = b->len - b->used < sizes[i] ? b->len - b->used : sizes[i];
    if (n) memcpy(guest(b->m, b->ptr + b->used, n), parts[i], n);
    b->used += n;
  }
  return b->used < b->len;
}
static int fd_readdir(wg_wasi *w, const gmem *m, const wg_val *a) {
  if (!guest(m, U32(1), U32(2))) return WE_FAULT;
  dirbuf b = {m, U32(1), U32(2), 0};
  int r = b.len ? wasi_fd_readdir(w, U32(0), U64(3), emit_dirent, &b) : 0;
  return r ? r : put32(m, U32(4), b.used) ? 0 : WE_FAULT;
}

/* ---------------------------------------------------------------- paths */

static int path_open(wg_wasi *w, const gmem *m, const wg_val *a) {
  char *path;
  int r = path_arg(m, U32(2), U32(3), &path);
  if (r) return r;
  uint32_t fd;
  r = wasi_path_open(w, U32(0), U32(1) & 1, path, (uint16_t)U32(4), U64(5), U64(6), (uint16_t)U32(7), &fd);
  free(path);
  if (r) return r;
  if (!put32(m, U32(8), fd)) {
    wasi_fd_close(w, fd);
    return WE_FAULT;
  }
  return 0;
}
static int path_filestat_v(wg_wasi *w, const gmem *m, const wg_val *a, bool preview0) {
  char *path;
  int r = path_arg(m, U32(2), U32(3), &path);
  if (r) return r;
  wasi_filestat st;
  r = wasi_path_filestat(w, U32(0), U32(1) & 1, path, &st);
  free(path);
  return r ? r : write_filestat_v(m, U32(4), &st, preview0);
}
static int path_filestat_get(wg_wasi *w, const gmem *m, const wg_val *a) { return path_filestat_v(w, m, a, false); }

typedef int (*path_op)(wg_wasi *w, uint32_t dirfd, const char *path);
static int on_path(wg_wasi *w, const gmem *m, const wg_val *a, path_op op) {
  char *path;
  int r = path_arg(m, U32(1), U32(2), &path);
  if (r) return r;
  r = op(w, U32(0), path);
  free(path);
  return r;
}
static int path_create_directory(wg_wasi *w, const gmem *m, const wg_val *a) { return on_path(w, m, a, wasi_path_mkdir); }
static int path_remove_directory(wg_wasi *w, const gmem *m, const wg_val *a) { return on_path(w, m, a, wasi_path_rmdir); }
static int path_unlink_file(wg_wasi *w, const gmem *m, const wg_val *a) { return on_path(w, m, a, wasi_path_unlink); }

static int path_rename(wg_wasi *w, const gmem *m, const wg_val *a) {
  char *from, *to;
  int r = path_arg(m, U32(1), U32(2), &from);
  if (r) return r;
  if ((r = path_arg(m, U32(4), U32(5), &to))) {
    free(from);
    return r;
  }
  r = wasi_path_rename(w, U32(0), from, U32(3), to);
  free(from);
  free(to);
  return r;
}
static int path_readlink(wg_wasi *w, const gmem *m, const wg_val *a) {
  char *path;
  int r = path_arg(m, U32(1), U32(2), &path);
  if (r) return r;
  uint8_t *buf = guest(m, U32(3), U32(4));
  size_t used = 0;
  r = buf ? wasi_path_readlink(w, U32(0), path, (char *)buf, U32(4), &used) : WE_FAULT;
  free(path);
  return r ? r : put32(m, U32(5), (uint32_t)used) ? 0 : WE_FAULT;
}

/* ---------------------------------------------------------------- the rest */

static int fd_advise(wg_wasi *w, const gmem *m, const wg_val *a) {
  (void)m;
  return wasi_fd_advise(w, U32(0), U64(1), U64(2), (uint8_t)U32(3));
}
static int fd_allocate(wg_wasi *w, const gmem *m, const wg_val *a) {
  (void)m;
  return wasi_fd_allocate(w, U32(0), U64(1), U64(2));
}
static int fd_fdstat_set_rights(wg_wasi *w, const gmem *m, const wg_val *a) {
  (void)m;
  return wasi_fd_set_rights(w, U32(0), U64(1), U64(2));
}
static int fd_filestat_set_size(wg_wasi *w, const gmem *m, const wg_val *a) {
  (void)m;
  return wasi_fd_set_size(w, U32(0), U64(1));
}
static int fd_filestat_set_times(wg_wasi *w, const gmem *m, const wg_val *a) {
  (void)m;
  return wasi_fd_set_times(w, U32(0), U64(1), U64(2), (uint16_t)U32(3));
}
static int fd_renumber(wg_wasi *w, const gmem *m, const wg_val *a) {
  (void)m;
  return wasi_fd_renumber(w, U32(0), U32(1));
}
static int path_filestat_set_times(wg_wasi *w, const gmem *m, const wg_val *a) {
  char *path;
  int r = path_arg(m, U32(2), U32(3), &path);
  if (r) return r;
  r = wasi_path_set_times(w, U32(0), U32(1) & 1, path, U64(4), U64(5), (uint16_t)U32(6));
  free(path);
  return r;
}
static int path_link(wg_wasi *w, const gmem *m, const wg_val *a) {
  char *from, *to;
  int r = path_arg(m, U32(2), U32(3), &from);
  if (r) return r;
  if ((r = path_arg(m, U32(5), U32(6), &to))) {
    free(from);
    return r;
  }
  r = wasi_path_link(w, U32(0), U32(1) & 1, from, U32(4), to);
  free(from);
  free(to);
  return r;
}
static int path_symlink(wg_wasi *w, const gmem *m, const wg_val *a) {
  char *target, *path;
  int r = path_arg(m, U32(0), U32(1), &target);
  if (r) return r;
  if ((r = path_arg(m, U32(3), U32(4), &path))) {
    free(target);
    return r;
  }
  r = wasi_path_symlink(w, target, U32(2), path);
  free(target);
  free(path);
  return r;
}
static int sock_any(wg_wasi *w, const gmem *m, const wg_val *a) {
  (void)m;
  return wasi_sock_check(w, U32(0));
}

/* ---------------------------------------------------------------- poll_oneoff */

/* Decodes the 48-byte subscriptions, waits in the host layer, and encodes
 * the 32-byte events (userdata, error, type, then nbytes and flags for
 * descriptor events; flag 1 is "hangup"). */
static int poll_oneoff(wg_wasi *w, const gmem *m, const wg_val *a) {
  uint32_t n = U32(2);
  if (n == 0 || n > 4096) return WE_INVAL;
  uint8_t *in = guest(m, U32(0), (uint64_t)n * 48), *out = guest(m, U32(1), (uint64_t)n * 32);
  if (!in || !out) return WE_FAULT;
  wasi_sub *subs = calloc(n, sizeof *subs);
  wasi_event *events = calloc(n, sizeof *events);
  int r = WE_NOMEM;
  if (subs && events) {
    for (uint32_t i = 0; i < n; i++) {
      const uint8_t *s = in + 48 * i;
      uint16_t flags;
      memcpy(&subs[i].userdata, s, 8);
      subs[i].tag = s[8];
      memcpy(&subs[i].clock_id, s + 16, 4);
      memcpy(&subs[i].fd, s + 16, 4);
      memcpy(&subs[i].timeout, s + 24, 8);
      memcpy(&flags, s + 40, 2);
      subs[i].absolute = flags & 1;
      if (subs[i].tag > 2) {
        r = WE_INVAL;
        goto done;
      }
    }
    uint32_t nev = 0;
    if (!(r = wasi_poll(w, subs, n, events, &nev))) {
      for (uint32_t i = 0; i < nev; i++) {
        uint8_t *e = out + 32 * i;
        memset(e, 0, 32);
        memcpy(e, &events[i].userdata, 8);
        memcpy(e + 8, &events[i].error, 2);
        e[10] = events[i].type;
        memcpy(e + 16, &events[i].nbytes, 8);
        e[24] = events[i].hangup ? 1 : 0;
      }
      r = put32(m, U32(3), nev) ? 0 : WE_FAULT;
    }
  }
done:
  free(subs);
  free(events);
  return r;
}

/* ---------------------------------------------------------------- wasi_unstable (preview0) */

static int fd_filestat_get0(wg_wasi *w, const gmem *m, const wg_val *a) {
  wasi_filestat st;
  int r = wasi_fd_filestat(w, U32(0), &st);
  return r ? r : write_filestat_v(m, U32(1), &st, true);
}
static int path_filestat_get0(wg_wasi *w, const gmem *m, const wg_val *a) { return path_filestat_v(w, m, a, true); }
/* preview0's whence: 0 cur, 1 end, 2 set. */
static int fd_seek0(wg_wasi *w, const gmem *m, const wg_val *a) {
  static const int whence[3] = {1, 2, 0};
  if (U32(2) > 2) return WE_INVAL;
  uint64_t pos;
  int r = wasi_fd_seek(w, U32(0), a[1].of.i64, whence[U32(2)], &pos);
  return r ? r : put64(m, U32(3), pos) ? 0 : WE_FAULT;
}
/* preview0's subscriptions are 56 bytes (the clock has an identifier first).
 * They are rewritten into preview1's 48-byte layout in a host buffer (laid
 * out as subscriptions, events, count) and polled by poll_oneoff itself. */
static int poll_oneoff0(wg_wasi *w, const gmem *m, const wg_val *a) {
  uint32_t n = U32(2);
  if (n == 0 || n > 4096) return WE_INVAL;
  uint8_t *in = guest(m, U32(0), (uint64_t)n * 56), *out = guest(m, U32(1), (uint64_t)n * 32);
  if (!in || !out) return WE_FAULT;
  size_t size = (size_t)n * 80 + 4;
  uint8_t *buf = calloc(1, size);
  if (!buf) return WE_NOMEM;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *s0 = in + 56 * i;
    uint8_t *s1 = buf + 48 * i;
    memcpy(s1, s0, 16);                           /* userdata, tag */
    if (s0[8] == 0) memcpy(s1 + 16, s0 + 24, 26); /* clock: id, timeout, precision, flags */
    else memcpy(s1 + 16, s0 + 16, 4);             /* descriptor */
  }
  gmem host = {buf, size};
  wg_val args[4] = {{.kind = WG_I32, .of.i32 = 0}, {.kind = WG_I32, .of.i32 = (int32_t)(n * 48)},
                    {.kind = WG_I32, .of.i32 = (int32_t)n}, {.kind = WG_I32, .of.i32 = (int32_t)(n * 80)}};
  int r = poll_oneoff(w, &host, args);
  if (!r) {
    uint32_t nev;
    memcpy(&nev, buf + (size_t)n * 80, 4);
    memcpy(out, buf + (size_t)n * 48, (size_t)nev * 32);
    r = put32(m, U32(3), nev) ? 0 : WE_FAULT;
  }
  free(buf);
  return r;
}

/* ---------------------------------------------------------------- registry */

typedef int (*abi_fn)(wg_wasi *w, const gmem *m, const wg_val *a);

typedef struct entry {
  const char *name;
  const char *params; /* i = i32, I = i64 */
  abi_fn fn;          /* NULL: not implemented yet, ENOSYS */
} entry;

static const entry table[] = {
    {"args_get", "ii", args_get},
    {"args_sizes_get", "ii", args_sizes_get},
    {"environ_get", "ii", environ_get},
    {"environ_sizes_get", "ii", environ_sizes_get},
    {"clock_res_get", "ii", clock_res_get},
    {"clock_time_get", "iIi", clock_time_get},
    {"fd_advise", "iIIi", fd_advise},
    {"fd_allocate", "iII", fd_allocate},
    {"fd_close", "i", fd_close},
    {"fd_datasync", "i", fd_datasync},
    {"fd_fdstat_get", "ii", fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII", fd_fdstat_set_rights},
    {"fd_filestat_get", "ii", fd_filestat_get},
    {"fd_filestat_set_size", "iI", fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi", fd_filestat_set_times},
    {"fd_pread", "iiiIi", fd_pread},
    {"fd_prestat_get", "ii", fd_prestat_get},
    {"fd_prestat_dir_name", "iii", fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi", fd_pwrite},
    {"fd_read", "iiii", fd_read},
    {"fd_readdir", "iiiIi", fd_readdir},
    {"fd_renumber", "ii", fd_renumber},
    {"fd_seek", "iIii", fd_seek},
    {"fd_sync", "i", fd_sync},
    {"fd_tell", "ii", fd_tell},
    {"fd_write", "iiii", fd_write},
    {"path_create_directory", "iii", path_create_directory},
    {"path_filestat_get", "iiiii", path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi", path_filestat_set_times},
    {"path_link", "iiiiiii", path_link},
    {"path_open", "iiiiiIIii", path_open},
    {"path_readlink", "iiiiii", path_readlink},
    {"path_remove_directory", "iii", path_remove_directory},
    {"path_rename", "iiiiii", path_rename},
    {"path_symlink", "iiiii", path_symlink},
    {"path_unlink_file", "iii", path_unlink_file},
    {"poll_oneoff", "iiii", poll_oneoff},
    {"proc_raise", "i", NULL},
    {"random_get", "ii", random_get},
    {"sched_yield", "", sched_yield_},
    {"sock_accept", "iii", sock_any},
    {"sock_recv", "iiiiii", sock_any},
    {"sock_send", "iiiii", sock_any},
    {"sock_shutdown", "ii", sock_any},
};

/* wasi_unstable: the functions whose layouts differ; the rest are shared. */
static const entry table0[] = {
    {"fd_seek", "iIii", fd_seek0},
    {"fd_filestat_get", "ii", fd_filestat_get0},
    {"path_filestat_get", "iiiii", path_filestat_get0},
    {"poll_oneoff", "iiii", poll_oneoff0},
};

typedef struct binding {
  wg_wasi *w;
  const entry *e;
} binding;

static wg_trap *call(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  binding *b = env;
  wg_memory *mem = caller ? wg_instance_memory(caller) : NULL;
  gmem m = {mem ? wg_memory_data(mem) : NULL, mem ? wg_memory_size(mem) : 0};
  results[0].of.i32 = b->e->fn ? b->e->fn(b->w, &m, args) : WE_NOSYS;
  return NULL;
}

static wg_trap *proc_exit(void *env, wg_instance *caller, const wg_val *args, wg_val *results) {
  (void)caller, (void)results;
  wasi_set_exit(((binding *)env)->w, args[0].of.i32);
  return wg_trap_new(WG_TRAP_HOST, "exit");
}

bool wg_wasi_link(wg_wasi *w, wg_store *store, const wg_module *m, wg_extern *imports, char *err, size_t errlen) {
  static const entry exit_entry = {"proc_exit", "i", NULL};
  for (uint32_t i = 0; i < wg_module_import_count(m); i++) {
    wg_extern_desc d;
    wg_externtype t;
    wg_module_import(m, i, &d);
    bool p1 = d.module_len == 22 && !memcmp(d.module, "wasi_snapshot_preview1", 22);
    bool p0 = d.module_len == 13 && !memcmp(d.module, "wasi_unstable", 13);
    if (!p1 && !p0) continue;
    const char *modname = p1 ? "wasi_snapshot_preview1" : "wasi_unstable";
    const entry *e = NULL;
    for (size_t k = 0; p0 && k < sizeof table0 / sizeof table0[0] && !e; k++)
      if (d.name_len && table0[k].name[0] == d.name[0] && strlen(table0[k].name) == d.name_len &&
          !memcmp(table0[k].name, d.name, d.name_len))
        e = &table0[k];
    for (size_t k = 0; k < sizeof table / sizeof table[0] && !e; k++)
      if (d.name_len && table[k].name[0] == d.name[0] && strlen(table[k].name) == d.name_len &&
          !memcmp(table[k].name, d.name, d.name_len))
        e = &table[k];
    bool is_exit = d.name_len == 9 && !memcmp(d.name, "proc_exit", 9);
    if (is_exit) e = &exit_entry;
    if (!e || d.kind != WG_EXTERN_FUNC) {
      snprintf(err, errlen, "unknown import %s.%.*s", modname, (int)d.name_len, d.name);
      return false;
    }
    wg_valtype params[16];
    size_t np = strlen(e->params);
    for (size_t k = 0; k < np; k++) params[k] = e->params[k] == 'I' ? WG_I64 : WG_I32;
    static const wg_valtype errno_type[] = {WG_I32};
    wg_functype_desc ft = {(uint32_t)np, is_exit ? 0 : 1, params, errno_type};
    wg_module_extern_type(m, d.kind, d.index, &t);
    bool same = t.func.nparams == ft.nparams && t.func.nresults == ft.nresults;
    for (uint32_t k = 0; same && k < ft.nparams; k++) same = t.func.params[k] == params[k];
    for (uint32_t k = 0; same && k < ft.nresults; k++) same = t.func.results[k] == WG_I32;
    if (!same) {
      snprintf(err, errlen, "incompatible import type for %s.%s", modname, e->name);
      return false;
    }
    binding *b = malloc(sizeof *b);
    if (!b) return snprintf(err, errlen, "out of memory"), false;
    *b = (binding){w, e};
    wg_func *f = wg_func_new_host(store, &ft, is_exit ? proc_exit : call, b, free);
    if (!f) {
      free(b);
      return snprintf(err, errlen, "out of memory"), false;
    }
    imports[i] = (wg_extern){WG_EXTERN_FUNC, {.func = f}};
  }
  return true;
}
