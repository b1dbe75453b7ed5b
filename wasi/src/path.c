/*
 * path.c: WASI paths, which can never leave a preopen.
 *
 * Every path is resolved by the kernel with openat2() and
 * RESOLVE_BENEATH relative to the directory descriptor it names, so "..",
 * absolute paths and symbolic links (absolute, relative, chained, dangling)
 * cannot reach outside it; an attempt is ENOTCAPABLE. Operations on a final
 * component (mkdir, unlink, rename, readlink, stat without following) first
 * open its parent that way, then act on the single name with the *at()
 * calls, which do not follow a final symlink.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host_internal.h"

/* Opens `path` beneath directory `dirfd` (host descriptor). */
static int open_beneath(int dirfd, const char *path, uint64_t flags, mode_t mode, bool follow) {
  /* openat2 insists on a zero mode unless it may create. */
  struct open_how how = {.flags = flags | O_CLOEXEC, .mode = (flags & O_CREAT) ? mode : 0, .resolve = RESOLVE_BENEATH};
  if (!follow) how.flags |= O_NOFOLLOW;
  if (!path[0]) return errno = ENOENT, -1;
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Splits `path` into its parent (opened beneath the directory, O_PATH) and
 * its last component, for operations on a name. */
static int parent_of(wg_wasi *w, uint32_t dirfd, uint64_t right, const char *path, int *pfd, const char **name,
                     char **owned) {
  int err = WE_BADF;
  wasi_fd *d = wasi_get(w, dirfd, right, &err);
  if (!d) return err;
  if (d->type != FT_DIR) return WE_NOTDIR;
  /* The name keeps its trailing slashes: "file/" must be a directory, and the
   * *at() calls give POSIX's answers for it (ENOTDIR, EISDIR, ENOENT). */
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/') n--;
  char *copy = strdup(path);
  if (!copy) return WE_NOMEM;
  char *slash = NULL;
  for (size_t i = 0; i < n; i++)
    if (copy[i] == '/') slash = copy + i;
  const char *parent = ".";
  *name = copy;
  if (slash) {
    *slash = 0;
    parent = slash == copy ? "/" : copy;
    *name = slash + 1;
  }
  size_t clen = (size_t)(copy + n - *name); /* the component without its slashes */
  if ((clen == 2 && !strncmp(*name, "..", 2)) || (clen == 1 && **name == '.') || !clen || **name == '/') {
    free(copy);
    return WE_INVAL;
  }
  *pfd = open_beneath(d->host, parent, O_PATH | O_DIRECTORY, 0, true);
  if (*pfd < 0) {
    int e = wasi_errno(errno);
    free(copy);
    return e;
  }
  *owned = copy;
  return 0;
}

int wasi_path_open(wg_wasi *w, uint32_t dirfd, bool follow, const char *path, uint16_t oflags, uint64_t rights,
                   uint64_t inheriting, uint16_t fdflags, uint32_t *fd) {
  int err = WE_BADF;
  wasi_fd *d = wasi_get(w, dirfd, R_PATH_OPEN, &err);
  if (!d) return err;
  if (d->type != FT_DIR) return WE_NOTDIR;
  if ((oflags & 1) && !(d->rights & R_PATH_CREATE_FILE)) return WE_NOTCAPABLE;
  if ((oflags & 8) && !(d->rights & R_PATH_FILESTAT_SET_SIZE)) return WE_NOTCAPABLE;
  rights &= d->inheriting; /* never more than the directory may hand down */
  inheriting &= d->inheriting;
  /* Rights are a ceiling on what the descriptor may do later, trimmed below
   * to what the opened file's type can do. The one thing they choose is
   * whether the host descriptor is opened for writing: FD_WRITE (as
   * wasi-libc asks for it with O_WRONLY/O_RDWR, and as wasmtime and wazero
   * read it), so FD_WRITE on a directory is POSIX's EISDIR. No other right
   * is an open mode: a directory's full rights (what fd_fdstat_get reports,
   * which Rust's std and the wasi-testsuite pass back, PATH_CREATE_FILE,
   * PATH_FILESTAT_SET_SIZE, FD_DATASYNC and the other write rights of a
   * directory included) or any inheriting rights open it read-only. */
  bool rd = rights & (R_FD_READ | R_FD_READDIR), wr = rights & R_FD_WRITE;
  uint64_t flags = wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
  if (oflags & 1) flags |= O_CREAT;
  if (oflags & 2) flags |= O_DIRECTORY;
  if (oflags & 4) flags |= O_EXCL;
  if (oflags & 8) flags |= O_TRUNC;
  if (fdflags & 1) flags |= O_APPEND;
  if (fdflags & (2 | 8 | 16)) flags |= O_SYNC;
  if (fdflags & 4) flags |= O_NONBLOCK;
  int h = open_beneath(d->host, path, flags, 0666, follow);
  if (h < 0) return wasi_errno(errno);
  struct stat st;
  if (fstat(h, &st)) {
    int e = wasi_errno(errno);
    close(h);
    return e;
  }
  /* What this type of file can do, and no more (no FD_SEEK on a directory,
   * no PATH_* on a file). */
  uint8_t type = wasi_host_type(st.st_mode);
  bool seekable = wasi_host_seekable(h, &st);
  rights &= wasi_type_rights(type, seekable);
  int r = wasi_add_fd(w, (wasi_fd){.kind = K_HOST, .host = h, .type = type, .flags = fdflags & 0x1f,
                              .rights = rights, .inheriting = inheriting,
                              .noseek = !seekable && type != FT_DIR}, fd);
  if (r) close(h);
  return r;
}

int wasi_path_filestat(wg_wasi *w, uint32_t dirfd, bool follow, const char *path, wasi_filestat *out) {
  int pfd, r;
  const char *name;
  char *owned = NULL;
  struct stat st;
  if (follow) {
    int err = WE_BADF;
    wasi_fd *d = wasi_get(w, dirfd, R_PATH_FILESTAT_GET, &err);
    if (!d) return err;
    int h = open_beneath(d->host, path, O_PATH, 0, true);
    if (h < 0) return wasi_errno(errno);
    r = fstat(h, &st) ? wasi_errno(errno) : 0;
    close(h);
  } else {
    if ((r = parent_of(w, dirfd, R_PATH_FILESTAT_GET, path, &pfd, &name, &owned))) return r;
    r = fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) ? wasi_errno(errno) : 0;
    close(pfd);
    free(owned);
  }
  if (!r) wasi_fill_stat(&st, out);
  return r;
}

