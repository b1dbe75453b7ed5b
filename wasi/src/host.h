/*
 * host.h: the host layer of WASI: descriptors, paths beneath preopens,
 * clocks, randomness, stdio buffers. It works on host buffers and knows
 * nothing about wasm memory (abi.c decodes guest arguments and calls it).
 * Every function returns a WASI errno (0 is success).
 */
#ifndef WG_WASI_HOST_H
#define WG_WASI_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "wgwasi.h"

/* WASI errno values (preview1 `errno`) used here. */
enum {
  WE_SUCCESS = 0, WE_2BIG = 1, WE_ACCES = 2, WE_AGAIN = 6, WE_BADF = 8, WE_EXIST = 20, WE_FAULT = 21,
  WE_INVAL = 28, WE_IO = 29, WE_ISDIR = 31, WE_LOOP = 32, WE_NAMETOOLONG = 37, WE_NOENT = 44,
  WE_NOMEM = 48, WE_NOSPC = 51, WE_NOSYS = 52, WE_NOTDIR = 54, WE_NOTEMPTY = 55, WE_NOTSUP = 58,
  WE_NOTSOCK = 57, WE_OVERFLOW = 61, WE_PERM = 63, WE_SPIPE = 70, WE_NOTCAPABLE = 76,
};

/* WASI filetypes. */
enum { FT_UNKNOWN = 0, FT_BLOCK = 1, FT_CHAR = 2, FT_DIR = 3, FT_REG = 4, FT_SOCK_DGRAM = 5, FT_SOCK_STREAM = 6, FT_SYMLINK = 7 };

/* Rights bits (preview1 `rights`) checked here. */
#define R_FD_DATASYNC (1ull << 0)
#define R_FD_READ (1ull << 1)
#define R_FD_SEEK (1ull << 2)
#define R_FD_FDSTAT_SET_FLAGS (1ull << 3)
#define R_FD_SYNC (1ull << 4)
#define R_FD_TELL (1ull << 5)
#define R_FD_WRITE (1ull << 6)
#define R_FD_ADVISE (1ull << 7)
#define R_FD_ALLOCATE (1ull << 8)
#define R_PATH_CREATE_DIRECTORY (1ull << 9)
#define R_PATH_CREATE_FILE (1ull << 10)
#define R_PATH_LINK_SOURCE (1ull << 11)
#define R_PATH_LINK_TARGET (1ull << 12)
#define R_PATH_OPEN (1ull << 13)
#define R_FD_READDIR (1ull << 14)
#define R_PATH_READLINK (1ull << 15)
#define R_PATH_RENAME_SOURCE (1ull << 16)
#define R_PATH_RENAME_TARGET (1ull << 17)
#define R_PATH_FILESTAT_GET (1ull << 18)
#define R_PATH_FILESTAT_SET_SIZE (1ull << 19)
#define R_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define R_FD_FILESTAT_GET (1ull << 21)
#define R_FD_FILESTAT_SET_SIZE (1ull << 22)
#define R_FD_FILESTAT_SET_TIMES (1ull << 23)
#define R_PATH_SYMLINK (1ull << 24)
#define R_PATH_REMOVE_DIRECTORY (1ull << 25)
#define R_PATH_UNLINK_FILE (1ull << 26)
#define R_POLL_FD_READWRITE (1ull << 27)
#define R_ALL ((1ull << 30) - 1)

/* What each kind of descriptor can do at most (as wasmtime and wazero
 * report them): a file's operations, and a directory's. A descriptor's base
 * rights never hold more than its type's set; a directory's inheriting
 * rights hold both, for what is opened beneath it. */
#define R_FILE_BASE                                                                                            \
  (R_FD_DATASYNC | R_FD_READ | R_FD_SEEK | R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_TELL | R_FD_WRITE |        \
   R_FD_ADVISE | R_FD_ALLOCATE | R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_SIZE | R_FD_FILESTAT_SET_TIMES |         \
   R_POLL_FD_READWRITE)
/* Rights that only a directory has (paths beneath it, its entries). */
#define R_DIR_ONLY                                                                                             \
  (R_PATH_CREATE_DIRECTORY | R_PATH_CREATE_FILE | R_PATH_LINK_SOURCE | R_PATH_LINK_TARGET | R_PATH_OPEN |      \
   R_FD_READDIR | R_PATH_READLINK | R_PATH_RENAME_SOURCE | R_PATH_RENAME_TARGET | R_PATH_FILESTAT_GET |          \
   R_PATH_FILESTAT_SET_SIZE | R_PATH_FILESTAT_SET_TIMES | R_PATH_SYMLINK | R_PATH_REMOVE_DIRECTORY |            \
   R_PATH_UNLINK_FILE)
#define R_DIR_BASE                                                                                             \
  (R_DIR_ONLY | R_FD_DATASYNC | R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_TIMES)

typedef struct wasi_filestat {
  uint64_t dev, ino;
  uint8_t type;
  uint64_t nlink, size, atim, mtim, ctim;
} wasi_filestat;

typedef struct wasi_fdstat {
  uint8_t type;
  uint16_t flags;
  uint64_t rights_base, rights_inheriting;
} wasi_fdstat;

