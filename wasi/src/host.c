/*
 * host.c: WASI's host layer (host.h): the context, its descriptor table
 * and the operations on descriptors (stdio buffers included). Paths are in
 * path.c, clocks, randomness and poll in time.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host_internal.h"

static char **copy_strings(int n, const char *const *v) {
  char **c = calloc((size_t)n + 1, sizeof *c);
  for (int i = 0; c && i < n; i++)
    if (!(c[i] = strdup(v[i]))) return NULL;
  return c;
}

static void free_strings(char **v, int n) {
  if (!v) return;
  for (int i = 0; i < n; i++) free(v[i]);
  free(v);
}

int wasi_add_fd(wg_wasi *w, wasi_fd fd, uint32_t *out) {
  uint32_t i = 0;
  while (i < w->nfds && w->fds[i].used) i++;
  if (i == w->nfds) {
    wasi_fd *f = realloc(w->fds, (w->nfds + 8) * sizeof *f);
    if (!f) return WE_NOMEM;
    memset(f + w->nfds, 0, 8 * sizeof *f);
    w->fds = f;
    w->nfds += 8;
  }
  fd.used = true;
  w->fds[i] = fd;
  *out = i;
  return 0;
}

uint8_t wasi_host_type(mode_t m) {
  if (S_ISREG(m)) return FT_REG;
  if (S_ISDIR(m)) return FT_DIR;
  if (S_ISCHR(m)) return FT_CHAR;
  if (S_ISBLK(m)) return FT_BLOCK;
  if (S_ISLNK(m)) return FT_SYMLINK;
  if (S_ISSOCK(m)) return FT_SOCK_STREAM;
  return FT_UNKNOWN;
}

uint64_t wasi_type_rights(uint8_t type, bool seekable) {
  if (type == FT_DIR) return R_DIR_BASE;
  return seekable ? R_FILE_BASE : R_FILE_BASE & ~(R_FD_SEEK | R_FD_TELL);
}

bool wasi_host_seekable(int fd, const struct stat *st) {
  if (S_ISREG(st->st_mode) || S_ISBLK(st->st_mode)) return true;
  if (S_ISDIR(st->st_mode) || S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode) || isatty(fd)) return false;
  return lseek(fd, 0, SEEK_CUR) >= 0;
}

/* A stdio descriptor's type and rights, from what it really is: a host
 * descriptor is whatever fstat says (a file given as stdin is a seekable
 * regular file, a pipe has no WASI filetype, a terminal is a character
 * device that cannot seek); in-memory buffers behave as pipes. */
static void stdio_kind(wasi_fd *f) {
  struct stat st;
  f->type = FT_UNKNOWN;
  bool seekable = false;
  if (f->kind == K_HOST && !fstat(f->host, &st)) {
    f->type = wasi_host_type(st.st_mode);
    seekable = wasi_host_seekable(f->host, &st);
    int fl = fcntl(f->host, F_GETFL);
    if (fl >= 0) f->flags = (fl & O_APPEND ? 1 : 0) | (fl & O_NONBLOCK ? 4 : 0);
  }
  f->rights = wasi_type_rights(f->type, seekable);
  f->noseek = !seekable && f->type != FT_DIR;
}

/* The process's own stdio (host fds 0-2) is shared with whoever started
 * us, so its O_NONBLOCK is never changed: a guest's FDFLAGS_NONBLOCK on it is
 * kept here and answered with EAGAIN when the stream is not ready. */
static bool would_block(const wasi_fd *f, short events) {
  if (f->kind != K_HOST || f->host > 2 || !(f->flags & 4)) return false;
  struct pollfd p = {f->host, events, 0};
  return poll(&p, 1, 0) == 0;
}

