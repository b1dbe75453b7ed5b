/* wasi_more.c: the less common file operations under one directory
 * (argv[1]): truncate, timestamps, symlinks, hard links, preallocation,
 * advice; natively and under WASI the output must match. Under WASI it also
 * exercises calls with no POSIX equivalent (renumber, dropping rights,
 * sockets), printed after a "wasi:" marker. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

static char base[512];
static const char *at(const char *rel) {
  static char buf[4][1024];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", base, rel);
  return buf[k];
}
static void check(const char *what, int ok) { printf("%s: %s\n", what, ok ? "ok" : strerror(errno)); }

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  snprintf(base, sizeof base, "%s", argv[1]);
  int fd = open(at("f"), O_CREAT | O_RDWR | O_TRUNC, 0644);
  check("write", write(fd, "hello world", 11) == 11);
  check("ftruncate 5", ftruncate(fd, 5) == 0);
  struct stat st;
  fstat(fd, &st);
  printf("size %lld\n", (long long)st.st_size);
  check("posix_fallocate", posix_fallocate(fd, 0, 4096) == 0);
  fstat(fd, &st);
  printf("size after fallocate %lld\n", (long long)st.st_size);
  check("posix_fadvise", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0);
  check("fsync", fsync(fd) == 0);
  check("fdatasync", fdatasync(fd) == 0);
  check("set O_APPEND", fcntl(fd, F_SETFL, O_APPEND) == 0);
  check("append write", write(fd, "!", 1) == 1);
  fstat(fd, &st);
  printf("size after append %lld\n", (long long)st.st_size);
  struct timespec ts[2] = {{1000000000, 5}, {1200000000, 7}};
  check("futimens", futimens(fd, ts) == 0);
  fstat(fd, &st);
  printf("mtime %lld.%09ld atime %lld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_atim.tv_sec);
  close(fd);
  struct timespec ts2[2] = {{0, UTIME_OMIT}, {1300000000, 0}};
  check("utimensat", utimensat(AT_FDCWD, at("f"), ts2, 0) == 0);
  stat(at("f"), &st);
  printf("mtime %lld\n", (long long)st.st_mtim.tv_sec);
  check("symlink l -> f", symlink("f", at("l")) == 0);
  char buf[64] = {0};
  ssize_t n = readlink(at("l"), buf, sizeof buf);
  printf("readlink %zd %s\n", n, buf);
  check("lstat l is a link", lstat(at("l"), &st) == 0 && S_ISLNK(st.st_mode));
  check("stat through l", stat(at("l"), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4097);
  check("link h -> f", link(at("f"), at("h")) == 0);
  stat(at("f"), &st);
  printf("nlink %lld\n", (long long)st.st_nlink);
  check("symlink dangling", symlink("nowhere", at("d")) == 0);
  check("open dangling", open(at("d"), O_RDONLY) >= 0);
  check("unlink l", unlink(at("l")) == 0);
#ifdef __wasi__
  printf("wasi:\n");
  int a = open(at("f"), O_RDONLY), b = open(at("h"), O_RDONLY);
  printf("renumber: %d\n", __wasi_fd_renumber(a, b));
  printf("renumber closed: %d\n", __wasi_fd_renumber(a, b));
  __wasi_fdstat_t fs;
  if (__wasi_fd_fdstat_get(b, &fs)) return 1;
  printf("drop read right: %d\n", __wasi_fd_fdstat_set_rights(b, fs.fs_rights_base & ~__WASI_RIGHTS_FD_READ, 0));
  printf("read without right: %zd %s\n", read(b, buf, 1), strerror(errno));
  printf("regain right: %d\n", __wasi_fd_fdstat_set_rights(b, fs.fs_rights_base, 0));
  printf("sock_shutdown on a file: %d\n", __wasi_sock_shutdown(b, __WASI_SDFLAGS_WR));
  printf("sock_shutdown on fd 99: %d\n", __wasi_sock_shutdown(99, __WASI_SDFLAGS_WR));
#endif
  return 0;
}
