// run_wast.mjs WASMGATE TESTDIR OUTDIR [--list]: the component-model
// repository's test/*.wast scripts (fetched separately, never committed)
// against `wasmgate wasm validate`.
//
// Each script is split into its top-level commands with a small
// s-expression scanner. Component text is turned into a binary with jco's
// `parse` (wasm-tools, from scripts/npm); `(component binary "...")` is
// decoded here. Expectations:
//   (component ...), (component definition ...), components under
//   assert_unlinkable / assert_trap on instantiation  -> must validate
//   (assert_invalid (component ...) "msg")           -> must be rejected
//   (assert_malformed (component binary ...) "msg")  -> must be rejected
// Execution (invoke, assert_return, assert_trap on calls) and
// `(component quote ...)` (text-format errors) are counted as skipped.
// With --driver, an assert_unlinkable component is also instantiated by the
// driver (WASI 0.2 and wasmgate:test/host in its linker): it must be refused
// with a message containing the script's (counted on the UNLINKABLE line).
// Prints one line per script and a total; writes OUTDIR/mismatches.txt.
// Exit status: 0 always unless --strict (then 1 when any expectation fails).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import url from 'node:url';

const here = path.dirname(url.fileURLToPath(import.meta.url));
const jcoApi = path.join(here, '../../scripts/npm/node_modules/@bytecodealliance/jco/dist/api.js');
const [wasmgate, testdir, outdir, ...flags] = process.argv.slice(2);
if (!wasmgate || !testdir || !outdir) {
  console.error('usage: run_wast.mjs WASMGATE TESTDIR OUTDIR [--strict] [--include-async] [--driver=CM_DRIVER]');
  process.exit(2);
}
if (!fs.existsSync(jcoApi)) { // a skip under CI would hide a missing install step (scripts/deps.sh)
  console.log(process.env.CI ? 'FAIL: jco not installed' : 'skip: jco not installed');
  process.exit(process.env.CI ? 1 : 77);
}
const { parse } = await import(jcoApi);
fs.mkdirSync(outdir, { recursive: true });