wg_wasi *wg_wasi_new(const wg_wasi_config *c, char *err, size_t errlen) {
  wg_wasi *w = calloc(1, sizeof *w);
  if (!w) return snprintf(err, errlen, "out of memory"), NULL;
  w->argc = c->argc;
  w->envc = c->envc;
  w->argv = copy_strings(c->argc, c->argv);
  w->envp = copy_strings(c->envc, c->envp);
  w->strict = c->strict;
  w->capture_max = c->capture_max;
  if (!w->argv || !w->envp) goto oom;
  if (c->strict) {
    w->walltime = c->strict_walltime;
    if (!w->walltime && !(w->walltime = w->own_walltime = wg_wasi_walltime_new())) goto oom;
    if (!(w->rng = wg_gorand_new(42))) goto oom;
  }
  if (c->use_stdin_buf) {
    w->in = malloc(c->stdin_len ? c->stdin_len : 1);
    if (!w->in) goto oom;
    if (c->stdin_len) memcpy(w->in, c->stdin_buf, c->stdin_len);
    w->in_len = c->stdin_len;
  }
  for (int i = 0; i < 3; i++) {
    uint32_t fd;
    int kind = i == 0 ? (c->use_stdin_buf ? K_STDIN_BUF : K_HOST) : (c->capture_output ? K_CAPTURE : K_HOST);
    int host = kind == K_HOST ? i : -1;
    if (i == 0 && !c->use_stdin_buf && c->use_stdin_fd) {
      if ((host = fcntl(c->stdin_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
        snprintf(err, errlen, "cannot use stdin descriptor %d: %s", c->stdin_fd, strerror(errno));
        wg_wasi_delete(w);
        return NULL;
      }
    }
    wasi_fd f = {.kind = kind, .host = host};
    stdio_kind(&f);
    if (wasi_add_fd(w, f, &fd)) {
      if (host > 2) close(host);
      goto oom;
    }
  }
  for (int i = 0; i < c->npreopens; i++) {
    int dfd = open(c->preopens[i].host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
      snprintf(err, errlen, "cannot open preopen %s: %s", c->preopens[i].host, strerror(errno));
      wg_wasi_delete(w);
      return NULL;
    }
    uint32_t fd;
    char *name = strdup(c->preopens[i].guest);
    if (!name || wasi_add_fd(w, (wasi_fd){.kind = K_HOST, .host = dfd, .type = FT_DIR, .rights = R_DIR_BASE,
                                     .inheriting = R_DIR_BASE | R_FILE_BASE, .preopen = name}, &fd)) {
      close(dfd);
      free(name);
      goto oom;
    }
  }
  return w;
oom:
  snprintf(err, errlen, "out of memory");
  wg_wasi_delete(w);
  return NULL;
}

void wg_wasi_delete(wg_wasi *w) {
  if (!w) return;
  for (uint32_t i = 0; i < w->nfds; i++)
    if (w->fds[i].used) wasi_fd_close(w, i);
  free(w->fds);
  free_strings(w->argv, w->argc);
  free_strings(w->envp, w->envc);
  free(w->in);
  for (int i = 0; i < 3; i++) free(w->out[i].data);
  wg_wasi_walltime_delete(w->own_walltime);
  wg_gorand_delete(w->rng);
  free(w);
}

bool wg_wasi_reset(wg_wasi *w, const wg_wasi_config *c, char *err, size_t errlen) {
  wg_wasi *fresh = wg_wasi_new(c, err, errlen);
  if (!fresh) return false;
  wg_wasi old = *w; /* the host functions keep pointing to w: swap the contents */
  *w = *fresh;
  *fresh = old;
  wg_wasi_delete(fresh);
  return true;
}

bool wg_wasi_exited(const wg_wasi *w, int *code) {
  if (w->exited && code) *code = w->exit_code;
  return w->exited;
}

const uint8_t *wg_wasi_output(const wg_wasi *w, int fd, size_t *len) {
  if (fd != 1 && fd != 2) return NULL;
  *len = w->out[fd].len;
  return w->out[fd].data ? w->out[fd].data : (const uint8_t *)"";
}

void wg_wasi_output_clear(wg_wasi *w, int fd) {
  if (fd == 1 || fd == 2) w->out[fd].len = 0;
}

int wasi_args(const wg_wasi *w, const char *const **v) {
  *v = (const char *const *)w->argv;
  return w->argc;
}
int wasi_env(const wg_wasi *w, const char *const **v) {
  *v = (const char *const *)w->envp;
  return w->envc;
}
bool wasi_strict(const wg_wasi *w) { return w->strict; }
void wasi_set_exit(wg_wasi *w, int code) {
  w->exited = true;
  w->exit_code = code;
}

int wasi_errno(int e) {
  switch (e) {
    case 0: return 0;
    case E2BIG: return WE_2BIG;
    case EACCES: return WE_ACCES;
    case EAGAIN: return WE_AGAIN;
    case EBADF: return WE_BADF;
    case EEXIST: return WE_EXIST;
    case EFAULT: return WE_FAULT;
    case EINVAL: return WE_INVAL;
    case EIO: return WE_IO;
    case EISDIR: return WE_ISDIR;
    case ELOOP: return WE_LOOP;
    case ENAMETOOLONG: return WE_NAMETOOLONG;
    case ENOENT: return WE_NOENT;
    case ENOMEM: return WE_NOMEM;
    case ENOSPC: return WE_NOSPC;
    case ENOSYS: return WE_NOSYS;
    case ENOTDIR: return WE_NOTDIR;
    case ENOTEMPTY: return WE_NOTEMPTY;
    case EOPNOTSUPP: return WE_NOTSUP;
    case EOVERFLOW: return WE_OVERFLOW;
    case EPERM: return WE_PERM;
    case ESPIPE: return WE_SPIPE;
    case EXDEV: return WE_NOTCAPABLE; /* openat2: the path would leave the directory */
    default: return WE_IO;
  }
}

wasi_fd *wasi_get(wg_wasi *w, uint32_t fd, uint64_t right, int *err) {
  if (fd >= w->nfds || !w->fds[fd].used) return *err = WE_BADF, NULL;
  if (right && !(w->fds[fd].rights & right)) return *err = WE_NOTCAPABLE, NULL;
  return &w->fds[fd];
}

int wasi_fd_close(wg_wasi *w, uint32_t fd) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, 0, &err);
  if (!f) return err;
  if (f->dir) closedir(f->dir); /* closes its own duplicate */
  if (f->kind == K_HOST && f->host > 2) close(f->host);
  free(f->preopen);
  memset(f, 0, sizeof *f);
  return 0;
}

