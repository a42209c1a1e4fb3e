'use strict'
// H5 pages: fetch for JSON, XMLHttpRequest + FormData for the upload (fetch has no upload progress);
// multipart parts are Blob.slice()s sent with XHR PUT, so a part is read only while it is being sent.

var UploadError = require('../errors.js').UploadError

function globalObject () {
  return typeof globalThis !== 'undefined' ? globalThis : (typeof window !== 'undefined' ? window : {})
}

function createBrowserAdapter () {
  var memory = {}
  return {
    name: 'browser',
    request: function (req) {
      var g = globalObject()
      var controller = typeof g.AbortController === 'function' ? new g.AbortController() : null
      var timedOut = false
      var timer = controller && req.timeout ? setTimeout(function () { timedOut = true; controller.abort() }, req.timeout) : null
      if (req.signal && controller) {
        if (req.signal.aborted) controller.abort()
        else req.signal.addEventListener('abort', function () { controller.abort() })
      }
      return g.fetch(req.url, { method: req.method, headers: req.headers, body: req.body,
        signal: controller ? controller.signal : undefined }).then(function (res) {
        return res.text().then(function (text) { clearTimeout(timer); return { status: res.status, data: text, headers: {} } })
      }, function (cause) {
        clearTimeout(timer)
        if (timedOut) throw { errMsg: 'timeout after ' + req.timeout + ' ms' }
        if (req.signal && req.signal.aborted) throw new UploadError('aborted', 'The upload was aborted.')
        throw cause
      })
    },
    uploadFile: function (req) {
      return new Promise(function (resolve, reject) {
        var g = globalObject()
        var xhr = new g.XMLHttpRequest()
        var form = new g.FormData()
        Object.keys(req.fields).forEach(function (name) { form.append(name, req.fields[name]) })
        form.append('file', req.file, req.fileName || (req.file && req.file.name) || 'file')
        function onAbort () { xhr.abort(); reject(new UploadError('aborted', 'The upload was aborted.')) }
        if (req.signal) {
          if (req.signal.aborted) return onAbort()
          req.signal.addEventListener('abort', onAbort)
        }
        xhr.open('POST', req.url)
        xhr.timeout = req.timeout || 0
        xhr.upload.onprogress = function (e) { if (e.lengthComputable) req.onProgress({ loaded: e.loaded, progress: e.loaded / e.total }) }
        xhr.onload = function () {
          resolve({ status: xhr.status, data: xhr.responseText, headers: { ETag: xhr.getResponseHeader('ETag') } })
        }
        xhr.onerror = function () { reject({ errMsg: 'Failed to fetch (network error or blocked by CORS)' }) }
        xhr.ontimeout = function () { reject({ errMsg: 'timeout' }) }
        xhr.send(form)
      })
    },
    canPutParts: true,
    readChunk: function (params, position, length) {
      return params.file && typeof params.file.slice === 'function'
        ? Promise.resolve(params.file.slice(position, position + length))
        : Promise.reject(new Error('in a browser pass file (a File or Blob)'))
    },
    putPart: function (req) {
      return new Promise(function (resolve, reject) {
        var xhr = new (globalObject().XMLHttpRequest)()
        function onAbort () { xhr.abort(); reject(new UploadError('aborted', 'The upload was aborted.')) }
        if (req.signal) {
          if (req.signal.aborted) return onAbort()
          req.signal.addEventListener('abort', onAbort)
        }
        function done () { if (req.signal) req.signal.removeEventListener('abort', onAbort) }
        xhr.open(req.method || 'PUT', req.url)
        Object.keys(req.headers || {}).forEach(function (name) { xhr.setRequestHeader(name, req.headers[name]) })
        xhr.timeout = req.timeout || 0
        xhr.upload.onprogress = function (e) { if (req.onProgress) req.onProgress({ loaded: e.loaded }) }
        xhr.onload = function () { done(); resolve({ status: xhr.status, data: xhr.responseText, headers: {} }) }
        xhr.onerror = function () { done(); reject({ errMsg: 'Failed to fetch (network error or blocked by CORS)' }) }
        xhr.ontimeout = function () { done(); reject({ errMsg: 'timeout' }) }
        xhr.send(req.data)
      })
    },
    fileSize: function (params) {
      return params.file && typeof params.file.size === 'number'
        ? Promise.resolve(params.file.size)
        : Promise.reject(new Error('in a browser pass file (a File or Blob)'))
    },
    login: function () {
      return Promise.reject(new UploadError('invalid_argument', "auth: 'wechat' needs WeChat; in a browser pass { getToken }"))
    },
    storage: {
      get: function (key) {
        try { var v = globalObject().localStorage.getItem(key); return v ? JSON.parse(v) : null } catch (e) { return memory[key] || null }
      },
      set: function (key, value) {
        try { globalObject().localStorage.setItem(key, JSON.stringify(value)) } catch (e) { memory[key] = value }
      },
      remove: function (key) {
        try { globalObject().localStorage.removeItem(key) } catch (e) {} delete memory[key]
      }
    }
  }
}

module.exports = { createBrowserAdapter: createBrowserAdapter }
