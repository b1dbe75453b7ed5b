/*
 * cli.h: the subcommands of the `wasmgate` command.
 *
 * Each subcommand is a function taking the arguments after its own name
 * (argv[0] is the subcommand's name) and returning the process exit status.
 * main.c dispatches on the first argument; every subcommand answers --help.
 */
#ifndef WG_CLI_H
#define WG_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "wasmgate.h"

/* `wasmgate run`: the sidecar (cmd_run.c). */
int wg_cmd_run(int argc, char **argv);

/* `wasmgate serve COMPONENT`: a wasm app answers every request (cmd_serve.c). */
int wg_cmd_serve(int argc, char **argv);

/* `wasmgate wasm SUBCOMMAND`: validate, dump (cmd_wasm.c). */
int wg_cmd_wasm(int argc, char **argv);

/* `wasmgate wasm run`: a WASI program (cmd_wasm_run.c). argv[0] is "run". */
int wg_cmd_wasm_run(int argc, char **argv);
/* `wasm run` of a component (cmd_wasm_component.c): runs its wasi:cli/run
 * export with context `w` in `store`, which it deletes before returning
 * (the component instance lives in it). With n_resources > 0 the WASI cloud
 * interfaces are served by the components of those folders, as app ID
 * app_id (wggate.h wgg_cloud_new). `net` (NULL: none) grants wasi:sockets
 * (wgwasi.h wg_wasi_p2_set_network). Returns the exit status. */
typedef struct wg_wasi wg_wasi;
typedef struct wg_wasi_p2_network wg_wasi_p2_network;
int wg_cli_run_component(const char *path, const uint8_t *bytes, size_t len, wg_wasi *w, wg_store *store,
                         const char *app_id, const char *const *resources, size_t n_resources,
                         const wg_wasi_p2_network *net);

/* `wasmgate spec-driver`: the spec testsuite's JSON-lines driver (spec_driver.c). */
int wg_cmd_spec_driver(int argc, char **argv);

/* Reads a whole file into a malloc'd buffer. Returns NULL and prints
 * "wasmgate: PATH: reason" on stderr on failure. The caller frees *out. */
unsigned char *wg_cli_read_file(const char *path, size_t *len);

#endif
