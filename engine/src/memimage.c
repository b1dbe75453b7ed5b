/*
 * memimage.c: copy-on-write images of a module's initial memory (wasmgate.h
 * wg_memimage_new), as wasmtime's pooling allocator makes them.
 *
 * The image is memory 0 as instantiation leaves it after the active data
 * segments: `min` pages, written once into an anonymous file (memfd_create,
 * else an O_TMPFILE in /dev/shm; holes stay holes, so zero pages cost
 * nothing). A memory made from it reserves its address space as store.c
 * does, then maps the file MAP_PRIVATE over its first `min` pages: the
 * instance starts with its data in place, and only the pages it writes are
 * copied (by the kernel, on the first write to each). memory.grow commits
 * anonymous pages after the mapping as for any memory (mprotect of the
 * reserved range), so growth is unchanged.
 *
 * A released memory goes back to its image's cache reset to the image. Only
 * the pages it wrote differ: the kernel copied each on its first write, so
 * they are anonymous, while pages only read still map the file's page cache.
 * /proc/self/pagemap tells which (present and not file-backed: bit 63 set,
 * bit 61 clear; or swapped out, bit 62), in one read for the image's range, and each such page is
 * copied back from a read-only shared view of the file. The copies stay
 * resident, so the next memory from the cache writes those pages with no
 * fault: a small memory reset this way costs a pagemap read and the copy of
 * the pages its guests write, not a fault per page (the madvise reset) nor a
 * memset of the whole memory (a recycled ordinary memory). Pages past the
 * image (a grown memory) and, when pagemap cannot be read or more than
 * RESET_MAX_COPY pages differ, the whole range, are reset with one
 * madvise(MADV_DONTNEED) instead, which drops the private copies: the file
 * pages read as the image again and the anonymous pages beyond it read as
 * zero. The next memory of the same reservation size takes it with no
 * system call. Bounds checks compare against the memory's size,
 * so committed bytes past it (a grown predecessor's) are never reachable.
 *
 * Without a file (no memfd, no /dev/shm, the engine built for WASI, or
 * WG_MEMIMAGE_NO_COW) the image is a heap copy and a memory from it is an
 * ordinary memory into which the copy is memcpy'd: the data segments are
 * still not decoded again, but every byte is written.
 *
 * The store is charged exactly as for wg_memory_new (max_bytes counts the
 * memory's size, not its resident pages).
 */
#if !defined(__wasi__)
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#define WG_HAVE_COW 1
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opcodes.h"
#include "jit.h"
#include "runtime.h"

#define PAGE 65536u
#define CACHE_SLOTS 64
#define RESET_MAX_COPY 4096u /* pages copied back per reset at most (16 MiB of 4 KiB pages) */

typedef struct slot {
  uint8_t *data;
  size_t reserved, committed;
} slot;

struct wg_memimage {
  const wg_module *module;
  uint32_t min_pages;
  size_t bytes;      /* min_pages * PAGE */
  int fd;            /* the image file, -1 for the heap copy */
  uint8_t *copy;     /* the heap copy (fd < 0) */
  const uint8_t *view; /* a read-only shared mapping of the file (fd >= 0), the source of resets; NULL = none */
  atomic_int refs;   /* the embedder's, plus one per live memory made from it */
#if WG_HAVE_COW
  pthread_mutex_t mu;
  slot cache[CACHE_SLOTS]; /* released memories, reset to the image (under mu) */
  size_t ncache;
#endif
};

static wg_memimage *image_fail(wg_memimage *img, wg_error **err, const char *msg) {
  if (err) *err = wg_error_make(WG_ERROR_INVALID, SIZE_MAX, msg);
  if (img) {
    free(img->copy);
    free(img);
  }
  return NULL;
}

