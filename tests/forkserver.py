"""The tests' command-line runs, forked from an interpreter that has already imported TensorFlow.

A test that runs `python -m rjkeras.train ...` waits 6-9 s for the child to import TensorFlow,
Keras and TensorFlow Probability before the command does anything, and the tests run about ninety
such commands. A server process imports them once (rjkeras' package first, as every command
does, and none of rjkeras' commands) and forks one child per command. Forking it is safe because
nothing has started TensorFlow's runtime (no eager context, no thread pool): its only other threads
are OpenBLAS's idle workers, which OpenBLAS stops across a fork. The child is then the command
as `python -m module args` would run it: its own pid, argv, environment, working directory,
stdout/stderr, signals and exit status (`-N` when killed by signal N, as `subprocess` reports).

What a fork cannot show, tests keep in fresh interpreters (`subprocess` directly): what a command
imports and in which order (tests/test_runtime.py, test_bad_input's WITHOUT_TENSORFLOW runs, the
export round trip's TensorFlow-only loader) and bit-for-bit reruns (every fork shares the server's
hash seed). `run`/`Popen` also fall back to `subprocess` for anything but `python -m module` or
`python script.py`, off Linux, and when RJKERAS_TEST_FORKSERVER=0.

A server per environment of the settings read while importing (TF_CPP_MIN_LOG_LEVEL, ...), per
test worker; it exits when that worker does.
"""

import atexit
import os
import pickle
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

# Read once, while the server imports; a request that differs in one of them gets its own server.
IMPORT_TIME_ENV = ("TF_CPP_MIN_LOG_LEVEL", "TF_CPP_MAX_VLOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS",
                   "PYTHONPATH", "PYTHONHASHSEED", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS",
                   "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONWARNINGS")
PRELOAD = ("numpy", "tensorflow", "keras", "tensorflow_probability", "tensorflow_datasets", "cv2",
           "PIL.Image", "absl.app", "absl.flags", "absl.logging")
_INT = struct.Struct("!q")


def enabled() -> bool:
    return sys.platform == "linux" and os.environ.get("RJKERAS_TEST_FORKSERVER", "1") != "0"


def run(args, *, env=None, cwd=None, timeout=None) -> subprocess.CompletedProcess:
    """`subprocess.run(args, capture_output=True, text=True, ...)`, forked when `args` is a Python command."""
    process = Popen(args, env=env, cwd=cwd)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def run_module(module, *args, timeout=300) -> subprocess.CompletedProcess:
    """`python -m module args` as the tests run the commands: TensorFlow's C++ log quiet (errors only)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return run([sys.executable, "-m", module, *args], env=env, timeout=timeout)


def Popen(args, *, env=None, cwd=None, fresh=False):
    """`subprocess.Popen(args, stdout=PIPE, stderr=PIPE, text=True, ...)`, forked when it can be
    (`fresh`: never)."""
    args = [str(a) for a in args]
    env = dict(os.environ if env is None else env)
    python_command = len(args) >= 2 and args[0] == sys.executable and (
        (args[1] == "-m" and len(args) >= 3) or not args[1].startswith("-"))
    if fresh or not (enabled() and python_command):
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, cwd=cwd)
    return _Forked(args, env, os.path.abspath(cwd or os.getcwd()))


class _Forked:
    """The part of `subprocess.Popen`'s interface the tests use, for a child of the server."""

    def __init__(self, args, env, cwd):
        self.args = args
        self.returncode = None
        self._outputs = None
        self._output = tempfile.mkdtemp(prefix="forked-")
        self._paths = [os.path.join(self._output, name) for name in ("stdout", "stderr")]
        self._sock = _server(env).connect()
        request = pickle.dumps(dict(argv=args[1:], env=env, cwd=cwd, stdout=self._paths[0],
                                    stderr=self._paths[1]))
        self._sock.sendall(_INT.pack(len(request)) + request)
        self.pid = _INT.unpack(_recv_exact(self._sock, _INT.size))[0]

    def poll(self):
        if self.returncode is None and select.select([self._sock], [], [], 0)[0]:
            self._read_status()
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            if not select.select([self._sock], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(self.args, timeout)
            self._read_status()
        return self.returncode

    def communicate(self, timeout=None):
        self.wait(timeout)
        if self._outputs is None:
            outputs = []
            for path in self._paths:
                with open(path) as f:
                    outputs.append(f.read())
            self._outputs = tuple(outputs)
            shutil.rmtree(self._output, ignore_errors=True)
        return self._outputs

    def __del__(self):
        shutil.rmtree(self._output, ignore_errors=True)

    def send_signal(self, signum):
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:  # it ended (and was reaped) since the poll, as Popen allows
                pass

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def _read_status(self):
        self.returncode = _INT.unpack(_recv_exact(self._sock, _INT.size))[0]
        self._sock.close()


def _recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise RuntimeError("the tests' fork server went away (RJKERAS_TEST_FORKSERVER=0 runs "
                               "commands in fresh interpreters)")
        data += chunk
    return data


class _Server:
    def __init__(self, env):
        self.folder = tempfile.mkdtemp(prefix="forkserver-")
        self.address = os.path.join(self.folder, "socket")
        self.log = open(os.path.join(self.folder, "log"), "w")
        self.process = subprocess.Popen([sys.executable, __file__, self.address], env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=self.log)
        atexit.register(self.close)

    def close(self):
        self.process.kill()
        self.process.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def connect(self, timeout=300):
        deadline = time.time() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.address)
                return sock
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                if self.process.poll() is not None or time.time() > deadline:
                    with open(self.log.name) as f:
                        raise RuntimeError(f"the tests' fork server did not start: {f.read()[-3000:]}")
                time.sleep(0.05)


