// wast2json.mjs IN.wast OUT_DIR: converts a spec-test script into the JSON
// + .wasm form wabt's wast2json writes (what ../shared/tools/spec/run_v8.mjs
// runs), for scripts whose text Debian's wabt (1.0.32) cannot parse:
// WebAssembly 3.0's exception handling (try_table, exnref). Modules are
// turned into binaries by jco's `parse` (wasm-tools, from scripts/npm);
// this script only reads the commands and their constants.
// Supported: module (text, binary, quote), register, invoke/get actions,
// assert_return, assert_trap, assert_exception, assert_exhaustion,
// assert_invalid, assert_malformed, assert_unlinkable; constants of
// i32/i64/f32/f64 (decimal, hex, hex floats, inf, nan[:0x...]) and references
// (ref.null T, ref.func, ref.extern N). Anything else fails loudly.
import fs from 'node:fs';
import path from 'node:path';
import url from 'node:url';

const here = path.dirname(url.fileURLToPath(import.meta.url));
const jcoApi = path.join(here, '../../scripts/npm/node_modules/@bytecodealliance/jco/dist/api.js');
const [input, outdir] = process.argv.slice(2);
if (!input || !outdir) {
  console.error('usage: wast2json.mjs IN.wast OUT_DIR');
  process.exit(2);
}
if (!fs.existsSync(jcoApi)) {
  console.error(`wast2json.mjs: jco is not installed (scripts/deps.sh installs it)`);
  process.exit(77);
}
const { parse } = await import(jcoApi);
const src = fs.readFileSync(input, 'utf8');
const name = path.basename(input, '.wast');

// ---- s-expressions: [start, end) positions; atoms and strings are leaves
function skipSpace(s, i) {
  for (;;) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (s.startsWith(';;', i)) { while (i < s.length && s[i] !== '\n') i++; continue; }
    if (s.startsWith('(;', i)) {
      let depth = 1; i += 2;
      while (i < s.length && depth) {
        if (s.startsWith('(;', i)) { depth++; i += 2; } else if (s.startsWith(';)', i)) { depth--; i += 2; } else i++;
      }
      continue;
    }
    return i;
  }
}
function readItem(s, i) {
  if (s[i] === '"') {
    i++;
    while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
    return i + 1;
  }
  if (s[i] === '(') {
    i++;
    for (;;) {
      i = skipSpace(s, i);
      if (i >= s.length) throw new Error('unbalanced parentheses');
      if (s[i] === ')') return i + 1;
      i = readItem(s, i);
    }
  }
  while (i < s.length && !/[\s()";]/.test(s[i])) i++;
  return i;
}
function kids(a, b) {
  const out = [];
  let i = a + 1;
  for (;;) {
    i = skipSpace(src, i);
    if (i >= b - 1 || src[i] === ')') return out;
    const e = readItem(src, i);
    out.push([i, e]);
    i = e;
  }
}
const text = (k) => src.slice(k[0], k[1]);
const isList = (k) => src[k[0]] === '(';
const head = (k) => (isList(k) ? text(kids(...k)[0] ?? [0, 0]) : '');
const lineOf = (i) => src.slice(0, i).split('\n').length;
function bytesOf(lit) { // a string literal's bytes
  const out = [];
  for (let i = 1; i < lit.length - 1; i++) {
    const c = lit[i];
    if (c !== '\\') { out.push(...Buffer.from(c, 'utf8')); continue; }
    const n = lit[++i];
    if (/[0-9a-fA-F]/.test(n)) { out.push(parseInt(lit.substr(i, 2), 16)); i++; }
    else if (n === 'n') out.push(10); else if (n === 't') out.push(9); else if (n === 'r') out.push(13);
    else if (n === 'u') { const e = lit.indexOf('}', i); out.push(...Buffer.from(String.fromCodePoint(parseInt(lit.slice(i + 2, e), 16)))); i = e; }
    else out.push(n.charCodeAt(0));
  }
  return Buffer.from(out);
}

// ---- constants
function parseInt_(t, bits) {
  let s = t.replace(/_/g, ''), neg = false;
  if (s[0] === '-' || s[0] === '+') { neg = s[0] === '-'; s = s.slice(1); }
  let v = BigInt(s);
  if (neg) v = -v;
  return String(BigInt.asUintN(bits, v));
}
function hexFloat(s) { // "0x1.8p3" (sign handled by the caller) -> Number
  const m = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?[0-9]+))?$/i.exec(s);
  if (!m) throw new Error(`bad float ${s}`);
  const digits = (m[1] || '') + (m[2] || '');
  let v = 0;
  for (const d of digits) v = v * 16 + parseInt(d, 16);
  return v * 2 ** (parseInt(m[3] || '0', 10) - 4 * (m[2] || '').length);
}
function parseFloat_(t, bits) {
  let s = t.replace(/_/g, ''), neg = false;
  if (s[0] === '-' || s[0] === '+') { neg = s[0] === '-'; s = s.slice(1); }
  const W = bits === 32 ? { mant: 23n, exp: 0xffn, all: 32 } : { mant: 52n, exp: 0x7ffn, all: 64 };
  const sign = neg ? 1n << BigInt(W.all - 1) : 0n;
  if (s === 'inf') return String(sign | (W.exp << W.mant));
  if (s.startsWith('nan')) {
    const payload = s === 'nan' ? 1n << (W.mant - 1n) : BigInt(s.slice(4));
    return String(sign | (W.exp << W.mant) | payload);
  }
  const x = (neg ? -1 : 1) * (/^0x/i.test(s) ? hexFloat(s) : Number(s));
  const dv = new DataView(new ArrayBuffer(8));
  if (bits === 32) { dv.setFloat32(0, x, true); return String(dv.getUint32(0, true)); }
  dv.setFloat64(0, x, true);
  return String(dv.getBigUint64(0, true));
}
function constant(k, expected) {
  const ks = kids(...k);
  const op = text(ks[0]), arg = ks[1] ? text(ks[1]) : undefined;
  switch (op) {
    case 'i32.const': return { type: 'i32', value: parseInt_(arg, 32) };
    case 'i64.const': return { type: 'i64', value: parseInt_(arg, 64) };
    case 'f32.const':
    case 'f64.const': {
      const t = op.slice(0, 3);
      if (expected && /^nan:(canonical|arithmetic)$/.test(arg)) return { type: t, value: arg };
      return { type: t, value: parseFloat_(arg, t === 'f32' ? 32 : 64) };
    }
    case 'ref.null': {
      const t = { func: 'funcref', extern: 'externref', exn: 'exnref', funcref: 'funcref', externref: 'externref' }[arg];
      if (!t) throw new Error(`unsupported ref.null ${arg}`);
      return { type: t, value: 'null' };
    }
    case 'ref.func': return { type: 'funcref' };
    case 'ref.extern': return arg === undefined ? { type: 'externref' } : { type: 'externref', value: String(BigInt(arg)) };
    default: throw new Error(`unsupported constant ${op}`);
  }
}

