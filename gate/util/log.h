/*
 * log.h: leveled logs on stderr, as text ("time=... level=info msg=...") or
 * as JSON lines (--log-as-json). The level and format are set once at start.
 */
#ifndef WGG_UTIL_LOG_H
#define WGG_UTIL_LOG_H

#include "wggate.h"

/* Sets the minimum level (enum wgg_log_level) and the format. Call before
 * any thread starts. */
void wgg_log_setup(int level, bool as_json);

/* The minimum level set by wgg_log_setup (enum wgg_log_level). */
int wgg_log_get_level(void);

/* Logs one line at level (printf-style). Thread-safe (one write(2) per line). */
void wgg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define wgg_debug(...) wgg_log(WGG_LOG_DEBUG, __VA_ARGS__)
#define wgg_info(...) wgg_log(WGG_LOG_INFO, __VA_ARGS__)
#define wgg_warn(...) wgg_log(WGG_LOG_WARN, __VA_ARGS__)
#define wgg_error(...) wgg_log(WGG_LOG_ERROR, __VA_ARGS__)

#endif
