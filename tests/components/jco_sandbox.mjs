// Loaded with `jco run --jco-import`: preopens JCO_SANDBOX as /sandbox in the
// preview2-shim that runs the component (JCO_SHIM_FS is its filesystem.js),
// as `wasmgate wasm run --dir DIR:/sandbox` does, so both runs see the same tree.
const { _addPreopen } = await import(process.env.JCO_SHIM_FS);
_addPreopen('/sandbox', process.env.JCO_SANDBOX);
