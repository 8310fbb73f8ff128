// The Node.js runtime of scf-process: runs an SCF Node.js function (`file.function`)
// behind SCF's Custom Runtime API, with Node's standard library only.
//
// Started by the host with SCF_RUNTIME_API, SCF_RUNTIME_API_PORT and _HANDLER set and the
// code directory as working directory. Init requires the handler's module (an ES module
// `file.mjs` is imported instead when there is no `file.js`), then reports
// POST /runtime/init/ready. Each invocation: GET /runtime/invocation/next, call the
// exported function as `async (event, context) => value` or
// `(event, context, callback) => {}`, POST the JSON of the result to
// /runtime/invocation/response, or SCF's error JSON to /runtime/invocation/error.
//
// The context carries SCF's fields plus `callbackWaitsForEmptyEventLoop` and
// `done`/`succeed`/`fail`; the result is sent as soon as it is known (the event loop is
// not waited for).
'use strict';

const http = require('http');
const net = require('net');
const path = require('path');
const fs = require('fs');
const url = require('url');

const HOST = process.env.SCF_RUNTIME_API || '127.0.0.1';
const PORT = Number(process.env.SCF_RUNTIME_API_PORT || 9001);
const HANDLER = process.env._HANDLER || 'index.main_handler';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

let requestId = '';

// Before Node.js 15 an unhandled promise rejection was a warning, not the end of the
// process: a function of a runtime of those versions (Nodejs6.10 to Nodejs14.18) goes on
// after one, its warning in the log, as on SCF. From Nodejs16 on, Node's own rule holds
// (the process exits: 439).
const RUNTIME_MAJOR = Number((/^nodejs(\d+)/i.exec(process.env.SCF_RUNTIME || '') || [])[1]);
if (RUNTIME_MAJOR > 0 && RUNTIME_MAJOR < 15) {
  process.on('unhandledRejection', (reason) => {
    const text = reason && reason.stack ? reason.stack : String(reason);
    process.stderr.write(`(node:${process.pid}) UnhandledPromiseRejectionWarning: ${text}\n`);
  });
}

// Under `scf serve`, SCF_RUNTIME_SOCKET names a Unix socket of the instance's own on which
// the same exchange goes as frames (scf-process's `frames` module): a kind byte, a 4-byte
// big-endian length, that many bytes. `R` says ready, the host's `I` is an event
// (request id, memory limit, time limit, context JSON, each ended by a newline, then the
// event), `O`/`E` answer it. Without the variable (as on SCF) the HTTP API is used.
let frames = null;

function connectFrames() {
  const socketPath = process.env.SCF_RUNTIME_SOCKET;
  return new Promise((resolve) => {
    if (!socketPath) return resolve(null);
    const sock = net.connect(socketPath);
    sock.once('error', () => resolve(null));
    sock.once('connect', () => {
      sock.removeAllListeners('error');
      const state = { sock, buf: Buffer.alloc(0), waiter: null };
      const pump = () => {
        if (!state.waiter || state.buf.length < 5) return;
        const size = state.buf.readUInt32BE(1);
        if (state.buf.length < 5 + size) return;
        const kind = state.buf[0];
        const frame = state.buf.subarray(5, 5 + size);
        state.buf = state.buf.subarray(5 + size);
        const { resolve: done, reject } = state.waiter;
        state.waiter = null;
        if (kind !== 0x49) return reject(new Error(`the host sent a frame of kind ${kind} where an event was due`));
        const fields = [];
        let at = 0;
        for (let i = 0; i < 4; i += 1) {
          const end = frame.indexOf(10, at);
          if (end < 0) return reject(new Error('an event frame with fewer than four header fields'));
          fields.push(frame.toString('utf8', at, end));
          at = end + 1;
        }
        done({
          headers: {
            request_id: fields[0], memory_limit_in_mb: fields[1], time_limit_in_ms: fields[2], 'x-scf-context': fields[3],
          },
          body: frame.toString('utf8', at),
        });
      };
      sock.on('data', (chunk) => {
        state.buf = state.buf.length ? Buffer.concat([state.buf, chunk]) : chunk;
        pump();
      });
      const fail = (e) => {
        state.closed = true;
        if (state.waiter) state.waiter.reject(e || new Error('the host closed SCF_RUNTIME_SOCKET'));
        state.waiter = null;
      };
      sock.on('error', fail);
      sock.on('close', () => fail());
      state.pump = pump;
      resolve(state);
    });
  });
}

