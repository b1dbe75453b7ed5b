/*
 * wgwasi.h: WASI preview1 (wasi_snapshot_preview1) for wasmgate's engine.
 *
 * A WASI context holds what a guest may see: its arguments, its environment,
 * preopened directories (the only file system access it gets; no path can
 * resolve outside them), its stdio (the process's descriptors, or in-memory
 * buffers), and whether clocks and randomness are deterministic ("strict
 * sandbox", as Dapr's strictSandbox). The context provides host functions for
 * a module's wasi_snapshot_preview1 imports; they reach the calling
 * instance's memory through the engine's public API only.
 *
 * Implements the WASI preview1 ABI (WebAssembly/WASI, legacy/preview1,
 * wasi_snapshot_preview1.witx). Functions not implemented yet return ENOSYS
 * (52); docs/wasi.md lists them.
 */
#ifndef WGWASI_H
#define WGWASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmgate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wg_wasi wg_wasi;
typedef struct wg_wasi_walltime wg_wasi_walltime; /* see "strict sandbox" below */

/* A preopened directory: `host` is opened at wg_wasi_new; the guest sees it
 * as `guest` (e.g. "/data" or "."). */
typedef struct wg_wasi_preopen {
  const char *host;
  const char *guest;
} wg_wasi_preopen;

typedef struct wg_wasi_config {
  int argc;
  const char *const *argv; /* argv[0] is the program name the guest sees */
  int envc;
  const char *const *envp; /* "KEY=VALUE" strings; nothing else is visible */
  int npreopens;
  const wg_wasi_preopen *preopens;
  /* Stdio: by default the process's fds 0, 1, 2. With stdin_buf the guest
   * reads these bytes (copied) instead; with capture_output, what it writes
   * to fds 1 and 2 is kept in memory (wg_wasi_output) instead. */
  const uint8_t *stdin_buf;
  size_t stdin_len;
  bool use_stdin_buf;
  /* With use_stdin_fd (and not use_stdin_buf): the guest's fd 0 is a
   * duplicate of host descriptor stdin_fd (the caller keeps its own), and
   * the guest sees what it really is: a regular file (seekable) for a file,
   * a pipe, a terminal. */
  int stdin_fd;
  bool use_stdin_fd;
  bool capture_output;
  /* With capture_output: at most this many bytes are kept per fd (0 = no
   * limit); writes beyond it are dropped but reported as written, so a
   * chatty guest cannot grow the host's memory without bound. */
  size_t capture_max;
  /* Dapr's strictSandbox: deterministic clocks and random bytes, sleeps
   * return at once; exactly as described under "strict sandbox" below. */
  bool strict;
  /* With strict: the wall clock to read (shared, not owned; it must outlive
   * the context). NULL: the context's own, started at wg_wasi_new. */
  wg_wasi_walltime *strict_walltime;
} wg_wasi_config;

/* Creates a context. Strings are copied. Returns NULL and writes a message
 * (e.g. "cannot open preopen DIR: reason") into err[0..errlen) on failure. */
wg_wasi *wg_wasi_new(const wg_wasi_config *config, char *err, size_t errlen);

/* Frees the context and closes every descriptor it opened. */
void wg_wasi_delete(wg_wasi *w);

/* Resets the context to what wg_wasi_new(config) makes, in place, so that host functions linked
 * to it (wg_wasi_link) serve a reused instance (wasmgate.h wg_instance_reset) as a new context
 * would: the arguments, environment, stdio buffers and captured output, preopens and descriptors
 * (every descriptor the guest opened is closed; the descriptor table is rebuilt), the exit state,
 * and the strict sandbox's clocks and random numbers start over. Returns true, or false with a
 * message in err[0..errlen) (those of wg_wasi_new), leaving the context as it was. */
bool wg_wasi_reset(wg_wasi *w, const wg_wasi_config *config, char *err, size_t errlen);

/* Fills imports[i] for every import of `m` from wasi_snapshot_preview1 with
 * host functions made in `store` (owned by the store; the context must
 * outlive it). Imports from other modules are left untouched. Returns false
 * and writes a message when an import from wasi_snapshot_preview1 is unknown
 * or has the wrong type. `imports` has wg_module_import_count(m) entries. */
