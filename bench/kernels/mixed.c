/* mixed.c: a CoreMark-like mix written for this bench (not CoreMark itself,
 * whose sources are not in the tree): per iteration, linked-list work
 * (find, reverse, an insertion sort by key through pointers), a small
 * integer matrix (multiply by a constant, by a vector, by a matrix, with
 * bit extraction), a byte-driven state machine that classifies number
 * literals, and a CRC-16 folding every part's result. Branchy integer code
 * with calls, loads and stores through pointers, as CoreMark's. */
#define NODES 64
#define MAT 12
#define TEXT 256

typedef struct node {
  struct node *next;
  short key, val;
} node;

static node pool[NODES];
static short ma[MAT * MAT], mb[MAT * MAT];
static int mc[MAT * MAT];
static unsigned char text[TEXT];

static unsigned short crc16(unsigned short crc, unsigned v) {
  for (int i = 0; i < 16; i++) {
    unsigned bit = (crc ^ v) & 1u;
    v >>= 1;
    crc = (unsigned short)(crc >> 1);
    if (bit) crc ^= 0xA001u;
  }
  return crc;
}

static node *list_build(unsigned seed) {
  node *head = 0;
  for (int i = NODES - 1; i >= 0; i--) {
    seed = seed * 1103515245u + 12345u;
    pool[i].key = (short)((seed >> 16) & 0x7FF);
    pool[i].val = (short)i;
    pool[i].next = head;
    head = &pool[i];
  }
  return head;
}

static node *list_reverse(node *l) {
  node *r = 0;
  while (l) {
    node *n = l->next;
    l->next = r;
    r = l;
    l = n;
  }
  return r;
}

static node *list_find(node *l, short key) {
  while (l && l->key != key) l = l->next;
  return l;
}

static node *list_sort(node *l) { /* insertion sort by key */
  node *sorted = 0;
  while (l) {
    node *n = l->next, **p = &sorted;
    while (*p && (*p)->key < l->key) p = &(*p)->next;
    l->next = *p;
    *p = l;
    l = n;
  }
  return sorted;
}

static unsigned list_part(unsigned seed) {
  node *l = list_build(seed);
  unsigned acc = 0;
  for (int i = 0; i < 8; i++) {
    node *f = list_find(l, (short)((seed >> i) & 0x7FF));
    acc += f ? (unsigned)f->val : 1u;
  }
  l = list_reverse(l);
  l = list_sort(l);
  for (int i = 0; l && i < 16; i++, l = l->next) acc = acc * 31u + (unsigned)l->key;
  return acc;
}

static unsigned matrix_part(unsigned seed) {
  for (int i = 0; i < MAT * MAT; i++) {
    seed = seed * 1664525u + 1013904223u;
    ma[i] = (short)(seed >> 20);
    mb[i] = (short)((seed >> 8) & 0xFF);
  }
  unsigned acc = 0;
  for (int i = 0; i < MAT * MAT; i++) mc[i] = ma[i] * 7; /* by a constant */
  for (int i = 0; i < MAT; i++) { /* by a vector */
    int s = 0;
    for (int k = 0; k < MAT; k++) s += ma[i * MAT + k] * mb[k];
    acc += (unsigned)s;
  }
  for (int i = 0; i < MAT; i++) /* by a matrix, keeping bits 2..9 */
    for (int j = 0; j < MAT; j++) {
      int s = 0;
      for (int k = 0; k < MAT; k++) s += ma[i * MAT + k] * mb[k * MAT + j];
      mc[i * MAT + j] = (s >> 2) & 0xFF;
      acc += (unsigned)mc[i * MAT + j];
    }
  return acc;
}

enum { START, INT, FRAC, EXP, SEXP, HEX, BAD, NSTATES };

static unsigned state_part(unsigned seed) {
  static const char *const pieces[] = {"5012", "1.25e-3", "-190.", "0x1F", "+7e", "3.3.3", "-0", "0xG", "12e4", ".5"};
  int n = 0;
  while (n < TEXT - 12) {
    seed = seed * 1103515245u + 12345u;
    const char *p = pieces[(seed >> 16) % 10];
    while (*p) text[n++] = (unsigned char)*p++;
    text[n++] = ',';
  }
  text[n] = 0;
  unsigned counts[NSTATES] = {0}, transitions = 0;
  int st = START;
  for (int i = 0; text[i]; i++) {
    unsigned char c = text[i];
    int next = st;
    if (c == ',') {
      counts[st]++;
      next = START;
    } else {
      switch (st) {
        case START: next = c >= '0' && c <= '9' ? INT : c == '+' || c == '-' ? INT : c == '.' ? FRAC : BAD; break;
        case INT: next = c == 'x' ? HEX : c == '.' ? FRAC : c == 'e' || c == 'E' ? EXP : c >= '0' && c <= '9' ? INT : BAD; break;
        case FRAC: next = c == 'e' || c == 'E' ? EXP : c >= '0' && c <= '9' ? FRAC : BAD; break;
        case EXP: next = c == '+' || c == '-' ? SEXP : c >= '0' && c <= '9' ? SEXP : BAD; break;
        case SEXP: next = c >= '0' && c <= '9' ? SEXP : BAD; break;
        case HEX: next = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f') ? HEX : BAD; break;
        default: next = BAD; break;
      }
    }
    if (next != st) transitions++;
    st = next;
  }
  unsigned acc = transitions;
  for (int s = 0; s < NSTATES; s++) acc = acc * 17u + counts[s];
  return acc;
}

long long run(int iterations) {
  unsigned short crc = 0;
  for (int it = 0; it < iterations; it++) {
    unsigned seed = (unsigned)it * 2654435761u + 1u;
    crc = crc16(crc, list_part(seed));
    crc = crc16(crc, matrix_part(seed));
    crc = crc16(crc, state_part(seed));
  }
  return crc;
}
