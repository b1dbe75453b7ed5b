/*
 * alloc_count.c: an LD_PRELOAD library for bench/per_request.sh. Counts the
 * calls to malloc, calloc, realloc and free (non-NULL) of the process it is
 * loaded into, in a file another process can read at any time:
 * /dev/shm/alloc_count.<pid>, four native-endian uint64 in that order. The
 * allocator itself is glibc's (__libc_*); glibc routes its own internal
 * allocations (strdup, asprintf ...) through the replaced symbols too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static uint64_t unshared[4]; /* until the file is mapped (or when it cannot be) */
static uint64_t *counts = unshared;

__attribute__((constructor)) static void map_counts(void) {
  char path[64];
  snprintf(path, sizeof path, "/dev/shm/alloc_count.%d", (int)getpid());
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return;
  if (ftruncate(fd, 4096) == 0) {
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) counts = p;
  }
  close(fd);
}

void *malloc(size_t n) {
  __atomic_fetch_add(&counts[0], 1, __ATOMIC_RELAXED);
  return __libc_malloc(n);
}

void *calloc(size_t k, size_t n) {
  __atomic_fetch_add(&counts[1], 1, __ATOMIC_RELAXED);
  return __libc_calloc(k, n);
}

void *realloc(void *p, size_t n) {
  __atomic_fetch_add(&counts[2], 1, __ATOMIC_RELAXED);
  return __libc_realloc(p, n);
}

void free(void *p) {
  if (p) __atomic_fetch_add(&counts[3], 1, __ATOMIC_RELAXED);
  __libc_free(p);
}
