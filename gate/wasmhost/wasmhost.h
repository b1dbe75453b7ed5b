/*
 * wasmhost.h: what the sidecar needs from the engine and WASI to host
 * guests: loading a module from a component's url, running a WASI command
 * under a deadline, and the process's epoch ticker that deadlines use.
 */
#ifndef WGG_WASMHOST_H
#define WGG_WASMHOST_H

#include <stddef.h>
#include <stdint.h>

#include "wasmgate.h"
#include "wasmgate_component.h"
#include "wggate.h"
#include "wgwasi.h"

/* Loads and validates a module from `url`: "file://PATH" (relative to the
 * working directory unless absolute), a bare path, or http:// / https://
 * (fetched with wgg_wasm_fetch: blocking, for start-up only). *guest receives the
 * file name without directory and ".wasm" (malloc'd). NULL with err
 * ("wasm: error compiling binary: <engine message>", ...). */
wg_module *wgg_wasm_load(const char *url, char **guest, wgg_err *err);

/* wgg_wasm_load that also accepts a component (wasmgate_component.h): when
 * comp is non-NULL and the binary is a component (wg_binary_kind_of), it is
 * decoded and validated into *comp (owned by the caller) and NULL is
 * returned without error; otherwise as wgg_wasm_load (*comp NULL). Errors:
 * wgg_wasm_load's, and "wasm: error decoding component: <engine message> (at
 * byte N)". */
wg_module *wgg_wasm_load_any(const char *url, char **guest, wg_component **comp, wgg_err *err);

/* Downloads a guest from an http:// or https:// url into out (GET with
 * redirects and transparent gzip, 30 s and 256 MiB bounds), as Dapr's wasm
 * components do at init. Blocks the calling thread (libcurl): use at start-up
 * or on the main loop, never on a worker loop. -1 with err:
 * "received <code> status code from \"<url>\"", "Get \"<url>\": <reason>"
 * (connection, TLS, timeout), an invalid URL. */
struct wgg_buf;
int wgg_wasm_fetch(const char *url, struct wgg_buf *out, wgg_err *err);

typedef struct wgg_wasm_run_result {
  int exit_code;      /* proc_exit's code, 0 when _start returned */
  char *stdout_data;  /* malloc'd (NULL when empty); the caller frees */
  size_t stdout_len;
} wgg_wasm_run_result;

/* Runs a fresh instance of `m` as a WASI command (its _start) with context
 * `cfg`, interrupted after timeout_ms (0: no deadline). Returns 0 (the
 * exit code and stdout in *r), or -1 with err for a trap, a limit, a link
 * or instantiation failure. Thread-safe: each call has its own store. */
int wgg_wasm_run_command(const wg_module *m, const wg_wasi_config *cfg, uint64_t timeout_ms,
                         wgg_wasm_run_result *r, wgg_err *err);

struct wgg_cancel;

/* Links imports that WASI does not provide: fills imports[i] for those it
 * serves (functions made in `store`); -1 with err naming an import it
 * refuses. */
typedef int (*wgg_wasm_link_fn)(void *env, wg_store *store, const wg_module *m, wg_extern *imports, wgg_err *err);

typedef struct wgg_wasm_run_opts {
  uint64_t timeout_ms;         /* 0: no deadline */
  uint32_t max_memory_pages;   /* cap on the guest's memories, 64 KiB pages (0: engine default, 4 GiB) */
  struct wgg_cancel *cancel;   /* may be NULL: when it fires, the guest is interrupted at once and the
                                  call fails with "module closed with context canceled" (Dapr's text) */
  wgg_wasm_link_fn link;       /* may be NULL */
  void *link_env;
  /* With cfg->capture_output: the most bytes of stdout kept (0: no limit).
   * Past it, later writes are dropped (the host's memory stays bounded) and
   * the call fails with "wasm: output larger than N bytes" when the guest
   * ends; stderr is kept up to the same bound. */
  size_t max_output;
} wgg_wasm_run_opts;

/* wgg_wasm_run_command with every option: a memory cap, a cancel token and
 * extra imports. Same results and errors, plus the cancellation above. */
int wgg_wasm_run_command_opts(const wg_module *m, const wg_wasi_config *cfg, const wgg_wasm_run_opts *o,
                              wgg_wasm_run_result *r, wgg_err *err);

/* Checks, without running anything, that every import of m is satisfied by
 * WASI (context cfg) or by `link` (may be NULL): the decision Dapr's
 * runtime takes when it instantiates a guest, taken once at init. -1 with
 * err naming the first import that is not ("wasm: unknown import M.N"). */
int wgg_wasm_check_imports(const wg_module *m, const wg_wasi_config *cfg, wgg_wasm_link_fn link, void *env,
                           wgg_err *err);

/* One epoch tick, in milliseconds. The ticker thread advances the epoch by
 * the milliseconds elapsed, waking every 10 ms, or every millisecond while a
 * guest runs in time slices (wgg_wasm_ticker_fine). */
#define WGG_WASM_TICK_MS 1

/* Counts guests in time slices up (delta 1) or down (-1): while the count is
 * positive the ticker wakes every WGG_WASM_TICK_MS, so a slice (which ends
 * at the next tick) lasts about a millisecond (wasmhost/slice.h). Any thread. */
void wgg_wasm_ticker_fine(int delta);

/* Starts the process's epoch ticker once (later calls do nothing). */
void wgg_wasm_ticker_start(void);

#endif
