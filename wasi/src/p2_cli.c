/*
 * p2_cli.c: a first slice of WASI 0.2 (WebAssembly/WASI wasip2 WIT, 0.2.x)
 * on the same host code as preview1 (host.c): wasi:cli/environment, exit,
 * stdin, stdout, stderr, terminal-stdin/-stdout/-stderr; wasi:io/error and
 * wasi:io/streams (input-stream read, output-stream check-write, write,
 * flush and their blocking forms; stdio only); wasi:clocks/wall-clock and
 * monotonic-clock (now, resolution); wasi:random/random, insecure and
 * insecure-seed. Streams are the context's descriptors 0, 1, 2, so output
 * capture, stdin buffers and the strict sandbox behave as for preview1.
 * wasi:filesystem is in p2_fs.c, wasi:io/poll in p2_poll.c, wasi:sockets in p2_net.c,
 * p2_tcp.c and p2_udp.c (a socket's streams are embedder streams here).
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "p2.h"
#include "wgwasi.h"

#define V P2_V

p2_stream *p2_stream_ops_at(p2 *p, uint32_t rep) {
  if (rep < P2_STREAM_BASE || rep - P2_STREAM_BASE >= p->nstreams) return NULL;
  p2_stream *s = &p->streams[rep - P2_STREAM_BASE];
  return s->used && s->ops ? s : NULL;
}

bool p2_stream_get(p2 *p, uint32_t rep, uint32_t *fd, int64_t *offset) {
  if (rep < 3) {
    *fd = rep;
    *offset = -1;
    return true;
  }
  if (rep < P2_STREAM_BASE || rep - P2_STREAM_BASE >= p->nstreams || !p->streams[rep - P2_STREAM_BASE].used) return false;
  p2_stream *s = &p->streams[rep - P2_STREAM_BASE];
  if (s->ops) return false;
  *fd = s->fd;
  *offset = s->append ? -1 : (int64_t)s->offset;
  return true;
}

void p2_stream_advance(p2 *p, uint32_t rep, uint64_t n) {
  if (rep >= P2_STREAM_BASE && rep - P2_STREAM_BASE < p->nstreams) p->streams[rep - P2_STREAM_BASE].offset += n;
}

uint32_t p2_stream_new(p2 *p, uint32_t fd, uint64_t offset, bool append) {
  uint32_t i = 0;
  while (i < p->nstreams && p->streams[i].used) i++;
  if (i == p->nstreams) {
    if (p->nstreams >= 65536) return UINT32_MAX;
    p2_stream *v = realloc(p->streams, (p->nstreams + 1) * sizeof *v);
    if (!v) return UINT32_MAX;
    p->streams = v;
    p->nstreams++;
  }
  p->streams[i] = (p2_stream){.used = true, .append = append, .fd = fd, .offset = offset, .ops = NULL};
  return P2_STREAM_BASE + i;
}

/* [resource-drop] of a stream (the host's destructor). */
static void stream_drop(void *env, uint32_t rep) {
  p2 *p = P2(env);
  if (rep >= P2_STREAM_BASE && rep - P2_STREAM_BASE < p->nstreams) {
    p2_stream *s = &p->streams[rep - P2_STREAM_BASE];
    bool had = s->used && s->ops && s->ops->drop;
    s->used = false; /* before the hook, which may free what the stream points at */
    if (had) s->ops->drop(s->user);
  }
}

void wg_wasi_p2_delete(wg_wasi_p2 *p) {
  if (!p) return;
  for (uint32_t i = 0; i < p->nstreams; i++)
    if (p->streams[i].used && p->streams[i].ops && p->streams[i].ops->drop) {
      p->streams[i].used = false;
      p->streams[i].ops->drop(p->streams[i].user);
    }
  for (uint32_t i = 0; i < p->npolls; i++)
    if (p->polls[i].used && p->polls[i].sock) p2_sock_unref(p->polls[i].sock);
  p2_net_free(p);
  free(p->streams);
  free(p->dirs);
  free(p->polls);
  free(p);
}

/* the linker's finalizer: the context it was defined with (the template in shared mode) */
static void p2_free(void *env) { wg_wasi_p2_delete(env); }

