/* wasi_conform.c: WASI preview1 calls made the way Rust's std, wasi-libc
 * and the official wasi-testsuite make them, below wasi-libc's POSIX layer:
 * rights as a ceiling (directories opened with a directory's full rights),
 * rights trimmed to the file type, trailing slashes on names, the rights
 * path_open's flags need, symlink and hard link rules. Each line is
 * "what: errno" (0 success, else the WASI errno) or a fact; tests/wasi/run.sh
 * compares the whole output with the expected one.
 * usage: wasi_conform (with one preopen, fd 3, holding an empty directory
 * plus a symlink "esc" -> "/etc/passwd" made by the host) */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define DIRFD 3
#define R(x) __WASI_RIGHTS_##x

static void say(const char *what, int e) { printf("%s: %d\n", what, e); }

static __wasi_fdstat_t stat_of(__wasi_fd_t fd) {
  __wasi_fdstat_t st;
  memset(&st, 0, sizeof st);
  (void)__wasi_fd_fdstat_get(fd, &st);
  return st;
}

static int open_at(__wasi_fd_t dir, const char *path, __wasi_oflags_t of, __wasi_rights_t base,
                   __wasi_rights_t inh, __wasi_fd_t *fd) {
  return __wasi_path_open(dir, 0, path, of, base, inh, 0, fd);
}

