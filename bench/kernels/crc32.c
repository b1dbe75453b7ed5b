/* crc32.c: bitwise CRC-32 over a buffer: shifts, xors and data-dependent branches. */
#define LEN 65536
static unsigned char buf[LEN];
long long run(int reps) {
  unsigned x = 12345;
  for (int i = 0; i < LEN; i++) {
    x = x * 1103515245u + 12345u;
    buf[i] = (unsigned char)(x >> 16);
  }
  unsigned crc = 0;
  for (int r = 0; r < reps; r++) {
    crc = ~crc;
    for (int i = 0; i < LEN; i++) {
      crc ^= buf[i];
      for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    crc = ~crc;
  }
  return crc;
}