bool wg_wasi_p2_stream(wg_wasi_p2 *p, bool output, const wg_wasi_p2_stream_ops *ops, void *user, wg_cval *out) {
  uint32_t rep = p2_stream_new(p, 0, 0, false);
  if (rep == UINT32_MAX) return false;
  p->streams[rep - P2_STREAM_BASE].ops = ops;
  p->streams[rep - P2_STREAM_BASE].user = user;
  *out = (wg_cval){.kind = WG_CVAL_OWN, .of.handle = {rep, output ? p->output : p->input}};
  return true;
}

static wg_trap *oom(void) { return wg_trap_new(WG_TRAP_RESOURCE, "out of memory"); }

static wg_cval *box(wg_cval v) {
  wg_cval *p = wg_cval_array(1);
  if (p) *p = v;
  return p;
}

/* result<T, stream-error>: ok(payload) or err(closed) */
static wg_trap *stream_result(wg_cval *out, wg_cval *ok, bool closed) {
  out->kind = WG_CVAL_RESULT;
  if (closed) {
    wg_cval_free(ok);
    free(ok);
    out->of.var.disc = 1;
    out->of.var.val = box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {1, NULL}}); /* stream-error.closed */
    return out->of.var.val ? NULL : oom();
  }
  out->of.var.disc = 0;
  out->of.var.val = ok;
  return NULL;
}

/* result<T, stream-error>: err(last-operation-failed(error)) (an embedder's stream that broke) */
static wg_trap *stream_failed(p2 *p, wg_cval *out) {
  out->kind = WG_CVAL_RESULT;
  out->of.var.disc = 1;
  wg_cval *e = box((wg_cval){.kind = WG_CVAL_OWN, .of.handle = {0, p->error}});
  out->of.var.val = e ? box((wg_cval){.kind = WG_CVAL_VARIANT, .of.var = {0, e}}) : NULL;
  if (!out->of.var.val) {
    free(e);
    return oom();
  }
  return NULL;
}

/* ---------------------------------------------------------------- wasi:cli */

static wg_trap *get_environment(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  const char *const *v;
  int n = wasi_env(P2(env)->w, &v);
  r->kind = WG_CVAL_LIST;
  if (!(r->of.seq.ptr = wg_cval_array((size_t)n))) return oom();
  r->of.seq.len = (size_t)n;
  for (int i = 0; i < n; i++) {
    const char *eq = strchr(v[i], '=');
    size_t kl = eq ? (size_t)(eq - v[i]) : strlen(v[i]);
    wg_cval *t = &r->of.seq.ptr[i];
    t->kind = WG_CVAL_TUPLE;
    if (!(t->of.seq.ptr = wg_cval_array(2))) return oom();
    t->of.seq.len = 2;
    if (!wg_cval_string(&t->of.seq.ptr[0], v[i], kl) ||
        !wg_cval_string(&t->of.seq.ptr[1], eq ? eq + 1 : "", eq ? strlen(eq + 1) : 0))
      return oom();
  }
  return NULL;
}

static wg_trap *get_arguments(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  const char *const *v;
  int n = wasi_args(P2(env)->w, &v);
  r->kind = WG_CVAL_LIST;
  if (!(r->of.seq.ptr = wg_cval_array((size_t)n))) return oom();
  r->of.seq.len = (size_t)n;
  for (int i = 0; i < n; i++)
    if (!wg_cval_string(&r->of.seq.ptr[i], v[i], strlen(v[i]))) return oom();
  return NULL;
}

static wg_trap *none(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na, (void)nr;
  *r = (wg_cval){.kind = WG_CVAL_OPTION};
  return NULL;
}

/* exit(status: result): ends the run like proc_exit (wg_wasi_exited). */
static wg_trap *cli_exit(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)r, (void)nr;
  wasi_set_exit(P2(env)->w, a[0].of.var.disc ? 1 : 0);
  return wg_trap_new(WG_TRAP_HOST, "exit");
}

static wg_trap *stream_for(p2 *p, uint32_t fd, bool out, wg_cval *r) {
  r->kind = WG_CVAL_OWN;
  r->of.handle.rep = fd;
  r->of.handle.type = out ? p->output : p->input;
  return NULL;
}
static wg_trap *get_stdin(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  return stream_for(P2(env), 0, false, r);
}
static wg_trap *get_stdout(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  return stream_for(P2(env), 1, true, r);
}
static wg_trap *get_stderr(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  return stream_for(P2(env), 2, true, r);
}

