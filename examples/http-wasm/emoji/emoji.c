/* emoji.c: the emoji filter of Dapr's wasm middleware demo, as an http-wasm guest in C.
 *
 * For every request it
 *  - rejects it with 403 when the URI (percent-decoded) or the body carries a cat: one of the cat
 *    shortcodes below or a cat emoji (U+1F408 🐈 and the black cat 🐈‍⬛ that starts with it,
 *    U+1F431 🐱, and the cat faces U+1F638-U+1F640 😸😹😺😻😼😽😾😿🙀). Lions, tigers and leopards
 *    are not house cats and pass, and so do dogs;
 *  - rewrites emoji shortcodes (`:metal:` -> 🤘) in the query string (percent-encoded, and the
 *    colons may be written %3A) and in the body (raw UTF-8);
 *  - passes the request on (hh_next) to the rest of the pipeline.
 * buffer_request is enabled once at start-up so that a body read but left unchanged still reaches
 * the next handler. Bodies above 1 MiB are refused with 413 rather than passed unfiltered.
 */
#include <stdlib.h>
#include <string.h>

#include "http_handler.h"

#define MAX_BODY (1u << 20)

struct shortcode {
  const char *name; /* without the colons */
  const char *utf8; /* NULL for a cat: rejected, never rewritten */
};

static const struct shortcode CODES[] = {
    {"metal", "\xF0\x9F\xA4\x98"},        /* 🤘 */
    {"smile", "\xF0\x9F\x98\x84"},        /* 😄 */
    {"wave", "\xF0\x9F\x91\x8B"},         /* 👋 */
    {"heart", "\xE2\x9D\xA4\xEF\xB8\x8F"}, /* ❤️ */
    {"thumbsup", "\xF0\x9F\x91\x8D"},     /* 👍 */
    {"rocket", "\xF0\x9F\x9A\x80"},       /* 🚀 */
    {"fire", "\xF0\x9F\x94\xA5"},         /* 🔥 */
    {"tada", "\xF0\x9F\x8E\x89"},         /* 🎉 */
    {"sparkles", "\xE2\x9C\xA8"},         /* ✨ */
    {"dog", "\xF0\x9F\x90\xB6"},          /* 🐶 */
    {"dog2", "\xF0\x9F\x90\x95"},         /* 🐕 */
    {"poodle", "\xF0\x9F\x90\xA9"},       /* 🐩 */
    {"guide_dog", "\xF0\x9F\xA6\xAE"},    /* 🦮 */
    {"cat", NULL},
    {"cat2", NULL},
    {"black_cat", NULL},
    {"smiley_cat", NULL},
    {"smile_cat", NULL},
    {"joy_cat", NULL},
    {"heart_eyes_cat", NULL},
    {"smirk_cat", NULL},
    {"kissing_cat", NULL},
    {"scream_cat", NULL},
    {"crying_cat_face", NULL},
    {"pouting_cat", NULL},
};
#define N_CODES (sizeof CODES / sizeof CODES[0])

static __attribute__((constructor)) void init(void) { hh_enable_features(HH_FEATURE_BUFFER_REQUEST); }

/* A growable output buffer. */
typedef struct out {
  char *p;
  uint32_t len, cap;
  int oom;
} out;

static void put(out *o, const void *s, uint32_t n) {
  if (o->oom) return;
  if (o->len + n + 1 > o->cap) {
    uint32_t cap = o->cap ? o->cap : 256;
    while (o->len + n + 1 > cap) cap *= 2;
    char *p = realloc(o->p, cap);
    if (!p) {
      o->oom = 1;
      return;
    }
    o->p = p;
    o->cap = cap;
  }
  memcpy(o->p + o->len, s, n);
  o->len += n;
  o->p[o->len] = 0;
}

/* Length of a colon at s (":" or, in a URI, "%3A"/"%3a"), 0 if none. */
static uint32_t colon_at(const char *s, const char *end, int uri) {
  if (s < end && *s == ':') return 1;
  if (uri && end - s >= 3 && s[0] == '%' && s[1] == '3' && (s[2] == 'A' || s[2] == 'a')) return 3;
  return 0;
}

/* The shortcode starting at s (":name:"), or NULL; *n gets its length in the input. */
static const struct shortcode *code_at(const char *s, const char *end, int uri, uint32_t *n) {
  uint32_t c1 = colon_at(s, end, uri);
  if (!c1) return NULL;
  const char *name = s + c1, *p = name;
  while (p < end && p - name < 32 && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) p++;
  uint32_t c2 = colon_at(p, end, uri);
  if (p == name || !c2) return NULL;
  for (size_t i = 0; i < N_CODES; i++)
    if (strlen(CODES[i].name) == (size_t)(p - name) && !memcmp(CODES[i].name, name, (size_t)(p - name))) {
      *n = (uint32_t)(p - s) + c2;
      return &CODES[i];
    }
  return NULL;
}

