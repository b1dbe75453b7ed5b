/*
 * fuzz_http.c: libFuzzer target for the HTTP server's request path: the
 * http-parser glue (gate/http/server.c: framing, head limits, pipelining,
 * lingering close), the API token check and routing (gate/api/router.c) and
 * path/query decoding (gate/api/respond.c), over the real sidecar API with no
 * components and no app (so no call leaves the process).
 *
 * Each input is the byte stream a client sends on one connection: it is
 * written into one end of a socketpair whose other end the server adopts,
 * the write side is shut down, and the loop runs until the server has closed
 * the connection (bounded: 2 s, then every connection is closed). The bytes
 * the server sends back must each start a response with "HTTP/1.1 ".
 * Invariants: no crash, sanitizer report or leak; the connection always
 * ends; answers are well-formed status lines.
 */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "api/api.h"
#include "api/mesh.h"
#include "http/server.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static wgg_options opts;
static wgg_api *api;
static wgg_http_server *srv;

static void fail(const char *what) {
  fprintf(stderr, "invariant failed: %s\n", what);
  abort();
}

static char home[] = "/tmp/wgg-fuzz-http-XXXXXX"; /* the name-resolution registry stays private */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void remove_home(void) {
  nftw(home, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (!mkdtemp(home)) fail("mkdtemp");
  atexit(remove_home);
  setenv("HOME", home, 1);
  wgg_log_setup(WGG_LOG_ERROR + 1, false); /* quiet */
  uv_loop_init(&loop);
  wgg_options_init(&opts);
  opts.app_id = "fuzz";
  opts.api_token = getenv("FUZZ_HTTP_TOKEN"); /* optional: exercise the token check */
  wgg_component_list comps = {0};
  wgg_err err;
  if (!(api = wgg_api_new(&opts, &comps, &err))) fail(err.msg);
  if (wgg_mesh_init(api, &err)) fail(err.msg);
  wgg_http_server_config cfg = {.max_body = 65536,
                                .max_head = 8192,
                                .header_timeout_ms = 2000,
                                .read_timeout_ms = 2000,
                                .idle_timeout_ms = 2000,
                                .write_timeout_ms = 2000,
                                .handler = wgg_api_handle,
                                .user = api,
                                /* invocations with a body of more than 16 bytes stream it (issue
                                 * 18.3): dispatch at the end of the head, answers before the body */
                                .stream_body = wgg_api_stream_body,
                                .stream_body_min = 16};
  if (!(srv = wgg_http_server_new(&loop, &cfg, &err))) fail(err.msg);
  return 0;
}

/* Reads what the server sent so far into out (bounded) and checks that each
 * response starts with a status line. */
static void drain(int fd, char *out, size_t cap, size_t *len) {
  for (;;) {
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return;
    size_t room = cap - *len;
    size_t take = (size_t)n < room ? (size_t)n : room;
    memcpy(out + *len, buf, take);
    *len += take;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) fail("socketpair");
  int big = 1 << 20;
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  if (wgg_http_server_adopt(srv, sv[0])) fail("adopt");
  static char out[1 << 20];
  size_t out_len = 0;
  size_t sent = 0;
  bool shut = false;
  uint64_t start = uv_hrtime();
  while (wgg_http_server_connections(srv)) {
    if (sent < size) { /* feed as the socket takes it */
      ssize_t n = send(sv[1], data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) sent += (size_t)n;
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) sent = size; /* the server hung up */
    }
    if (sent >= size && !shut) {
      shutdown(sv[1], SHUT_WR);
      shut = true;
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    drain(sv[1], out, sizeof out, &out_len);
    if (uv_hrtime() - start > 2000000000ull) {
      wgg_http_server_close_all(srv);
      uv_run(&loop, UV_RUN_NOWAIT);
      fail("the connection did not end within 2 s");
    }
  }
  uv_run(&loop, UV_RUN_NOWAIT); /* closes the handles of the ended connection */
  drain(sv[1], out, sizeof out, &out_len);
  close(sv[1]);
  if (out_len && memcmp(out, "HTTP/1.1 ", out_len < 9 ? out_len : 9)) fail("the answer is not a status line");
  return 0;
}
