// run_node.mjs: runs a WASI program on node's WASI (node:wasi, preview1), the
// reference the WASI tests compare against where node follows the spec.
// usage: node run_node.mjs HOST_DIR GUEST_DIR MODULE.wasm [ARGS...]
import fs from 'node:fs';
import { WASI } from 'node:wasi';
const [hostDir, guestDir, file, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, preopens: { [guestDir]: hostDir } });
const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), wasi.getImportObject());
process.exitCode = wasi.start(instance);
