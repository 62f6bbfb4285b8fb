import { loadPyodide } from 'pyodide';
import { PYTHON_PRELUDE } from './src/tools/code-interpreter/python-prelude.ts';
const py = await loadPyodide({ indexURL: '/work/main/node_modules/pyodide/', env: {}, jsglobals: Object.create(null), stdout: () => {}, stderr: () => {} });
py.setStdout({ write: (b: Uint8Array) => { process.stdout.write(b); return b.length; }, isatty: false });
console.log('loaded');
py.runPython(PYTHON_PRELUDE);
console.log('prelude');
const f = py.globals.get('_stepwise_run_cell');
console.log(f('print(1)'));