int wasi_path_mkdir(wg_wasi *w, uint32_t dirfd, const char *path) {
  int pfd, r;
  const char *name;
  char *owned = NULL;
  if ((r = parent_of(w, dirfd, R_PATH_CREATE_DIRECTORY, path, &pfd, &name, &owned))) return r;
  r = mkdirat(pfd, name, 0777) ? wasi_errno(errno) : 0;
  close(pfd);
  free(owned);
  return r;
}

static int remove_name(wg_wasi *w, uint32_t dirfd, uint64_t right, const char *path, int flags) {
  int pfd, r;
  const char *name;
  char *owned = NULL;
  if ((r = parent_of(w, dirfd, right, path, &pfd, &name, &owned))) return r;
  r = unlinkat(pfd, name, flags) ? wasi_errno(errno) : 0;
  /* POSIX says EISDIR for unlink of a directory, Linux says EISDIR too; WASI expects it. */
  close(pfd);
  free(owned);
  return r;
}

int wasi_path_rmdir(wg_wasi *w, uint32_t dirfd, const char *path) {
  return remove_name(w, dirfd, R_PATH_REMOVE_DIRECTORY, path, AT_REMOVEDIR);
}

int wasi_path_unlink(wg_wasi *w, uint32_t dirfd, const char *path) {
  return remove_name(w, dirfd, R_PATH_UNLINK_FILE, path, 0);
}

int wasi_path_rename(wg_wasi *w, uint32_t fd, const char *from, uint32_t tofd, const char *to) {
  int a, b, r;
  const char *na, *nb;
  char *oa = NULL, *ob = NULL;
  if ((r = parent_of(w, fd, R_PATH_RENAME_SOURCE, from, &a, &na, &oa))) return r;
  if ((r = parent_of(w, tofd, R_PATH_RENAME_TARGET, to, &b, &nb, &ob))) {
    close(a);
    free(oa);
    return r;
  }
  r = renameat(a, na, b, nb) ? wasi_errno(errno) : 0;
  close(a);
  close(b);
  free(oa);
  free(ob);
  return r;
}

