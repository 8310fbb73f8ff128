"""The Python runtime of scf-process: runs an SCF Python function (`file.function`)
behind SCF's Custom Runtime API, with the standard library only.

Started by the host with SCF_RUNTIME_API, SCF_RUNTIME_API_PORT and _HANDLER set and the
code directory as working directory. Init imports the handler's module (its prints are
the init log), then reports POST /runtime/init/ready. Each invocation: GET
/runtime/invocation/next, call `function(event, context)` with two dicts, POST the
JSON-encoded return value to /runtime/invocation/response, or SCF's error JSON to
/runtime/invocation/error.

Under `scf serve`, SCF_RUNTIME_SOCKET names a Unix socket of the instance's own on which
the same exchange goes as length-prefixed frames (scf-process's `frames` module): one
write and one read per invocation, no HTTP. Without it (as on SCF) the HTTP API is used.

Error bodies carry SCF's fields (errorCode, errorMessage, requestId, stackTrace,
statusCode) plus errorType (the exception's class name), errorValue (its message) and
trace (the traceback without its last "Type: message" line) for the host.

A module that cannot be imported is reported on every invocation (the instance stays up,
so the error is fast and the same each time): a missing handler file is 437
"No module named 'x'", any other import failure is a user error (430) with its traceback.
A missing function is 437 "'module' object has no attribute 'x'".

SCF's Python 3.6 runtime has the COS SDK built in as `qcloud_cos_v5`: under
SCF_RUNTIME=Python3.6 that name is the installed `qcloud_cos` (PyPI's
cos-python-sdk-v5, installed by the user: nothing is bundled), see _builtin_aliases.
"""

import _socket
import gc
import json
import os
import sys
import time

_HOST = os.environ.get("SCF_RUNTIME_API", "127.0.0.1")
_PORT = int(os.environ.get("SCF_RUNTIME_API_PORT", "9001"))
_HANDLER = os.environ.get("_HANDLER", "index.main_handler")
_THIS_FILE = os.path.abspath(__file__)

_request_id = ""


