/* sieve.c: the sieve of Eratosthenes over a byte array, repeated: memory loads and stores in tight loops. */
#define N 1000000
static unsigned char composite[N];
long long run(int reps) {
  long long total = 0;
  for (int r = 0; r < reps; r++) {
    for (int i = 0; i < N; i++) composite[i] = 0;
    int count = 0;
    for (int i = 2; i < N; i++) {
      if (composite[i]) continue;
      count++;
      for (int j = i + i; j < N; j += i) composite[j] = 1;
    }
    total += count;
  }
  return total;
}
