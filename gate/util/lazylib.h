/*
 * lazylib.h: load a shared library with dlopen on first use and resolve a
 * list of its functions. libpq, libcurl and libmosquitto pull in OpenSSL,
 * GnuTLS, Kerberos, LDAP and p11-kit: linked directly they cost about 6 MB of
 * resident memory at start-up (their pages and constructors) even in a
 * sidecar that uses none of them; the idle RSS target is < 10 MB.
 *
 * A user header lists the functions in an X-macro, declares a table of
 * pointers typed with __typeof__ from the library's own header, and maps each
 * name to the table with a macro, so the calling code keeps calling
 * curl_easy_init() etc. unchanged (see components/lazy_curl.h).
 */
#ifndef WGG_UTIL_LAZYLIB_H
#define WGG_UTIL_LAZYLIB_H

#include <stddef.h>

#include "util/err.h"

/* Opens soname once (thread-safe through *once_state, an int starting at 0)
 * and fills table[i] with the address of names[i]. Returns 0, or -1 with err
 * naming the library (and the Debian package pkg) or the missing symbol. */
int wgg_lazylib_load(const char *soname, const char *pkg, const char *const *names, void **table, size_t n,
                     int *once_state, wgg_err *err);

#endif