#if WG_HAVE_COW
/* An anonymous file of `bytes` bytes, or -1. */
static int image_file(size_t bytes) {
  int fd = -1;
#ifdef MFD_CLOEXEC
  fd = memfd_create("wasmgate-memimage", MFD_CLOEXEC);
#endif
#ifdef O_TMPFILE
  if (fd < 0) fd = open("/dev/shm", O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
#endif
  if (fd >= 0 && ftruncate(fd, (off_t)bytes)) {
    close(fd);
    fd = -1;
  }
  return fd;
}

static bool write_at(int fd, const uint8_t *p, size_t n, size_t off) {
  while (n) {
    ssize_t w = pwrite(fd, p, n, (off_t)off);
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
    off += (size_t)w;
  }
  return true;
}
#endif

wg_memimage *wg_memimage_new(const wg_module *m, unsigned flags, wg_error **err) {
  if (err) *err = NULL;
  if (!m || m->nmems == 0 || m->nmem_imports > 0)
    return image_fail(NULL, err, "memory image: the module defines no memory 0 of its own");
  const wg_limits *l = &m->mems[0];
  if (l->min > 65536) return image_fail(NULL, err, "memory image: memory 0 is too large");
  /* memory 0's active segments must have constant offsets and fit: the image replaces them */
  uint32_t *offs = calloc(m->ndatas + 1, sizeof *offs);
  if (!offs) return image_fail(NULL, err, "out of memory");
  for (uint32_t i = 0; i < m->ndatas; i++) {
    const wg_data *d = &m->datas[i];
    if (d->mode != WG_SEG_ACTIVE || d->memory != 0) continue;
    wg_diag ignored = {0};
    wg_reader r = {d->offset.ptr, d->offset.ptr + d->offset.len, m->bytes, &ignored, WG_MSG_EOF_SECTION};
    wg_instr in;
    if (!wg_instr_read(&r, &in) || in.op != WG_OP_I32_CONST) {
      free(offs);
      return image_fail(NULL, err, "memory image: a data segment's offset is not a constant");
    }
    offs[i] = (uint32_t)in.bits;
    if ((uint64_t)offs[i] + d->init.len > (uint64_t)l->min * PAGE) {
      free(offs);
      return image_fail(NULL, err, "memory image: a data segment is out of bounds");
    }
  }
  wg_memimage *img = calloc(1, sizeof *img);
  if (!img) {
    free(offs);
    return image_fail(NULL, err, "out of memory");
  }
  img->module = m;
  img->min_pages = l->min;
  img->bytes = (size_t)l->min * PAGE;
  img->fd = -1;
  atomic_init(&img->refs, 1);
#if WG_HAVE_COW
  if (!(flags & WG_MEMIMAGE_NO_COW) && img->bytes && (img->fd = image_file(img->bytes)) >= 0) {
    for (uint32_t i = 0; i < m->ndatas; i++) {
      const wg_data *d = &m->datas[i];
      if (d->mode != WG_SEG_ACTIVE || d->memory != 0 || !d->init.len) continue;
      if (!write_at(img->fd, d->init.ptr, d->init.len, offs[i])) {
        close(img->fd);
        img->fd = -1; /* fall back to the heap copy */
        break;
      }
    }
  }
#else
  (void)flags;
#endif
  if (img->fd < 0) {
    img->copy = calloc(img->bytes ? img->bytes : 1, 1);
    if (!img->copy) {
      free(offs);
      return image_fail(img, err, "out of memory");
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
      const wg_data *d = &m->datas[i];
      if (d->mode == WG_SEG_ACTIVE && d->memory == 0 && d->init.len) memcpy(img->copy + offs[i], d->init.ptr, d->init.len);
    }
  }
  free(offs);
#if WG_HAVE_COW
  pthread_mutex_init(&img->mu, NULL);
  if (img->fd >= 0) { /* the source of dirty-page resets (without it, resets use madvise) */
    void *v = mmap(NULL, img->bytes, PROT_READ, MAP_SHARED, img->fd, 0);
    img->view = v == MAP_FAILED ? NULL : v;
  }
#endif
  return img;
}

static void image_unref(wg_memimage *img) {
  if (atomic_fetch_sub(&img->refs, 1) != 1) return;
#if WG_HAVE_COW
  for (size_t i = 0; i < img->ncache; i++) munmap(img->cache[i].data, img->cache[i].reserved);
  if (img->view) munmap((void *)img->view, img->bytes);
  if (img->fd >= 0) close(img->fd);
  pthread_mutex_destroy(&img->mu);
#endif
  free(img->copy);
  free(img);
}

void wg_memimage_delete(wg_memimage *img) {
  if (img) image_unref(img);
}

bool wg_memimage_is_cow(const wg_memimage *img) { return img && img->fd >= 0; }

const wg_module *wg_memimage_module(const wg_memimage *img) { return img->module; }

void wg_store_set_memimage(wg_store *s, wg_memimage *img) { s->memimage = img; }

#if WG_HAVE_COW
static int pagemap_fd = -1;
static size_t sys_page;
static pthread_once_t pagemap_once = PTHREAD_ONCE_INIT;
/* The pagemap entry of the page at p, or 0. */
static uint64_t pagemap_entry(int fd, const void *p) {
  uint64_t e = 0;
  if (pread(fd, &e, sizeof e, (off_t)((uintptr_t)p / sys_page * sizeof e)) != (ssize_t)sizeof e) return 0;
  return e;
}

/* Opens /proc/self/pagemap and checks that it tells what the resets rely on, on a private mapping
 * of a one-page file: a page only read is present and file-backed, a page written is present and
 * not. A kernel or sandbox that hides or changes these bits (a reset would then miss written pages
 * and leak them into the next instance) leaves pagemap_fd at -1: resets use madvise. */
static void pagemap_open(void) {
  long ps = sysconf(_SC_PAGESIZE);
  sys_page = ps > 0 ? (size_t)ps : 4096;
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  int file = fd >= 0 ? image_file(sys_page) : -1;
  bool ok = false;
  if (file >= 0) {
    volatile uint8_t *m = mmap(NULL, sys_page, PROT_READ | PROT_WRITE, MAP_PRIVATE, file, 0);
    if (m != MAP_FAILED) {
      uint8_t v = m[0]; /* read: the file's page */
      uint64_t e1 = pagemap_entry(fd, (const void *)m);
      m[0] = (uint8_t)(v + 1); /* written: a private copy */
      uint64_t e2 = pagemap_entry(fd, (const void *)m);
      ok = (e1 >> 63 & 1) && (e1 >> 61 & 1) && (e2 >> 63 & 1) && !(e2 >> 61 & 1);
      munmap((void *)m, sys_page);
    }
    close(file);
  }
  if (!ok && fd >= 0) {
    close(fd);
    fd = -1;
  }
  pagemap_fd = fd;
}

/* Copies back from the image the pages of [data, data + img->bytes) that a guest wrote (the
 * private anonymous copies; pagemap bit 63 present, bit 61 file-or-shared clear; or bit 62
 * swapped). 0, or -1 when
 * pagemap cannot be read or too many pages differ (the caller resets with madvise). */
static int reset_dirty(wg_memimage *img, uint8_t *data) {
  pthread_once(&pagemap_once, pagemap_open);
  if (pagemap_fd < 0 || !img->view || (uintptr_t)data % sys_page) return -1;
  size_t n = img->bytes / sys_page;
  uint64_t stackbuf[512];
  uint64_t *ent = n <= 512 ? stackbuf : malloc(n * sizeof *ent);
  if (!ent) return -1;
  int rc = -1;
  off_t off = (off_t)((uintptr_t)data / sys_page * sizeof *ent);
  if (pread(pagemap_fd, ent, n * sizeof *ent, off) == (ssize_t)(n * sizeof *ent)) {
    /* differs from the image: a present private (anonymous) page, or one swapped out (bit 62),
     * which can only be a private copy too (a page of the image's file is not swapped through
     * this mapping's page table); the copy swaps it back in */
#define DIFFERS(e) ((((e) >> 63 & 1) && !((e) >> 61 & 1)) || ((e) >> 62 & 1))
    size_t dirty = 0;
    for (size_t i = 0; i < n; i++) dirty += DIFFERS(ent[i]);
    if (dirty <= RESET_MAX_COPY) {
      for (size_t i = 0; i < n; i++)
        if (DIFFERS(ent[i])) memcpy(data + i * sys_page, img->view + i * sys_page, sys_page);
      rc = 0;
    }
#undef DIFFERS
  }
  if (ent != stackbuf) free(ent);
  return rc;
}

/* The store's release of a memory mapped from an image: reset and cache it, or unmap it. */
static void cow_memory_release(void *p) {
  wg_memory *mem = p;
  wg_memimage *img = mem->image;
  bool kept = false;
  int reset;
  if (reset_dirty(img, mem->data) == 0) /* pages past the image (grown) read as zero again */
    reset = mem->committed > img->bytes ? madvise(mem->data + img->bytes, mem->committed - img->bytes, MADV_DONTNEED) : 0;
  else
    reset = madvise(mem->data, mem->committed, MADV_DONTNEED);
  if (reset == 0) {
    pthread_mutex_lock(&img->mu);
    if (img->ncache < CACHE_SLOTS) {
      img->cache[img->ncache++] = (slot){mem->data, mem->reserved, mem->committed};
      kept = true;
    }
    pthread_mutex_unlock(&img->mu);
  }
  if (!kept) munmap(mem->data, mem->reserved);
  free(mem);
  image_unref(img);
}

/* Address space for mem with the image mapped at its start: a cached one, or a new mapping. */
static bool cow_map(wg_memimage *img, wg_memory *mem) {
  pthread_mutex_lock(&img->mu);
  for (size_t i = img->ncache; i-- > 0;)
    if (img->cache[i].reserved == mem->reserved) {
      mem->data = img->cache[i].data;
      mem->committed = img->cache[i].committed;
      img->cache[i] = img->cache[--img->ncache];
      pthread_mutex_unlock(&img->mu);
      return true;
    }
  pthread_mutex_unlock(&img->mu);
  void *base = mmap(NULL, mem->reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return false;
  if (mmap(base, img->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, img->fd, 0) == MAP_FAILED) {
    munmap(base, mem->reserved);
    return false;
  }
  mem->data = base;
  mem->committed = img->bytes;
  return true;
}
#endif

/* Resets mem (made from its image) to the image in place, for wg_instance_reset: the heap copy is
 * copied again over a zeroed memory; a copy-on-write mapping gets back the pages its guest dirtied
 * (reset_dirty), and pages past the image up to the size (the memory grew since the last reset)
 * are zeroed (wg_memory_zero: memset kept resident, or madvise when large), or when that fails the
 * whole mapping is dropped with madvise (it reads as the image and as zero again). The caller shrinks a grown
 * memory back. False when the system refused the madvise (the caller discards the instance). */
bool wg_memimage_reset_memory(wg_memory *mem) {
  wg_memimage *img = mem->image;
  if (img->fd < 0) {
    if (mem->size) memset(mem->data, 0, (size_t)mem->size);
    if (img->bytes) memcpy(mem->data, img->copy, img->bytes);
    return true;
  }
#if WG_HAVE_COW
  /* past the image: only pages below the size can have been written since the last reset (the
   * memory grew this time); those past it are zero already (committed earlier and reset then) */
  if (reset_dirty(img, mem->data) == 0) {
    if (mem->size > img->bytes) wg_memory_zero(mem->data + img->bytes, (size_t)(mem->size - img->bytes));
    return true;
  }
  return madvise(mem->data, mem->committed, MADV_DONTNEED) == 0;
#else
  return false;
#endif
}

wg_memory *wg_memimage_memory(wg_store *s, wg_memimage *img, const wg_limits *l) {
  if (img->fd < 0) { /* the heap copy into an ordinary memory */
    wg_memory *mem = wg_memory_new(s, l->min, l->has_max, l->max);
    if (!mem) return NULL;
    if (img->bytes) memcpy(mem->data, img->copy, img->bytes);
    mem->image = img; /* only marks the segments as applied: the store releases it as any memory */
    return mem;
  }
#if WG_HAVE_COW
  uint32_t cap = s->config.max_memory_pages;
  if (l->min != img->min_pages || l->min > cap || (l->has_max && l->min > l->max)) return NULL;
  uint32_t limit = l->has_max && l->max < cap ? l->max : cap;
  const uint64_t cost = sizeof(wg_memory) + (uint64_t)l->min * PAGE;
  if (!wg_store_charge(s, cost)) return NULL;
  wg_memory *mem = calloc(1, sizeof *mem);
  if (!mem) {
    s->bytes -= cost;
    return NULL;
  }
  *mem = (wg_memory){.store = s, .max = limit, .has_max = l->has_max, .decl_max = l->has_max ? l->max : 0,
                     .reserved = wg_jit_memory_reservation(s, limit), .image = img};
  if (!cow_map(img, mem)) {
    free(mem);
    s->bytes -= cost;
    return NULL;
  }
  mem->pages = l->min;
  mem->size = (uint64_t)l->min * PAGE;
  atomic_fetch_add(&img->refs, 1);
  if (!wg_jit_memory_trim(mem)) {
    cow_memory_release(mem);
    s->bytes -= cost;
    return NULL;
  }
  return wg_store_own(s, mem, cow_memory_release); /* on failure the release ran: unmapped, unref'd */
#else
  (void)s;
  (void)l;
  return NULL;
#endif
}