static int capture(outbuf *b, size_t max, const struct iovec *iov, int n, size_t *done) {
  *done = 0;
  for (int i = 0; i < n; i++) {
    size_t keep = iov[i].iov_len;
    if (max && b->len + keep > max) keep = b->len < max ? max - b->len : 0; /* the rest is dropped */
    if (b->len + keep > b->cap) {
      size_t cap = (b->len + keep) * 2 + 256;
      if (max && cap > max) cap = max;
      uint8_t *d = realloc(b->data, cap);
      if (!d) return WE_NOMEM;
      b->data = d;
      b->cap = cap;
    }
    if (keep) memcpy(b->data + b->len, iov[i].iov_base, keep);
    b->len += keep;
    *done += iov[i].iov_len;
  }
  return 0;
}

int wasi_fd_write(wg_wasi *w, uint32_t fd, const struct iovec *iov, int n, int64_t offset, size_t *nwritten) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, R_FD_WRITE, &err);
  if (!f) return err;
  if (offset >= 0 && f->noseek) return WE_SPIPE;
  if (offset >= 0 && !wasi_get(w, fd, R_FD_SEEK, &err)) return err; /* fd_pwrite: fd_write and fd_seek */
  if (f->kind == K_CAPTURE) return capture(&w->out[fd], w->capture_max, iov, n, nwritten);
  if (f->type == FT_DIR) return WE_ISDIR;
  if (would_block(f, POLLOUT)) return WE_AGAIN;
  ssize_t r = offset >= 0 ? pwritev(f->host, iov, n, offset) : writev(f->host, iov, n);
  if (r < 0) return wasi_errno(errno);
  *nwritten = (size_t)r;
  return 0;
}

int wasi_fd_read(wg_wasi *w, uint32_t fd, const struct iovec *iov, int n, int64_t offset, size_t *nread) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, R_FD_READ, &err);
  if (!f) return err;
  if (offset >= 0 && f->noseek) return WE_SPIPE;
  if (offset >= 0 && !wasi_get(w, fd, R_FD_SEEK, &err)) return err; /* fd_pread: fd_read and fd_seek */
  if (f->kind == K_STDIN_BUF) {
    *nread = 0;
    for (int i = 0; i < n && w->in_pos < w->in_len; i++) {
      size_t k = iov[i].iov_len < w->in_len - w->in_pos ? iov[i].iov_len : w->in_len - w->in_pos;
      if (k) memcpy(iov[i].iov_base, w->in + w->in_pos, k);
      w->in_pos += k;
      *nread += k;
    }
    return 0;
  }
  if (f->type == FT_DIR) return WE_ISDIR;
  if (would_block(f, POLLIN)) return WE_AGAIN;
  ssize_t r = offset >= 0 ? preadv(f->host, iov, n, offset) : readv(f->host, iov, n);
  if (r < 0) return wasi_errno(errno);
  *nread = (size_t)r;
  return 0;
}

