/* wasi_stdio.c: what the guest sees of its standard streams: fd_fdstat_get's
 * filetype and seek right for fds 0, 1 and 2, and isatty() (wasi-libc: a
 * character device without the seek and tell rights), and fd_tell on fd 0
 * (ESPIPE, 70, for a stream). With "seek", it also seeks in stdin (a file
 * given with --stdin can seek) and reads the rest. With "nonblock", it sets
 * FDFLAGS_NONBLOCK on fd 0 and reads: EAGAIN (6) while nothing is there.
 * usage: wasi_stdio [seek | nonblock] */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static const char *type_name(int t) {
  switch (t) {
    case __WASI_FILETYPE_REGULAR_FILE: return "regular";
    case __WASI_FILETYPE_CHARACTER_DEVICE: return "chardev";
    case __WASI_FILETYPE_BLOCK_DEVICE: return "blockdev";
    case __WASI_FILETYPE_DIRECTORY: return "directory";
    case __WASI_FILETYPE_SOCKET_STREAM: return "socket";
    case __WASI_FILETYPE_UNKNOWN: return "unknown";
    default: return "other";
  }
}

int main(int argc, char **argv) {
  char line[3][64];
  for (int fd = 0; fd < 3; fd++) {
    __wasi_fdstat_t st;
    memset(&st, 0, sizeof st);
    int e = __wasi_fd_fdstat_get((__wasi_fd_t)fd, &st);
    snprintf(line[fd], sizeof line[fd], "fd%d: %s seek=%d tty=%d%s\n", fd, type_name(st.fs_filetype),
             !!(st.fs_rights_base & __WASI_RIGHTS_FD_SEEK), isatty(fd), e ? " (fdstat failed)" : "");
  }
  /* Printed after all three checks, so that stdio's own setup cannot matter. */
  __wasi_filesize_t pos;
  int tell = __wasi_fd_tell(0, &pos);
  for (int fd = 0; fd < 3; fd++) fputs(line[fd], stdout);
  printf("fd0 tell: %d\n", tell);
  if (argc > 1 && !strcmp(argv[1], "nonblock")) {
    __wasi_fdstat_t st;
    (void)__wasi_fd_fdstat_get(0, &st);
    int set = __wasi_fd_fdstat_set_flags(0, st.fs_flags | __WASI_FDFLAGS_NONBLOCK);
    (void)__wasi_fd_fdstat_get(0, &st);
    uint8_t b[16];
    __wasi_iovec_t iov = {b, sizeof b};
    __wasi_size_t n = 0;
    int rd = __wasi_fd_read(0, &iov, 1, &n);
    printf("nonblock: set %d, flags %d, read %d\n", set, st.fs_flags, rd);
  }
  if (argc > 1 && !strcmp(argv[1], "seek")) {
    off_t end = lseek(0, 0, SEEK_END);
    off_t at = lseek(0, 5, SEEK_SET);
    char buf[4096];
    ssize_t n, total = 0;
    while ((n = read(0, buf, sizeof buf)) > 0) total += n;
    printf("stdin: size %lld, at %lld, then read %zd bytes\n", (long long)end, (long long)at, total);
  }
  return 0;
}
