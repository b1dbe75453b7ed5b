/*
 * match.c: see match.h. A recursive-descent parser to a small tree, and an
 * evaluator with CEL's commutative error handling for && and || (false && err
 * is false, true || err is true; other errors make the rule not match).
 */
#include "pubsub/match.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

enum nk { N_LIT, N_EVENT, N_FIELD, N_NOT, N_AND, N_OR, N_EQ, N_NE, N_LT, N_LE, N_GT, N_GE };

typedef struct node {
  enum nk kind;
  struct node *a, *b;
  json_t *lit;  /* N_LIT */
  char *field;  /* N_FIELD: the key selected from a */
} node;

struct wgg_match {
  node *root;
};

typedef struct parser {
  const char *src, *p;
  wgg_err *err;
  bool failed;
} parser;

static node *mk(parser *ps, enum nk k, node *a, node *b) {
  node *n = calloc(1, sizeof *n);
  if (!n) {
    if (!ps->failed) wgg_err_set(ps->err, "out of memory");
    ps->failed = true;
    return NULL;
  }
  n->kind = k, n->a = a, n->b = b;
  return n;
}

static void node_free(node *n) {
  if (!n) return;
  node_free(n->a);
  node_free(n->b);
  json_decref(n->lit);
  free(n->field);
  free(n);
}

static void fail(parser *ps, const char *at, const char *fmt, const char *what) {
  if (ps->failed) return;
  ps->failed = true;
  char msg[200];
  snprintf(msg, sizeof msg, fmt, what);
  wgg_err_set(ps->err,
              "%s at offset %d of match expression '%s' (supported: event.<field> paths, string/number/bool/null "
              "literals, == != < <= > >=, && || !, parentheses)",
              msg, (int)(at - ps->src), ps->src);
}

static void ws(parser *ps) {
  while (isspace((unsigned char)*ps->p)) ps->p++;
}

static bool eat(parser *ps, const char *tok) {
  ws(ps);
  size_t n = strlen(tok);
  if (strncmp(ps->p, tok, n)) return false;
  ps->p += n;
  return true;
}

static bool ident_char(char c) {
  return isalnum((unsigned char)c) || c == '_';
}

static char *ident(parser *ps) {
  ws(ps);
  const char *s = ps->p;
  if (!isalpha((unsigned char)*s) && *s != '_') return NULL;
  while (ident_char(*ps->p)) ps->p++;
  return strndup(s, (size_t)(ps->p - s));
}

static node *parse_or(parser *ps);

static char *string_lit(parser *ps) {
  char q = *ps->p++;
  char *out = malloc(strlen(ps->p) + 1), *o = out;
  if (!out) return NULL;
  while (*ps->p && *ps->p != q) {
    char c = *ps->p++;
    if (c == '\\') {
      if (!*ps->p) break; /* a backslash at the very end: unterminated */
      c = *ps->p++;
      switch (c) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'r': c = '\r'; break;
        case '\\': case '"': case '\'': break;
        default:
          fail(ps, ps->p - 2, "unsupported escape sequence '\\%s' in a string literal", (char[]){c, 0});
          free(out);
          return NULL;
      }
    }
    *o++ = c;
  }
  if (*ps->p != q) {
    fail(ps, ps->p, "unterminated string literal%s", "");
    free(out);
    return NULL;
  }
  ps->p++;
  *o = '\0';
  return out;
}