int wasi_fd_seek(wg_wasi *w, uint32_t fd, int64_t offset, int whence, uint64_t *newoffset) {
  int err = WE_BADF;
  /* A stream that cannot seek says so (ESPIPE, as POSIX and wazero), rather
   * than that its rights lack FD_SEEK. */
  wasi_fd *f = wasi_get(w, fd, 0, &err);
  if (f && f->noseek) return WE_SPIPE;
  f = wasi_get(w, fd, offset == 0 && whence == SEEK_CUR ? R_FD_TELL : R_FD_SEEK, &err);
  if (!f) return err;
  if (f->kind != K_HOST) return WE_SPIPE;
  if (f->type == FT_DIR) return WE_ISDIR;
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return WE_INVAL;
  off_t r = lseek(f->host, offset, whence);
  if (r < 0) return wasi_errno(errno);
  *newoffset = (uint64_t)r;
  return 0;
}

int wasi_fd_sync(wg_wasi *w, uint32_t fd, bool data_only) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, data_only ? R_FD_DATASYNC : R_FD_SYNC, &err);
  if (!f) return err;
  if (f->kind != K_HOST) return 0;
  return (data_only ? fdatasync(f->host) : fsync(f->host)) ? wasi_errno(errno) : 0;
}

int wasi_fd_fdstat(wg_wasi *w, uint32_t fd, wasi_fdstat *out) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, 0, &err);
  if (!f) return err;
  *out = (wasi_fdstat){f->type, f->flags, f->rights, f->inheriting};
  return 0;
}

int wasi_fd_set_flags(wg_wasi *w, uint32_t fd, uint16_t flags) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, R_FD_FDSTAT_SET_FLAGS, &err);
  if (!f) return err;
  if (flags & ~5u) return WE_NOTSUP; /* only append and nonblock can change on Linux */
  if (f->kind == K_HOST) {
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return wasi_errno(errno);
    fl = (flags & 1) ? fl | O_APPEND : fl & ~O_APPEND;
    if (f->host > 2) fl = (flags & 4) ? fl | O_NONBLOCK : fl & ~O_NONBLOCK; /* else: would_block() */
    if (fcntl(f->host, F_SETFL, fl) < 0) return wasi_errno(errno);
  }
  f->flags = flags;
  return 0;
}

void wasi_fill_stat(const struct stat *st, wasi_filestat *out) {
  *out = (wasi_filestat){(uint64_t)st->st_dev,
                         (uint64_t)st->st_ino,
                         wasi_host_type(st->st_mode),
                         (uint64_t)st->st_nlink,
                         (uint64_t)st->st_size,
                         (uint64_t)st->st_atim.tv_sec * 1000000000u + (uint64_t)st->st_atim.tv_nsec,
                         (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec,
                         (uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec};
}

int wasi_fd_filestat(wg_wasi *w, uint32_t fd, wasi_filestat *out) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, R_FD_FILESTAT_GET, &err);
  if (!f) return err;
  if (f->kind != K_HOST) {
    *out = (wasi_filestat){.type = f->type, .nlink = 1};
    return 0;
  }
  struct stat st;
  if (fstat(f->host, &st)) return wasi_errno(errno);
  wasi_fill_stat(&st, out);
  return 0;
}

int wasi_fd_prestat(wg_wasi *w, uint32_t fd, const char **name) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, 0, &err);
  if (!f) return err;
  if (!f->preopen) return WE_BADF;
  *name = f->preopen;
  return 0;
}

