<?php
// The PHP runtime of scf-process: runs an SCF PHP function (`file.function`) behind SCF's
// Custom Runtime API, with PHP's standard library only (streams and json; no extension).
//
// Started by the host with SCF_RUNTIME_API, SCF_RUNTIME_API_PORT and _HANDLER set and the
// code directory as working directory. Init requires `<file>.php` (what it prints is the
// init log), then reports POST /runtime/init/ready. Each invocation: GET
// /runtime/invocation/next, call `function($event, $context)` with the event and the
// context decoded as PHP objects (SCF's PHP runtimes pass both "in object format": JSON
// objects are stdClass, JSON arrays are arrays), POST json_encode of the return value (a
// list array is a JSON array, an associative array or an object a JSON object) to
// /runtime/invocation/response, or SCF's error JSON to /runtime/invocation/error.
//
// Error bodies carry SCF's fields (errorCode, errorMessage, requestId, stackTrace,
// statusCode) plus errorType (the class of the Throwable), errorValue (its message) and
// trace (where it was thrown and the user frames, without the last "Type: message" line)
// for the host. A fatal error (memory exhausted, E_USER_ERROR) or exit()/die() during an
// invocation is reported from a shutdown function, with the file and line PHP gives; the
// process then ends and the next invocation gets a new instance.
//
// Written for PHP 7.0 and later (SCF's Php7.2/Php7.4/Php8.0; Php5.6 code runs on the
// machine's PHP 7 or 8).

ini_set('display_errors', 'stderr');
ini_set('html_errors', '0');
ini_set('log_errors', '0');
error_reporting(E_ALL);

$GLOBALS['__scf'] = array(
    'host' => getenv('SCF_RUNTIME_API') ?: '127.0.0.1',
    'port' => (int) (getenv('SCF_RUNTIME_API_PORT') ?: 9001),
    'handler' => getenv('_HANDLER') ?: 'index.main_handler',
    'self' => __FILE__,
    'sock' => null,
    'buf' => '',
    // Whether the lean transport of SCF_RUNTIME_SOCKET is in use (null: not tried yet).
    'frames' => null,
    'request_id' => '',
    'ready' => false,
    // true between handing the event to the function and posting its result
    'running' => false,
    'load_error' => null,
    // true once the script is ending (a fatal error, exit()): its last answer goes as `X`
    'ending' => false,
);

/**
 * Under `scf serve`, SCF_RUNTIME_SOCKET names a Unix socket of the instance's own on which
 * the exchange goes as frames (scf-process's `frames` module): a kind byte, a 4-byte
 * big-endian length, that many bytes. `R` says ready, the host's `I` is an event (request
 * id, memory limit, time limit, context JSON, each ended by "\n", then the event), `O`/`E`
 * answer it. Connected at the first request; without the variable the HTTP API is used.
 */
function __scf_frames()
{
    $s = &$GLOBALS['__scf'];
    if ($s['frames'] === null) {
        $s['frames'] = false;
        $path = getenv('SCF_RUNTIME_SOCKET');
        if ($path) {
            $sock = @stream_socket_client('unix://' . $path, $errno, $errstr, 30);
            if ($sock !== false) {
                stream_set_timeout($sock, 86400 * 365);
                $s['sock'] = $sock;
                $s['buf'] = '';
                $s['frames'] = true;
            }
        }
    }
    return $s['frames'];
}

/** __scf_request on the lean transport. */
function __scf_frame_request($path, $body)
{
    $s = &$GLOBALS['__scf'];
    if ($path !== '/runtime/invocation/next') {
        $kind = $path === '/runtime/init/ready' ? 'R' : ($path === '/runtime/invocation/error' ? ($s['ending'] ? 'X' : 'E') : 'O');
        $payload = $kind === 'R' ? '' : (string) $body;
        if (!__scf_write($s['sock'], $kind . pack('N', strlen($payload)) . $payload)) {
            fwrite(STDERR, "scf php runtime: the host closed SCF_RUNTIME_SOCKET\n");
            exit(1);
        }
        return array(200, array(), '');
    }
    $head = __scf_take(5);
    $frame = ($head !== false && $head[0] === 'I') ? __scf_take(unpack('N', substr($head, 1))[1]) : false;
    $parts = $frame === false ? array() : explode("\n", $frame, 5);
    if (count($parts) < 5) {
        fwrite(STDERR, "scf php runtime: the host closed SCF_RUNTIME_SOCKET or sent a frame that is not an event\n");
        exit(1);
    }
    $headers = array(
        'request_id' => $parts[0],
        'memory_limit_in_mb' => $parts[1],
        'time_limit_in_ms' => $parts[2],
        'x-scf-context' => $parts[3],
    );
    return array(200, $headers, $parts[4]);
}