/* ---------------------------------------------------------------- wasi:io/streams */

static wg_trap *check_write(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2_stream *s = p2_stream_ops_at(P2(env), a[0].of.handle.rep);
  int64_t n = s && s->ops->check_write ? s->ops->check_write(s->user) : 1 << 20;
  if (n < 0) return stream_result(r, NULL, true);
  return stream_result(r, box((wg_cval){.kind = WG_CVAL_U64, .of.u = (uint64_t)n}), false);
}

bool p2_stream_ready(p2 *p, uint32_t rep) {
  p2_stream *s = p2_stream_ops_at(p, rep);
  return !s || !s->ops->ready || s->ops->ready(s->user);
}

/* write: all of `contents` to the descriptor or the embedder's stream. */
static wg_trap *write_(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  /* contents: list<u8> (typed), so BYTES: a view of the guest's memory */
  size_t n = a[1].of.bytes.len, done = 0;
  const uint8_t *data = a[1].of.bytes.ptr;
  bool closed = false;
  uint32_t fd;
  int64_t off;
  p2_stream *s = p2_stream_ops_at(p, a[0].of.handle.rep);
  if (s) {
    int rc = s->ops->write ? s->ops->write(s->user, data, n) : -1;
    if (rc == -2) return stream_failed(p, r);
    return stream_result(r, NULL, rc < 0);
  }
  if (!p2_stream_get(p, a[0].of.handle.rep, &fd, &off)) closed = true;
  while (!closed && done < n) {
    struct iovec iov = {(void *)(data + done), n - done};
    size_t w = 0;
    if (wasi_fd_write(p->w, fd, &iov, 1, off < 0 ? -1 : off + (int64_t)done, &w) || !w) {
      closed = true;
      break;
    }
    done += w;
  }
  p2_stream_advance(p, a[0].of.handle.rep, done);
  return stream_result(r, NULL, closed);
}

wg_trap *p2_flush_result(p2 *p, uint32_t rep, wg_cval *r) {
  p2_stream *s = p2_stream_ops_at(p, rep);
  uint32_t fd;
  int64_t off;
  bool closed = s ? s->ops->check_write && s->ops->check_write(s->user) < 0 : !p2_stream_get(p, rep, &fd, &off);
  return stream_result(r, NULL, closed);
}

/* blocking-write-and-flush: the write, then (an embedder's stream whose sink is full) parked
 * until it drained: the flush waits for the bytes to be taken. */
static wg_trap *write_flush(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  p2 *p = P2(env);
  wg_trap *t = write_(env, a, na, r, nr);
  if (t || r->of.var.disc || p2_stream_ready(p, a[0].of.handle.rep)) return t;
  return p2_park(p, P2_WAIT_FLUSH, a[0].of.handle.rep, 0); /* r holds no allocation: ok(()) */
}

static wg_trap *flush(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return p2_flush_result(P2(env), a[0].of.handle.rep, r);
}

static wg_trap *blocking_flush(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  p2 *p = P2(env);
  if (!p2_stream_ready(p, a[0].of.handle.rep)) {
    wg_trap *t = p2_park(p, P2_WAIT_FLUSH, a[0].of.handle.rep, 0);
    if (t) return t;
  }
  return p2_flush_result(p, a[0].of.handle.rep, r);
}

/* read, skip: up to `len` bytes (read: as list<u8>; skip: their count); end of input is
 * `closed`; *empty when nothing was available yet (an embedder's stream). */
wg_trap *p2_read_now(p2 *p, uint32_t rep, uint64_t len, bool skip, wg_cval *r, bool *empty) {
  size_t want = len > 65536 ? 65536 : (size_t)len, got = 0;
  *empty = false;
  uint8_t *buf = malloc(want ? want : 1);
  if (!buf) return oom();
  struct iovec iov = {buf, want};
  uint32_t fd;
  int64_t off;
  p2_stream *s = p2_stream_ops_at(p, rep);
  int64_t got_ops = s ? (s->ops->read ? s->ops->read(s->user, buf, want) : -1) : 0;
  if (s && got_ops < 0) {
    free(buf);
    return got_ops == -2 ? stream_failed(p, r) : stream_result(r, NULL, true);
  }
  if (s) got = (size_t)got_ops;
  int e = s ? 0 : !p2_stream_get(p, rep, &fd, &off) ? WE_BADF : want ? wasi_fd_read(p->w, fd, &iov, 1, off, &got) : 0;
  if (!s) p2_stream_advance(p, rep, got);
  if (e || (!s && want && !got)) {
    free(buf);
    return stream_result(r, NULL, true);
  }
  *empty = want && !got;
  if (skip) {
    free(buf);
    wg_cval *c = box((wg_cval){.kind = WG_CVAL_U64, .of.u = got});
    return c ? stream_result(r, c, false) : oom();
  }
  /* the bytes as one BYTES value: the buffer becomes the value's */
  wg_cval *list = box((wg_cval){.kind = WG_CVAL_BYTES, .of.bytes = {buf, got}});
  if (!list) {
    free(buf);
    return oom();
  }
  return stream_result(r, list, false);
}

