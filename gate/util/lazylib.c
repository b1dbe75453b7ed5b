/* lazylib.c: see lazylib.h. */
#include "util/lazylib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

int wgg_lazylib_load(const char *soname, const char *pkg, const char *const *names, void **table, size_t n,
                     int *once_state, wgg_err *err) {
  /* *once_state: 0 not tried, 1 loaded, -1 failed (the message is rebuilt) */
  if (__atomic_load_n(once_state, __ATOMIC_ACQUIRE) == 1) return 0;
  pthread_mutex_lock(&mu);
  int rc = 0;
  if (*once_state != 1) {
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      rc = wgg_err_set(err, "cannot load %s (Debian package %s): %s", soname, pkg, dlerror());
    } else {
      for (size_t i = 0; i < n && rc == 0; i++)
        if (!(table[i] = dlsym(h, names[i]))) rc = wgg_err_set(err, "%s lacks %s", soname, names[i]);
      if (rc == 0) __atomic_store_n(once_state, 1, __ATOMIC_RELEASE);
      else *once_state = -1;
    }
  }
  pthread_mutex_unlock(&mu);
  return rc;
}