/** One request on the kept-alive connection; returns array(status, headers, body). */
function __scf_request($method, $path, $body = null)
{
    $s = &$GLOBALS['__scf'];
    if (__scf_frames()) {
        return __scf_frame_request($path, $body);
    }
    for ($attempt = 0; $attempt < 2; $attempt++) {
        if ($s['sock'] === null) {
            $ctx = stream_context_create(array('socket' => array('tcp_nodelay' => true)));
            $sock = @stream_socket_client(
                'tcp://' . $s['host'] . ':' . $s['port'],
                $errno,
                $errstr,
                30,
                STREAM_CLIENT_CONNECT,
                $ctx
            );
            if ($sock === false) {
                if ($attempt) {
                    fwrite(STDERR, "scf php runtime: cannot reach the Runtime API: $errstr\n");
                    exit(1);
                }
                continue;
            }
            // The long poll of /next has no time limit.
            stream_set_timeout($sock, 86400 * 365);
            $s['sock'] = $sock;
            $s['buf'] = '';
        }
        $head = "$method $path HTTP/1.1\r\nHost: " . $s['host'] . ':' . $s['port'] . "\r\n";
        if ($body !== null) {
            $head .= "Content-Type: application/json\r\nContent-Length: " . strlen($body) . "\r\n";
        }
        $data = $head . "\r\n" . (string) $body;
        if (__scf_write($s['sock'], $data)) {
            $response = __scf_response();
            if ($response !== null) {
                return $response;
            }
        }
        fclose($s['sock']);
        $s['sock'] = null;
    }
    fwrite(STDERR, "scf php runtime: the Runtime API closed the connection\n");
    exit(1);
}

function __scf_write($sock, $data)
{
    while ($data !== '') {
        $n = @fwrite($sock, $data);
        if ($n === false || $n === 0) {
            return false;
        }
        $data = (string) substr($data, $n);
    }
    return true;
}

/** Reads until $buf holds $n bytes; false at end of stream. */
function __scf_fill($n)
{
    $s = &$GLOBALS['__scf'];
    while (strlen($s['buf']) < $n) {
        $chunk = @fread($s['sock'], 65536);
        if ($chunk === false || ($chunk === '' && feof($s['sock']))) {
            return false;
        }
        $s['buf'] .= $chunk;
    }
    return true;
}

function __scf_until($marker)
{
    $s = &$GLOBALS['__scf'];
    while (($at = strpos($s['buf'], $marker)) === false) {
        if (!__scf_fill(strlen($s['buf']) + 1)) {
            return false;
        }
    }
    $out = substr($s['buf'], 0, $at);
    $s['buf'] = (string) substr($s['buf'], $at + strlen($marker));
    return $out;
}

function __scf_take($n)
{
    $s = &$GLOBALS['__scf'];
    if (!__scf_fill($n)) {
        return false;
    }
    $out = substr($s['buf'], 0, $n);
    $s['buf'] = (string) substr($s['buf'], $n);
    return $out;
}

function __scf_response()
{
    $head = __scf_until("\r\n\r\n");
    if ($head === false) {
        return null;
    }
    $lines = explode("\r\n", $head);
    $first = explode(' ', $lines[0], 3);
    $status = isset($first[1]) ? (int) $first[1] : 0;
    $headers = array();
    for ($i = 1; $i < count($lines); $i++) {
        $parts = explode(':', $lines[$i], 2);
        if (count($parts) === 2) {
            $headers[strtolower(trim($parts[0]))] = trim($parts[1]);
        }
    }
    $te = isset($headers['transfer-encoding']) ? strtolower($headers['transfer-encoding']) : '';
    if (strpos($te, 'chunked') !== false) {
        $body = '';
        while (true) {
            $line = __scf_until("\r\n");
            if ($line === false) {
                return null;
            }
            $size = hexdec(trim(explode(';', $line, 2)[0]));
            if ($size == 0) {
                while (($trailer = __scf_until("\r\n")) !== '') {
                    if ($trailer === false) {
                        return null;
                    }
                }
                break;
            }
            $part = __scf_take($size);
            if ($part === false || __scf_take(2) === false) {
                return null;
            }
            $body .= $part;
        }
    } else {
        $len = isset($headers['content-length']) ? (int) $headers['content-length'] : 0;
        $body = $len > 0 ? __scf_take($len) : '';
        if ($body === false) {
            return null;
        }
    }
    if (isset($headers['connection']) && strtolower($headers['connection']) === 'close') {
        fclose($GLOBALS['__scf']['sock']);
        $GLOBALS['__scf']['sock'] = null;
    }
    return array($status, $headers, $body);
}

