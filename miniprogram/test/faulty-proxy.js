'use strict'
// HTTP proxies to a local stand-in that inject faults: `faultyProxy` answers a canned response instead of
// forwarding when `fail(req)` returns one; `cuttingProxy` forwards, but when `cutAt(req)` returns a byte offset it
// drops the connection once that many bytes of the request body have passed (a mobile network going away);
// `answerLosingProxy` lets the request happen and drops its answer.

const http = require('node:http')

function listen (server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    server.url = 'http://127.0.0.1:' + server.address().port
    resolve(server)
  }))
}

function forward (target, req, res, body) {
  const upstreamUrl = new URL(target)
  const upstream = http.request({ hostname: upstreamUrl.hostname, port: upstreamUrl.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers)
    answer.pipe(res)
  })
  upstream.on('error', () => res.destroy())
  if (body) body(upstream)
  else req.pipe(upstream)
  return upstream
}

function faultyProxy (target, fail) {
  const proxy = http.createServer((req, res) => {
    const failure = fail(req)
    if (failure) {
      req.resume()
      res.writeHead(failure.status, { 'content-type': failure.type })
      return res.end(failure.body)
    }
    forward(target, req, res)
  })
  return listen(proxy)
}

function cuttingProxy (target, cutAt) {
  const proxy = http.createServer((req, res) => {
    const offset = cutAt(req)
    if (offset === null || offset === undefined) return forward(target, req, res)
    proxy.cuts.push({ url: req.url, offset })
    let passed = 0
    forward(target, req, res, (upstream) => {
      req.on('data', (chunk) => {
        if (passed + chunk.length >= offset) {
          upstream.write(chunk.subarray(0, Math.max(0, offset - passed)))
          passed = offset
          upstream.destroy()
          req.socket.destroy()
          return
        }
        passed += chunk.length
        upstream.write(chunk)
      })
      req.on('end', () => upstream.end())
    })
  })
  proxy.cuts = []
  return listen(proxy)
}

// Forwards every request; when `lose(req)` is true the upstream's answer is read and the client's connection dropped
// (the request happened, its answer never arrived).
function answerLosingProxy (target, lose) {
  const upstreamUrl = new URL(target)
  const proxy = http.createServer((req, res) => {
    if (!lose(req)) return forward(target, req, res)
    const upstream = http.request({ hostname: upstreamUrl.hostname, port: upstreamUrl.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      answer.resume()
      answer.on('end', () => { proxy.lost.push(req.url); req.socket.destroy() })
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  proxy.lost = []
  return listen(proxy)
}

module.exports = { faultyProxy, cuttingProxy, answerLosingProxy }