static node *primary(parser *ps) {
  ws(ps);
  const char *at = ps->p;
  if (eat(ps, "(")) {
    node *n = parse_or(ps);
    if (!ps->failed && !eat(ps, ")")) fail(ps, ps->p, "expected ')'%s", "");
    return n;
  }
  if (*at == '"' || *at == '\'') {
    char *s = string_lit(ps);
    if (!s) return NULL;
    node *n = mk(ps, N_LIT, NULL, NULL);
    if (n) n->lit = json_string(s);
    free(s);
    return n;
  }
  if (isdigit((unsigned char)*at) || (*at == '-' && isdigit((unsigned char)at[1]))) {
    char *end;
    double d = strtod(at, &end);
    bool integral = !memchr(at, '.', (size_t)(end - at)) && !memchr(at, 'e', (size_t)(end - at)) &&
                    !memchr(at, 'E', (size_t)(end - at));
    ps->p = end;
    if (*ps->p == 'u') ps->p++; /* CEL unsigned suffix */
    node *n = mk(ps, N_LIT, NULL, NULL);
    if (n) n->lit = integral ? json_integer((json_int_t)strtoll(at, NULL, 10)) : json_real(d);
    return n;
  }
  if (*at == '[' || *at == '{') {
    fail(ps, at, "unsupported CEL: %s literals", *at == '[' ? "list" : "map");
    return NULL;
  }
  char *id = ident(ps);
  if (!id) {
    fail(ps, at, *at ? "unexpected '%.1s'" : "unexpected end of expression%s", at);
    return NULL;
  }
  node *n = NULL;
  ws(ps);
  if (*ps->p == '(') {
    fail(ps, at, "unsupported CEL: function or macro '%s()'", id);
  } else if (!strcmp(id, "true") || !strcmp(id, "false")) {
    if ((n = mk(ps, N_LIT, NULL, NULL))) n->lit = json_boolean(id[0] == 't');
  } else if (!strcmp(id, "null")) {
    if ((n = mk(ps, N_LIT, NULL, NULL))) n->lit = json_null();
  } else if (!strcmp(id, "event")) {
    n = mk(ps, N_EVENT, NULL, NULL);
    for (;;) { /* selectors */
      ws(ps);
      const char *sel = ps->p;
      char *key = NULL;
      if (*ps->p == '.') {
        ps->p++;
        if (!(key = ident(ps))) {
          fail(ps, sel, "expected a field name after '.'%s", "");
          break;
        }
        ws(ps);
        if (*ps->p == '(') {
          fail(ps, sel, "unsupported CEL: method '%s()'", key);
          free(key);
          break;
        }
      } else if (*ps->p == '[') {
        ps->p++;
        ws(ps);
        if (*ps->p != '"' && *ps->p != '\'') {
          fail(ps, sel, "unsupported CEL: index by a non-string%s", "");
          break;
        }
        if (!(key = string_lit(ps))) break;
        if (!eat(ps, "]")) {
          fail(ps, ps->p, "expected ']'%s", "");
          free(key);
          break;
        }
      } else {
        break;
      }
      node *f = mk(ps, N_FIELD, n, NULL);
      if (!f) {
        free(key);
        break;
      }
      f->field = key;
      n = f;
    }
  } else {
    fail(ps, at, "unsupported CEL: identifier '%s' (only `event` and its fields are defined)", id);
  }
  free(id);
  return n;
}

static node *unary(parser *ps) {
  ws(ps);
  const char *at = ps->p;
  if (*at == '!' && at[1] != '=') {
    ps->p++;
    node *a = unary(ps);
    return ps->failed ? (node_free(a), NULL) : mk(ps, N_NOT, a, NULL);
  }
  return primary(ps);
}