// ---- commands
const commands = [];
let nmod = 0;
async function moduleFile(k) { // -> {filename, name?, type}
  const ks = kids(...k);
  let r = 1;
  const mname = ks[1] && text(ks[1]).startsWith('$') ? text(ks[r++]) : undefined;
  const kw = ks[r] ? text(ks[r]) : '';
  let bytes, type = 'binary';
  if (kw === 'binary') bytes = Buffer.concat(ks.slice(r + 1).map((x) => bytesOf(text(x))));
  else if (kw === 'quote') {
    const t = ks.slice(r + 1).map((x) => bytesOf(text(x)).toString('utf8')).join(' ');
    const filename = `${name}.${nmod++}.wat`;
    fs.writeFileSync(path.join(outdir, filename), t);
    return { filename, name: mname, type: 'text', quote: `(module ${t})` };
  } else {
    const body = ks.length > r ? src.slice(ks[r][0], ks[ks.length - 1][1]) : '';
    bytes = Buffer.from(await parse(`(module ${body})`));
  }
  const filename = `${name}.${nmod++}.wasm`;
  fs.writeFileSync(path.join(outdir, filename), bytes);
  return { filename, name: mname, type };
}
function action(k) {
  const ks = kids(...k);
  const kind = text(ks[0]);
  let r = 1;
  const a = { type: kind };
  if (text(ks[r]).startsWith('$')) a.module = text(ks[r++]);
  a.field = bytesOf(text(ks[r++])).toString('utf8');
  if (kind === 'invoke') a.args = ks.slice(r).map((x) => constant(x, false));
  else if (kind !== 'get') throw new Error(`unsupported action ${kind}`);
  return a;
}

fs.mkdirSync(outdir, { recursive: true });
let i = 0;
for (;;) {
  i = skipSpace(src, i);
  if (i >= src.length) break;
  const k = [i, readItem(src, i)];
  i = k[1];
  const ks = kids(...k);
  const h = head(k), line = lineOf(k[0]);
  switch (h) {
    case 'module': {
      const m = await moduleFile(k);
      if (m.type === 'text') { // a quoted module that is meant to be valid
        const bytes = Buffer.from(await parse(m.quote));
        m.filename = m.filename.replace(/\.wat$/, '.wasm');
        fs.writeFileSync(path.join(outdir, m.filename), bytes);
      }
      commands.push({ type: 'module', line, ...(m.name ? { name: m.name } : {}), filename: m.filename });
      break;
    }
    case 'register': {
      const c = { type: 'register', line, as: bytesOf(text(ks[1])).toString('utf8') };
      if (ks[2]) c.name = text(ks[2]);
      commands.push(c);
      break;
    }
    case 'invoke': case 'get':
      commands.push({ type: 'action', line, action: action(k), expected: [] });
      break;
    case 'assert_return':
      commands.push({ type: 'assert_return', line, action: action(ks[1]), expected: ks.slice(2).map((x) => constant(x, true)) });
      break;
    case 'assert_trap': case 'assert_exhaustion': case 'assert_exception': {
      const msg = ks[2] ? bytesOf(text(ks[2])).toString('utf8') : undefined;
      if (head(ks[1]) === 'module') { // instantiation traps
        const m = await moduleFile(ks[1]);
        commands.push({ type: 'assert_uninstantiable', line, filename: m.filename, text: msg, module_type: m.type });
      } else {
        commands.push({ type: h, line, action: action(ks[1]), ...(msg !== undefined ? { text: msg } : {}), expected: [] });
      }
      break;
    }
    case 'assert_invalid': case 'assert_malformed': case 'assert_unlinkable': {
      const m = await moduleFile(ks[1]);
      commands.push({ type: h, line, filename: m.filename, text: bytesOf(text(ks[2])).toString('utf8'), module_type: m.type });
      break;
    }
    default:
      throw new Error(`${input}:${line}: unsupported command ${h}`);
  }
}
fs.writeFileSync(path.join(outdir, `${name}.json`), JSON.stringify({ source_filename: path.basename(input), commands }, null, 1));
