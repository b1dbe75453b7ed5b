/*
 * reflection.c: gRPC server reflection (grpc/doc/server-reflection.md),
 * grpc.reflection.v1 and v1alpha (the same messages on the wire), as
 * grpc-go's reflection.Register gives daprd: so grpcurl-style clients list
 * the sidecar's services and fetch their descriptors.
 *
 * The descriptors are the FileDescriptorSet protoc-c wrote at build time
 * from our own .proto transcriptions (proto/CMakeLists.txt,
 * wgg_reflection_fds: the served services and every file they import). At
 * first use it is indexed once: each file's name, bytes, imports, and the
 * fully-qualified names it declares (messages and nested messages, their
 * fields, enums and their values, services and methods).
 *
 * On the stream each request gets one response, in order, as grpc-go:
 * list_services (the names, sorted), file_by_filename and
 * file_containing_symbol (the file, then the files it imports transitively
 * that this stream has not yet sent), all_extension_numbers_of_type (none:
 * our files declare no extensions; NOT_FOUND for an unknown type),
 * file_containing_extension (NOT_FOUND). An unknown file or symbol is an
 * error_response NOT_FOUND "proto: not found" and the stream goes on; a
 * request with no known field set ends the stream with INVALID_ARGUMENT;
 * the client's half-close ends it with OK.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/dapr_internal.h"
#include "grpc/reflection/v1/reflection.pb-c.h"

extern const unsigned char wgg_reflection_fds[];
extern const size_t wgg_reflection_fds_len;

enum { MAX_FILES = 32, MAX_DEPS = 16 };

typedef struct rfile {
  char name[128];
  const uint8_t *bytes;
  size_t len;
  int deps[MAX_DEPS]; /* indexes of the files it imports */
  size_t n_deps;
  struct {
    const uint8_t *p; /* an import's name, in the set's bytes */
    size_t len;
  } dep_names[MAX_DEPS];
} rfile;

typedef struct rsym {
  char *name;
  int file;
} rsym;

static struct {
  pthread_once_t once;
  rfile files[MAX_FILES];
  size_t n_files;
  rsym *syms;
  size_t n_syms, cap_syms;
  char **services;
  size_t n_services;
  bool ok;
} idx = {.once = PTHREAD_ONCE_INIT};

/* ---- a small reader of the protobuf wire format ---- */

typedef struct rd {
  const uint8_t *p, *end;
} rd;

static bool varint(rd *r, uint64_t *v) {
  *v = 0;
  for (int s = 0; s < 64 && r->p < r->end; s += 7) {
    uint8_t b = *r->p++;
    *v |= (uint64_t)(b & 0x7f) << s;
    if (!(b & 0x80)) return true;
  }
  return false;
}

/* The next field: its number, and for length-delimited ones the bytes in *sub
 * (others are skipped, *sub empty). false at the end or on malformed input. */
static bool field(rd *r, uint32_t *num, rd *sub) {
  uint64_t key, len;
  if (r->p >= r->end || !varint(r, &key)) return false;
  *num = (uint32_t)(key >> 3);
  sub->p = sub->end = r->p;
  switch (key & 7) {
    case 0: return varint(r, &len);
    case 1: return (size_t)(r->end - r->p) >= 8 ? (r->p += 8, true) : false;
    case 5: return (size_t)(r->end - r->p) >= 4 ? (r->p += 4, true) : false;
    case 2:
      if (!varint(r, &len) || len > (uint64_t)(r->end - r->p)) return false;
      sub->p = r->p;
      sub->end = r->p += len;
      return true;
    default: return false;
  }
}

/* The name field (1) of a message. */
static void name_of(rd m, char *out, size_t cap) {
  uint32_t n;
  rd s;
  out[0] = '\0';
  while (field(&m, &n, &s))
    if (n == 1) {
      snprintf(out, cap, "%.*s", (int)(s.end - s.p), (const char *)s.p);
      return;
    }
}

static void add_sym(const char *scope, const char *name, int file) {
  if (idx.n_syms == idx.cap_syms) {
    size_t cap = idx.cap_syms ? idx.cap_syms * 2 : 256;
    rsym *g = realloc(idx.syms, cap * sizeof *g);
    if (!g) return;
    idx.syms = g;
    idx.cap_syms = cap;
  }
  size_t l = strlen(scope) + strlen(name) + 2;
  char *s = malloc(l);
  if (!s) return;
  snprintf(s, l, "%s%s%s", scope, *scope ? "." : "", name);
  idx.syms[idx.n_syms++] = (rsym){s, file};
}

/* An EnumDescriptorProto: the enum, and its values in the enclosing scope. */
static void index_enum(rd m, const char *scope, int file) {
  char name[128], v[128];
  name_of(m, name, sizeof name);
  add_sym(scope, name, file);
  uint32_t n;
  rd s;
  while (field(&m, &n, &s))
    if (n == 2) {
      name_of(s, v, sizeof v);
      add_sym(scope, v, file);
    }
}