static node *relation(parser *ps) {
  node *a = unary(ps);
  if (ps->failed) return node_free(a), NULL;
  static const struct {
    const char *tok;
    enum nk k;
  } ops[] = {{"==", N_EQ}, {"!=", N_NE}, {"<=", N_LE}, {">=", N_GE}, {"<", N_LT}, {">", N_GT}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (eat(ps, ops[i].tok)) {
      node *b = unary(ps);
      if (ps->failed) return node_free(a), node_free(b), NULL;
      return mk(ps, ops[i].k, a, b);
    }
  return a;
}

static node *parse_and(parser *ps) {
  node *a = relation(ps);
  while (!ps->failed && eat(ps, "&&")) {
    node *b = relation(ps);
    a = mk(ps, N_AND, a, b);
  }
  return ps->failed ? (node_free(a), NULL) : a;
}

static node *parse_or(parser *ps) {
  node *a = parse_and(ps);
  while (!ps->failed && eat(ps, "||")) {
    node *b = parse_and(ps);
    a = mk(ps, N_OR, a, b);
  }
  return ps->failed ? (node_free(a), NULL) : a;
}

wgg_match *wgg_match_compile(const char *expr, wgg_err *err) {
  parser ps = {expr, expr, err, false};
  node *root = parse_or(&ps);
  ws(&ps);
  if (!ps.failed && *ps.p) {
    const char *at = ps.p;
    const char *what = !strncmp(at, "in", 2) && !ident_char(at[2]) ? "operator 'in'"
                       : strchr("+-*/%", *at)                     ? "arithmetic"
                       : *at == '?'                               ? "the conditional operator '?:'"
                                                                  : NULL;
    if (what) fail(&ps, at, "unsupported CEL: %s", what);
    else fail(&ps, at, "unexpected '%.1s'", at);
  }
  if (ps.failed) {
    node_free(root);
    return NULL;
  }
  wgg_match *m = malloc(sizeof *m);
  if (!m) {
    node_free(root);
    wgg_err_set(err, "out of memory");
    return NULL;
  }
  m->root = root;
  return m;
}

/* ---- evaluation ---- */

typedef struct val {
  bool err;  /* missing field, type error */
  json_t *j; /* borrowed (from the event or a literal) */
  int b;     /* for results of logical/relational nodes: -1 = not a bool result, else 0/1 */
} val;

static val v_bool(bool b) {
  return (val){false, NULL, b};
}

static const val V_ERR = {true, NULL, -1};

static int as_bool(val v) { /* -1: not a bool */
  if (v.err) return -1;
  if (v.b >= 0) return v.b;
  return json_is_boolean(v.j) ? json_is_true(v.j) : -1;
}

static val eval(const node *n, json_t *ev);

static val compare(enum nk k, val a, val b) {
  if (a.err || b.err) return V_ERR;
  json_t *x = a.b >= 0 ? json_boolean(a.b) : json_incref(a.j);
  json_t *y = b.b >= 0 ? json_boolean(b.b) : json_incref(b.j);
  val r = V_ERR;
  if (json_is_number(x) && json_is_number(y)) {
    double p = json_number_value(x), q = json_number_value(y);
    if (json_is_integer(x) && json_is_integer(y)) {
      json_int_t i = json_integer_value(x), j = json_integer_value(y);
      p = (double)(i > j) - (double)(i < j), q = 0;
    }
    r = v_bool(k == N_EQ ? p == q : k == N_NE ? p != q : k == N_LT ? p < q : k == N_LE ? p <= q : k == N_GT ? p > q : p >= q);
  } else if (json_is_string(x) && json_is_string(y)) {
    int c = strcmp(json_string_value(x), json_string_value(y));
    r = v_bool(k == N_EQ ? c == 0 : k == N_NE ? c != 0 : k == N_LT ? c < 0 : k == N_LE ? c <= 0 : k == N_GT ? c > 0 : c >= 0);
  } else if (k == N_EQ || k == N_NE) {
    bool eq = json_equal(x, y);
    r = v_bool(k == N_EQ ? eq : !eq);
  }
  json_decref(x);
  json_decref(y);
  return r;
}

static val eval(const node *n, json_t *ev) {
  switch (n->kind) {
    case N_LIT: return (val){false, n->lit, -1};
    case N_EVENT: return (val){false, ev, -1};
    case N_FIELD: {
      val o = eval(n->a, ev);
      if (o.err || !json_is_object(o.j)) return V_ERR;
      json_t *f = json_object_get(o.j, n->field);
      return f ? (val){false, f, -1} : V_ERR;
    }
    case N_NOT: {
      int b = as_bool(eval(n->a, ev));
      return b < 0 ? V_ERR : v_bool(!b);
    }
    case N_AND: case N_OR: {
      int a = as_bool(eval(n->a, ev)), b = as_bool(eval(n->b, ev));
      bool is_and = n->kind == N_AND;
      if (a == !is_and || b == !is_and) return v_bool(!is_and); /* short-circuit value on either side */
      if (a < 0 || b < 0) return V_ERR;
      return v_bool(is_and);
    }
    default: return compare(n->kind, eval(n->a, ev), eval(n->b, ev));
  }
}

bool wgg_match_eval(const wgg_match *m, json_t *event) {
  return as_bool(eval(m->root, event)) == 1;
}

void wgg_match_free(wgg_match *m) {
  if (!m) return;
  node_free(m->root);
  free(m);
}
