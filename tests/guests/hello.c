/* hello.c: a wasi-libc hello world, compiled to wasm32-wasi by the build. */
#include <stdio.h>

int main(void) {
  printf("hello from wasmgate\n");
  return 0;
}
