/**
 * The Python half of the sandbox: run once in each fresh interpreter, before any learner code.
 *
 * Pyodide is not a sandbox by itself: from Python, `js`, `pyodide_js` and `pyodide.code.run_js`
 * reach the JavaScript world of the thread (and from there Node), `os.system` runs a shell on the
 * host and sockets reach the network. The worker closes the JavaScript side (no code from strings,
 * no host imports, socket and shell calls answered "not permitted" at the wasm boundary); this part
 * closes the Python side: the bridges leave `sys.modules` and the import machinery, and an audit
 * hook, which Python code cannot remove, refuses to import them again and refuses processes,
 * sockets and ctypes.
 *
 * `__session_kit_guard(harness_source)` does that and answers `(run_program, run_tests)`, the only
 * two functions the worker calls afterwards. They take text only (no JavaScript object ever reaches
 * Python), never raise, and answer `(status, reason, tests as JSON text)`, which Pyodide converts
 * without running Python code the program could have patched.
 */
export const PYTHON_GUARD = String.raw`
def __session_kit_guard(harness_source):
    import builtins, gc, json, sys, traceback, types
    import ast, unittest  # the harness's, loaded before any learner code

    BRIDGES = ('js', 'pyodide_js', 'pyodide', '_pyodide', '_pyodide_core', 'micropip', 'pyodide_http', 'ctypes', '_ctypes')
    is_bridge = lambda name: isinstance(name, str) and name.split('.')[0] in BRIDGES

    # 1. The bridges out of Python: modules, the finder that makes "import js" work, hooks.
    try:
        sys.modules['_pyodide._importhook'].jsfinder.jsproxies.clear()
    except Exception:
        pass
    try:
        import asyncio.events
        asyncio.events._set_event_loop_policy(None)
    except Exception:
        pass
    sys.excepthook = sys.__excepthook__
    sys.meta_path[:] = [f for f in sys.meta_path if not is_bridge(getattr(f, '__module__', None) or type(f).__module__)]
    for name in [n for n in sys.modules if is_bridge(n)]:
        module = sys.modules.pop(name)
        namespace = getattr(module, '__dict__', None)
        if type(namespace) is dict:
            namespace.clear()
    module = namespace = None
    gc.collect()

    # 2. What no learner code may do, enforced by an audit hook (it cannot be removed from Python).
    REFUSED = ('os.system', 'os.exec', 'os.spawn', 'os.posix_spawn', 'os.fork', 'os.forkpty', 'os.kill', 'os.killpg',
               'subprocess.', 'pty.', 'socket.', 'ctypes.', 'os.add_dll_directory', 'webbrowser.')

    def audit(event, args):
        if event == 'import':
            if is_bridge(args[0]):
                raise ModuleNotFoundError("No module named '%s'" % args[0])
        elif event.startswith(REFUSED):
            raise PermissionError('not permitted in this sandbox: ' + event)

    sys.addaudithook(audit)

    # os._exit would end the interpreter itself (a fatal error in Pyodide): end the program instead.
    import os, posix
    def _exit(status):
        raise SystemExit(status)
    os._exit = posix._exit = _exit

    # 3. The harness, compiled under a name of its own so its frames are never the learner's.
    namespace = {'__builtins__': builtins, '__name__': '__session_kit__'}
    exec(compile(harness_source, '<session-kit>', 'exec'), namespace)
    harness = namespace.pop('__session_kit_run_tests')
    saved_builtins = dict(builtins.__dict__)
    BaseException_, str_, type_ = BaseException, str, type
    stderr_write = sys.stderr.write

    def learner_frames(stack):
        return traceback.StackSummary.from_list([f for f in stack if not f.filename.startswith('<session-kit')])

    def failed(error):
        # The traceback as Python prints it, without the sandbox's own frames, on stderr; the last
        # line and the learner's innermost line as the reason.
        try:
            shown = traceback.TracebackException.from_exception(error)
            seen = set()
            part = shown
            while part is not None and id(part) not in seen:
                seen.add(id(part))
                part.stack = learner_frames(part.stack)
                part = part.__cause__ or part.__context__
            stderr_write(''.join(shown.format()))
            text = ''.join(traceback.format_exception_only(error)).strip().splitlines()[-1]
            if isinstance(error, SyntaxError) and error.filename and error.lineno:
                return ('error', '%s (%s, line %d)' % (text, error.filename, error.lineno))
            if shown.stack:
                return ('error', '%s (%s, line %d)' % (text, shown.stack[-1].filename, shown.stack[-1].lineno))
            return ('error', text)
        except BaseException_:
            # traceback itself was broken by the program: say what we can.
            try:
                text = type_(error).__name__ + ': ' + str_(error)
            except BaseException_:
                text = type_(error).__name__
            stderr_write(text + '\n')
            return ('error', text)

    def ended():
        # The run is over: what the program replaced in builtins is put back, output is flushed.
        builtins.__dict__.update(saved_builtins)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException_:
                pass

    def run_program(name, source):
        main = types.ModuleType('__main__')
        main.__file__ = name
        main.__builtins__ = builtins
        sys.modules['__main__'] = main
        sys.argv = [name]
        try:
            exec(compile(source, name, 'exec'), main.__dict__)
            outcome = ('passed', None)
        except KeyboardInterrupt:
            outcome = ('timeout', None)
        except MemoryError:
            outcome = ('memory', None)
        except SystemExit as error:
            code = error.code
            if code is None or code == 0:
                outcome = ('passed', None)
            elif type_(code) is int:
                outcome = ('error', 'The program exited with status %d' % code)
            else:
                stderr_write(str_(code) + '\n')
                outcome = ('error', 'The program exited: ' + str_(code))
        except BaseException_ as error:
            ended()
            outcome = failed(error)
        ended()
        return outcome + (None,)

    def run_tests(name, source, tests_json):
        """(status, reason, results as JSON text); the caller counts passes and failures."""
        sys.argv = [name]
        try:
            outcome = ('tests', None, harness(name, source, [tuple(t) for t in json.loads(tests_json)]))
        except KeyboardInterrupt:
            outcome = ('timeout', None, None)
        except MemoryError:
            outcome = ('memory', None, None)
        except BaseException_ as error:
            ended()
            outcome = failed(error) + (None,)
        ended()
        return outcome

    return run_program, run_tests
`