bool wg_wasi_link(wg_wasi *w, wg_store *store, const wg_module *m, wg_extern *imports, char *err, size_t errlen);

/* WASI 0.2 (wasi/src/p2_cli.c): defines in component linker `l` the
 * wasi:cli (environment, exit, stdin/stdout/stderr, terminal-*), wasi:io
 * (error, streams on stdio), wasi:clocks (wall-clock, monotonic-clock) and
 * wasi:random (random, insecure, insecure-seed) interfaces at 0.2.12
 * (imports of any 0.2.x match), served by context `w` exactly as its
 * preview1 functions are (capture, stdin buffer, strict sandbox; exit is
 * reported by wg_wasi_exited). The context must outlive the linker's
 * instances. False with a message on OOM. */
typedef struct wg_component_linker wg_component_linker;
bool wg_wasi_p2_define(wg_wasi *w, wg_component_linker *l, char *err, size_t errlen);

/* WASI 0.2 for many stores at once (hosts that instantiate a component per
 * request from one linker, as the wasm app host does): the same interfaces
 * as wg_wasi_p2_define, but each call is served by the context of the
 * calling store, which of_store(store) returns (wg_component_host_store;
 * typically kept in wg_store_data). Every store instantiated with `l` must
 * have a context (wg_wasi_p2_new) before its first call, including start
 * functions. Returns the linker's template (owned by the linker: freed by
 * wg_component_linker_delete), or NULL with a message on OOM. */
typedef struct wg_wasi_p2 wg_wasi_p2;
typedef struct wg_store wg_store;
wg_wasi_p2 *wg_wasi_p2_define_shared(wg_component_linker *l, wg_wasi_p2 *(*of_store)(wg_store *s), char *err,
                                     size_t errlen);

/* wg_wasi_p2_define, also giving the context it made (owned by the linker: valid until
 * wg_component_linker_delete), in which an embedder makes its own streams for that store
 * (wg_wasi_p2_stream). NULL with a message on OOM. */
wg_wasi_p2 *wg_wasi_p2_define_ctx(wg_wasi *w, wg_component_linker *l, char *err, size_t errlen);

/* A context for one store, served by preview1 context `w` (which must
 * outlive it), with the resource types of template `shared`. Owned by the
 * caller (wg_wasi_p2_delete after the store); NULL on OOM. */
wg_wasi_p2 *wg_wasi_p2_new(const wg_wasi_p2 *shared, wg_wasi *w);
/* Frees a context; the drop hook of every embedder stream still open runs
 * first. NULL is ignored. */
void wg_wasi_p2_delete(wg_wasi_p2 *p);

/* An embedder's wasi:io stream (an HTTP body, ...): wasi:io/streams calls on
 * it reach these hooks instead of a descriptor (one stream mechanism: the
 * kind of a stream decides where its bytes go). `user` is the pointer given
 * to wg_wasi_p2_stream. Input streams use read; output streams check_write
 * and write. Any hook may be NULL (read: always closed; check_write: 1 MiB;
 * write: closed; drop: nothing).
 *   read: copy up to n bytes into buf; the count, 0 when nothing is
 *     available yet, -1 when the stream has ended (stream-error.closed),
 *     -2 when it broke off (stream-error.last-operation-failed);
 *   check_write: bytes the guest may write now, -1 when closed;
 *   write: take all n bytes; 0, or -1 when closed, -2 when it failed
 *     (last-operation-failed);
 *   drop: the guest dropped its handle (or the context is deleted);
 *   ready: whether a read or write would make progress now (input: bytes
 *     are there or the stream ended; output: check_write is not 0), for
 *     subscribe, poll and the blocking forms (NULL: always ready). */
typedef struct wg_wasi_p2_stream_ops {
  int64_t (*read)(void *user, uint8_t *buf, size_t n);
  int64_t (*check_write)(void *user);
  int (*write)(void *user, const uint8_t *buf, size_t n);
  void (*drop)(void *user);
  bool (*ready)(void *user);
} wg_wasi_p2_stream_ops;

/* Makes an own<input-stream> (output false) or own<output-stream> handle on
 * ops/user in *out (a wg_cval a host function returns to the guest). False
 * on OOM (nothing made). `ops` must outlive the stream. */
