// Drives the official Tencent Cloud Node.js SDK (unchanged) against a local scf-http server.
//
// Usage: node node_client.js PORT SECRET_ID SECRET_KEY CLOCK_OFFSET_SECONDS ACTION PARAMS_JSON
//
// Prints one JSON line: {"ok": <the Response object>} or {"error": {"code", "message",
// "requestId"}} for an API error. CLOCK_OFFSET_SECONDS moves the clock the SDK signs with.
"use strict";
const path = require("path");
const [port, secretId, secretKey, offset, action, params] = process.argv.slice(2);

const offsetMs = Number(offset) * 1000;
if (offsetMs) {
  const RealDate = Date;
  global.Date = class extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offsetMs);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offsetMs;
    }
  };
}

const scf = require(path.join(__dirname, "node", "node_modules", "tencentcloud-sdk-nodejs-scf"));
const Client = scf.scf.v20180416.Client;
const client = new Client({
  credential: { secretId, secretKey },
  region: "ap-guangzhou",
  profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: "http://", reqMethod: "POST" } },
});

client[action](JSON.parse(params)).then(
  (response) => console.log(JSON.stringify({ ok: response })),
  (error) => {
    if (error && error.code) {
      console.log(JSON.stringify({ error: { code: error.code, message: error.message, requestId: error.requestId } }));
    } else {
      console.log(JSON.stringify({ failure: String(error && error.stack ? error.stack : error) }));
      process.exitCode = 1;
    }
  },
);
