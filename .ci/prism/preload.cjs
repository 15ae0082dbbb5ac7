// Preloaded into the Prism CLI by start.sh (node --require preload.cjs).
//
// 1. SIGHUP is ignored, as nohup would do (Node resets an inherited "ignore" at start, so only a
//    handler works): Prism outlives the terminal or session that started it. Stop it with SIGTERM.
//
// 2. When PRISM_LOG is set, one JSON line per answered request is appended to the file it names.
//    The Prism CLI itself has no JSON log option (its console output is signale's text, with no
//    request correlation), so this wraps the request listener of the one HTTP server Prism
//    creates and reads what Prism put on the response.
//
// Each line: {"time","method","url","status","x_request_id","violations","duration_ms"}, plus
// "prism_body" (the first 2000 characters of the body) when Prism answered by itself
//   url           the request's path and query, with the value of api_token replaced by REDACTED
//   x_request_id  the X-Request-Id of the answer; provisiond sets one on every answer, so null
//                 means Prism answered by itself (malformed JSON body, GET with a body, ...)
//   violations    the parsed sl-violations header (an array, [] when Prism found nothing), or the
//                 header as a string when Prism truncated it ("Too many violations! ...")
'use strict';

const fs = require('fs');
const http = require('http');

process.on('SIGHUP', () => {});

const file = process.env.PRISM_LOG;
if (file) {
  const fd = fs.openSync(file, 'a');
  const redact = url => String(url).replace(/([?&]api_token=)[^&]*/g, '$1REDACTED');
  const parse = value => {
    if (value === undefined) return [];
    try {
      return JSON.parse(String(value));
    } catch {
      return String(value);
    }
  };
  const wrap = listener =>
    function (req, res) {
      const started = process.hrtime.bigint();
      let prismBody;
      const end = res.end;
      res.end = function (chunk, ...rest) {
        if (chunk != null && typeof chunk !== 'function' && res.getHeader('x-request-id') === undefined) {
          prismBody = String(chunk).slice(0, 2000);
        }
        return end.call(this, chunk, ...rest);
      };
      res.once('finish', () => {
        const requestId = res.getHeader('x-request-id');
        const line = {
          time: new Date().toISOString(),
          method: req.method,
          url: redact(req.url),
          status: res.statusCode,
          x_request_id: requestId === undefined ? null : String(requestId),
          violations: parse(res.getHeader('sl-violations')),
          duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
        };
        if (line.x_request_id === null && prismBody !== undefined) line.prism_body = prismBody;
        fs.writeSync(fd, JSON.stringify(line) + '\n');
      });
      return listener.call(this, req, res);
    };
  const createServer = http.createServer;
  http.createServer = function (...args) {
    const i = args.findIndex(a => typeof a === 'function');
    if (i >= 0) args[i] = wrap(args[i]);
    return createServer.apply(this, args);
  };
}