_SERVERS = {}


def _server(env) -> _Server:
    key = tuple(env.get(name) for name in IMPORT_TIME_ENV)
    if key not in _SERVERS:
        _SERVERS[key] = _Server(env)
    return _SERVERS[key]


# ---------------------------------------------------------------------------------------------
# The server side.


def serve(address):
    import importlib

    import rjkeras  # noqa: F401  (its import-time setting, as every command makes it first)

    for name in PRELOAD:
        importlib.import_module(name)
    from tensorflow.python.eager import context

    if context.context_safe() is not None:
        raise SystemExit("TensorFlow's runtime was started while the fork server imported "
                         f"{', '.join(PRELOAD)}, and its thread pools would not survive a fork: "
                         "RJKERAS_TEST_FORKSERVER=0 runs the commands in fresh interpreters")
    sys.stdout.flush()
    sys.stderr.flush()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address + ".part")
    listener.listen(64)
    os.rename(address + ".part", address)  # clients connect once the imports are done
    listener.settimeout(1.0)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the supervisors below are reaped by the kernel
    parent = os.getppid()
    while os.getppid() == parent:  # until the test worker that started it is gone
        try:
            connection, _ = listener.accept()
        except socket.timeout:
            continue
        if os.fork() == 0:
            listener.close()
            _supervise(connection)
        connection.close()


def _supervise(connection):
    """In a fork of the server: fork the command, tell the client its pid, then its exit status."""
    status = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        connection.settimeout(None)
        size = _INT.unpack(_recv_exact(connection, _INT.size))[0]
        request = pickle.loads(_recv_exact(connection, size))
        pid = os.fork()
        if pid == 0:
            connection.close()
            _command(request)
        connection.sendall(_INT.pack(pid))
        _, wait_status = os.waitpid(pid, 0)
        connection.sendall(_INT.pack(os.waitstatus_to_exitcode(wait_status)))
        status = 0
    finally:
        os._exit(status)


def _command(request):
    """In the command's process: become `python [-m module | script] args` and exit as it would."""
    import runpy
    import traceback

    code = 1
    try:
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        for fd, path, flags in ((0, os.devnull, os.O_RDONLY),
                                (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                                (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
            opened = os.open(path, flags)
            os.dup2(opened, fd)
            os.close(opened)
        argv = request["argv"]
        if argv[0] == "-m":
            sys.argv = argv[1:]
            sys.path[0] = os.getcwd()
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(argv)
            sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
            runpy.run_path(argv[0], run_name="__main__")
        code = 0
    except SystemExit as stop:  # as the interpreter ends on one
        if stop.code is None:
            code = 0
        elif isinstance(stop.code, int):
            code = stop.code
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            atexit._run_exitfuncs()  # what the interpreter runs at its end; then no final GC
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


if __name__ == "__main__":
    serve(sys.argv[1])
