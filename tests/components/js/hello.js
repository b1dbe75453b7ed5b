// A JavaScript component (tests/components/run_js.sh): `jco componentize` (componentize-js,
// StarlingMonkey) turns it into a ~12 MB component that exports greet.
export function greet(name) { return `hello ${name} from js (${[1,2,3].map(x => x * 2).join(",")})`; }
