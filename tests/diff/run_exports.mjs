// run_exports.mjs: the V8 side of the differential test: prints, in the
// format of run_exports.c, what a module does when each export is called.
// usage: node run_exports.mjs MODULE.wasm
import fs from 'node:fs';
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1), u64 = new BigUint64Array(f64.buffer);
const out = [];
const fmt = (type, v) => {
  switch (type) {
    case 'i32': return String(v >>> 0);
    case 'i64': return String(BigInt.asUintN(64, BigInt(v)));
    case 'f32': if (Number.isNaN(v)) return 'nan'; f32[0] = v; return '0x' + u32[0].toString(16).padStart(8, '0');
    case 'f64': if (Number.isNaN(v)) return 'nan'; f64[0] = v; return '0x' + u64[0].toString(16).padStart(16, '0');
    default: return v === null ? 'null' : 'ref';
  }
};
let mod;
try { mod = new WebAssembly.Module(fs.readFileSync(process.argv[2])); } catch { console.log('invalid'); process.exit(0); }
const imports = { 'fuzzing-support': {} };
// log-v128: JS cannot take a v128, so a wasm function takes it and passes
// its four i32 lanes on; printed as the hex of the 16 bytes (memory order).
// (func (param v128) (call $log4 (i32x4.extract_lane 0..3 (local.get 0))))
const lanesHex = (...l) => l.map((x) => [0, 8, 16, 24].map((s) => ((x >>> s) & 255).toString(16).padStart(2, '0')).join('')).join('');
const logV128Module = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
  1, 12, 2, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 0, 0x60, 1, 0x7b, 0,
  2, 12, 1, 3, 0x65, 0x6e, 0x76, 4, 0x6c, 0x6f, 0x67, 0x34, 0, 0,
  3, 2, 1, 1,
  7, 7, 1, 3, 0x6c, 0x6f, 0x67, 0, 1,
  10, 26, 1, 24, 0, 0x20, 0, 0xfd, 0x1b, 0, 0x20, 0, 0xfd, 0x1b, 1, 0x20, 0, 0xfd, 0x1b, 2, 0x20, 0, 0xfd, 0x1b, 3,
  0x10, 0, 0x0b]);
for (const im of WebAssembly.Module.imports(mod)) {
  const type = im.name.slice(4);
  imports[im.module] ??= {};
  if (type === 'v128') {
    const log4 = (a, b, c, d) => { out.push(`log v128 ${lanesHex(a, b, c, d)}`); };
    imports[im.module][im.name] = new WebAssembly.Instance(new WebAssembly.Module(logV128Module), { env: { log4 } }).exports.log;
    continue;
  }
  imports[im.module][im.name] = (v) => { out.push(`log ${type} ${fmt(type, v)}`); };
}
// Result types come from the text of the binary's type section via the JS API's
// reflection where available; otherwise values are printed by their JS type.
const jsType = (v) => typeof v === 'bigint' ? 'i64' : null;
let inst;
try { inst = new WebAssembly.Instance(mod, imports); } catch (e) {
  console.log(e instanceof WebAssembly.LinkError ? 'link error' : 'trap'); process.exit(0);
}
const exps = WebAssembly.Module.exports(mod).filter((e) => e.kind === 'function' && e.name !== 'hangLimitInitializer');
const hang = inst.exports.hangLimitInitializer;
const sigs = JSON.parse(process.argv[3] ?? '{}'); // name -> {params:[...], results:[...]}
for (const e of exps) {
  if (hang) try { hang(); } catch {}
  const sig = sigs[e.name] ?? { params: [], results: [] };
  const args = sig.params.map((t) => t === 'i64' ? 0n : (t === 'externref' || t === 'funcref') ? null : 0);
  out.push(`call ${e.name}`);
  let r;
  try { r = inst.exports[e.name](...args); } catch (err) {
    out.push(err instanceof RangeError ? 'exhaustion' : 'trap');
    if (err instanceof RangeError) break;
    continue;
  }
  const rs = sig.results.length === 1 ? [r] : sig.results.length === 0 ? [] : [...r];
  out.push('result' + rs.map((v, i) => ' ' + fmt(sig.results[i] ?? jsType(v), v)).join(''));
}
console.log(out.join('\n'));
