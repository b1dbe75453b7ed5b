/* unit_buf.c: the growable byte buffer of gate/util/buf.h (heads of every request and answer). */
#include <stdlib.h>

#include "check.h"
#include "util/buf.h"

int main(void) {
  wgg_buf b = {0};
  /* printf into an empty buffer, then into the room it has, then past it */
  CHECK(wgg_buf_printf(&b, "HTTP/1.1 %d %s\r\n", 200, "OK") == 0);
  CHECK_STR(b.data, "HTTP/1.1 200 OK\r\n");
  CHECK(b.len == 17 && b.cap >= 18);
  size_t cap = b.cap;
  CHECK(wgg_buf_printf(&b, "%s: %zu\r\n", "Content-Length", (size_t)5) == 0);
  CHECK_STR(b.data, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n");
  CHECK(b.cap == cap); /* fitted */
  /* exactly filling the room (the NUL in its last byte), then one byte more than the room */
  size_t room = b.cap - b.len - 1;
  char *fill = malloc(room + 2);
  memset(fill, 'x', room + 1);
  fill[room] = '\0';
  size_t before = b.len;
  CHECK(wgg_buf_printf(&b, "%s", fill) == 0 && b.len == before + room && b.cap == cap && b.data[b.len] == '\0');
  CHECK(wgg_buf_printf(&b, "%s", "yz") == 0 && b.len == before + room + 2 && b.cap > cap);
  CHECK(!memcmp(b.data + before, fill, room) && !strcmp(b.data + before + room, "yz"));
  /* much longer than the room at once */
  wgg_buf_free(&b);
  CHECK(wgg_buf_printf(&b, "%s", "a") == 0);
  memset(fill, 'q', room);
  fill[room] = '\0';
  for (int i = 0; i < 20; i++) CHECK(wgg_buf_printf(&b, "%s|%d|", fill, i) == 0);
  size_t want = 1 + 20 * (room + 2) + 10 + 2 * 10; /* "a", the fills, the bars, digits 0-9 and 10-19 */
  CHECK(b.len == want && strlen(b.data) == want);
  CHECK(!strncmp(b.data + b.len - 4, "|19|", 4));
  /* appends keep the NUL too */
  CHECK(wgg_buf_append(&b, "end", 3) == 0 && !strcmp(b.data + b.len - 3, "end") && b.data[b.len] == '\0');
  free(fill);
  wgg_buf_free(&b);
  CHECK(!b.data && !b.len && !b.cap);
  /* the formats formatted without vsnprintf give vsnprintf's text; others fall back to it whole */
  const char *empty = "", *null_str = getenv("WG_UNIT_BUF_UNSET_VARIABLE"); /* NULL, unknown to the compiler */
  CHECK(wgg_buf_printf(&b, "%s", empty) == 0 && b.data && b.len == 0);
  wgg_buf_free(&b);
  CHECK(wgg_buf_printf(&b, "%d %d %d|%u|%zu|%lld %lld|%llu|100%%|%s", 0, -7, -2147483647 - 1, 4294967295u,
                       (size_t)123456789, -9223372036854775807LL - 1, 42LL, 18446744073709551615ULL,
                       null_str) == 0);
  char want2[200];
  snprintf(want2, sizeof want2, "%d %d %d|%u|%zu|%lld %lld|%llu|100%%|%s", 0, -7, -2147483647 - 1, 4294967295u,
           (size_t)123456789, -9223372036854775807LL - 1, 42LL, 18446744073709551615ULL, "(null)");
  CHECK_STR(b.data, want2);
  size_t mark = b.len;
  CHECK(wgg_buf_printf(&b, "[%s %d %04x %.2s]", "ab", 5, 0xbeef, "xyz") == 0); /* %04x, %.2s: vsnprintf */
  CHECK_STR(b.data + mark, "[ab 5 beef xy]");
  CHECK(b.len == mark + 14);
  wgg_buf_free(&b);
  /* wgg_str_join / wgg_str_copy: as snprintf("%s%s...") at every cut-off point */
  const char *parts[] = {"/base", "/", "method", "?", "a=1&b=2"};
  for (size_t jcap = 1; jcap <= 24; jcap++) {
    char got[24], want3[24];
    memset(got, 'x', sizeof got);
    size_t n = wgg_str_join(got, jcap, parts, 5);
    int wn = snprintf(want3, jcap, "%s%s%s%s%s", parts[0], parts[1], parts[2], parts[3], parts[4]);
    CHECK(n == (size_t)wn && !strcmp(got, want3));
    CHECK(jcap == sizeof got || got[jcap] == 'x'); /* nothing written past cap */
  }
  char one[4];
  CHECK(wgg_str_copy(one, sizeof one, "abcdef") == 6 && !strcmp(one, "abc"));
  CHECK(wgg_str_copy(one, sizeof one, "") == 0 && !strcmp(one, ""));
  CHECK_DONE();
}
