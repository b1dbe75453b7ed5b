/*
 * fuzz_grpc.c: the gRPC server's HTTP/2 and gRPC framing (gate/grpc/server.c)
 * on hostile bytes. Each input follows the HTTP/2 client preface on one end of
 * a socketpair whose other end the server adopts; the handler decodes a
 * GetStateRequest with protobuf-c and answers, as the Dapr service does, or
 * (paths starting "/s") serves a bidirectional echo stream. The
 * server must never crash, leak or hang, whatever the frames.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "grpc/server.h"

/* Streaming methods (paths starting "/s"): every client message is echoed
 * twice; one starting with 'x' ends the call with an error, the client's
 * half-close with OK. */
static bool streaming(const wgg_grpc_call *call, void *user) {
  const char *path = wgg_grpc_call_path(call);
  (void)user;
  return path[0] == '/' && path[1] == 's';
}

static void s_msg(wgg_grpc_call *call, const uint8_t *msg, size_t len, void *ctx) {
  (void)ctx;
  if (len && msg[0] == 'x') {
    wgg_grpc_stream_finish(call, 3, "stop %zu", len);
    return;
  }
  wgg_grpc_stream_send_raw(call, msg, len);
  wgg_grpc_stream_send_raw(call, msg, len);
}

static void s_end(wgg_grpc_call *call, bool gone, void *ctx) {
  (void)ctx;
  wgg_grpc_stream_finish(call, gone ? 1 : 0, "gone");
}

static void handler(wgg_grpc_call *call, void *user) {
  (void)user;
  if (streaming(call, NULL)) {
    wgg_grpc_stream_set(call, s_msg, s_end, NULL);
    return;
  }
  size_t len;
  const uint8_t *data = wgg_grpc_call_msg(call, &len);
  ProtobufCMessage *m = protobuf_c_message_unpack(&dapr__proto__runtime__v1__get_state_request__descriptor, NULL, len, data);
  if (!m) {
    wgg_grpc_fail(call, 13, "grpc: error unmarshalling request: %s", wgg_grpc_call_path(call));
    return;
  }
  Dapr__Proto__Runtime__V1__GetStateRequest *q = (void *)m;
  Dapr__Proto__Runtime__V1__GetStateResponse r = DAPR__PROTO__RUNTIME__V1__GET_STATE_RESPONSE__INIT;
  r.etag = q->store_name;
  r.data.data = (uint8_t *)q->key;
  r.data.len = strlen(q->key);
  wgg_grpc_call_add_header(call, "x-seen", wgg_grpc_call_header(call, "te") ? "te" : "none");
  wgg_grpc_reply(call, &r.base);
  protobuf_c_message_free_unpacked(m, NULL);
}

static wgg_grpc_server *srv;

static void on_guard(uv_timer_t *t) {
  (void)t;
  wgg_grpc_server_close_all(srv); /* a connection that never ends */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  if (size > 60000) return 0; /* fits the socket buffer: written before the loop runs */
  uv_loop_t loop;
  uv_loop_init(&loop);
  wgg_grpc_server_config cfg = {.max_msg = 4096, .max_head = 4096, .idle_timeout_ms = 0, .handler = handler,
                             .streaming = streaming};
  wgg_err err;
  srv = wgg_grpc_server_new(&loop, &cfg, &err);
  int sv[2];
  if (!srv || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) __builtin_trap();
  int big = 1 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (write(sv[1], preface, sizeof preface - 1) < 0 || (size && write(sv[1], data, size) < 0)) __builtin_trap();
  shutdown(sv[1], SHUT_WR);
  if (wgg_grpc_server_adopt(srv, sv[0], &err)) __builtin_trap();
  uv_timer_t guard;
  uv_timer_init(&loop, &guard);
  uv_timer_start(&guard, on_guard, 2000, 0);
  uv_unref((uv_handle_t *)&guard);
  uv_run(&loop, UV_RUN_DEFAULT);
  wgg_grpc_server_close_all(srv);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  wgg_grpc_server_free(srv);
  close(sv[1]);
  return 0;
}
