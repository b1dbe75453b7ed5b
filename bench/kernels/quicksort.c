/* quicksort.c: sorting integers: comparisons, swaps, recursion and unpredictable branches. */
#define LEN 200000
static int v[LEN];
static void sort(int *a, int lo, int hi) {
  while (lo < hi) {
    int p = a[(lo + hi) >> 1], i = lo, j = hi;
    while (i <= j) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i <= j) {
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (j - lo < hi - i) {
      sort(a, lo, j);
      lo = i;
    } else {
      sort(a, i, hi);
      hi = j;
    }
  }
}
long long run(int reps) {
  long long check = 0;
  unsigned x = 1;
  for (int r = 0; r < reps; r++) {
    for (int i = 0; i < LEN; i++) {
      x = x * 1664525u + 1013904223u;
      v[i] = (int)(x >> 1);
    }
    sort(v, 0, LEN - 1);
    check += v[LEN / 2] % 1000;
  }
  return check;
}
