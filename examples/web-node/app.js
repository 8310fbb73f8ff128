'use strict';
// A web function (Type: HTTP) on Node.js's http module: SCF forwards each API Gateway
// request to the server on port 9000 as plain HTTP. Paths: `/` (hello), `/echo` (the
// request as JSON), `/binary` (the body back, byte for byte), `/cookies` (two Set-Cookie
// headers), `/slow?ms=N`, `/crash` (the process exits mid-request); anything else is 404.
// It routes on the path's last segment, so it answers the same under any route prefix.
// Every answer names its instance in `X-Instance`.
const http = require('http');

const port = Number(process.env.PORT || 9000);
const instance = require('crypto').randomBytes(16).toString('hex');

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.setHeader('X-Instance', instance);
    console.log(`node web: ${req.method} ${url.pathname}`);
    const page = '/' + url.pathname.replace(/\/+$/, '').split('/').pop();
    if (page === '/' || page === '/node') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('hello from a Node.js web function\n');
    } else if (page === '/echo') {
      const query = {};
      for (const [k, v] of url.searchParams) (query[k] = query[k] || []).push(v);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({
        method: req.method,
        path: url.pathname,
        query,
        headers: req.headers,
        json: body.length ? JSON.parse(body.toString('utf8')) : null,
      }));
    } else if (page === '/binary') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(body);
    } else if (page === '/cookies') {
      res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; HttpOnly']);
      res.setHeader('X-Multi', ['one', 'two']);
      res.end('cookies set\n');
    } else if (page === '/slow') {
      const ms = Number(url.searchParams.get('ms') || 1000);
      console.log(`sleeping ${ms} ms`);
      setTimeout(() => res.end('slept\n'), ms);
    } else if (page === '/crash') {
      console.log('crashing on purpose');
      process.exit(3);
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'no such page', path: url.pathname }));
    }
  });
});

server.keepAliveTimeout = 120000;
server.listen(port, '0.0.0.0', () => {
  console.log(`node web function listening on 0.0.0.0:${port}`);
});
