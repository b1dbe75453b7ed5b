/* wasi_escape.c: tries to leave the preopened directory (argv[1]) every way
 * it can; each attempt prints its result. Under WASI every one must fail. The
 * harness made these beforehand inside the directory: link_abs -> /etc,
 * link_up -> .., link_chain -> link_up, link_dangling -> ../nowhere,
 * inner/link_up2 -> ../.. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[512];
static void attempt(const char *what, const char *rel, int flags) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", base, rel);
  int fd = open(path, flags, 0644);
  printf("%-28s %s\n", what, fd >= 0 ? "opened" : strerror(errno));
  if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  snprintf(base, sizeof base, "%s", argv[1]);
  attempt("dotdot", "../outside.txt", O_RDONLY);
  attempt("dotdot create", "../created.txt", O_CREAT | O_WRONLY);
  attempt("inner dotdot", "inner/../../outside.txt", O_RDONLY);
  attempt("absolute symlink", "link_abs/passwd", O_RDONLY);
  attempt("relative symlink", "link_up/outside.txt", O_RDONLY);
  attempt("chained symlink", "link_chain/outside.txt", O_RDONLY);
  attempt("dangling symlink create", "link_dangling", O_CREAT | O_WRONLY);
  attempt("nested symlink", "inner/link_up2/outside.txt", O_RDONLY);
  errno = 0;
  printf("%-28s %s\n", "mkdir outside", mkdir("/etc/wasmgate-escape", 0755) == 0 ? "ESCAPED" : strerror(errno));
  char path[1024];
  snprintf(path, sizeof path, "%s/../moved.txt", base);
  char from[1024];
  snprintf(from, sizeof from, "%s/inside.txt", base);
  printf("%-28s %s\n", "rename outside", rename(from, path) == 0 ? "ESCAPED" : strerror(errno));
  attempt("inside (control)", "inside.txt", O_RDONLY);
  return 0;
}