function __scf_post($path, $body)
{
    // What the function echoed before this point belongs to this invocation's log.
    if (ob_get_level() > 0) {
        @ob_flush();
    }
    flush();
    __scf_request('POST', $path, $body);
}

function __scf_json($value)
{
    $flags = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES;
    if (defined('JSON_INVALID_UTF8_SUBSTITUTE')) {
        $flags |= JSON_INVALID_UTF8_SUBSTITUTE;
    }
    $out = json_encode($value, $flags);
    return $out === false ? '{"errorCode":-1,"errorMessage":"the error could not be encoded"}' : $out;
}

function __scf_post_error($body)
{
    $body['requestId'] = $GLOBALS['__scf']['request_id'];
    __scf_post('/runtime/invocation/error', __scf_json($body));
}

function __scf_platform_body($status, $message)
{
    return array(
        'errorCode' => -1,
        'errorMessage' => $message,
        'requestId' => '',
        'stackTrace' => '',
        'statusCode' => $status,
    );
}

function __scf_user_body($type, $message, $trace)
{
    return array(
        'errorCode' => -1,
        'errorMessage' => 'user code exception caught',
        'requestId' => '',
        // Without a trace, none at all: the host writes the "Type: message" line.
        'stackTrace' => $trace === '' ? '' : "$trace\n$type: $message",
        'statusCode' => 430,
        'errorType' => $type,
        'errorValue' => $message,
        'trace' => $trace,
    );
}

/** PHP's own "Uncaught … in file:line / Stack trace" text, without this runtime's frames. */
function __scf_trace($e)
{
    $self = $GLOBALS['__scf']['self'];
    $lines = array(
        'Uncaught ' . get_class($e) . ': ' . $e->getMessage() . ' in ' . $e->getFile() . ':' . $e->getLine(),
        'Stack trace:',
    );
    $n = 0;
    foreach ($e->getTrace() as $frame) {
        $file = isset($frame['file']) ? $frame['file'] : null;
        if ($file === $self) {
            break;
        }
        $call = (isset($frame['class']) ? $frame['class'] . $frame['type'] : '') . $frame['function'] . '()';
        $where = $file === null ? '[internal function]' : $file . '(' . $frame['line'] . ')';
        $lines[] = '#' . $n . ' ' . $where . ': ' . $call;
        $n++;
    }
    $lines[] = '#' . $n . ' {main}';
    for ($p = $e->getPrevious(); $p !== null; $p = $p->getPrevious()) {
        $lines[] = 'Previous ' . get_class($p) . ': ' . $p->getMessage() . ' in ' . $p->getFile() . ':' . $p->getLine();
    }
    return implode("\n", $lines);
}

function __scf_exception_body($e)
{
    return __scf_user_body(get_class($e), $e->getMessage(), __scf_trace($e));
}

/** Requires the handler's file; returns the function's name, or sets load_error. */
function __scf_load()
{
    $s = &$GLOBALS['__scf'];
    $handler = $s['handler'];
    $dot = strrpos($handler, '.');
    if ($dot === false || $dot === 0 || $dot === strlen($handler) - 1) {
        $s['load_error'] = __scf_platform_body(
            437,
            "handler '$handler' is not `file.function`, e.g. index.main_handler"
        );
        return null;
    }
    $file = substr($handler, 0, $dot);
    $name = substr($handler, $dot + 1);
    $path = getcwd() . '/' . $file . '.php';
    if (!is_file($path)) {
        $s['load_error'] = __scf_platform_body(437, "Cannot find the entry file '$file.php'");
        return null;
    }
    try {
        require_once $path;
    } catch (Throwable $e) {
        $s['load_error'] = __scf_exception_body($e);
        return null;
    }
    if (!function_exists($name)) {
        $s['load_error'] = __scf_platform_body(437, "'module' object has no attribute '$name'");
        return null;
    }
    return $name;
}