/* A DescriptorProto: the message, its fields (2), nested messages (3), enums (4). */
static void index_message(rd m, const char *scope, int file, int depth) {
  char name[128], full[512], f[128];
  name_of(m, name, sizeof name);
  add_sym(scope, name, file);
  snprintf(full, sizeof full, "%s%s%s", scope, *scope ? "." : "", name);
  uint32_t n;
  rd s;
  while (field(&m, &n, &s)) {
    if (n == 2) {
      name_of(s, f, sizeof f);
      add_sym(full, f, file);
    } else if (n == 3 && depth < 16) {
      index_message(s, full, file, depth + 1);
    } else if (n == 4) {
      index_enum(s, full, file);
    }
  }
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Indexes wgg_reflection_fds (a FileDescriptorSet: repeated file = 1). */
static void build(void) {
  rd set = {wgg_reflection_fds, wgg_reflection_fds + wgg_reflection_fds_len}, f;
  uint32_t n;
  while (field(&set, &n, &f) && idx.n_files < MAX_FILES) {
    if (n != 1) continue;
    int fi = (int)idx.n_files++;
    rfile *rf = &idx.files[fi];
    rf->bytes = f.p;
    rf->len = (size_t)(f.end - f.p);
    char pkg[128] = "", tmp[128];
    rd m = f, s;
    uint32_t k;
    while (field(&m, &k, &s)) {
      if (k == 1) snprintf(rf->name, sizeof rf->name, "%.*s", (int)(s.end - s.p), (const char *)s.p);
      else if (k == 2) snprintf(pkg, sizeof pkg, "%.*s", (int)(s.end - s.p), (const char *)s.p);
      else if (k == 3 && rf->n_deps < MAX_DEPS)
        rf->dep_names[rf->n_deps].p = s.p, rf->dep_names[rf->n_deps++].len = (size_t)(s.end - s.p);
    }
    m = f;
    while (field(&m, &k, &s)) {
      if (k == 4) {
        index_message(s, pkg, fi, 0);
      } else if (k == 5) {
        index_enum(s, pkg, fi);
      } else if (k == 6) { /* a service and its methods (2) */
        name_of(s, tmp, sizeof tmp);
        add_sym(pkg, tmp, fi);
        char full[300];
        snprintf(full, sizeof full, "%s.%s", pkg, tmp);
        char **g = realloc(idx.services, (idx.n_services + 1) * sizeof *g);
        if (g && (g[idx.n_services] = strdup(full))) idx.services = g, idx.n_services++;
        else if (g) idx.services = g;
        rd sv = s, ms;
        uint32_t j;
        while (field(&sv, &j, &ms))
          if (j == 2) {
            name_of(ms, tmp, sizeof tmp);
            add_sym(full, tmp, fi);
          }
      }
    }
  }
  for (size_t i = 0; i < idx.n_files; i++) { /* imports by index (one not in the set is left out) */
    rfile *rf = &idx.files[i];
    size_t kept = 0;
    for (size_t d = 0; d < rf->n_deps; d++)
      for (size_t j = 0; j < idx.n_files; j++)
        if (strlen(idx.files[j].name) == rf->dep_names[d].len &&
            !memcmp(idx.files[j].name, rf->dep_names[d].p, rf->dep_names[d].len))
          rf->deps[kept++] = (int)j;
    rf->n_deps = kept;
  }
  if (idx.n_services) qsort(idx.services, idx.n_services, sizeof *idx.services, cmp_str);
  idx.ok = idx.n_files > 0;
}

static int file_named(const char *name) {
  for (size_t i = 0; i < idx.n_files; i++)
    if (!strcmp(idx.files[i].name, name)) return (int)i;
  return -1;
}

static int file_of_symbol(const char *sym) {
  for (size_t i = 0; i < idx.n_syms; i++)
    if (!strcmp(idx.syms[i].name, sym)) return idx.syms[i].file;
  return -1;
}

/* ---- the stream ---- */

typedef struct rstream {
  bool sent[MAX_FILES]; /* files this stream has sent */
} rstream;

/* The file, then the files it imports (breadth first) not yet sent (grpc-go's fileDescWithDependencies). */
static size_t with_deps(rstream *rs, int file, ProtobufCBinaryData *out) {
  int queue[MAX_FILES * MAX_DEPS];
  size_t head = 0, tail = 0, n = 0;
  queue[tail++] = file;
  while (head < tail) {
    int f = queue[head++];
    if (n == 0 || !rs->sent[f]) {
      bool dup = false;
      for (size_t i = 0; i < n; i++) dup |= out[i].data == idx.files[f].bytes;
      if (!dup && n < MAX_FILES) {
        rs->sent[f] = true;
        out[n++] = (ProtobufCBinaryData){idx.files[f].len, (uint8_t *)idx.files[f].bytes};
      }
    }
    for (size_t d = 0; d < idx.files[f].n_deps && tail < sizeof queue / sizeof *queue; d++)
      if (!rs->sent[idx.files[f].deps[d]]) queue[tail++] = idx.files[f].deps[d];
  }
  return n;
}

/* Ends the stream (no callback comes after it). */
static void end(wgg_grpc_call *call, rstream *rs, int code, const char *msg) {
  free(rs);
  wgg_grpc_stream_finish(call, code, "%s", msg);
}

static void on_msg(wgg_grpc_call *call, const uint8_t *data, size_t len, void *ctx) {
  rstream *rs = ctx;
  Grpc__Reflection__V1__ServerReflectionRequest *q = grpc__reflection__v1__server_reflection_request__unpack(NULL, len, data);
  if (!q) {
    end(call, rs, WGG_GRPC_INTERNAL,
        "grpc: error unmarshalling request: invalid grpc.reflection.v1.ServerReflectionRequest message");
    return;
  }
  Grpc__Reflection__V1__ServerReflectionResponse r = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__INIT;
  Grpc__Reflection__V1__FileDescriptorResponse fdr = GRPC__REFLECTION__V1__FILE_DESCRIPTOR_RESPONSE__INIT;
  Grpc__Reflection__V1__ListServiceResponse lsr = GRPC__REFLECTION__V1__LIST_SERVICE_RESPONSE__INIT;
  Grpc__Reflection__V1__ExtensionNumberResponse enr = GRPC__REFLECTION__V1__EXTENSION_NUMBER_RESPONSE__INIT;
  Grpc__Reflection__V1__ErrorResponse er = GRPC__REFLECTION__V1__ERROR_RESPONSE__INIT;
  Grpc__Reflection__V1__ServiceResponse svc[16], *svcp[16];
  ProtobufCBinaryData files[MAX_FILES];
  r.valid_host = q->host;
  r.original_request = q;
  int file = -2; /* -2: not a file request */
  switch (q->message_request_case) {
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
      for (size_t i = 0; i < idx.n_services && i < 16; i++) {
        grpc__reflection__v1__service_response__init(&svc[i]);
        svc[i].name = idx.services[i];
        svcp[i] = &svc[i];
      }
      lsr.n_service = idx.n_services < 16 ? idx.n_services : 16;
      lsr.service = svcp;
      r.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
      r.list_services_response = &lsr;
      break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
      file = file_named(q->file_by_filename);
      break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
      file = file_of_symbol(q->file_containing_symbol);
      break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
      file = -1; /* no extensions */
      break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
      if (file_of_symbol(q->all_extension_numbers_of_type) < 0) {
        file = -1;
      } else {
        enr.base_type_name = q->all_extension_numbers_of_type;
        r.message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
        r.all_extension_numbers_response = &enr;
      }
      break;
    default:
      grpc__reflection__v1__server_reflection_request__free_unpacked(q, NULL);
      end(call, rs, WGG_GRPC_INVALID_ARGUMENT, "invalid MessageRequest: <nil>");
      return;
  }
  if (file >= 0) {
    fdr.n_file_descriptor_proto = with_deps(rs, file, files);
    fdr.file_descriptor_proto = files;
    r.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
    r.file_descriptor_response = &fdr;
  } else if (file == -1) {
    er.error_code = WGG_GRPC_NOT_FOUND;
    er.error_message = "proto: not found";
    r.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
    r.error_response = &er;
  }
  int rc = wgg_grpc_stream_send(call, &r.base);
  grpc__reflection__v1__server_reflection_request__free_unpacked(q, NULL);
  if (rc) end(call, rs, WGG_GRPC_INTERNAL, "out of memory");
}

static void on_end(wgg_grpc_call *call, bool gone, void *ctx) {
  /* the client's half-close: grpc-go's Recv gets io.EOF and the method returns nil */
  end(call, ctx, gone ? WGG_GRPC_CANCELLED : WGG_GRPC_OK, gone ? "context canceled" : "");
}

bool wgg_grpc_is_reflection(const char *path) {
  return !strcmp(path, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo") ||
         !strcmp(path, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
}

void wgg_grpc_reflection(wgg_api *api, wgg_grpc_call *call) {
  (void)api;
  pthread_once(&idx.once, build);
  rstream *rs = idx.ok ? calloc(1, sizeof *rs) : NULL;
  if (!rs) {
    wgg_grpc_stream_finish(call, WGG_GRPC_INTERNAL, "%s", idx.ok ? "out of memory" : "no descriptors");
    return;
  }
  wgg_grpc_stream_set(call, on_msg, on_end, rs);
}