int main(void) {
  __wasi_fd_t fd, d;
  __wasi_fdstat_t pre = stat_of(DIRFD);
  printf("preopen is a directory: %d\n", pre.fs_filetype == __WASI_FILETYPE_DIRECTORY);
  printf("preopen base has no file rights: %d\n", !(pre.fs_rights_base & (R(FD_READ) | R(FD_WRITE) | R(FD_SEEK))));
  printf("preopen base has directory rights: %d\n",
         (pre.fs_rights_base & (R(PATH_OPEN) | R(FD_READDIR) | R(PATH_CREATE_FILE) | R(PATH_FILESTAT_SET_SIZE))) ==
             (R(PATH_OPEN) | R(FD_READDIR) | R(PATH_CREATE_FILE) | R(PATH_FILESTAT_SET_SIZE)));
  printf("preopen hands down file rights: %d\n",
         (pre.fs_rights_inheriting & (R(FD_READ) | R(FD_WRITE) | R(FD_SEEK))) == (R(FD_READ) | R(FD_WRITE) | R(FD_SEEK)));

  /* Directories opened with the directory's full rights, as Rust's std and
   * the wasi-testsuite do, with and without OFLAGS_DIRECTORY. */
  say("open . directory, the preopen's rights",
      open_at(DIRFD, ".", __WASI_OFLAGS_DIRECTORY, pre.fs_rights_base, pre.fs_rights_inheriting, &fd));
  say("open . plain, the preopen's rights", open_at(DIRFD, ".", 0, pre.fs_rights_base, pre.fs_rights_inheriting, &fd));
  say("mkdir d", __wasi_path_create_directory(DIRFD, "d"));
  /* A directory's write rights (and Rust's write bucket without FD_WRITE) are a ceiling, not an open mode. */
  __wasi_rights_t wr = pre.fs_rights_base | R(FD_DATASYNC) | R(FD_ALLOCATE) | R(FD_FILESTAT_SET_SIZE) |
                       R(PATH_CREATE_FILE) | R(PATH_UNLINK_FILE) | R(FD_FILESTAT_SET_TIMES);
  int e = open_at(DIRFD, "d", __WASI_OFLAGS_DIRECTORY, wr, ~0ull, &d);
  say("open d directory, write rights of a directory", e);
  /* (So that one failure does not hide the checks below.) */
  if (e) (void)open_at(DIRFD, "d", __WASI_OFLAGS_DIRECTORY, wr & ~R(FD_WRITE), ~0ull, &d);
  __wasi_fdstat_t ds = stat_of(d);
  printf("d is a directory without seek or allocate: %d\n",
         ds.fs_filetype == __WASI_FILETYPE_DIRECTORY && !(ds.fs_rights_base & (R(FD_SEEK) | R(FD_ALLOCATE))));
  say("seek on d", __wasi_fd_seek(d, 0, __WASI_WHENCE_CUR, &(__wasi_filesize_t){0}));
  say("open d directory, read and write (POSIX EISDIR)",
      open_at(DIRFD, "d", __WASI_OFLAGS_DIRECTORY, R(FD_READ) | R(FD_WRITE), 0, &fd));
  say("open d plain, write", open_at(DIRFD, "d", 0, R(FD_WRITE), 0, &fd));

  /* A file opened with every right keeps only a file's. */
  say("create f", open_at(d, "f", __WASI_OFLAGS_CREAT, ~0ull, ~0ull, &fd));
  __wasi_fdstat_t fs = stat_of(fd);
  printf("f has file rights only: %d\n", fs.fs_filetype == __WASI_FILETYPE_REGULAR_FILE &&
                                             (fs.fs_rights_base & (R(FD_READ) | R(FD_WRITE) | R(FD_SEEK))) &&
                                             !(fs.fs_rights_base & (R(PATH_OPEN) | R(FD_READDIR))));
  __wasi_ciovec_t out = {(const uint8_t *)"hello", 5};
  __wasi_size_t n = 0;
  say("write f", __wasi_fd_write(fd, &out, 1, &n));
  (void)__wasi_fd_close(fd);
  /* fd_pread needs fd_seek as well as fd_read. */
  say("open f read only", open_at(d, "f", 0, R(FD_READ), 0, &fd));
  uint8_t buf[8];
  __wasi_iovec_t in = {buf, sizeof buf};
  say("pread without the seek right", __wasi_fd_pread(fd, &in, 1, 0, &n));
  say("read", __wasi_fd_read(fd, &in, 1, &n));
  (void)__wasi_fd_close(fd);

  /* Trailing slashes: the name must then be a directory. */
  say("unlink f/", __wasi_path_unlink_file(d, "f/"));
  say("mkdir sub", __wasi_path_create_directory(d, "sub"));
  say("unlink sub/", __wasi_path_unlink_file(d, "sub/"));
  say("symlink to nolink/", __wasi_path_symlink("f", d, "nolink/"));
  say("link f to l/", __wasi_path_link(d, 0, "f", d, "l/"));
  say("rmdir sub/", __wasi_path_remove_directory(d, "sub/"));

  /* Symlinks: an absolute target can never resolve beneath a preopen. */
  say("symlink to /etc", __wasi_path_symlink("/etc", d, "abs"));
  say("symlink lf -> f", __wasi_path_symlink("f", d, "lf"));
  say("symlink dang -> missing", __wasi_path_symlink("missing", d, "dang"));
  /* path_link following a symlink links what it names, beneath the directory. */
  say("link following lf", __wasi_path_link(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "lf", d, "hard"));
  __wasi_filestat_t st;
  say("stat hard (not following)", __wasi_path_filestat_get(d, 0, "hard", &st));
  printf("hard is a regular file with 2 links: %d\n", st.filetype == __WASI_FILETYPE_REGULAR_FILE && st.nlink == 2);
  say("link following dang", __wasi_path_link(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "dang", d, "hard2"));
  say("link following esc (outside)", __wasi_path_link(DIRFD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "esc", d, "hard3"));
  say("link esc itself", __wasi_path_link(DIRFD, 0, "esc", d, "hard4"));

  /* OFLAGS_TRUNC needs PATH_FILESTAT_SET_SIZE on the directory. */
  say("truncate f", open_at(d, "f", __WASI_OFLAGS_TRUNC, R(FD_WRITE), 0, &fd));
  say("drop path_filestat_set_size",
      __wasi_fd_fdstat_set_rights(d, ds.fs_rights_base & ~R(PATH_FILESTAT_SET_SIZE), ds.fs_rights_inheriting));
  say("truncate f without the right", open_at(d, "f", __WASI_OFLAGS_TRUNC, R(FD_WRITE), 0, &fd));
  return 0;
}
