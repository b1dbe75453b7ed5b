#!/usr/bin/env python3
"""extract-bodies.py OUT_DIR MODULE.wasm...: seeds for the fuzz_code target.

For each function of each module, writes one input in fuzz_code's layout
(see fuzz/fuzz_code.c): its signature (param count, param type indices,
result count, result type indices) followed by its body as in the code
section. Functions whose signature fuzz_code can't express are skipped.
At most PER_MODULE functions per module.
"""
import os
import sys

VALTYPES = [0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F]
PER_MODULE = 24


class Reader:
    def __init__(self, data, pos=0):
        self.data, self.pos = data, pos

    def byte(self):
        b = self.data[self.pos]
        self.pos += 1
        return b

    def u32(self):
        result, shift = 0, 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def skip_limits(self):
        flags = self.byte()
        self.u32()
        if flags & 1:
            self.u32()


def count_func_imports(r):
    n = 0
    for _ in range(r.u32()):
        for _ in range(2):  # module and field names
            r.pos += r.u32()
        kind = r.byte()
        if kind == 0:
            r.u32()
            n += 1
        elif kind == 1:
            r.byte()
            r.skip_limits()
        elif kind == 2:
            r.skip_limits()
        else:
            r.pos += 2
    return n


def extract(data):
    """Yields (params, results, body) for each defined function."""
    r = Reader(data, 8)
    types, funcs, bodies = [], [], []
    while r.pos < len(data):
        sid, size = r.byte(), r.u32()
        end = r.pos + size
        s = Reader(data, r.pos)
        if sid == 1:
            for _ in range(s.u32()):
                s.byte()
                params = [s.byte() for _ in range(s.u32())]
                results = [s.byte() for _ in range(s.u32())]
                types.append((params, results))
        elif sid == 2:
            count_func_imports(s)
        elif sid == 3:
            funcs = [s.u32() for _ in range(s.u32())]
        elif sid == 10:
            for _ in range(s.u32()):
                n = s.u32()
                bodies.append(data[s.pos:s.pos + n])
                s.pos += n
        r.pos = end
    for typeidx, body in zip(funcs, bodies):
        yield types[typeidx][0], types[typeidx][1], body


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    written = 0
    for path in sys.argv[2:]:
        try:
            with open(path, "rb") as f:
                funcs = list(extract(f.read()))
        except (IndexError, ValueError):
            continue
        base = os.path.basename(path).rsplit(".", 1)[0]
        kept = 0
        for i, (params, results, body) in enumerate(funcs):
            if kept == PER_MODULE:
                break
            if len(params) >= 8 or len(results) >= 4:
                continue
            if any(t not in VALTYPES for t in params + results):
                continue
            sig = bytes([len(params)] + [VALTYPES.index(t) for t in params] +
                        [len(results)] + [VALTYPES.index(t) for t in results])
            with open(os.path.join(out, "%s_%d" % (base, i)), "wb") as f:
                f.write(sig + body)
            kept += 1
            written += 1
    print("extract-bodies: %d function bodies in %s" % (written, out))


if __name__ == "__main__":
    main()
