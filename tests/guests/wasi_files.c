/* wasi_files.c: file-system operations under one directory (argv[1]),
 * printing what happens in a form that is the same natively and under WASI:
 * mkdir, create/write/read/seek, stat, readdir (sorted), rename, unlink,
 * rmdir, append, and the errors of common mistakes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[512];
static const char *at(const char *rel) {
  static char buf[4][1024];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", base, rel);
  return buf[k];
}
static void check(const char *what, int ok) { printf("%s: %s\n", what, ok ? "ok" : strerror(errno)); }
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  snprintf(base, sizeof base, "%s", argv[1]);
  check("mkdir d", mkdir(at("d"), 0755) == 0);
  check("mkdir d again", mkdir(at("d"), 0755) == 0);
  FILE *f = fopen(at("d/a.txt"), "w");
  check("create d/a.txt", f != NULL);
  if (f) {
    for (int i = 0; i < 1000; i++) fprintf(f, "line %d\n", i);
    fclose(f);
  }
  struct stat st;
  check("stat d/a.txt", stat(at("d/a.txt"), &st) == 0);
  printf("size %lld, regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
  int fd = open(at("d/a.txt"), O_RDONLY);
  char buf[32] = {0};
  check("seek", lseek(fd, 7000, SEEK_SET) == 7000);
  ssize_t n = read(fd, buf, 12);
  printf("read %zd at 7000: %.12s\n", n, buf);
  printf("tell %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
  close(fd);
  f = fopen(at("d/a.txt"), "a");
  fputs("appended\n", f);
  fclose(f);
  stat(at("d/a.txt"), &st);
  printf("size after append %lld\n", (long long)st.st_size);
  for (int i = 0; i < 5; i++) {
    char name[32];
    snprintf(name, sizeof name, "d/f%d", i);
    close(open(at(name), O_CREAT | O_WRONLY, 0644));
  }
  check("mkdir d/sub", mkdir(at("d/sub"), 0755) == 0);
  DIR *dir = opendir(at("d"));
  char *names[64];
  int count = 0;
  struct dirent *de;
  while (dir && (de = readdir(dir)) && count < 64) names[count++] = strdup(de->d_name);
  if (dir) closedir(dir);
  qsort(names, count, sizeof names[0], cmp);
  printf("readdir:");
  for (int i = 0; i < count; i++) printf(" %s", names[i]), free(names[i]);
  printf("\n");
  check("rename d/f0 -> d/sub/g", rename(at("d/f0"), at("d/sub/g")) == 0);
  check("stat d/f0 (gone)", stat(at("d/f0"), &st) == 0);
  check("unlink d/sub/g", unlink(at("d/sub/g")) == 0);
  check("rmdir d (not empty)", rmdir(at("d")) == 0);
  check("rmdir d/sub", rmdir(at("d/sub")) == 0);
  check("open missing", open(at("missing"), O_RDONLY) >= 0);
  check("open dir for write", open(at("d"), O_WRONLY) >= 0);
  check("unlink dir", unlink(at("d")) == 0);
  check("create exclusive existing", open(at("d/f1"), O_CREAT | O_EXCL | O_WRONLY, 0644) >= 0);
  fd = open(at("d/f1"), O_RDWR | O_TRUNC);
  check("pwrite", pwrite(fd, "xyz", 3, 10) == 3);
  memset(buf, 0, sizeof buf);
  check("pread", pread(fd, buf, 3, 10) == 3);
  printf("pread: %s\n", buf);
  close(fd);
  return 0;
}