typedef struct wg_cval wg_cval;
bool wg_wasi_p2_stream(wg_wasi_p2 *p, bool output, const wg_wasi_p2_stream_ops *ops, void *user, wg_cval *out);

/* Makes an own<pollable> handle that is always ready (for host resources'
 * subscribe: a buffered body, a trailers future that is resolved). False on
 * OOM. */
bool wg_wasi_p2_pollable_ready(wg_wasi_p2 *p, wg_cval *out);

/* Makes an own<pollable> handle whose readiness the embedder decides:
 * ready(user, tag) on every check (subscribe of a future-incoming-response:
 * the tag names the future; an object that no longer exists should count
 * as ready). False on OOM. */
bool wg_wasi_p2_pollable(wg_wasi_p2 *p, bool (*ready)(void *user, uint32_t tag), void *user, uint32_t tag,
                         wg_cval *out);

/* ---------------------------------------------------------------- waiting on an event loop
 * Where the WIT says a call blocks (wasi:io/poll poll, pollable.block,
 * input-stream blocking-read and blocking-skip, output-stream
 * blocking-write-and-flush and blocking-flush), a context without a park
 * hook blocks the calling thread (clocks sleep; `wasmgate wasm run`). An
 * embedder that runs guests on an event loop sets a hook instead: a call
 * that cannot finish now hands it a wait, and returns what the hook returns
 * (its WG_TRAP_SUSPENDED trap: the guest parks, wasmgate_component.h
 * wg_component_func_resume). The embedder tries the wait again
 * (wg_wasi_p2_wait_try) whenever one of its sources may have changed (bytes
 * arrived, a queue drained, a future resolved) and when its timeout passes,
 * and resumes the guest with the results once it is done. A hook returning
 * NULL (it cannot park now) keeps the blocking behaviour; the wait stays the
 * caller's. */
typedef struct wg_wasi_p2_wait wg_wasi_p2_wait;
typedef wg_trap *(*wg_wasi_p2_park_fn)(void *user, wg_wasi_p2_wait *w);

/* Sets (or with NULL clears) p's park hook; user is passed to it. */
void wg_wasi_p2_set_park(wg_wasi_p2 *p, wg_wasi_p2_park_fn park, void *user);

/* Nanoseconds until the earliest clock pollable w waits on is due (0: due
 * now), UINT64_MAX when it waits on no clock. */
uint64_t wg_wasi_p2_wait_timeout(const wg_wasi_p2_wait *w);

/* Tries to finish w: true when done, with the parked host function's results
 * in results (*n: 1 or 0 values; owned by the caller, for
 * wg_component_func_resume) and w freed; false while it still waits. A
 * failure to make the results (OOM) finishes it with *n 0 and *trap set. */
bool wg_wasi_p2_wait_try(wg_wasi_p2_wait *w, wg_cval *results, size_t *n, wg_trap **trap);

/* Frees a wait that will not be tried again (the guest was abandoned). NULL
 * is ignored. */
void wg_wasi_p2_wait_free(wg_wasi_p2_wait *w);
/* wasi:sockets grants (wasi/src/p2_net.c): by default a context grants no
 * network access: create-tcp-socket, create-udp-socket and
 * resolve-addresses fail with error-code `access-denied` (the wasm app
 * host, wg_wasi_p2_new, never grants any). With a grant:
 *   allow: the addresses the guest may bind, connect and send datagrams
 *     to, each "*" (any) or "HOST[/PREFIX]:PORT" with HOST `*`, an IPv4
 *     address or [an IPv6 address] and PORT a number or `*`:
 *     "127.0.0.1:*", "10.0.0.0/8:443", "[::1]:8080", "*:53". An operation
 *     on any other address fails with `access-denied`. With no pattern,
 *     sockets cannot be created at all (access-denied).
 *   ip_name_lookup: resolve-addresses may look names up (getaddrinfo).
 *   no_tcp, no_udp: refuse that protocol's sockets even when addresses are
 *     granted (wasmtime's -S tcp=n / -S udp=n).
 * Accepted connections are not checked (the listener's address was). */
typedef struct wg_wasi_p2_network {
  const char *const *allow;
  size_t nallow;
  bool ip_name_lookup;
  bool no_tcp, no_udp;
} wg_wasi_p2_network;

