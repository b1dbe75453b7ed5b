// run_node.mjs: runs a benchmark kernel on node's V8, printing "result=R ms=T"
// like bench_exec (T: the call alone; V8 compiles lazily and tiers up inside it).
// usage: node run_node.mjs KERNEL.wasm N
import fs from 'node:fs';
const [file, n] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), {});
const t0 = performance.now();
const r = instance.exports.run(Number(n));
const t1 = performance.now();
console.log(`result=${r} ms=${(t1 - t0).toFixed(2)}`);
