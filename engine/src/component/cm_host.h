/*
 * cm_host.h: host function types (cm_hosttype.c), shared by the linker:
 * WIT-like type text parsed into cm_type nodes, and the check of a
 * component's import type against the host's definition at instantiation.
 */
#ifndef WG_CM_HOST_H
#define WG_CM_HOST_H

#include "cm_rt.h"

/* Resolves a type name the text uses (`stream-error`, `output-stream`,
 * `wasi:io/error@0.2.12#error`): a named type or a host resource node
 * (CM_RESOURCE with `host` set); NULL when the name is unknown. */
typedef const cm_type *(*cm_host_lookup)(void *env, const char *name, size_t len);

/* Parses `text`: a function type (`func(self: borrow<output-stream>,
 * contents: list<u8>) -> result<_, stream-error>`) when `func`, else one
 * value type (`variant { closed, last-operation-failed(own<error>) }`).
 * Nodes are allocated in `a`. NULL with `err` filled ("expected `>` at
 * offset 12 of `...`", "unknown type `x`") on a syntax error, an unknown
 * name or out of memory. */
cm_type *cm_host_parse(wg_arena *a, const char *text, bool func, cm_host_lookup look, void *env, char *err,
                       size_t errlen);

/* Whether import type `imp` (of component instance `rt`, whose imported
 * resources are already bound) is satisfied by host type `host`: the same
 * structure (record fields, cases, enum and flags labels by name; function
 * parameters by position), and own/borrow of the resource the import was
 * bound to. On a mismatch `why` says where ("parameter 2", "the result"). */
bool cm_host_match(const cm_type *imp, const cm_type *host, const cm_rt *rt, char *why, size_t whylen);

/* Writes type `t` as WIT-like text into buf (truncated to n bytes). */
void cm_host_print(const cm_type *t, char *buf, size_t n);

#endif
