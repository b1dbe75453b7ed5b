/* matmul.c: dense double matrix product: floating-point arithmetic and 2-D indexing. */
#define N 128
static double a[N * N], b[N * N], c[N * N];
long long run(int reps) {
  for (int i = 0; i < N * N; i++) {
    a[i] = (double)(i % 17) * 0.5;
    b[i] = (double)(i % 13) * 0.25;
  }
  double sum = 0;
  for (int r = 0; r < reps; r++) {
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) {
        double s = 0;
        for (int k = 0; k < N; k++) s += a[i * N + k] * b[k * N + j];
        c[i * N + j] = s;
      }
    sum += c[(r * 7) % (N * N)];
  }
  return (long long)sum;
}