static wg_trap *read_(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  bool empty;
  return p2_read_now(P2(env), a[0].of.handle.rep, a[1].of.u, false, r, &empty);
}
static wg_trap *skip_(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  bool empty;
  return p2_read_now(P2(env), a[0].of.handle.rep, a[1].of.u, true, r, &empty);
}

/* blocking-read, blocking-skip: as read and skip, but at least one byte or the end (an embedder's
 * stream with nothing yet parks the guest until bytes, the end or an error arrive). */
static wg_trap *blocking_read_or_skip(void *env, const wg_cval *a, wg_cval *r, bool skip) {
  p2 *p = P2(env);
  uint32_t rep = a[0].of.handle.rep;
  if (a[1].of.u && !p2_stream_ready(p, rep)) {
    wg_trap *t = p2_park(p, skip ? P2_WAIT_SKIP : P2_WAIT_READ, rep, a[1].of.u);
    if (t) return t;
  }
  if (a[1].of.u) p2_stream_wait(p, rep, POLLIN); /* no park hook: a socket stream waits for data here */
  bool empty;
  return p2_read_now(p, rep, a[1].of.u, skip, r, &empty);
}
static wg_trap *blocking_read(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return blocking_read_or_skip(env, a, r, false);
}
static wg_trap *blocking_skip(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  return blocking_read_or_skip(env, a, r, true);
}

static wg_trap *error_debug(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)env, (void)a, (void)na, (void)nr;
  static const char msg[] = "stream error: the stream broke off (the peer went away, or its data was invalid)";
  return wg_cval_string(r, msg, sizeof msg - 1) ? NULL : oom();
}

/* ---------------------------------------------------------------- clocks, random */

static wg_trap *wall_now(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  uint64_t ns = 0;
  wasi_clock_time(P2(env)->w, 0, &ns);
  r->kind = WG_CVAL_RECORD;
  if (!(r->of.seq.ptr = wg_cval_array(2))) return oom();
  r->of.seq.len = 2;
  r->of.seq.ptr[0] = (wg_cval){.kind = WG_CVAL_U64, .of.u = ns / 1000000000u};
  r->of.seq.ptr[1] = (wg_cval){.kind = WG_CVAL_U32, .of.u = ns % 1000000000u};
  return NULL;
}
static wg_trap *wall_res(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  uint64_t ns = 1;
  wasi_clock_res(P2(env)->w, 0, &ns);
  r->kind = WG_CVAL_RECORD;
  if (!(r->of.seq.ptr = wg_cval_array(2))) return oom();
  r->of.seq.len = 2;
  r->of.seq.ptr[0] = (wg_cval){.kind = WG_CVAL_U64, .of.u = ns / 1000000000u};
  r->of.seq.ptr[1] = (wg_cval){.kind = WG_CVAL_U32, .of.u = ns % 1000000000u};
  return NULL;
}
static wg_trap *mono_now(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  uint64_t ns = 0;
  wasi_clock_time(P2(env)->w, 1, &ns);
  *r = (wg_cval){.kind = WG_CVAL_U64, .of.u = ns};
  return NULL;
}
static wg_trap *mono_res(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  uint64_t ns = 1;
  wasi_clock_res(P2(env)->w, 1, &ns);
  *r = (wg_cval){.kind = WG_CVAL_U64, .of.u = ns};
  return NULL;
}