class _Api:
    """A minimal HTTP/1.1 client for the Runtime API on one kept-alive connection.

    http.client would do, but importing it (and the email package behind it) costs
    milliseconds at every cold start; `_socket` spares even the `socket` module.
    """

    def __init__(self, host, port):
        self._addr = (host, port)
        self._host = ("%s:%d" % (host, port)).encode("ascii")
        self._sock = None
        self._buf = b""

    def close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self._buf = b""

    def _encode(self, method, path, body=None):
        head = b"%s %s HTTP/1.1\r\nHost: %s\r\n" % (method.encode(), path.encode(), self._host)
        if body is not None:
            head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        return head + b"\r\n" + (body or b"")

    def push_then_next(self, path, body):
        """POSTs `body` to `path` and asks for the next event in the same write (HTTP/1.1
        pipelining: one round trip per invocation fewer); returns the next event's
        response. A connection lost before the push is answered sends both again."""
        data = self._encode("POST", path, body) + self._encode("GET", _NEXT)
        for attempt in (0, 1):
            try:
                self._send(data)
                self._response()
                break
            except (OSError, ValueError):
                self.close()
                if attempt:
                    raise
        try:
            return self._response()
        except (OSError, ValueError):
            self.close()
            return self.request("GET", _NEXT)

    def _send(self, data):
        if self._sock is None:
            sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
            try:
                sock.connect(self._addr)
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            except OSError:
                sock.close()
                raise
            self._sock = sock
        self._sock.sendall(data)

    def request(self, method, path, body=None):
        """Returns (status, headers with lower-case names, body bytes); reconnects once."""
        data = self._encode(method, path, body)
        for attempt in (0, 1):
            try:
                self._send(data)
                return self._response()
            except (OSError, ValueError):
                self.close()
                if attempt:
                    raise

    def _fill(self):
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError("the Runtime API closed the connection")
        self._buf += chunk

    def _take(self, n):
        while len(self._buf) < n:
            self._fill()
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _line(self):
        while b"\r\n" not in self._buf:
            self._fill()
        line, _, self._buf = self._buf.partition(b"\r\n")
        return line

    def _response(self):
        while b"\r\n\r\n" not in self._buf:
            self._fill()
        head, _, self._buf = self._buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size = int(self._line().split(b";", 1)[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                parts.append(self._take(size))
                self._take(2)
            body = b"".join(parts)
        else:
            body = self._take(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body


class _Frames:
    """The lean transport of `scf serve`: frames of a kind byte, a 4-byte big-endian
    length and that many bytes on the Unix socket SCF_RUNTIME_SOCKET. The same calls as
    _Api, so the loop below does not know which one it has."""

    def __init__(self, path):
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._buf = b""

    def _send(self, kind, body):
        self._sock.sendall(kind + len(body).to_bytes(4, "big") + body)

    def _fill_to(self, n):
        while len(self._buf) < n:
            chunk = self._sock.recv(max(65536, n - len(self._buf)))
            if not chunk:
                raise ConnectionError("the host closed SCF_RUNTIME_SOCKET")
            self._buf += chunk

    def _next(self):
        buf = self._buf
        if len(buf) < 5:
            self._fill_to(5)
            buf = self._buf
        kind, size = buf[:1], int.from_bytes(buf[1:5], "big")
        if kind != b"I":
            raise ValueError("the host sent a frame of kind %r where an event was due" % kind)
        end = 5 + size
        if len(buf) < end:
            self._fill_to(end)
            buf = self._buf
        if len(buf) == end:
            # The usual case: the event is all that came, so no rest to keep.
            frame, self._buf = buf[5:], b""
        else:
            frame, self._buf = buf[5:end], buf[end:]
        request_id, memory, time_limit, context, event = frame.split(b"\n", 4)
        headers = {
            "request_id": request_id.decode("utf-8", "replace"),
            "memory_limit_in_mb": memory.decode("ascii", "replace"),
            "time_limit_in_ms": time_limit.decode("ascii", "replace"),
            "x-scf-context": context.decode("utf-8", "replace"),
        }
        return 200, headers, event

    def request(self, method, path, body=None):
        if path == _NEXT:
            return self._next()
        self._send(b"R", b"")
        return 200, {}, b""

    def push_then_next(self, path, body):
        self._send(b"E" if path.endswith("/error") else b"O", body)
        return self._next()


def _connect():
    path = os.environ.get("SCF_RUNTIME_SOCKET")
    if path:
        try:
            return _Frames(path)
        except OSError:
            pass
    return _Api(_HOST, _PORT)


_NEXT = "/runtime/invocation/next"
_api = None
_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_decoder = json.JSONDecoder()


def _setup_logging():
    """The root logger writes every level to stdout, tagged with the request id.

    Set up before the function's module is imported, so that its own logging set-up
    (a level, a handler) applies on top.
    """
    import logging

    class RequestIdFilter(logging.Filter):
        def filter(self, record):
            record.request_id = _request_id
            return True

    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.NOTSET)


def _builtin_aliases():
    """Under Python3.6, `qcloud_cos_v5` (and its submodules) is `qcloud_cos`.

    SCF's Python 3.6 (and 2.7) images ship cos-python-sdk-v5 under the package name
    qcloud_cos_v5; PyPI's package is qcloud_cos. Nothing is imported until the function
    imports the name; without qcloud_cos installed it is "No module named 'qcloud_cos_v5'".
    """
    if os.environ.get("SCF_RUNTIME") != "Python3.6":
        return
    import importlib
    import importlib.util

    alias, real = "qcloud_cos_v5", "qcloud_cos"

    class Alias:
        def find_spec(self, name, path=None, target=None):
            if name != alias and not name.startswith(alias + "."):
                return None
            target_name = real + name[len(alias):]
            try:
                found = importlib.util.find_spec(target_name)
            except ImportError:
                return None
            if found is None:
                return None
            return importlib.util.spec_from_loader(name, self)

        def create_module(self, spec):
            # The real module itself, so that qcloud_cos_v5.X is qcloud_cos.X.
            return importlib.import_module(real + spec.name[len(alias):])

        def exec_module(self, module):
            pass

    # First, so that submodules are not loaded a second time under the alias's name.
    sys.meta_path.insert(0, Alias())


def _skip_host_frames(tb):
    """Drops the leading frames of this bootstrap and of the import machinery."""
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.startswith("<frozen") or os.path.abspath(name) == _THIS_FILE:
            tb = tb.tb_next
        else:
            break
    return tb


def _exception_body(exc):
    import traceback

    etype = type(exc)
    tb = _skip_host_frames(exc.__traceback__)
    full = "".join(traceback.format_exception(etype, exc, tb))
    only = traceback.format_exception_only(etype, exc)
    last = only[-1] if only else "%s\n" % etype.__name__
    if full.endswith(last):
        trace = full[: len(full) - len(last)]
    else:
        trace = full.rstrip("\n").rpartition("\n")[0]
    last_line = last.rstrip("\n")
    value = last_line.split(": ", 1)[1] if ": " in last_line else ""
    return {
        "errorCode": -1,
        "errorMessage": "user code exception caught",
        "requestId": _request_id,
        "stackTrace": full.rstrip("\n"),
        "statusCode": 430,
        "errorType": etype.__name__,
        "errorValue": value,
        "trace": trace.rstrip("\n"),
    }


def _platform_body(status, message):
    return {
        "errorCode": -1,
        "errorMessage": message,
        "requestId": _request_id,
        "stackTrace": "",
        "statusCode": status,
    }


def _user_body(error_type, message):
    return {
        "errorCode": -1,
        "errorMessage": "user code exception caught",
        "requestId": _request_id,
        "stackTrace": "%s: %s" % (error_type, message),
        "statusCode": 430,
        "errorType": error_type,
        "errorValue": message,
        "trace": "",
    }


def _load():
    """Imports the handler; returns (function, None) or (None, error body)."""
    file_part, _, name = _HANDLER.rpartition(".")
    if not file_part or not name:
        return None, _platform_body(
            437, "handler %r is not `file.function`, e.g. index.main_handler" % _HANDLER
        )
    module_name = file_part.replace("/", ".")
    try:
        __import__(module_name)
        module = sys.modules[module_name]
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == module_name or module_name.startswith(missing + "."):
            return None, _platform_body(437, "No module named '%s'" % module_name)
        return None, _exception_body(exc)
    except Exception as exc:  # noqa: BLE001 - any import failure is reported
        return None, _exception_body(exc)
    function = getattr(module, name, None)
    if function is None:
        return None, _platform_body(437, "'module' object has no attribute '%s'" % name)
    if not callable(function):
        return None, _platform_body(437, "'module' object attribute '%s' is not callable" % name)
    return function, None


# The last context decoded, as (the JSON before its request id, the JSON after it, the
# dict): from one invocation to the next only the request id changes.
_kept_context = ("", "", None)
_SCALARS = (str, int, float, bool, type(None))


def _context(headers):
    """The context dict of `headers`: x-scf-context's JSON, decoded again only when more
    than its request id changed since the last one (a fresh dict each time either way)."""
    global _kept_context
    header = headers.get("x-scf-context")
    if header:
        request_id = headers.get("request_id", "")
        at = -1
        if '"' not in request_id and "\\" not in request_id:
            mark = '"request_id":"%s"' % request_id
            at = header.find(mark)
        if at >= 0:
            head, tail = header[:at], header[at + len(mark) :]
            kept_head, kept_tail, kept = _kept_context
            if kept is not None and head == kept_head and tail == kept_tail:
                context = kept.copy()
                context["request_id"] = request_id
                return context
        try:
            context = _decoder.decode(header)
        except ValueError:
            pass
        else:
            if (
                at >= 0
                and type(context) is dict
                and context.get("request_id") == request_id
                and all(type(v) in _SCALARS for v in context.values())
            ):
                _kept_context = (head, tail, context.copy())
            return context
    namespace = os.environ.get("SCF_NAMESPACE", "default")
    return {
        "memory_limit_in_mb": int(headers.get("memory_limit_in_mb") or 0),
        "time_limit_in_ms": int(headers.get("time_limit_in_ms") or 0),
        "request_id": headers.get("request_id", ""),
        "environment": json.dumps({"SCF_NAMESPACE": namespace}, separators=(",", ":")),
        "environ": "SCF_NAMESPACE=%s" % namespace,
        "function_version": os.environ.get("SCF_FUNCTIONVERSION", "$LATEST"),
        "function_name": os.environ.get("SCF_FUNCTIONNAME", ""),
        "namespace": namespace,
        "tencentcloud_region": os.environ.get("TENCENTCLOUD_REGION", ""),
        "tencentcloud_appid": os.environ.get("TENCENTCLOUD_APPID", ""),
        "tencentcloud_uin": os.environ.get("TENCENTCLOUD_UIN", ""),
    }


_applied_environ = None


def _apply_environ(environ):
    """SCF's runtime applies `environ` (K=V;K=V) to os.environ before each call."""
    global _applied_environ
    if environ == _applied_environ:
        return
    _applied_environ = environ
    for pair in (environ or "").split(";"):
        key, sep, value = pair.partition("=")
        if sep and key:
            os.environ[key] = value


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed or replaced stream must not stop us
            pass


def _post(path, payload):
    """Pushes an invocation's result; returns the next invocation's response."""
    _flush()
    return _api.push_then_next(path, payload)


def _post_error(body):
    return _post("/runtime/invocation/error", json.dumps(body, ensure_ascii=False).encode("utf-8"))


def _invoke(function, next_reply):
    """Runs the invocation of `next_reply`; returns the next one's."""
    global _request_id
    _, headers, data = next_reply
    _request_id = headers.get("request_id", "")
    context = _context(headers)
    _apply_environ(context.get("environ"))
    try:
        event = json.loads(data.decode("utf-8")) if data else None
    except ValueError as exc:
        return _post_error(_user_body("ValueError", "parse event error: %s" % exc))
    try:
        result = function(event, context)
    except Exception as exc:  # noqa: BLE001 - every user exception is reported
        return _post_error(_exception_body(exc))
    try:
        payload = _encoder.encode(result).encode("utf-8")
    except (TypeError, ValueError, UnicodeError) as exc:
        return _post_error(
            _user_body(
                type(exc).__name__,
                "the return value of %s cannot be encoded as JSON: %s" % (_HANDLER, exc),
            )
        )
    return _post("/runtime/invocation/response", payload)


def main():
    global _request_id, _api
    sys.path[0] = os.getcwd()
    try:
        sys.stdout.reconfigure(line_buffering=True)
    except AttributeError:
        pass
    _setup_logging()
    _builtin_aliases()
    function, load_error = _load()
    _flush()
    # What init made lives as long as the instance: out of the collector's sight, so
    # that the collections the invocations' garbage sets off do not walk it every time.
    # (Python 3.7 and later.)
    freeze = getattr(gc, "freeze", None)
    if freeze is not None:
        freeze()
    _api = _connect()
    _api.request("POST", "/runtime/init/ready", b" ")
    reply = _api.request("GET", _NEXT)
    while True:
        if load_error is not None:
            _request_id = reply[1].get("request_id", "")
            load_error["requestId"] = _request_id
            reply = _post_error(load_error)
        else:
            reply = _invoke(function, reply)


if __name__ == "__main__":
    main()
