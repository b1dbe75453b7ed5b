/*
 * pqload.h: libpq, loaded with dlopen the first time a state.postgresql
 * store is created. libpq pulls in OpenSSL, GnuTLS (through libldap),
 * Kerberos and p11-kit, about 4.5 MB of resident pages at start-up; a sidecar
 * without PostgreSQL should not pay for them (the idle RSS target is < 10 MB).
 * postgres.c includes this header after <libpq-fe.h> and calls PQ* as usual:
 * the macros below route each call through the loaded table.
 */
#ifndef WGG_STATE_PQLOAD_H
#define WGG_STATE_PQLOAD_H

#include <libpq-fe.h>

#include "util/err.h"

typedef struct wgg_pq_api {
  PGconn *(*PQconnectdb)(const char *);
  void (*PQfinish)(PGconn *);
  ConnStatusType (*PQstatus)(const PGconn *);
  char *(*PQerrorMessage)(const PGconn *);
  PGresult *(*PQexec)(PGconn *, const char *);
  PGresult *(*PQexecParams)(PGconn *, const char *, int, const Oid *, const char *const *, const int *,
                            const int *, int);
  ExecStatusType (*PQresultStatus)(const PGresult *);
  char *(*PQresultErrorMessage)(const PGresult *);
  void (*PQclear)(PGresult *);
  int (*PQntuples)(const PGresult *);
  char *(*PQgetvalue)(const PGresult *, int, int);
  int (*PQgetlength)(const PGresult *, int, int);
  char *(*PQcmdTuples)(PGresult *);
} wgg_pq_api;

/* The loaded functions; valid after wgg_pq_load returned 0. */
extern wgg_pq_api wgg_pq;

/* Loads libpq.so.5 once (thread-safe). Returns 0, or -1 with err naming the
 * library or the missing symbol (Debian package libpq5). */
int wgg_pq_load(wgg_err *err);

#ifndef WGG_PQLOAD_IMPL /* pqload.c names the members themselves */
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
#endif

#endif
