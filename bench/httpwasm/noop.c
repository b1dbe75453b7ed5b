/* noop.c: the C counterpart of noop.wat, built with sdk/c, for bench/middleware.sh. */
#include "http_handler.h"

int64_t handle_request(void) { return hh_next(0); }
