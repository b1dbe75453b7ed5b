/*
 * lazy_mosquitto.h: libmosquitto loaded on first use (util/lazylib.h).
 * Include after <mosquitto.h>; call wgg_mosquitto_load before the first
 * mosquitto_* call.
 */
#ifndef WGG_COMPONENTS_LAZY_MOSQUITTO_H
#define WGG_COMPONENTS_LAZY_MOSQUITTO_H

#include <mosquitto.h>

#include "util/err.h"

#define WGG_MOSQ_FUNCS(X)                                                                                      \
  X(mosquitto_connack_string) X(mosquitto_connect) X(mosquitto_connect_async) X(mosquitto_connect_callback_set) \
  X(mosquitto_destroy) X(mosquitto_disconnect) X(mosquitto_disconnect_callback_set) X(mosquitto_int_option)     \
  X(mosquitto_lib_init) X(mosquitto_loop_start) X(mosquitto_loop_stop) X(mosquitto_message_callback_set)       \
  X(mosquitto_new) X(mosquitto_publish) X(mosquitto_publish_callback_set) X(mosquitto_reconnect_delay_set)     \
  X(mosquitto_socket) X(mosquitto_strerror) X(mosquitto_subscribe) X(mosquitto_topic_matches_sub)              \
  X(mosquitto_username_pw_set)

#define WGG_LAZY_PTR(f) __typeof__(&f) f;
typedef struct wgg_mosquitto_api {
  WGG_MOSQ_FUNCS(WGG_LAZY_PTR)
} wgg_mosquitto_api;
#undef WGG_LAZY_PTR

extern wgg_mosquitto_api wgg_mosq;

/* Loads libmosquitto.so.1 once. Returns 0, or -1 with err (Debian package libmosquitto1). */
int wgg_mosquitto_load(wgg_err *err);

#ifndef WGG_LAZY_IMPL
#define mosquitto_connack_string wgg_mosq.mosquitto_connack_string
#define mosquitto_connect wgg_mosq.mosquitto_connect
#define mosquitto_connect_async wgg_mosq.mosquitto_connect_async
#define mosquitto_connect_callback_set wgg_mosq.mosquitto_connect_callback_set
#define mosquitto_destroy wgg_mosq.mosquitto_destroy
#define mosquitto_disconnect wgg_mosq.mosquitto_disconnect
#define mosquitto_disconnect_callback_set wgg_mosq.mosquitto_disconnect_callback_set
#define mosquitto_int_option wgg_mosq.mosquitto_int_option
#define mosquitto_lib_init wgg_mosq.mosquitto_lib_init
#define mosquitto_loop_start wgg_mosq.mosquitto_loop_start
#define mosquitto_loop_stop wgg_mosq.mosquitto_loop_stop
#define mosquitto_message_callback_set wgg_mosq.mosquitto_message_callback_set
#define mosquitto_new wgg_mosq.mosquitto_new
#define mosquitto_publish wgg_mosq.mosquitto_publish
#define mosquitto_publish_callback_set wgg_mosq.mosquitto_publish_callback_set
#define mosquitto_reconnect_delay_set wgg_mosq.mosquitto_reconnect_delay_set
#define mosquitto_socket wgg_mosq.mosquitto_socket
#define mosquitto_strerror wgg_mosq.mosquitto_strerror
#define mosquitto_subscribe wgg_mosq.mosquitto_subscribe
#define mosquitto_topic_matches_sub wgg_mosq.mosquitto_topic_matches_sub
#define mosquitto_username_pw_set wgg_mosq.mosquitto_username_pw_set
#endif

#endif