// ---- s-expression scanning (positions only; text is sliced from the source)
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
function skipString(s, i) { // at '"'
  i++;
  while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
  return i + 1;
}
function readItem(s, i) { // returns end of the item starting at i
  if (s[i] === '"') return skipString(s, i);
  if (s[i] === '(') {
    i++;
    for (;;) {
      i = skipSpace(s, i);
      if (i >= s.length) return i;
      if (s[i] === ')') return i + 1;
      i = readItem(s, i);
    }
  }
  while (i < s.length && !/[\s()";]/.test(s[i])) i++;
  return i;
}
function children(s, start, end) { // items inside the list s[start..end)
  const out = [];
  let i = start + 1;
  for (;;) {
    i = skipSpace(s, i);
    if (i >= end - 1 || s[i] === ')') return out;
    const e = readItem(s, i);
    out.push([i, e]);
    i = e;
  }
}
function decodeString(lit) { // a wast string literal to bytes
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
function lineOf(s, i) { return s.slice(0, i).split('\n').length; }
function head(s, [a, b]) { const k = children(s, a, b)[0]; return k ? s.slice(k[0], k[1]) : ''; }

// A component form -> {bytes} | {skip: reason} | {error: parse error}
async function toBinary(s, [a, b]) {
  const kids = children(s, a, b);
  const words = kids.slice(1, 3).map(([x, y]) => s.slice(x, y));
  let rest = 1;
  while (rest < kids.length && (/^\$/.test(s.slice(...kids[rest])) || s.slice(...kids[rest]) === 'definition')) rest++;
  const kw = rest < kids.length ? s.slice(...kids[rest]) : '';
  if (kw === 'binary') return { bytes: Buffer.concat(kids.slice(rest + 1).map(([x, y]) => decodeString(s.slice(x, y)))) };
  if (kw === 'quote') return { skip: 'component quote (text format)' };
  if (words[0] === 'instance') return { skip: 'component instance' };
  let text = s.slice(a, b).replace(/^\(component\s+definition\b/, '(component');
  try {
    return { bytes: Buffer.from(await parse(text)) };
  } catch (e) {
    return { error: String(e).split('\n')[0].slice(0, 200) };
  }
}

function validate(bytes, name) {
  const f = path.join(outdir, name);
  fs.writeFileSync(f, bytes);
  const r = spawnSync(wasmgate, ['wasm', 'validate', f], { encoding: 'utf8', timeout: 20000 });
  return { ok: r.status === 0, msg: (r.stderr || '').trim().replace(/^[^:]*:(0x[0-9a-f]+: )?/, ''), crashed: r.status !== 0 && r.status !== 1 };
}

const files = [];
(function walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) { if (e.name !== 'async' || flags.includes('--include-async')) walk(p); }
    else if (e.name.endsWith('.wast')) files.push(p);
  }
})(testdir);
files.sort();

const total = { valid: 0, validOk: 0, invalid: 0, invalidRejected: 0, invalidMsg: 0, malformed: 0, malformedRejected: 0,
                skipped: 0, parseErrors: 0, crashes: 0 };
const mismatches = [];
let n = 0;
// Execution: with --driver=PATH (tests/components/cm_driver), the invoke,
// assert_return and assert_trap commands after a component run against it
// (one driver process per instance; `(component instance $i $D)` starts a
// new one from the definition $D).
const driverFlag = flags.find((f) => f.startsWith('--driver='));
const driver = driverFlag ? driverFlag.slice('--driver='.length) : null;
const exec = { pass: 0, fail: 0, error: 0 };
const unlinkable = { refused: 0, total: 0 };
// An assert_unlinkable component must fail to instantiate with `msg` in the error.
function runUnlinkable(bytes, msg, rel, line) {
  const f = path.join(outdir, `u${n++}.wasm`);
  fs.writeFileSync(f, bytes);
  const r = spawnSync(driver, [f], { input: '', encoding: 'utf8', timeout: 60000 });
  const out = (r.stdout || '').split('\n').filter((x) => x)[0] || '';
  unlinkable.total++;
  if (out.startsWith('error instantiate:') && out.includes(msg)) unlinkable.refused++;
  else mismatches.push(`${rel}:${line}: expected unlinkable ("${msg}"), got: ${out || `exit ${r.status} ${r.signal || ''}`}`);
}
function runGroup(group, rel) {
  if (!driver || !group || !group.cmds.length) return;
  const f = path.join(outdir, `x${n++}.wasm`);
  fs.writeFileSync(f, group.bytes);
  const r = spawnSync(driver, [f], { input: group.cmds.map((c) => c.text).join('\n') + '\n', encoding: 'utf8', timeout: 60000 });
  const lines = (r.stdout || '').split('\n').filter((x) => x);
  group.cmds.forEach((c, k) => {
    const out = lines[k] || (r.status === 2 && lines[0]) || `error driver exited with ${r.status} ${r.signal || ''}`;
    if (out === 'pass') exec.pass++;
    else {
      if (out.startsWith('fail')) exec.fail++; else exec.error++;
      mismatches.push(`${rel}:${c.line}: ${out}`);
    }
  });
}
for (const file of files) {
  const s = fs.readFileSync(file, 'utf8');
  const rel = path.relative(testdir, file);
  const t = { valid: 0, validOk: 0, invalid: 0, invalidRejected: 0, invalidMsg: 0, malformed: 0, malformedRejected: 0, skipped: 0, parseErrors: 0 };
  let i = 0;
  let group = null;
  const defs = new Map();
  for (;;) {
    i = skipSpace(s, i);
    if (i >= s.length) { runGroup(group, rel); break; }
    const e = readItem(s, i);
    const form = [i, e];
    const h = head(s, form);
    const line = lineOf(s, i);
    i = e;
    let expect, comp, msg = '';
    const kids = children(s, ...form);
    if (h === 'invoke' || ((h === 'assert_return' || h === 'assert_trap') && kids[1] && head(s, kids[1]) === 'invoke')) {
      if (group) group.cmds.push({ text: s.slice(...form).replace(/;;[^\n]*/g, '').replace(/\s+/g, ' '), line });
      else if (driver) { exec.error++; mismatches.push(`${rel}:${line}: not run: the component did not load`); }
      else t.skipped++;
      continue;
    }
    if (h === 'component' && kids[1] && s.slice(...kids[1]) === 'instance') {
      runGroup(group, rel);
      const d = kids[3] && defs.get(s.slice(...kids[3]));
      group = d ? { bytes: d, cmds: [] } : null;
      continue;
    }
    if (h === 'component') { expect = 'valid'; comp = form; }
    else if (h === 'assert_invalid' || h === 'assert_malformed') {
      comp = kids[1];
      if (head(s, comp) !== 'component') { t.skipped++; continue; }
      expect = h === 'assert_invalid' ? 'invalid' : 'malformed';
      msg = kids[2] ? decodeString(s.slice(...kids[2])).toString() : '';
    } else if ((h === 'assert_unlinkable' || h === 'assert_trap') && kids[1] && head(s, kids[1]) === 'component') {
      expect = 'valid'; comp = kids[1];
      if (h === 'assert_unlinkable') msg = kids[2] ? decodeString(s.slice(...kids[2])).toString() : '';
    } else { t.skipped++; continue; }
    const bin = await toBinary(s, comp);
    if (bin.skip) { t.skipped++; continue; }
    if ((bin.error || bin.skip) && h === 'component') { runGroup(group, rel); group = null; }
    if (bin.error) {
      if (expect === 'valid') { t.parseErrors++; mismatches.push(`${rel}:${line}: jco parse failed: ${bin.error}`); }
      else { t.skipped++; } // invalid/malformed text that wasm-tools itself refuses to encode
      continue;
    }
    const r = validate(bin.bytes, `m${n++}.wasm`);
    if (h === 'component') {
      const w = kids.slice(1, 3).map(([x, y]) => s.slice(x, y));
      if (w[0] === 'definition') defs.set(w[1], bin.bytes);
      else {
        runGroup(group, rel);
        group = r.ok ? { bytes: bin.bytes, cmds: [] } : null;
      }
    }
    if (r.crashed) { total.crashes++; mismatches.push(`${rel}:${line}: CRASH`); }
    if (h === 'assert_unlinkable' && driver && r.ok) runUnlinkable(bin.bytes, msg, rel, line);
    if (expect === 'valid') {
      t.valid++;
      if (r.ok) t.validOk++; else mismatches.push(`${rel}:${line}: expected valid, got: ${r.msg}`);
    } else {
      t[expect]++;
      if (!r.ok) {
        t[expect + 'Rejected']++;
        if (expect === 'invalid') {
          if (r.msg.includes(msg)) t.invalidMsg++;
          else mismatches.push(`${rel}:${line}: rejected with "${r.msg}", spec runner expects "${msg}"`);
        }
      } else mismatches.push(`${rel}:${line}: expected ${expect} ("${msg}"), accepted`);
    }
  }
  for (const k of Object.keys(t)) total[k] += t[k];
  console.log(`${rel}: valid ${t.validOk}/${t.valid}, invalid rejected ${t.invalidRejected}/${t.invalid} (same message ${t.invalidMsg}), malformed rejected ${t.malformedRejected}/${t.malformed}, skipped ${t.skipped}, jco parse errors ${t.parseErrors}`);
}
fs.writeFileSync(path.join(outdir, 'mismatches.txt'), mismatches.join('\n') + '\n');
if (driver) console.log(`EXECUTION: ${exec.pass} passed, ${exec.fail} failed, ${exec.error} not run (unsupported or not instantiable)`);
if (driver) console.log(`UNLINKABLE: ${unlinkable.refused}/${unlinkable.total} refused at instantiation with the expected message`);
console.log(`TOTAL ${files.length} scripts: valid ${total.validOk}/${total.valid}, invalid rejected ${total.invalidRejected}/${total.invalid} (same message ${total.invalidMsg}), malformed rejected ${total.malformedRejected}/${total.malformed}, skipped ${total.skipped}, jco parse errors ${total.parseErrors}, crashes ${total.crashes}`);
const bad = total.crashes + (total.valid - total.validOk) + (total.invalid - total.invalidRejected) + (total.malformed - total.malformedRejected) + exec.fail + exec.error + (unlinkable.total - unlinkable.refused);
process.exit(flags.includes('--strict') && bad ? 1 : total.crashes ? 1 : 0);
