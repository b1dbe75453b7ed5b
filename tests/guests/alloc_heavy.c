/* alloc_heavy.c: an allocation-heavy program: a chained hash map of strings
 * with many inserts, updates and deletes, plus a binary tree built and freed
 * repeatedly. Prints checksums that must match the native build. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

typedef struct node {
  char *key;
  int64_t value;
  struct node *next;
} node;

static unsigned hash(const char *s) {
  unsigned h = 5381;
  while (*s) h = h * 33 + (unsigned char)*s++;
  return h;
}

typedef struct tree {
  struct tree *l, *r;
  int v;
} tree;

static tree *build(int depth, int v) {
  if (!depth) return NULL;
  tree *t = malloc(sizeof *t);
  t->v = v;
  t->l = build(depth - 1, 2 * v);
  t->r = build(depth - 1, 2 * v + 1);
  return t;
}
static int64_t sum_free(tree *t) {
  if (!t) return 0;
  int64_t s = t->v + sum_free(t->l) + sum_free(t->r);
  free(t);
  return s;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 50000;
  size_t nb = 1024;
  node **buckets = calloc(nb, sizeof *buckets);
  char key[32];
  int64_t live = 0;
  for (int i = 0; i < n; i++) {
    snprintf(key, sizeof key, "key-%d", (i * 7919) % (n / 2 + 1));
    unsigned b = hash(key) % nb;
    node *e = buckets[b];
    while (e && strcmp(e->key, key)) e = e->next;
    if (e && i % 3 == 0) { /* delete */
      node **pp = &buckets[b];
      while (*pp != e) pp = &(*pp)->next;
      *pp = e->next;
      free(e->key);
      free(e);
      live--;
    } else if (e) {
      e->value += i;
    } else {
      e = malloc(sizeof *e);
      e->key = strdup(key);
      e->value = i;
      e->next = buckets[b];
      buckets[b] = e;
      live++;
    }
  }
  uint64_t check = 0;
  for (size_t b = 0; b < nb; b++)
    for (node *e = buckets[b], *next; e; e = next) {
      next = e->next;
      check = check * 31 + (uint64_t)e->value + hash(e->key);
      free(e->key);
      free(e);
    }
  free(buckets);
  int64_t trees = 0;
  for (int i = 0; i < 20; i++) trees += sum_free(build(14, 1));
  printf("live %lld check %llu trees %lld\n", (long long)live, (unsigned long long)check, (long long)trees);
  return 0;
}
