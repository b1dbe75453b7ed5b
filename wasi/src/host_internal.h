/*
 * host_internal.h: what the host layer's files (host.c: the context and
 * descriptors; path.c: paths beneath preopens; time.c: clocks, randomness,
 * poll) share: the context and descriptor structures and their helpers.
 */
#ifndef WG_WASI_HOST_INTERNAL_H
#define WG_WASI_HOST_INTERNAL_H

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include "host.h"

enum { K_HOST, K_STDIN_BUF, K_CAPTURE };

typedef struct wasi_fd {
  bool used;
  int kind;
  int host; /* -1 for buffers */
  uint8_t type;
  uint16_t flags;
  uint64_t rights, inheriting;
  bool noseek;   /* a pipe, socket, terminal or buffer: seeking is ESPIPE */
  char *preopen; /* guest name of a preopened directory */
  DIR *dir;      /* readdir stream, opened on first use */
} wasi_fd;

typedef struct outbuf {
  uint8_t *data;
  size_t len, cap;
} outbuf;

struct wg_wasi {
  char **argv, **envp;
  int argc, envc;
  wasi_fd *fds;
  uint32_t nfds;
  uint8_t *in;
  size_t in_len, in_pos;
  outbuf out[3];
  size_t capture_max; /* 0: unbounded */
  bool strict, exited;
  int exit_code;
  /* Strict sandbox (wgwasi.h): the next monotonic reading, the wall clock
   * (the context's own, or a shared one), Go's math/rand seeded with 42. */
  uint64_t strict_mono;
  wg_wasi_walltime *walltime, *own_walltime;
  wg_gorand *rng;
};

/* The descriptor `fd` if it exists and holds `right` (0: any), else NULL
 * with *err set (EBADF, ENOTCAPABLE). */
wasi_fd *wasi_get(wg_wasi *w, uint32_t fd, uint64_t right, int *err);

/* Adds a descriptor at the lowest free number. */
int wasi_add_fd(wg_wasi *w, wasi_fd fd, uint32_t *out);

/* Fills a WASI filestat from a host stat. */
void wasi_fill_stat(const struct stat *st, wasi_filestat *out);

/* The WASI filetype of a host mode. */
uint8_t wasi_host_type(mode_t m);

/* The most a descriptor of WASI filetype `type` may hold: R_DIR_BASE for a
 * directory, R_FILE_BASE otherwise, without FD_SEEK/FD_TELL when `seekable`
 * is false (a terminal or a pipe: wasi-libc's isatty() is "a character
 * device without seek and tell rights"). */
uint64_t wasi_type_rights(uint8_t type, bool seekable);

/* Whether host descriptor `fd` (with stat `st`) can seek: regular files and
 * block devices, and character devices such as /dev/null that are not
 * terminals; never directories, pipes, sockets or terminals. */
bool wasi_host_seekable(int fd, const struct stat *st);

/* The struct timespec[2] for futimens/utimensat from WASI's fstflags. */
int wasi_times_of(uint64_t atim, uint64_t mtim, uint16_t fst, struct timespec ts[2]);

#endif
