/*
 * pqload.h: libpq loaded on first use (util/lazylib.h), the first time a
 * state.postgresql store is created. postgres.c includes this header after
 * <libpq-fe.h> and calls PQ* as usual: the macros route each call through
 * the loaded table.
 */
#ifndef WGG_STATE_PQLOAD_H
#define WGG_STATE_PQLOAD_H

#include <libpq-fe.h>

#include "util/err.h"

#define WGG_PQ_FUNCS(X)                                                                                   \
  X(PQconnectdb) X(PQfinish) X(PQstatus) X(PQerrorMessage) X(PQexec) X(PQexecParams) X(PQresultStatus) \
  X(PQresultErrorMessage) X(PQclear) X(PQntuples) X(PQgetvalue) X(PQgetlength) X(PQcmdTuples)        \
  X(PQconnectStart) X(PQconnectPoll) X(PQsocket) X(PQsetnonblocking) X(PQsendQueryParams) X(PQgetResult) \
  X(PQisBusy) X(PQconsumeInput) X(PQflush) X(PQnotifies) X(PQfreemem)

#define WGG_LAZY_PTR(f) __typeof__(&f) f;
typedef struct wgg_pq_api {
  WGG_PQ_FUNCS(WGG_LAZY_PTR)
} wgg_pq_api;
#undef WGG_LAZY_PTR

extern wgg_pq_api wgg_pq;

/* Loads libpq.so.5 once. Returns 0, or -1 with err (Debian package libpq5). */
int wgg_pq_load(wgg_err *err);

#ifndef WGG_LAZY_IMPL
#define PQconnectdb wgg_pq.PQconnectdb
#define PQfinish wgg_pq.PQfinish
#define PQstatus wgg_pq.PQstatus
#define PQerrorMessage wgg_pq.PQerrorMessage
#define PQexec wgg_pq.PQexec
#define PQexecParams wgg_pq.PQexecParams
#define PQresultStatus wgg_pq.PQresultStatus
#define PQresultErrorMessage wgg_pq.PQresultErrorMessage
#define PQclear wgg_pq.PQclear
#define PQntuples wgg_pq.PQntuples
#define PQgetvalue wgg_pq.PQgetvalue
#define PQgetlength wgg_pq.PQgetlength
#define PQcmdTuples wgg_pq.PQcmdTuples
#define PQconnectStart wgg_pq.PQconnectStart
#define PQconnectPoll wgg_pq.PQconnectPoll
#define PQsocket wgg_pq.PQsocket
#define PQsetnonblocking wgg_pq.PQsetnonblocking
#define PQsendQueryParams wgg_pq.PQsendQueryParams
#define PQgetResult wgg_pq.PQgetResult
#define PQisBusy wgg_pq.PQisBusy
#define PQconsumeInput wgg_pq.PQconsumeInput
#define PQflush wgg_pq.PQflush
#define PQnotifies wgg_pq.PQnotifies
#define PQfreemem wgg_pq.PQfreemem
#endif

#endif
