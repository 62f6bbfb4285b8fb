/**
 * The Python kernel that runs inside the jail, as `python3 -I -c KERNEL_SOURCE PRELOAD LIMITS_JSON`.
 * It speaks line-delimited JSON on its stdin and stdout (see protocol.ts) and runs cells like a
 * notebook. Nothing it does is a security boundary: the jail is. Whatever it sends back is
 * treated by the host as untrusted input.
 */
export const KERNEL_SOURCE = String.raw`
import ast, base64, fcntl, io, json, linecache, os, select, stat, sys, termios, threading, traceback

DATA_DIR = '/mnt/data'
LIMITS = json.loads(sys.argv[2])

# The protocol moves to private, non-inheritable descriptors; fd 0 becomes /dev/null and fds 1 and
# 2 the log pipe, so output of the cell and of any child process it starts lands in the logs.
requests = os.fdopen(os.dup(0), 'rb')
replies = os.fdopen(os.dup(1), 'wb')
null = os.open('/dev/null', os.O_RDONLY)
os.dup2(null, 0)
os.close(null)


class LogPipe:
    """Collects what fds 1 and 2 receive, keeping the first max_bytes of each cell."""

    def __init__(self, max_bytes):
        self.read_end, write_end = os.pipe()
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        self.max_bytes = max_bytes
        self.lock = threading.Lock()
        self.kept = bytearray()
        self.dropped = 0
        self.busy = False
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        while True:
            select.select([self.read_end], [], [])
            with self.lock:
                self.busy = True
            chunk = os.read(self.read_end, 65536)
            with self.lock:
                room = self.max_bytes - len(self.kept)
                self.kept += chunk[:max(room, 0)]
                self.dropped += max(len(chunk) - max(room, 0), 0)
                self.busy = False

    def _pending(self):
        buf = bytearray(4)
        fcntl.ioctl(self.read_end, termios.FIONREAD, buf)
        return int.from_bytes(buf, sys.byteorder)

    def take(self):
        """The logs written so far (waiting until the pipe is drained), and starts afresh."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        while True:
            with self.lock:
                if not self.busy and self._pending() == 0:
                    text = self.kept.decode('utf-8', 'replace')
                    if self.dropped:
                        text += '\n[output truncated: %d more bytes were not kept]\n' % self.dropped
                    self.kept = bytearray()
                    self.dropped = 0
                    return text
            select.select([], [], [], 0.001)


logs = LogPipe(LIMITS['maxLogBytes'])
sys.stdout = open(1, 'w', buffering=1, encoding='utf-8', errors='backslashreplace', closefd=False)
sys.stderr = open(2, 'w', buffering=1, encoding='utf-8', errors='backslashreplace', closefd=False)
# One BLAS thread per process keeps a session's threads (which count against its process limit) few.
for name in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ[name] = '1'

figures = []


def capture_figures():
    """Every open matplotlib figure as PNG, then closed: what Jupyter's inline backend shows."""
    pyplot = sys.modules.get('matplotlib.pyplot')
    if pyplot is None:
        return
    for number in pyplot.get_fignums():
        figure = pyplot.figure(number)
        buffer = io.BytesIO()
        try:
            figure.savefig(buffer, format='png', bbox_inches='tight')
            figures.append(buffer.getvalue())
        except Exception as error:
            print('[figure %d could not be drawn: %s]' % (number, error), file=sys.stderr)
    pyplot.close('all')


for name in sys.argv[1].split(','):
    if not name:
        continue
    try:
        __import__(name)
    except Exception:
        pass
if 'matplotlib' in sys.modules:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot
    matplotlib.pyplot.show = lambda *args, **kwargs: capture_figures()

user_globals = {'__name__': '__main__', '__builtins__': __builtins__}
known_files = {}


def signature(info):
    return (info.st_size, info.st_mtime_ns, info.st_ino)


def data_files():
    for root, dirs, names in os.walk(DATA_DIR):
        for name in names:
            path = os.path.join(root, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                yield path, info


def changed_files(notes):
    """Files under /mnt/data that are new or changed since the last call, within the caps."""
    global known_files
    current, changed = {}, []
    total = 0
    for path, info in sorted(data_files(), key=lambda item: item[0]):
        current[path] = signature(info)
        if known_files.get(path) == current[path]:
            continue
        if len(changed) >= LIMITS['maxFiles']:
            notes.append('[file %s was not returned: at most %d files come back per call]' % (path, LIMITS['maxFiles']))
            continue
        if total + info.st_size > LIMITS['maxFileBytes']:
            notes.append('[file %s (%d bytes) was not returned: at most %d bytes of files come back per call]' % (path, info.st_size, LIMITS['maxFileBytes']))
            continue
        try:
            with open(path, 'rb') as handle:
                data = handle.read(LIMITS['maxFileBytes'] - total + 1)
        except OSError as error:
            notes.append('[file %s could not be read: %s]' % (path, error))
            continue
        total += len(data)
        changed.append({'path': path, 'data': base64.b64encode(data).decode('ascii')})
    known_files = current
    return changed


def write_input(request, notes):
    path = os.path.normpath(os.path.join(DATA_DIR, request['path']))
    if not path.startswith(DATA_DIR + '/'):
        notes.append('[input %s refused: outside %s]' % (request['path'], DATA_DIR))
        return
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'ab' if request.get('append') else 'wb') as handle:
            handle.write(base64.b64decode(request['data']))
        known_files[path] = signature(os.lstat(path))
    except OSError as error:
        notes.append('[input file %s could not be written: %s]' % (path, error))


def show(value):
    if value is None:
        return
    if type(value).__module__.startswith('matplotlib') and hasattr(value, 'savefig'):
        return  # a Figure or Axes: its figure is still open and is captured with the others
    print(repr(value))


def run_cell(code, number):
    """Runs one cell; the value of a final expression is shown. True on error."""
    filename = '<cell %d>' % number
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        tree = ast.parse(code, filename)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, filename, 'exec'), user_globals)
        if last is not None:
            show(eval(compile(ast.Expression(last.value), filename, 'eval'), user_globals))
        return False
    except SyntaxError as error:
        sys.stderr.write(''.join(traceback.format_exception_only(type(error), error)))
        return True
    except BaseException as error:
        # The traceback starts in the user's cell, not in this function.
        tb = error.__traceback__.tb_next if error.__traceback__ else None
        sys.stderr.write(''.join(traceback.format_exception(type(error), error, tb)))
        return True


def reply(message):
    replies.write(json.dumps(message).encode('utf-8') + b'\n')
    replies.flush()


os.makedirs(DATA_DIR, exist_ok=True)
os.chdir(DATA_DIR)
known_files = {path: signature(info) for path, info in data_files()}
logs.take()
reply({'type': 'ready'})
notes = []
cells = 0
for line in requests:
    request = json.loads(line)
    if request['op'] == 'write':
        write_input(request, notes)
        continue
    cells += 1
    error = run_cell(request['code'], cells)
    try:
        capture_figures()
    except Exception as failure:
        print('[figures could not be captured: %s]' % failure, file=sys.stderr)
    images, image_bytes = [], 0
    for png in figures[:LIMITS['maxImages']]:
        image_bytes += len(png)
        if image_bytes > LIMITS['maxImageBytes']:
            break
        images.append(base64.b64encode(png).decode('ascii'))
    if len(figures) > len(images):
        notes.append('[%d more figures were not returned: at most %d, of %d bytes in all, come back per call]' % (len(figures) - len(images), LIMITS['maxImages'], LIMITS['maxImageBytes']))
    figures.clear()
    files = changed_files(notes)
    text = logs.take()
    if notes:
        text += ('' if not text or text.endswith('\n') else '\n') + '\n'.join(notes) + '\n'
    notes = []
    reply({'type': 'result', 'logs': text, 'error': error, 'images': images, 'files': files})
`;
