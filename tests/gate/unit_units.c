/* unit_units.c: quantities (--max-body-size) and durations (timeouts). */
#include "check.h"
#include "wggate.h"

int main(void) {
  size_t q;
  wgg_err e;
  CHECK(wgg_parse_quantity("4Mi", &q, &e) == 0 && q == 4u << 20);
  CHECK(wgg_parse_quantity("4Ki", &q, &e) == 0 && q == 4096);
  CHECK(wgg_parse_quantity("10k", &q, &e) == 0 && q == 10000);
  CHECK(wgg_parse_quantity("123", &q, &e) == 0 && q == 123);
  CHECK(wgg_parse_quantity("2G", &q, &e) == 0 && q == 2000000000u);
  CHECK(wgg_parse_quantity("4Xi", &q, &e) == -1 && strstr(e.msg, "unknown unit"));
  CHECK(wgg_parse_quantity("", &q, &e) == -1);
  CHECK(wgg_parse_quantity("-1", &q, &e) == -1);
  CHECK(wgg_parse_quantity("99999999999999999999Ti", &q, &e) == -1);

  uint64_t ms;
  CHECK(wgg_parse_duration_ms("5s", &ms, &e) == 0 && ms == 5000);
  CHECK(wgg_parse_duration_ms("500ms", &ms, &e) == 0 && ms == 500);
  CHECK(wgg_parse_duration_ms("1m30s", &ms, &e) == 0 && ms == 90000);
  CHECK(wgg_parse_duration_ms("2h", &ms, &e) == 0 && ms == 7200000);
  CHECK(wgg_parse_duration_ms("1.5s", &ms, &e) == 0 && ms == 1500);
  CHECK(wgg_parse_duration_ms("7", &ms, &e) == 0 && ms == 7000);
  CHECK(wgg_parse_duration_ms("5x", &ms, &e) == -1);
  CHECK(wgg_parse_duration_ms("s", &ms, &e) == -1);
  CHECK(wgg_parse_duration_ms("1s5", &ms, &e) == -1 && strstr(e.msg, "missing unit"));

  CHECK(wgg_parse_log_level("debug") == WGG_LOG_DEBUG);
  CHECK(wgg_parse_log_level("WARN") == WGG_LOG_WARN);
  CHECK(wgg_parse_log_level("loud") == -1);

  wgg_options o;
  wgg_options_init(&o);
  CHECK(o.http_port == 3500 && o.max_body_size == 4u << 20 && o.read_buffer_size == 4096);
  CHECK(o.graceful_shutdown_ms == 5000 && o.metrics_port == 9090 && o.app_max_concurrency == -1);
  CHECK_STR(o.app_protocol, "http");
  CHECK_STR(o.app_channel_address, "127.0.0.1");
  CHECK_DONE();
}