/* Sets context p's grants (copied; NULL: deny everything again), for the
 * calls it serves from now on. False with a message in err[0..errlen) for a
 * malformed pattern ("bad socket address pattern 'x' ...") or OOM; the
 * previous grants stay then. */
bool wg_wasi_p2_set_network(wg_wasi_p2 *p, const wg_wasi_p2_network *net, char *err, size_t errlen);

/* Whether the guest called proc_exit, and with which code. A proc_exit ends
 * the running call with a WG_TRAP_HOST trap whose message is "exit". */
bool wg_wasi_exited(const wg_wasi *w, int *code);

/* With capture_output: what the guest wrote to fd 1 or 2 (fd), owned by the
 * context, valid until the next guest call. NULL for other fds. */
const uint8_t *wg_wasi_output(const wg_wasi *w, int fd, size_t *len);

/* With capture_output: discards what was captured so far on fd 1 or 2 (a
 * long-lived context, such as a pooled http-wasm guest, drains its output
 * after every request). Other fds are ignored. */
void wg_wasi_output_clear(wg_wasi *w, int fd);

/* ---------------------------------------------------------------- strict sandbox
 * Dapr's strictSandbox (components-contrib common/wasm NewModuleConfig:
 * wazero's defaults plus Dapr's fake wall clock), which a context with
 * `strict` implements exactly:
 *   - clock_time_get(realtime): a wall clock that starts at the current
 *     whole second and advances 1 ms before each read (so the first read is
 *     second + 1 ms); resolution 1 ms. With strict_walltime, reads come from
 *     that shared clock instead of one of the context's own.
 *   - clock_time_get(monotonic): 0 at the first read, 1 ms more at each
 *     read; resolution 1 ns.
 *   - clock ids 2 and 3 (process and thread CPU time): EINVAL, as wazero.
 *   - random_get: Go's math/rand source seeded with 42, read as
 *     rand.Rand.Read does (7 bytes per Int63, least significant first; the
 *     bytes left over carry to the next call): see wg_gorand below.
 *   - poll_oneoff's clocks and sleeps return at once, reading no clock. */

/* wg_wasi_walltime: the fake wall clock, which several contexts may share:
 * Dapr makes one per middleware component (all its instances read it) and
 * one per bindings.wasm call. Safe to read from several threads.
 *
 * A clock starting at the current whole second (CLOCK_REALTIME). NULL when
 * out of memory. */
wg_wasi_walltime *wg_wasi_walltime_new(void);

/* A clock starting at `start_ns` (nanoseconds since the epoch), for tests. */
wg_wasi_walltime *wg_wasi_walltime_new_at(uint64_t start_ns);

/* Advances the clock by 1 ms and returns its new value (ns). */
uint64_t wg_wasi_walltime_read(wg_wasi_walltime *c);

/* Frees it; the contexts using it must be gone. */
void wg_wasi_walltime_delete(wg_wasi_walltime *c);

/* Go's math/rand source (rngSource, seeded as rand.NewSource does) with
 * rand.Rand's Read on top: wasi/src/gorand.c describes the algorithm. */
typedef struct wg_gorand wg_gorand;

/* rand.New(rand.NewSource(seed)). NULL when out of memory. */
wg_gorand *wg_gorand_new(int64_t seed);
void wg_gorand_delete(wg_gorand *r);

/* Reseeds (Source.Seed), which also drops what Read had left over. */
void wg_gorand_seed(wg_gorand *r, int64_t seed);

/* Source64.Uint64 and Source.Int63 (the low 63 bits of the next step). */
uint64_t wg_gorand_uint64(wg_gorand *r);
int64_t wg_gorand_int63(wg_gorand *r);

/* rand.Rand.Read: fills buf[0..len) from Int63 values, 7 bytes each, least
 * significant first, keeping unused bytes for the next call. */
void wg_gorand_read(wg_gorand *r, uint8_t *buf, size_t len);

/* The 607 words Go seeds every source with (its rngCooked table: the
 * generator seeded with 1 after 7.8e12 steps), computed at the first call;
 * static storage. */
const uint64_t *wg_gorand_cooked(void);

#ifdef __cplusplus
}
#endif
#endif
