/*
 * fuzz_grpc_client.c: the gRPC client of the app channel (gate/grpc/client.c)
 * against a hostile app. Each input is what the "app" sends after an empty
 * SETTINGS frame, on one end of a socketpair the client adopts; three calls
 * (a 30 ms deadline, none, 2 s) are in flight while it arrives, then the
 * client is closed. Answers are decoded as the app channel decodes them
 * (InvokeResponse, ListTopicSubscriptionsResponse). The client must never
 * crash, leak or hang, and must answer every call exactly once.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "dapr/proto/common/v1/common.pb-c.h"
#include "dapr/proto/runtime/v1/appcallback.pb-c.h"
#include "grpc/client.h"

static int answered;

static void on_result(void *user, const wgg_grpc_result *r) {
  (void)user;
  answered++;
  if (!r->message) __builtin_trap();
  if (r->code != WGG_GRPC_OK) return;
  Dapr__Proto__Common__V1__InvokeResponse *m = dapr__proto__common__v1__invoke_response__unpack(NULL, r->len, r->msg);
  if (m) dapr__proto__common__v1__invoke_response__free_unpacked(m, NULL);
  Dapr__Proto__Runtime__V1__ListTopicSubscriptionsResponse *l =
      dapr__proto__runtime__v1__list_topic_subscriptions_response__unpack(NULL, r->len, r->msg);
  if (l) dapr__proto__runtime__v1__list_topic_subscriptions_response__free_unpacked(l, NULL);
  for (size_t i = 0; i < r->n_md; i++)
    if (!r->md[i].name || !r->md[i].value) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint8_t settings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
  if (size > 60000) return 0; /* fits the socket buffer: written before the loop runs */
  uv_loop_t loop;
  uv_loop_init(&loop);
  wgg_grpc_client *cl = wgg_grpc_client_new(&loop, "127.0.0.1", 9, 4096);
  int sv[2];
  if (!cl || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) __builtin_trap();
  int big = 1 << 20;
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (write(sv[1], settings, sizeof settings) < 0 || (size && write(sv[1], data, size) < 0)) __builtin_trap();
  shutdown(sv[1], SHUT_WR);
  if (wgg_grpc_client_adopt(cl, sv[0])) __builtin_trap();
  answered = 0;
  const wgg_http_header md[1] = {{"x-k", "v"}};
  static const uint8_t msg[4] = {10, 2, 'h', 'i'};
  int calls = 0;
  calls += !wgg_grpc_client_call(cl, "/a.B/C", md, 1, msg, sizeof msg, 30, on_result, NULL);
  calls += !wgg_grpc_client_call(cl, "/a.B/D", NULL, 0, NULL, 0, 0, on_result, NULL);
  calls += !wgg_grpc_client_call(cl, "/a.B/E", md, 1, msg, sizeof msg, 2000, on_result, NULL);
  wgg_grpc_client_close(cl); /* calls in flight still complete: the input ends with EOF */
  uv_run(&loop, UV_RUN_DEFAULT);
  if (answered != calls) __builtin_trap();
  if (uv_loop_close(&loop)) __builtin_trap();
  close(sv[1]);
  return 0;
}