static wg_trap *random_bytes(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)na, (void)nr;
  if (a[0].of.u > (1u << 24)) return wg_trap_new(WG_TRAP_HOST, "get-random-bytes: length too large");
  size_t n = (size_t)a[0].of.u;
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) return oom();
  wasi_random(P2(env)->w, buf, n);
  *r = (wg_cval){.kind = WG_CVAL_BYTES, .of.bytes = {buf, n}}; /* buf becomes the value's */
  return NULL;
}
static wg_trap *random_u64(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  uint64_t v = 0;
  wasi_random(P2(env)->w, (uint8_t *)&v, sizeof v);
  *r = (wg_cval){.kind = WG_CVAL_U64, .of.u = v};
  return NULL;
}
static wg_trap *insecure_seed(void *env, const wg_cval *a, size_t na, wg_cval *r, size_t nr) {
  (void)a, (void)na, (void)nr;
  uint64_t v[2] = {0, 0};
  wasi_random(P2(env)->w, (uint8_t *)v, sizeof v);
  r->kind = WG_CVAL_TUPLE;
  if (!(r->of.seq.ptr = wg_cval_array(2))) return oom();
  r->of.seq.len = 2;
  r->of.seq.ptr[0] = (wg_cval){.kind = WG_CVAL_U64, .of.u = v[0]};
  r->of.seq.ptr[1] = (wg_cval){.kind = WG_CVAL_U64, .of.u = v[1]};
  return NULL;
}

/* ---------------------------------------------------------------- definitions */

/* Each function with its type (WIT, wasi:cli, io, clocks, random 0.2.x),
 * checked against the component's import at instantiation: the functions
 * rely on their arguments' kinds. The terminal-* functions take nothing and
 * name resources this host does not define: untyped (what they return is
 * still checked when called). */
static const struct {
  const char *inst, *name;
  wg_component_host_fn fn;
  const char *type;
} funcs[] = {
    {"wasi:cli/environment" V, "get-environment", get_environment,
     "func() -> list<tuple<string, string>>"},
    {"wasi:cli/environment" V, "get-arguments", get_arguments,
     "func() -> list<string>"},
    {"wasi:cli/environment" V, "initial-cwd", none,
     "func() -> option<string>"},
    {"wasi:cli/exit" V, "exit", cli_exit,
     "func(status: result)"},
    {"wasi:cli/stdin" V, "get-stdin", get_stdin,
     "func() -> wasi:io/streams" V "#input-stream"},
    {"wasi:cli/stdout" V, "get-stdout", get_stdout,
     "func() -> wasi:io/streams" V "#output-stream"},
    {"wasi:cli/stderr" V, "get-stderr", get_stderr,
     "func() -> wasi:io/streams" V "#output-stream"},
    {"wasi:cli/terminal-stdin" V, "get-terminal-stdin", none,
     NULL},
    {"wasi:cli/terminal-stdout" V, "get-terminal-stdout", none,
     NULL},
    {"wasi:cli/terminal-stderr" V, "get-terminal-stderr", none,
     NULL},
    {"wasi:io/error" V, "[method]error.to-debug-string", error_debug,
     "func(self: borrow<error>) -> string"},
    {"wasi:io/streams" V, "[method]output-stream.check-write", check_write,
     "func(self: borrow<output-stream>) -> result<u64, stream-error>"},
    {"wasi:io/streams" V, "[method]output-stream.write", write_,
     "func(self: borrow<output-stream>, contents: list<u8>) -> result<_, stream-error>"},
    {"wasi:io/streams" V, "[method]output-stream.blocking-write-and-flush", write_flush,
     "func(self: borrow<output-stream>, contents: list<u8>) -> result<_, stream-error>"},
    {"wasi:io/streams" V, "[method]output-stream.flush", flush,
     "func(self: borrow<output-stream>) -> result<_, stream-error>"},
    {"wasi:io/streams" V, "[method]output-stream.blocking-flush", blocking_flush,
     "func(self: borrow<output-stream>) -> result<_, stream-error>"},
    {"wasi:io/streams" V, "[method]input-stream.read", read_,
     "func(self: borrow<input-stream>, len: u64) -> result<list<u8>, stream-error>"},
    {"wasi:io/streams" V, "[method]input-stream.blocking-read", blocking_read,
     "func(self: borrow<input-stream>, len: u64) -> result<list<u8>, stream-error>"},
    {"wasi:io/streams" V, "[method]input-stream.skip", skip_,
     "func(self: borrow<input-stream>, len: u64) -> result<u64, stream-error>"},
    {"wasi:io/streams" V, "[method]input-stream.blocking-skip", blocking_skip,
     "func(self: borrow<input-stream>, len: u64) -> result<u64, stream-error>"},
    {"wasi:clocks/wall-clock" V, "now", wall_now,
     "func() -> datetime"},
    {"wasi:clocks/wall-clock" V, "resolution", wall_res,
     "func() -> datetime"},
    {"wasi:clocks/monotonic-clock" V, "now", mono_now,
     "func() -> u64"},
    {"wasi:clocks/monotonic-clock" V, "resolution", mono_res,
     "func() -> u64"},
    {"wasi:random/random" V, "get-random-bytes", random_bytes,
     "func(len: u64) -> list<u8>"},
    {"wasi:random/random" V, "get-random-u64", random_u64,
     "func() -> u64"},
    {"wasi:random/insecure" V, "get-insecure-random-bytes", random_bytes,
     "func(len: u64) -> list<u8>"},
    {"wasi:random/insecure" V, "get-insecure-random-u64", random_u64,
     "func() -> u64"},
    {"wasi:random/insecure-seed" V, "insecure-seed", insecure_seed,
     "func() -> tuple<u64, u64>"},
};

