/*
 * yaml_guard.c: a linear pre-scan of YAML bytes that rejects nesting deeper
 * than go-yaml accepts, before libyaml sees them (see resource.h,
 * wgg_yaml_guard). libyaml's scanner is quadratic in flow depth (a 1 MB file
 * of '[' ran for more than 30 s) and keeps one entry per open block level.
 *
 * The scan follows just enough of YAML 1.2's lexical structure (chapter 6-8:
 * comments, quoted scalars, block scalars, flow indicators, block indentation
 * and the compact "- " / "? " indicators) to count open flow collections and
 * block levels the way go-yaml's scanner does (max_flow_level and max_indents,
 * both 10,000). It may overcount a little (a multi-line plain scalar's
 * continuation lines look like deeper block levels), which only matters for
 * files whose indentation grows 10,000 times: those need about 50 MB of
 * spaces, far above the file size cap.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/resource.h"
#include "util/err.h"

typedef struct scan {
  const char *p, *end;
  size_t line; /* 1-based */
  long flow;   /* open flow collections */
  int *indents; /* open block levels (columns), at most WGG_YAML_MAX_DEPTH + 1 */
  size_t n_indents;
} scan;

static bool is_blank(char ch) {
  return ch == ' ' || ch == '\t';
}

static bool at_break(const scan *s, const char *q) {
  return q >= s->end || *q == '\n' || *q == '\r';
}

/* Pushes a block level at col unless it is no deeper than the innermost one.
 * Returns false when the levels exceed the limit. */
static bool push_indent(scan *s, int col) {
  if (s->n_indents && s->indents[s->n_indents - 1] >= col) return true;
  if (s->n_indents >= WGG_YAML_MAX_DEPTH) return false;
  s->indents[s->n_indents++] = col;
  return true;
}

/* Skips a block scalar's content: the lines after the indicator that are more
 * indented than parent_indent, and empty lines among them. s->p is at the
 * start of the line after the indicator. */
static void skip_block_scalar(scan *s, int parent_indent) {
  while (s->p < s->end) {
    const char *q = s->p;
    int col = 0;
    while (q < s->end && *q == ' ') q++, col++;
    if (!at_break(s, q) && col <= parent_indent) return;
    while (q < s->end && *q != '\n') q++;
    if (q < s->end) q++;
    s->p = q;
    s->line++;
  }
}

/* Is q a block scalar indicator ('|' or '>' with optional chomping and
 * indentation indicators) that ends its line (before an optional comment)? */
static bool block_scalar_indicator(const scan *s, const char *q) {
  if (*q != '|' && *q != '>') return false;
  q++;
  for (int i = 0; i < 2 && q < s->end && (*q == '+' || *q == '-' || (*q >= '1' && *q <= '9')); i++) q++;
  while (q < s->end && is_blank(*q)) q++;
  return at_break(s, q) || *q == '#';
}

int wgg_yaml_guard(const char *file, const char *text, size_t len, wgg_err *err) {
  if (len > WGG_YAML_MAX_BYTES)
    return wgg_err_set(err, "%s: resource file is %zu bytes, larger than the %u-byte limit", file, len,
                       (unsigned)WGG_YAML_MAX_BYTES);
  scan s = {.p = text, .end = text + len, .line = 1};
  s.indents = malloc(sizeof *s.indents * (WGG_YAML_MAX_DEPTH + 1));
  if (!s.indents) return wgg_err_set(err, "%s: out of memory", file);
  char quote = 0; /* inside a '...' or "..." scalar */
  int rc = 0;
  while (s.p < s.end && !rc) {
    /* one line */
    const char *q = s.p;
    int indent = 0;
    bool token_start = true; /* a new token may begin here (quotes and brackets are indicators) */
    if (!quote && s.flow == 0) {
      while (q < s.end && *q == ' ') q++, indent++;
      if (!at_break(&s, q) && *q != '#') {
        if (s.end - q >= 3 && (!memcmp(q, "---", 3) || !memcmp(q, "...", 3))) s.n_indents = 0; /* document markers */
        while (s.n_indents && s.indents[s.n_indents - 1] > indent) s.n_indents--;
        if (!push_indent(&s, indent)) goto block_too_deep;
        /* compact nested collections: "- - x", "? - x" */
        while (q < s.end && (*q == '-' || *q == '?') && (q + 1 >= s.end || is_blank(q[1]) || at_break(&s, q + 1))) {
          q++;
          while (q < s.end && is_blank(*q)) q++;
          if (!push_indent(&s, (int)(q - s.p))) goto block_too_deep;
        }
      }
    }
    for (; q < s.end && *q != '\n'; q++) {
      char ch = *q;
      if (quote) {
        if (quote == '"' && ch == '\\' && q + 1 < s.end && q[1] != '\n') q++;
        else if (quote == '\'' && ch == '\'' && q + 1 < s.end && q[1] == '\'') q++;
        else if (ch == quote) quote = 0, token_start = false;
        continue;
      }
      if (is_blank(ch) || ch == '\r') {
        token_start = true;
        continue;
      }
      if (ch == '#' && (q == s.p || is_blank(q[-1]))) {
        while (q < s.end && *q != '\n') q++;
        break;
      }
      if (token_start && (ch == '"' || ch == '\'')) {
        quote = ch;
        continue;
      }
      if ((ch == '[' || ch == '{') && (token_start || s.flow > 0)) {
        if (++s.flow > WGG_YAML_MAX_DEPTH) {
          rc = wgg_err_set(err, "%s:%zu: YAML nesting deeper than %d flow collections", file, s.line,
                           WGG_YAML_MAX_DEPTH);
          break;
        }
        token_start = true;
        continue;
      }
      if ((ch == ']' || ch == '}') && s.flow > 0) {
        s.flow--;
        token_start = false;
        continue;
      }
      if (ch == ',' && s.flow > 0) {
        token_start = true;
        continue;
      }
      if (ch == ':' && (q + 1 >= s.end || is_blank(q[1]) || q[1] == '\n' || q[1] == '\r' || s.flow > 0)) {
        token_start = true;
        continue;
      }
      if (token_start && s.flow == 0 && block_scalar_indicator(&s, q)) {
        while (q < s.end && *q != '\n') q++;
        s.p = q < s.end ? q + 1 : q;
        s.line++;
        skip_block_scalar(&s, indent);
        q = NULL;
        break;
      }
      token_start = false;
    }
    if (rc || !q) continue;
    s.p = q < s.end ? q + 1 : q;
    s.line++;
  }
  free(s.indents);
  return rc;
block_too_deep:
  free(s.indents);
  return wgg_err_set(err, "%s:%zu: YAML nesting deeper than %d block levels", file, s.line, WGG_YAML_MAX_DEPTH);
}