int wasi_fd_readdir(wg_wasi *w, uint32_t fd, uint64_t cookie, bool (*emit)(void *ctx, const wasi_dirent *d),
                    void *ctx) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, R_FD_READDIR, &err);
  if (!f) return err;
  if (f->type != FT_DIR) return WE_NOTDIR;
  if (!f->dir) {
    int dup_fd = openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup_fd < 0 || !(f->dir = fdopendir(dup_fd))) {
      if (dup_fd >= 0) close(dup_fd);
      return wasi_errno(errno);
    }
  }
  /* Cookies are entry positions: rewind and skip, which is simple and exact. */
  rewinddir(f->dir);
  uint64_t pos = 0;
  struct dirent *de;
  errno = 0;
  while ((de = readdir(f->dir))) {
    if (pos++ < cookie) continue;
    uint8_t type = de->d_type == DT_DIR ? FT_DIR : de->d_type == DT_REG ? FT_REG : de->d_type == DT_LNK ? FT_SYMLINK
                   : de->d_type == DT_CHR ? FT_CHAR : de->d_type == DT_BLK ? FT_BLOCK
                   : de->d_type == DT_SOCK ? FT_SOCK_STREAM : FT_UNKNOWN;
    /* Some file systems leave d_type unknown; callers (Go's os.ReadDir,
     * Rust's DirEntry::file_type) trust what is here, so look. */
    struct stat st;
    if (de->d_type == DT_UNKNOWN && !fstatat(dirfd(f->dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
      type = wasi_host_type(st.st_mode);
    errno = 0; /* a failed look is no readdir error */
    wasi_dirent d = {pos, (uint64_t)de->d_ino, type, de->d_name, (uint32_t)strlen(de->d_name)};
    if (!emit(ctx, &d)) break;
  }
  return errno ? wasi_errno(errno) : 0;
}


int wasi_fd_advise(wg_wasi *w, uint32_t fd, uint64_t offset, uint64_t len, uint8_t advice) {
  static const int map[6] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                             POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, R_FD_ADVISE, &err);
  if (!f) return err;
  if (advice > 5) return WE_INVAL;
  if (f->kind != K_HOST || f->type == FT_DIR) return f->type == FT_DIR ? WE_BADF : WE_SPIPE;
  int r = posix_fadvise(f->host, (off_t)offset, (off_t)len, map[advice]);
  return r ? wasi_errno(r) : 0;
}

int wasi_fd_allocate(wg_wasi *w, uint32_t fd, uint64_t offset, uint64_t len) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, R_FD_ALLOCATE, &err);
  if (!f) return err;
  if (f->kind != K_HOST || f->type != FT_REG) return f->type == FT_DIR ? WE_BADF : WE_SPIPE;
  if (offset > INT64_MAX || len > INT64_MAX - offset) return WE_INVAL;
  int r = posix_fallocate(f->host, (off_t)offset, (off_t)len);
  return r ? wasi_errno(r) : 0;
}

int wasi_fd_set_rights(wg_wasi *w, uint32_t fd, uint64_t base, uint64_t inheriting) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, 0, &err);
  if (!f) return err;
  /* Rights can only be dropped. */
  if ((base & ~f->rights) || (inheriting & ~f->inheriting)) return WE_NOTCAPABLE;
  f->rights = base;
  f->inheriting = inheriting;
  return 0;
}

int wasi_fd_set_size(wg_wasi *w, uint32_t fd, uint64_t size) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, R_FD_FILESTAT_SET_SIZE, &err);
  if (!f) return err;
  if (f->kind != K_HOST) return WE_INVAL;
  if (size > INT64_MAX) return WE_INVAL;
  return ftruncate(f->host, (off_t)size) ? wasi_errno(errno) : 0;
}


int wasi_fd_set_times(wg_wasi *w, uint32_t fd, uint64_t atim, uint64_t mtim, uint16_t fst) {
  int err = WE_BADF;
  wasi_fd *f = wasi_get(w, fd, R_FD_FILESTAT_SET_TIMES, &err);
  if (!f) return err;
  struct timespec ts[2];
  int r = wasi_times_of(atim, mtim, fst, ts);
  if (r) return r;
  if (f->kind != K_HOST) return WE_INVAL;
  return futimens(f->host, ts) ? wasi_errno(errno) : 0;
}


int wasi_fd_renumber(wg_wasi *w, uint32_t from, uint32_t to) {
  int err = WE_BADF;
  if (!wasi_get(w, from, 0, &err) || !wasi_get(w, to, 0, &err)) return err;
  if (from == to) return 0;
  wasi_fd_close(w, to);
  w->fds[to] = w->fds[from];
  memset(&w->fds[from], 0, sizeof w->fds[from]);
  return 0;
}



int wasi_sock_check(wg_wasi *w, uint32_t fd) {
  int err = WE_BADF;
  return wasi_get(w, fd, 0, &err) ? WE_NOTSOCK : err;
}



/* struct timespec[2] for futimens/utimensat from WASI's fstflags. */
int wasi_times_of(uint64_t atim, uint64_t mtim, uint16_t fst, struct timespec ts[2]) {
  if (((fst & 1) && (fst & 2)) || ((fst & 4) && (fst & 8)) || (fst & ~15)) return WE_INVAL;
  ts[0] = (fst & 2) ? (struct timespec){0, UTIME_NOW}
        : (fst & 1) ? (struct timespec){(time_t)(atim / 1000000000u), (long)(atim % 1000000000u)}
                    : (struct timespec){0, UTIME_OMIT};
  ts[1] = (fst & 8) ? (struct timespec){0, UTIME_NOW}
        : (fst & 4) ? (struct timespec){(time_t)(mtim / 1000000000u), (long)(mtim % 1000000000u)}
                    : (struct timespec){0, UTIME_OMIT};
  return 0;
}
