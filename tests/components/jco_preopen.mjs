// Loaded with `node --import` before jco: jco's bundled preview2-shim starts
// with no preopened directories, so `jco embed --wit FILE` cannot read FILE
// ("failed to get path metadata"). Preopen / for the tool run (a build tool on
// our own files, not a sandbox). JCO_SHIM_FS is the shim's filesystem.js.
const { _addPreopen } = await import(process.env.JCO_SHIM_FS);
_addPreopen('/', '/');
