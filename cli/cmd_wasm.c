#include "cli.h"
int wg_cmd_wasm(int argc, char **argv) { (void)argc; (void)argv; return 2; }
