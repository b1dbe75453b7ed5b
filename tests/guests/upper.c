/* upper.c: a WASI command for the bindings.wasm tests: prints its arguments
 * joined by '+', a ':', then its stdin in upper case. The first argument may
 * instead ask it to trap, spin forever, exit with 3, or print nothing. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "trap")) __builtin_trap();
  if (argc > 1 && !strcmp(argv[1], "spin"))
    for (volatile int x = 0;; x++) {
    }
  if (argc > 1 && !strcmp(argv[1], "exit")) return 3;
  if (argc > 1 && !strcmp(argv[1], "empty")) return 0;
  for (int i = 1; i < argc; i++) printf("%s%s", i > 1 ? "+" : "", argv[i]);
  putchar(':');
  int c;
  while ((c = getchar()) != EOF) putchar(toupper(c));
  return 0;
}
