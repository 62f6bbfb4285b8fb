/**
 * Python run once per interpreter, before any user code. It defines `_stepwise_run_cell` and
 * refuses imports that would reach JavaScript (and through it the host) or the network.
 * This guard is defence in depth only: in-process Python cannot be fully sandboxed against
 * introspection, which is why the worker also gets an empty env, a minimal `js` globals object
 * and no host filesystem mount.
 */
export const PYTHON_PRELUDE = String.raw`
def _stepwise_install_sandbox():
    import ast, builtins, os, sys, traceback

    blocked = ('js', 'pyodide_js', 'pyodide', '_pyodide', '_pyodide_core', 'micropip',
               'socket', '_socket', 'ssl', '_ssl', 'urllib.request', 'http.client',
               'subprocess', 'ctypes')

    def is_blocked(name):
        return any(name == b or name.startswith(b + '.') for b in blocked)

    class RefuseBlockedImports:
        def find_spec(self, name, path=None, target=None):
            if is_blocked(name):
                raise ImportError(f"module '{name}' is not available in this sandbox (no network or host access)")
            return None

    user_globals = {'__name__': '__main__', '__builtins__': builtins}
    real_import = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        # Modules loaded during Pyodide's own startup sit in sys.modules, where meta_path is never asked.
        if level == 0 and globals is user_globals:
            full_names = [name] + [f'{name}.{item}' for item in fromlist or ()]
            for full_name in full_names:
                if is_blocked(full_name):
                    raise ImportError(f"module '{full_name}' is not available in this sandbox (no network or host access)")
        return real_import(name, globals, locals, fromlist, level)

    def run_cell(code):
        """Runs one cell like a notebook: the value of a final expression is printed. True on error."""
        try:
            tree = ast.parse(code, '<cell>')
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, '<cell>', 'exec'), user_globals)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), '<cell>', 'eval'), user_globals)
                if value is not None:
                    print(repr(value))
            return False
        except SyntaxError as error:
            sys.stderr.write(''.join(traceback.format_exception_only(type(error), error)))
            return True
        except BaseException as error:
            # Skip this function's own frame so the traceback starts in the user's cell.
            tb = error.__traceback__.tb_next if error.__traceback__ else None
            sys.stderr.write(''.join(traceback.format_exception(type(error), error, tb)))
            return True
        finally:
            sys.stdout.flush()
            sys.stderr.flush()

    for name in list(sys.modules):
        if is_blocked(name):
            del sys.modules[name]
    sys.meta_path.insert(0, RefuseBlockedImports())
    builtins.__import__ = guarded_import

    os.environ.clear()
    os.environ.update({'HOME': '/home/pyodide', 'LANG': 'C.UTF-8', 'PATH': '/', 'MPLBACKEND': 'Agg'})
    os.makedirs('/mnt/data', exist_ok=True)
    os.chdir('/mnt/data')
    return run_cell

_stepwise_run_cell = _stepwise_install_sandbox()
del _stepwise_install_sandbox
`;
