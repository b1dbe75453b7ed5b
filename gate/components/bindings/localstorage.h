/*
 * localstorage.h: bindings.localstorage (components/bindings/localstorage.c)
 * and the helpers it shares with tests and with other file-backed features.
 */
#ifndef WGG_LOCALSTORAGE_H
#define WGG_LOCALSTORAGE_H

#include <stddef.h>

#include "components/bindings/binding.h"
#include "util/buf.h"

/* Creates bindings.localstorage for component c (metadata rootPath), or
 * NULL with err ("failed to parse metadata: ..." or "unable to create
 * directory specified by 'rootPath' ..."). */
wgg_binding *wgg_binding_localstorage_new(const wgg_component *c, const wgg_binding_opts *opts, wgg_err *err);

/* Turns a component's rootPath into the absolute directory used (cleaned,
 * relative to the working directory, symlinks of the existing part resolved)
 * as contrib's validateRootPath. 0 and *out (malloc'd), or -1 with err when
 * empty, a file, or under /proc, /sys, /boot or /var/run/secrets. */
int wgg_localstorage_root(const char *root_path, char **out, wgg_err *err);

/* Resolves name inside root (absolute, from wgg_localstorage_root) as if root
 * were "/": "..", absolute names and symlinks (absolute targets included)
 * never leave root, as filepath-securejoin's SecureJoin. 0 with *abs (the
 * file system path) and *rel (the path below root, "." for root itself),
 * both malloc'd; -1 with err on OOM, more than 255 links or PATH_MAX. */
int wgg_localstorage_join(const char *root, const char *name, char **abs, char **rel, wgg_err *err);

/* Go's strconv.Unquote of s (len bytes) as a double- or back-quoted string
 * literal: 1 with the decoded bytes appended to out, 0 when s is not one
 * (out may then hold a partial result; the caller frees out->data). */
int wgg_go_unquote(const char *s, size_t len, wgg_buf *out);

/* Go's base64.StdEncoding.DecodeString: 1 with the bytes appended to out, 0
 * when s is not padded standard base64 (CR and LF are skipped). */
int wgg_go_base64_std(const char *s, size_t len, wgg_buf *out);

#endif