/* One directory entry for readdir. */
typedef struct wasi_dirent {
  uint64_t next; /* cookie of the following entry */
  uint64_t ino;
  uint8_t type;
  const char *name;
  uint32_t namelen;
} wasi_dirent;

/* Context accessors for the ABI layer. */
int wasi_args(const wg_wasi *w, const char *const **v);
int wasi_env(const wg_wasi *w, const char *const **v);
bool wasi_strict(const wg_wasi *w);
void wasi_set_exit(wg_wasi *w, int code);

int wasi_fd_close(wg_wasi *w, uint32_t fd);
int wasi_fd_read(wg_wasi *w, uint32_t fd, const struct iovec *iov, int n, int64_t offset, size_t *nread);
int wasi_fd_write(wg_wasi *w, uint32_t fd, const struct iovec *iov, int n, int64_t offset, size_t *nwritten);
int wasi_fd_seek(wg_wasi *w, uint32_t fd, int64_t offset, int whence, uint64_t *newoffset);
int wasi_fd_sync(wg_wasi *w, uint32_t fd, bool data_only);
int wasi_fd_fdstat(wg_wasi *w, uint32_t fd, wasi_fdstat *out);
int wasi_fd_set_flags(wg_wasi *w, uint32_t fd, uint16_t flags);
int wasi_fd_filestat(wg_wasi *w, uint32_t fd, wasi_filestat *out);
int wasi_fd_prestat(wg_wasi *w, uint32_t fd, const char **name);
/* Calls `emit` for entries from `cookie` on until it returns false. */
int wasi_fd_readdir(wg_wasi *w, uint32_t fd, uint64_t cookie, bool (*emit)(void *ctx, const wasi_dirent *d),
                    void *ctx);

int wasi_path_open(wg_wasi *w, uint32_t dirfd, bool follow, const char *path, uint16_t oflags, uint64_t rights,
                   uint64_t inheriting, uint16_t fdflags, uint32_t *fd);
int wasi_path_filestat(wg_wasi *w, uint32_t dirfd, bool follow, const char *path, wasi_filestat *out);
int wasi_path_mkdir(wg_wasi *w, uint32_t dirfd, const char *path);
int wasi_path_rmdir(wg_wasi *w, uint32_t dirfd, const char *path);
int wasi_path_unlink(wg_wasi *w, uint32_t dirfd, const char *path);
int wasi_path_rename(wg_wasi *w, uint32_t fd, const char *from, uint32_t tofd, const char *to);
int wasi_path_readlink(wg_wasi *w, uint32_t dirfd, const char *path, char *buf, size_t len, size_t *used);

int wasi_fd_advise(wg_wasi *w, uint32_t fd, uint64_t offset, uint64_t len, uint8_t advice);
int wasi_fd_allocate(wg_wasi *w, uint32_t fd, uint64_t offset, uint64_t len);
int wasi_fd_set_rights(wg_wasi *w, uint32_t fd, uint64_t base, uint64_t inheriting);
int wasi_fd_set_size(wg_wasi *w, uint32_t fd, uint64_t size);
/* fst_flags: 1 atim, 2 atim now, 4 mtim, 8 mtim now (preview1 fstflags). */
int wasi_fd_set_times(wg_wasi *w, uint32_t fd, uint64_t atim, uint64_t mtim, uint16_t fst);
int wasi_path_set_times(wg_wasi *w, uint32_t dirfd, bool follow, const char *path, uint64_t atim, uint64_t mtim,
                        uint16_t fst);
int wasi_fd_renumber(wg_wasi *w, uint32_t from, uint32_t to);
int wasi_path_link(wg_wasi *w, uint32_t oldfd, bool follow, const char *oldpath, uint32_t newfd, const char *newpath);
int wasi_path_symlink(wg_wasi *w, const char *target, uint32_t dirfd, const char *path);
/* Sockets: the runtime never hands any out, so a valid fd is never one. */
int wasi_sock_check(wg_wasi *w, uint32_t fd);

/* poll_oneoff (preview1 subscription/event, decoded). */
typedef struct wasi_sub {
  uint64_t userdata;
  uint8_t tag;       /* 0 clock, 1 fd_read, 2 fd_write */
  uint32_t clock_id; /* clock */
  uint64_t timeout;  /* clock: ns */
  bool absolute;     /* clock */
  uint32_t fd;       /* fd_read / fd_write */
} wasi_sub;

typedef struct wasi_event {
  uint64_t userdata;
  uint16_t error;
  uint8_t type;
  uint64_t nbytes;
  bool hangup;
} wasi_event;

/* Waits until a descriptor is ready or the earliest clock expires (no wait
 * in strict mode), filling events[0..*nev) (at most n). */
int wasi_poll(wg_wasi *w, const wasi_sub *subs, uint32_t n, wasi_event *events, uint32_t *nev);

int wasi_clock_time(wg_wasi *w, uint32_t id, uint64_t *ns);
int wasi_clock_res(wg_wasi *w, uint32_t id, uint64_t *ns);
int wasi_random(wg_wasi *w, uint8_t *buf, size_t len);
int wasi_sleep(wg_wasi *w, uint64_t ns);

/* Maps a host errno to WASI's. */
int wasi_errno(int host_errno);

#endif
