/** The Python test harness, as source text; see code-tests.ts for how tests are written. */

/**
 * Python source of the harness. Executing it (`exec(PYTHON_HARNESS, namespace)`) defines one name,
 * `__session_kit_run_tests(program_name: str, program_source: str, tests: list[tuple[str, str]]) ->
 * str`, which returns the JSON text of a `TestResult[]`. It raises `SyntaxError` (with `filename`
 * and `lineno`) when the program or a test file cannot be compiled, and lets `KeyboardInterrupt`
 * and `MemoryError` through (the caller's time and memory limits). Run it before any learner code:
 * it binds everything it uses when it is executed, writes its JSON itself, and at the end puts back
 * what the program replaced in `builtins`. Other files the program imports must be on the file
 * system, where the caller puts them.
 */
export const PYTHON_HARNESS: string = String.raw`def __session_kit_harness():
    # Everything the harness uses after learner code has run is bound here, before any of it runs:
    # a program that patches builtins or a module later cannot change how results are judged or
    # written. (What it patches in unittest still applies to TestCase tests.)
    import ast, builtins, sys, time, types, unittest

    perf = time.perf_counter
    modules = sys.modules
    saved_builtins = dict(builtins.__dict__)
    ModuleType = types.ModuleType
    TestCase, TestLoader, TestResult = unittest.TestCase, unittest.TestLoader, unittest.TestResult
    isinstance_, issubclass_, repr_, str_, type_, len_, round_, ord_ = isinstance, issubclass, repr, str, type, len, round, ord
    float_, int_, bool_, dict_, list_, tuple_ = float, int, bool, dict, list, tuple
    exec_ = exec
    BaseException_, AssertionError_, TypeError_ = BaseException, AssertionError, TypeError
    # Outcomes that end the whole run instead of one test: the time limit and running out of memory.
    FATAL = (KeyboardInterrupt, MemoryError)

    class Explained(str):
        """An assertion message the harness wrote (a learner's own message is a plain str)."""

    def short(value):
        try:
            text = repr_(value)
        except BaseException_:
            text = '<' + type_(value).__name__ + '>'
        return text if len_(text) <= 200 else text[:197] + '...'

    def explain(*values):
        if len_(values) == 2:
            return Explained('left: ' + short(values[0]) + ', right: ' + short(values[1]))
        return Explained('assertion failed')

    def rewrite(tree):
        # "assert a == b" becomes "assert (L := a) == (R := b), explain(L, R)": each side is
        # evaluated once, the comparison is Python's own, and a failure shows both values.
        for node in ast.walk(tree):
            if not isinstance_(node, ast.Assert) or node.msg is not None:
                continue
            test = node.test
            args = []
            if isinstance_(test, ast.Compare) and len_(test.ops) == 1:
                left = ast.Name('__session_kit_left__', ast.Store())
                right = ast.Name('__session_kit_right__', ast.Store())
                test.left = ast.NamedExpr(left, test.left)
                test.comparators[0] = ast.NamedExpr(right, test.comparators[0])
                args = [ast.Name('__session_kit_left__', ast.Load()), ast.Name('__session_kit_right__', ast.Load())]
            node.msg = ast.Call(ast.Name('__session_kit_explain__', ast.Load()), args, [])
        ast.fix_missing_locations(tree)

    def base_name(file_name):
        name = file_name.rsplit('/', 1)[-1]
        return name[:-3] if name.endswith('.py') else name

    def where(tb, files):
        """The innermost frame in one of the learner's files: (file, line)."""
        found = (None, None)
        while tb is not None:
            file = tb.tb_frame.f_code.co_filename
            if file in files:
                found = (file, tb.tb_lineno)
            tb = tb.tb_next
        return found

    def describe(error):
        try:
            text = str_(error)
        except BaseException_:
            text = ''
        return type_(error).__name__ + (': ' + text if text else '')

    def elapsed(started):
        return round_((perf() - started) * 1000, 3)

    def failure(name, error, files, started, source_of_line=None):
        file, line = where(error.__traceback__, files)
        if isinstance_(error, AssertionError_):
            message = error.args[0] if error.args else None
            if isinstance_(message, Explained):
                text = str_.__str__(message)
                if source_of_line is not None and line in source_of_line:
                    text = source_of_line[line] + (' failed' if text == 'assertion failed' else ' (' + text + ')')
                message = text
            elif message is None:
                message = 'assertion failed'
            else:
                try:
                    message = str_(message)
                except BaseException_:
                    message = 'assertion failed'
        else:
            message = describe(error)
        result = {'name': name, 'passed': False, 'message': message, 'durationMs': elapsed(started)}
        if file is not None:
            result['file'] = file
            result['line'] = line
        return result

    def passed(name, started, file, line):
        return {'name': name, 'passed': True, 'durationMs': elapsed(started), 'file': file, 'line': line}

    def one_line(text):
        text = ' '.join(text.split())
        return text if len_(text) <= 200 else text[:197] + '...'

    class Collect(TestResult):
        outcome = None

        def addFailure(self, test, err):
            self.outcome = err[1]

        def addError(self, test, err):
            self.outcome = err[1]

        def addSubTest(self, test, subtest, err):
            if err is not None and self.outcome is None:
                self.outcome = err[1]

    def compile_file(test_name, source):
        """Each top-level statement compiled on its own, before any learner code runs."""
        tree = ast.parse(source, test_name)
        # The source of each assert without a message of its own, to name it when a test function fails.
        source_of_line = {}
        for node in ast.walk(tree):
            if isinstance_(node, ast.Assert) and node.msg is None:
                source_of_line[node.lineno] = one_line(ast.get_source_segment(source, node) or 'assert')
        names = [one_line(ast.get_source_segment(source, s) or 'assert on line %d' % s.lineno) if isinstance_(s, ast.Assert) else None for s in tree.body]
        rewrite(tree)
        steps = []
        for statement, name in zip(tree.body, names):
            code = compile(ast.Module([statement], []), test_name, 'exec')
            kind = 'assert' if name is not None else 'function' if isinstance_(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name.startswith('test') else 'class' if isinstance_(statement, ast.ClassDef) else 'setup'
            steps.append((kind, code, name or getattr(statement, 'name', None), statement.lineno))
        return steps, source_of_line

    def load_program(program_name, program_code):
        module = ModuleType(base_name(program_name))
        module.__file__ = program_name
        modules[module.__name__] = module
        exec_(program_code, module.__dict__)
        return module

    def run_file(program_name, program_code, test_name, steps, source_of_line, results):
        files = (program_name, test_name)
        started = perf()
        try:
            module = load_program(program_name, program_code)
        except FATAL:
            raise
        except BaseException_ as error:
            results.append(failure(program_name, error, files, started))
            return
        namespace = {k: v for k, v in module.__dict__.items() if not k.startswith('__')}
        namespace.update({'__name__': base_name(test_name), '__file__': test_name, '__builtins__': builtins, '__session_kit_explain__': explain})
        later = []
        for kind, code, name, line in steps:
            started = perf()
            if kind == 'assert':
                try:
                    exec_(code, namespace)
                    results.append(passed(name, started, test_name, line))
                except FATAL:
                    raise
                except BaseException_ as error:
                    results.append(failure(name, error, files, started))
                continue
            try:
                exec_(code, namespace)
            except FATAL:
                raise
            except BaseException_ as error:
                results.append(failure(test_name, error, files, started))
                return
            if kind == 'function':
                later.append((name, line, None))
            elif kind == 'class':
                cls = namespace.get(name)
                if isinstance_(cls, type_) and issubclass_(cls, TestCase):
                    for method in TestLoader().getTestCaseNames(cls):
                        later.append((name + '.' + method, line, (cls, method)))
        for name, line, case in later:
            started = perf()
            try:
                if case is None:
                    outcome = namespace[name]()
                    if type_(outcome).__name__ == 'coroutine':
                        outcome.close()
                        raise TypeError_('async test functions are not supported: make ' + name + ' a plain def')
                else:
                    collect = Collect()
                    case[0](case[1]).run(collect)
                    if isinstance_(collect.outcome, BaseException_):
                        raise collect.outcome
                results.append(passed(name, started, test_name, line))
            except FATAL:
                raise
            except BaseException_ as error:
                results.append(failure(name, error, files, started, source_of_line))

    def to_json(value):
        # Written by hand: the json module is the learner's to patch.
        kind = type_(value)
        if value is None:
            return 'null'
        if kind is bool_:
            return 'true' if value else 'false'
        if kind is int_ or kind is float_:
            return repr_(value)
        if kind is str_ or kind is Explained:
            out = []
            for ch in value:
                code = ord_(ch)
                if ch == '"' or ch == '\\':
                    out.append('\\' + ch)
                elif code < 0x20 or 0xD800 <= code <= 0xDFFF:
                    out.append('\\u%04x' % code)
                else:
                    out.append(ch)
            return '"' + ''.join(out) + '"'
        if kind is list_ or kind is tuple_:
            return '[' + ','.join([to_json(v) for v in value]) + ']'
        return '{' + ','.join([to_json(k) + ':' + to_json(v) for k, v in value.items()]) + '}'

    def run_tests(program_name, program_source, tests):
        program_code = compile(program_source, program_name, 'exec')
        compiled = [(test_name, compile_file(test_name, test_source)) for test_name, test_source in tests]
        results = []
        for test_name, (steps, source_of_line) in compiled:
            run_file(program_name, program_code, test_name, steps, source_of_line, results)
        # The run is over: what the learner's code replaced in builtins is put back.
        builtins.__dict__.update(saved_builtins)
        return to_json(results)

    return run_tests


__session_kit_run_tests = __session_kit_harness()
del __session_kit_harness
`
