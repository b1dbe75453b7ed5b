/* pqload.c: see pqload.h. */
#include <dlfcn.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>

#define WGG_PQLOAD_IMPL
#include "components/state/pqload.h"

wgg_pq_api wgg_pq;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[400];

static void load(void) {
  void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(load_error, sizeof load_error, "cannot load libpq (Debian package libpq5): %s", dlerror());
    return;
  }
  wgg_pq_api t;
#define SYM(name)                                                                              \
  do {                                                                                         \
    void *p = dlsym(h, #name);                                                                 \
    if (!p) {                                                                                  \
      snprintf(load_error, sizeof load_error, "libpq.so.5 lacks %s", #name);                   \
      return;                                                                                  \
    }                                                                                          \
    memcpy(&t.name, &p, sizeof p); /* object pointer to function pointer, as POSIX allows */ \
  } while (0)
  SYM(PQconnectdb);
  SYM(PQfinish);
  SYM(PQstatus);
  SYM(PQerrorMessage);
  SYM(PQexec);
  SYM(PQexecParams);
  SYM(PQresultStatus);
  SYM(PQresultErrorMessage);
  SYM(PQclear);
  SYM(PQntuples);
  SYM(PQgetvalue);
  SYM(PQgetlength);
  SYM(PQcmdTuples);
#undef SYM
  wgg_pq = t;
}

int wgg_pq_load(wgg_err *err) {
  pthread_once(&once, load);
  if (load_error[0]) return wgg_err_set(err, "%s", load_error);
  return 0;
}