/* 1 if the UTF-8 at s is a cat emoji (see the file comment). */
static int cat_emoji_at(const unsigned char *s, const unsigned char *end) {
  if (end - s < 4 || s[0] != 0xF0 || s[1] != 0x9F) return 0;
  if (s[2] == 0x90) return s[3] == 0x88 || s[3] == 0xB1;  /* U+1F408, U+1F431 */
  if (s[2] == 0x98) return s[3] >= 0xB8 && s[3] <= 0xBF; /* U+1F638-U+1F63F */
  if (s[2] == 0x99) return s[3] == 0x80;                 /* U+1F640 */
  return 0;
}

/* 1 if the bytes carry a cat, as a shortcode or an emoji. */
static int has_cat(const char *s, uint32_t len) {
  const char *end = s + len;
  for (const char *p = s; p < end; p++) {
    uint32_t n;
    const struct shortcode *c = *p == ':' ? code_at(p, end, 0, &n) : NULL;
    if ((c && !c->utf8) || cat_emoji_at((const unsigned char *)p, (const unsigned char *)end)) return 1;
  }
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes s into o ("+" stays "+": it cannot start an emoji either way). */
static void percent_decode(out *o, const char *s, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) {
    int h, l;
    if (s[i] == '%' && i + 2 < len && (h = hexval(s[i + 1])) >= 0 && (l = hexval(s[i + 2])) >= 0) {
      char c = (char)(h << 4 | l);
      put(o, &c, 1);
      i += 2;
    } else {
      put(o, &s[i], 1);
    }
  }
}

/* Appends the emoji, percent-encoded when it goes into a URI. */
static void put_emoji(out *o, const char *utf8, int uri) {
  static const char hex[] = "0123456789ABCDEF";
  if (!uri) {
    put(o, utf8, (uint32_t)strlen(utf8));
    return;
  }
  for (const unsigned char *u = (const unsigned char *)utf8; *u; u++) {
    char e[3] = {'%', hex[*u >> 4], hex[*u & 15]};
    put(o, e, 3);
  }
}

/* Rewrites every known non-cat shortcode of s[0..len) into o; returns the number rewritten. */
static int rewrite(out *o, const char *s, uint32_t len, int uri) {
  const char *end = s + len;
  int changed = 0;
  for (const char *p = s; p < end;) {
    uint32_t n;
    const struct shortcode *c = (*p == ':' || *p == '%') ? code_at(p, end, uri, &n) : NULL;
    if (c && c->utf8) {
      put_emoji(o, c->utf8, uri);
      p += n;
      changed++;
    } else {
      put(o, p++, 1);
    }
  }
  return changed;
}

static int64_t forbidden(void) {
  return hh_respond(403, "text/plain; charset=utf-8", "cats are not allowed here \xF0\x9F\x90\xB6 only\n");
}

int64_t handle_request(void) {
  hh_bytes uri = {0}, body = {0};
  out dec = {0}, nuri = {0}, nbody = {0};
  int64_t ret = hh_next(0);
  if (hh_uri(&uri)) goto oom;
  percent_decode(&dec, uri.ptr, uri.len);
  if (dec.oom) goto oom;
  if (has_cat(dec.p ? dec.p : "", dec.len)) {
    ret = forbidden();
    goto done;
  }
  int rb = hh_read_body_all(HH_BODY_REQUEST, &body, MAX_BODY);
  if (rb < 0) goto oom;
  if (rb > 0) {
    ret = hh_respond(413, "text/plain", "request body too large for the emoji filter\n");
    goto done;
  }
  if (has_cat(body.ptr, body.len)) {
    ret = forbidden();
    goto done;
  }
  const char *q = memchr(uri.ptr, '?', uri.len);
  if (q) { /* only the query is rewritten: the path names the route */
    put(&nuri, uri.ptr, (uint32_t)(q - uri.ptr));
    if (rewrite(&nuri, q, uri.len - (uint32_t)(q - uri.ptr), 1) && !nuri.oom) hh_set_uri(nuri.p, nuri.len);
  }
  if (rewrite(&nbody, body.ptr, body.len, 0) && !nbody.oom) hh_write_body(HH_BODY_REQUEST, nbody.p, nbody.len);
  if (nuri.oom || nbody.oom) goto oom;
  goto done;
oom:
  ret = hh_respond(500, "text/plain", "emoji filter: out of memory\n");
done:
  hh_free(&uri);
  hh_free(&body);
  free(dec.p);
  free(nuri.p);
  free(nbody.p);
  return ret;
}