function frameApi(method, p, body) {
  if (p === '/runtime/invocation/next') {
    return new Promise((resolve, reject) => {
      if (frames.closed) return reject(new Error('the host closed SCF_RUNTIME_SOCKET'));
      frames.waiter = { resolve, reject };
      frames.pump();
    });
  }
  const kind = p === '/runtime/init/ready' ? 'R' : (p === '/runtime/invocation/error' ? 'E' : 'O');
  const payload = Buffer.from(kind === 'R' ? '' : body, 'utf8');
  const head = Buffer.alloc(5);
  head.write(kind, 0, 'latin1');
  head.writeUInt32BE(payload.length, 1);
  frames.sock.write(Buffer.concat([head, payload]));
  return Promise.resolve({ headers: {}, body: '' });
}

function api(method, p, body) {
  if (frames) return frameApi(method, p, body);
  return new Promise((resolve, reject) => {
    const headers = {};
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = http.request({ host: HOST, port: PORT, method, path: p, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function platformBody(statusCode, message) {
  return { errorCode: -1, errorMessage: message, requestId, stackTrace: '', statusCode };
}

function errorType(e) {
  if (!(e instanceof Error)) return 'Error';
  const ctor = e.constructor && e.constructor.name;
  if (e.name && e.name !== 'Error') return e.name;
  return ctor || 'Error';
}

function exceptionBody(e) {
  const type = errorType(e);
  let message;
  if (e instanceof Error) message = String(e.message);
  else if (typeof e === 'string') message = e;
  else {
    try { message = JSON.stringify(e); } catch (_) { message = String(e); }
  }
  const stack = e instanceof Error && typeof e.stack === 'string' ? e.stack : '';
  const frames = stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l) && !l.includes(__filename));
  const trace = frames.join('\n');
  return {
    errorCode: -1,
    errorMessage: 'user code exception caught',
    requestId,
    stackTrace: `${type}: ${message}${trace ? '\n' + trace : ''}`,
    statusCode: 430,
    errorType: type,
    errorValue: message,
    trace,
  };
}

async function load() {
  const dot = HANDLER.lastIndexOf('.');
  if (dot <= 0 || dot === HANDLER.length - 1) {
    return { error: platformBody(437, `handler '${HANDLER}' is not \`file.function\`, e.g. index.main_handler`) };
  }
  const file = HANDLER.slice(0, dot);
  const name = HANDLER.slice(dot + 1);
  const modulePath = path.resolve(process.cwd(), file);
  let mod;
  try {
    mod = require(modulePath);
  } catch (e) {
    const missingSelf = e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(`'${modulePath}'`);
    if (!missingSelf) return { error: exceptionBody(e) };
    if (!fs.existsSync(modulePath + '.mjs')) {
      return { error: platformBody(437, `Cannot find module '${file}'`) };
    }
    try {
      // Through Function, so that a Node.js without dynamic import still parses this file.
      const importModule = new Function('u', 'return import(u)');
      mod = await importModule(url.pathToFileURL(modulePath + '.mjs').href);
    } catch (e2) {
      return { error: exceptionBody(e2) };
    }
  }
  const fn = mod ? mod[name] : undefined;
  if (fn === undefined) return { error: platformBody(437, `'module' object has no attribute '${name}'`) };
  if (typeof fn !== 'function') return { error: platformBody(437, `'module' object attribute '${name}' is not a function`) };
  return { fn };
}

function call(fn, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    // Until it settles the instance stays up, even when nothing of the function's own
    // keeps Node's event loop alive (a callback never called): it answers later or
    // times out (433), as on SCF, instead of Node exiting with the invocation pending.
    const pending = setInterval(() => {}, 1 << 30);
    const done = (err, data) => {
      if (settled) return;
      settled = true;
      clearInterval(pending);
      if (err !== undefined && err !== null) reject(err);
      else resolve(data);
    };
    context.done = done;
    context.succeed = (data) => done(null, data);
    context.fail = (err) => done(err === undefined || err === null ? new Error('failed') : err);
    let out;
    try {
      out = fn(event, context, done);
    } catch (e) {
      done(e);
      return;
    }
    if (out && typeof out.then === 'function') {
      out.then((v) => done(null, v), (e) => done(e === undefined || e === null ? new Error(String(e)) : e));
    } else if (fn.length < 3 || out !== undefined) {
      // A handler that declares `callback` but returns a value instead (as Tencent's
      // Nodejs6.10/8.9 demos do) answers with that value (docs/runtimes.md).
      done(null, out);
    }
  });
}

function contextFrom(headers) {
  const raw = headers['x-scf-context'];
  let ctx = null;
  if (raw) {
    try { ctx = JSON.parse(raw); } catch (_) { ctx = null; }
  }
  if (!ctx) {
    const ns = process.env.SCF_NAMESPACE || 'default';
    ctx = {
      memory_limit_in_mb: Number(headers.memory_limit_in_mb || 0),
      time_limit_in_ms: Number(headers.time_limit_in_ms || 0),
      request_id: headers.request_id || '',
      environment: JSON.stringify({ SCF_NAMESPACE: ns }),
      environ: `SCF_NAMESPACE=${ns}`,
      function_version: process.env.SCF_FUNCTIONVERSION || '$LATEST',
      function_name: process.env.SCF_FUNCTIONNAME || '',
      namespace: ns,
      tencentcloud_region: process.env.TENCENTCLOUD_REGION || '',
      tencentcloud_appid: process.env.TENCENTCLOUD_APPID || '',
      tencentcloud_uin: process.env.TENCENTCLOUD_UIN || '',
    };
  }
  ctx.callbackWaitsForEmptyEventLoop = true;
  return ctx;
}

async function invokeOnce(fn) {
  const next = await api('GET', '/runtime/invocation/next');
  requestId = next.headers.request_id || '';
  const context = contextFrom(next.headers);
  let event;
  try {
    event = next.body ? JSON.parse(next.body) : null;
  } catch (e) {
    await api('POST', '/runtime/invocation/error', JSON.stringify({
      errorCode: -1, errorMessage: 'user code exception caught', requestId,
      stackTrace: `SyntaxError: parse event error: ${e.message}`, statusCode: 430,
      errorType: 'SyntaxError', errorValue: `parse event error: ${e.message}`, trace: '',
    }));
    return;
  }
  let result;
  try {
    result = await call(fn, event, context);
  } catch (e) {
    await api('POST', '/runtime/invocation/error', JSON.stringify(exceptionBody(e)));
    return;
  }
  let payload;
  try {
    payload = JSON.stringify(result === undefined ? null : result);
  } catch (e) {
    const message = `the return value of ${HANDLER} cannot be encoded as JSON: ${e.message}`;
    await api('POST', '/runtime/invocation/error', JSON.stringify({
      errorCode: -1, errorMessage: 'user code exception caught', requestId,
      stackTrace: `TypeError: ${message}`, statusCode: 430,
      errorType: 'TypeError', errorValue: message, trace: '',
    }));
    return;
  }
  await api('POST', '/runtime/invocation/response', payload);
}

async function main() {
  const { fn, error } = await load();
  frames = await connectFrames();
  await api('POST', '/runtime/init/ready', ' ');
  for (;;) {
    if (error) {
      const next = await api('GET', '/runtime/invocation/next');
      requestId = next.headers.request_id || '';
      error.requestId = requestId;
      await api('POST', '/runtime/invocation/error', JSON.stringify(error));
    } else {
      await invokeOnce(fn);
    }
  }
}

main().catch((e) => {
  process.stderr.write(`scf-process node bootstrap: the Runtime API failed: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