function __scf_context($headers)
{
    if (isset($headers['x-scf-context'])) {
        $context = json_decode($headers['x-scf-context']);
        if (is_object($context)) {
            return $context;
        }
    }
    $namespace = getenv('SCF_NAMESPACE') ?: 'default';
    return (object) array(
        'memory_limit_in_mb' => (int) (isset($headers['memory_limit_in_mb']) ? $headers['memory_limit_in_mb'] : 0),
        'time_limit_in_ms' => (int) (isset($headers['time_limit_in_ms']) ? $headers['time_limit_in_ms'] : 0),
        'request_id' => isset($headers['request_id']) ? $headers['request_id'] : '',
        'environment' => json_encode(array('SCF_NAMESPACE' => $namespace)),
        'environ' => "SCF_NAMESPACE=$namespace",
        'function_version' => getenv('SCF_FUNCTIONVERSION') ?: '$LATEST',
        'function_name' => getenv('SCF_FUNCTIONNAME') ?: '',
        'namespace' => $namespace,
        'tencentcloud_region' => getenv('TENCENTCLOUD_REGION') ?: '',
        'tencentcloud_appid' => getenv('TENCENTCLOUD_APPID') ?: '',
        'tencentcloud_uin' => getenv('TENCENTCLOUD_UIN') ?: '',
    );
}

/** SCF's runtime applies `environ` (K=V;K=V) to the environment before each call. */
function __scf_apply_environ($environ)
{
    static $applied = null;
    if (!is_string($environ) || $environ === $applied) {
        return;
    }
    $applied = $environ;
    foreach (explode(';', $environ) as $pair) {
        $kv = explode('=', $pair, 2);
        if (count($kv) === 2 && $kv[0] !== '') {
            putenv($kv[0] . '=' . $kv[1]);
            $_ENV[$kv[0]] = $kv[1];
        }
    }
}

function __scf_next()
{
    list(, $headers, $body) = __scf_request('GET', '/runtime/invocation/next');
    $GLOBALS['__scf']['request_id'] = isset($headers['request_id']) ? $headers['request_id'] : '';
    return array($headers, $body);
}

function __scf_invoke($name)
{
    $s = &$GLOBALS['__scf'];
    list($headers, $data) = __scf_next();
    $context = __scf_context($headers);
    __scf_apply_environ(isset($context->environ) ? $context->environ : null);
    $event = $data === '' ? null : json_decode($data);
    if ($event === null && $data !== '' && trim($data) !== 'null') {
        __scf_post_error(__scf_user_body('JsonException', 'parse event error: ' . json_last_error_msg(), ''));
        return;
    }
    $s['running'] = true;
    try {
        $result = $name($event, $context);
    } catch (Throwable $e) {
        $s['running'] = false;
        __scf_post_error(__scf_exception_body($e));
        return;
    }
    $s['running'] = false;
    $payload = json_encode($result, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
    if ($payload === false) {
        __scf_post_error(__scf_user_body(
            'JsonException',
            'the return value of ' . $s['handler'] . ' cannot be encoded as JSON: ' . json_last_error_msg(),
            ''
        ));
        return;
    }
    __scf_post('/runtime/invocation/response', $payload);
}

/**
 * Runs when the script ends: after a fatal error or exit()/die() in the function (during
 * an invocation, or while its file was loaded), which is reported as the invocation's
 * error before the process ends.
 */
function __scf_shutdown()
{
    $s = &$GLOBALS['__scf'];
    if (!$s['running'] && $s['ready']) {
        return;
    }
    $fatal = E_ERROR | E_PARSE | E_CORE_ERROR | E_COMPILE_ERROR | E_USER_ERROR | E_RECOVERABLE_ERROR;
    $error = error_get_last();
    if ($error !== null && ($error['type'] & $fatal)) {
        $body = __scf_user_body(
            'PHP Fatal error',
            $error['message'],
            'PHP Fatal error in ' . $error['file'] . ':' . $error['line']
        );
    } else {
        $body = __scf_user_body(
            'Exit',
            'the function called exit() or die(); its output is in the log',
            ''
        );
    }
    if (!$s['ready']) {
        // Failed while its file was loaded: this instance answers its first event with it.
        $s['ready'] = true;
        __scf_post('/runtime/init/ready', ' ');
        __scf_next();
    }
    $s['running'] = false;
    // The process ends after this answer: on the lean transport it goes as the last one
    // (`X`), so that the host hands this instance no next event while PHP tears down.
    $s['ending'] = true;
    __scf_post_error($body);
}

function __scf_main()
{
    $s = &$GLOBALS['__scf'];
    register_shutdown_function('__scf_shutdown');
    $name = __scf_load();
    $s['ready'] = true;
    __scf_post('/runtime/init/ready', ' ');
    while (true) {
        if ($s['load_error'] !== null) {
            __scf_next();
            __scf_post_error($s['load_error']);
        } else {
            __scf_invoke($name);
        }
    }
}

__scf_main();