int wasi_path_readlink(wg_wasi *w, uint32_t dirfd, const char *path, char *buf, size_t len, size_t *used) {
  int pfd, r;
  const char *name;
  char *owned = NULL;
  if ((r = parent_of(w, dirfd, R_PATH_READLINK, path, &pfd, &name, &owned))) return r;
  ssize_t n = readlinkat(pfd, name, buf, len);
  r = n < 0 ? wasi_errno(errno) : 0;
  if (n >= 0) *used = (size_t)n;
  close(pfd);
  free(owned);
  return r;
}

int wasi_path_set_times(wg_wasi *w, uint32_t dirfd, bool follow, const char *path, uint64_t atim, uint64_t mtim,
                        uint16_t fst) {
  struct timespec ts[2];
  int r = wasi_times_of(atim, mtim, fst, ts);
  if (r) return r;
  if (follow) {
    int err = WE_BADF;
    wasi_fd *d = wasi_get(w, dirfd, R_PATH_FILESTAT_SET_TIMES, &err);
    if (!d) return err;
    int h = open_beneath(d->host, path, O_PATH, 0, true);
    if (h < 0) return wasi_errno(errno);
    /* An O_PATH descriptor takes no futimens; its /proc name does (already resolved beneath). */
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", h);
    r = utimensat(AT_FDCWD, proc, ts, 0) ? wasi_errno(errno) : 0;
    close(h);
    return r;
  }
  int pfd;
  const char *name;
  char *owned = NULL;
  if ((r = parent_of(w, dirfd, R_PATH_FILESTAT_SET_TIMES, path, &pfd, &name, &owned))) return r;
  r = utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) ? wasi_errno(errno) : 0;
  close(pfd);
  free(owned);
  return r;
}

int wasi_path_link(wg_wasi *w, uint32_t oldfd, bool follow, const char *oldpath, uint32_t newfd, const char *newpath) {
  int a, b, r;
  const char *na, *nb;
  char *oa = NULL, *ob = NULL;
  if ((r = parent_of(w, oldfd, R_PATH_LINK_SOURCE, oldpath, &a, &na, &oa))) return r;
  if ((r = parent_of(w, newfd, R_PATH_LINK_TARGET, newpath, &b, &nb, &ob))) {
    close(a);
    free(oa);
    return r;
  }
  if (follow) {
    /* The source is resolved beneath its directory like any path (a
     * dangling or escaping symlink fails there), then linked through its
     * /proc name, which the kernel follows to what was opened. */
    int err = WE_BADF, h = -1;
    wasi_fd *d = wasi_get(w, oldfd, 0, &err);
    if ((h = open_beneath(d->host, oldpath, O_PATH, 0, true)) < 0) {
      r = wasi_errno(errno);
    } else {
      char proc[64];
      snprintf(proc, sizeof proc, "/proc/self/fd/%d", h);
      r = linkat(AT_FDCWD, proc, b, nb, AT_SYMLINK_FOLLOW) ? wasi_errno(errno) : 0;
      close(h);
    }
  } else {
    r = linkat(a, na, b, nb, 0) ? wasi_errno(errno) : 0;
  }
  close(a);
  close(b);
  free(oa);
  free(ob);
  return r;
}

int wasi_path_symlink(wg_wasi *w, const char *target, uint32_t dirfd, const char *path) {
  int pfd, r;
  const char *name;
  char *owned = NULL;
  /* The link's text is never resolved here; later lookups stay beneath
   * (openat2). An absolute target could never resolve beneath a preopen:
   * refused, as wasmtime does. */
  if ((r = parent_of(w, dirfd, R_PATH_SYMLINK, path, &pfd, &name, &owned))) return r;
  r = target[0] == '/' ? WE_PERM : symlinkat(target, pfd, name) ? wasi_errno(errno) : 0;
  close(pfd);
  free(owned);
  return r;
}
