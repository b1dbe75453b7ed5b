/*
 * speedtest1_vfs.c: the operating-system layer for bench/speedtest1.sh's
 * builds of SQLite (compiled with SQLITE_OS_OTHER=1, natively and for
 * wasm32-wasi alike, so every engine runs the same code): speedtest1 runs
 * on an in-memory database with temporary storage in memory
 * (SQLITE_TEMP_STORE=3), so this VFS opens no files; it only gives time,
 * sleep and (deterministic) randomness.
 */
#include <string.h>
#include <time.h>

#include "sqlite3.h"

static int no_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out) {
  (void)v, (void)name, (void)flags, (void)out;
  f->pMethods = 0;
  return SQLITE_CANTOPEN;
}
static int no_delete(sqlite3_vfs *v, const char *name, int sync) {
  (void)v, (void)name, (void)sync;
  return SQLITE_OK;
}
static int no_access(sqlite3_vfs *v, const char *name, int flags, int *out) {
  (void)v, (void)name, (void)flags;
  *out = 0;
  return SQLITE_OK;
}
static int full_path(sqlite3_vfs *v, const char *name, int n, char *out) {
  (void)v;
  sqlite3_snprintf(n, out, "%s", name);
  return SQLITE_OK;
}
static int randomness(sqlite3_vfs *v, int n, char *out) {
  (void)v;
  for (int i = 0; i < n; i++) out[i] = (char)(i * 131 + 7);
  return n;
}
static int sleep_us(sqlite3_vfs *v, int us) {
  (void)v;
  return us;
}
static int now_ms(sqlite3_vfs *v, sqlite3_int64 *out) {
  (void)v;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  /* Julian day number in milliseconds, as SQLite's own VFSes give it. */
  *out = (sqlite3_int64)210866760000000LL + (sqlite3_int64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  return SQLITE_OK;
}
static int now_days(sqlite3_vfs *v, double *out) {
  sqlite3_int64 ms;
  now_ms(v, &ms);
  *out = ms / 86400000.0;
  return SQLITE_OK;
}
static int last_error(sqlite3_vfs *v, int n, char *out) {
  (void)v;
  if (n > 0) out[0] = 0;
  return 0;
}

static sqlite3_vfs memvfs = {
    .iVersion = 2, .szOsFile = sizeof(sqlite3_file), .mxPathname = 512, .zName = "bench-mem",
    .xOpen = no_open, .xDelete = no_delete, .xAccess = no_access, .xFullPathname = full_path,
    .xRandomness = randomness, .xSleep = sleep_us, .xCurrentTime = now_days, .xGetLastError = last_error,
    .xCurrentTimeInt64 = now_ms};

int sqlite3_os_init(void) { return sqlite3_vfs_register(&memvfs, 1); }
int sqlite3_os_end(void) { return SQLITE_OK; }
