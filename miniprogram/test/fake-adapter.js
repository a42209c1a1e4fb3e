'use strict'
// A scripted adapter for core tests: each call pops the next answer the test queued.

function createFakeAdapter (script) {
  script = script || {}
  var calls = { request: [], uploadFile: [], putPart: [], readChunk: [], login: 0 }
  var store = {}
  var adapter = {
    name: 'fake',
    calls: calls,
    store: store,
    request: function (req) {
      calls.request.push(req)
      return answer(script.request, req)
    },
    uploadFile: function (req) {
      calls.uploadFile.push(req)
      return answer(script.uploadFile, req)
    },
    canPutParts: Boolean(script.putPart),
    putPart: function (req) {
      calls.putPart.push(req)
      return answer(script.putPart, req)
    },
    readChunk: function (params, position, length) {
      calls.readChunk.push({ position: position, length: length })
      return script.readChunk ? script.readChunk(params, position, length) : Promise.reject(new Error('no readChunk'))
    },
    fileModified: function (params) {
      return script.fileModified ? script.fileModified(params) : Promise.resolve(undefined)
    },
    fileSize: function (params) {
      return script.fileSize ? script.fileSize(params) : Promise.resolve(10)
    },
    login: function () {
      calls.login++
      return script.login ? script.login() : Promise.resolve('code-' + calls.login)
    },
    storage: {
      get: function (k) { return store[k] || null },
      set: function (k, v) { store[k] = v },
      remove: function (k) { delete store[k] }
    }
  }
  return adapter
}

function answer (queue, req) {
  if (typeof queue === 'function') return queue(req)
  var next = queue.shift()
  if (!next) throw new Error('unexpected call to ' + req.url)
  return typeof next === 'function' ? next(req) : next instanceof Error || next.errMsg ? Promise.reject(next) : Promise.resolve(next)
}

function ticketAnswer (key) {
  key = key || 'uploads/anonymous/default/2026/11/29/abc.jpg'
  return {
    status: 200,
    data: JSON.stringify({ url: 'https://bucket.oss-cn-hangzhou.aliyuncs.com', key: key,
      fields: { key: key, policy: 'cG9saWN5', 'x-oss-signature': 'sig' }, expiresAt: '2026-11-29T23:20:00Z', maxSize: 100 })
  }
}

function ossError (status, code, message) {
  return { status: status, data: '<?xml version="1.0"?><Error><Code>' + code + '</Code><Message>' + message +
    '</Message><RequestId>RID1</RequestId></Error>' }
}

function signerError (status, code, message) {
  return { status: status, data: JSON.stringify({ error: { code: code, message: message, requestId: 'fc-1' } }) }
}

module.exports = { createFakeAdapter: createFakeAdapter, ticketAnswer: ticketAnswer, ossError: ossError, signerError: signerError }
