/* shout.c: a WASI command for the bindings.wasm example. It reads the request
 * data on stdin and answers it in upper case, prefixed by its arguments (the
 * binding's comma-separated "args" metadata). */
#include <ctype.h>
#include <stdio.h>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) printf("%s ", argv[i]);
  int c;
  while ((c = getchar()) != EOF) putchar(toupper(c));
  putchar('\n');
  return 0;
}