static bool define(p2 *p, wg_component_linker *l, char *err, size_t errlen);

bool wg_wasi_p2_define(wg_wasi *w, wg_component_linker *l, char *err, size_t errlen) {
  p2 *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  p->w = w;
  return define(p, l, err, errlen);
}

wg_wasi_p2 *wg_wasi_p2_define_ctx(wg_wasi *w, wg_component_linker *l, char *err, size_t errlen) {
  p2 *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  p->w = w;
  return define(p, l, err, errlen) ? p : NULL;
}

wg_wasi_p2 *wg_wasi_p2_define_shared(wg_component_linker *l, wg_wasi_p2 *(*of_store)(wg_store *s), char *err,
                                     size_t errlen) {
  p2 *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  p->of_store = of_store;
  return define(p, l, err, errlen) ? p : NULL;
}

wg_wasi_p2 *wg_wasi_p2_new(const wg_wasi_p2 *shared, wg_wasi *w) {
  p2 *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->w = w;
  p->output = shared->output;
  p->input = shared->input;
  p->error = shared->error;
  p->descriptor = shared->descriptor;
  p->dirstream = shared->dirstream;
  p->pollable = shared->pollable;
  p->network = shared->network;
  p->tcp = shared->tcp;
  p->udp = shared->udp;
  p->udp_in = shared->udp_in;
  p->udp_out = shared->udp_out;
  p->resolve = shared->resolve;
  return p;
}

/* Defines everything in l for p (freed with the linker, also on failure once a function holds it). */
static bool define(p2 *p, wg_component_linker *l, char *err, size_t errlen) {
  wg_error *e = NULL;
  /* the context outlives the linker's functions: p is freed with the first one */
  bool ok = wg_component_linker_define_resource(l, "wasi:io/streams" V, "output-stream", stream_drop, p, &p->output, &e) &&
            wg_component_linker_define_resource(l, "wasi:io/streams" V, "input-stream", stream_drop, p, &p->input, &e) &&
            wg_component_linker_define_resource(l, "wasi:io/error" V, "error", NULL, NULL, &p->error, &e) &&
            wg_component_linker_define_type(l, "wasi:io/streams" V, "stream-error",
                                            "variant { last-operation-failed(wasi:io/error" V "#error), closed }", &e) &&
            wg_component_linker_define_type(l, "wasi:clocks/wall-clock" V, "datetime",
                                            "record { seconds: u64, nanoseconds: u32 }", &e);
  for (size_t i = 0; ok && i < sizeof funcs / sizeof *funcs; i++)
    ok = wg_component_linker_define_func_typed(l, funcs[i].inst, funcs[i].name, funcs[i].type, funcs[i].fn, p,
                                               i == 0 ? p2_free : NULL, &e);
  ok = ok && p2_fs_define(p, l, &e) && p2_poll_define(p, l, &e) && p2_net_define(p, l, &e);
  if (!ok) {
    snprintf(err, errlen, "%s", e ? wg_error_message(e) : "out of memory");
    wg_error_delete(e);
    return false;
  }
  return true;
}
