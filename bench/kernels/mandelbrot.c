/* mandelbrot.c: escape-time iteration over a grid: a tight double loop with
 * data-dependent exit. Returns the number of points inside the set. */
long long run(int size) {
  long long inside = 0;
  for (int py = 0; py < size; py++)
    for (int px = 0; px < size; px++) {
      double cr = 2.0 * px / size - 1.5, ci = 2.0 * py / size - 1.0, zr = 0, zi = 0;
      int i = 0;
      while (i < 50 && zr * zr + zi * zi <= 4.0) {
        double t = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = t;
        i++;
      }
      inside += i == 50;
    }
  return inside;
}
