'use strict'
// One adapter for the WeChat-shaped APIs (wx, uni, Taro): request / uploadFile / login / storage, callback style;
// multipart parts with FileSystemManager.readFile({position, length}) and request PUT of the ArrayBuffer.
// `getApi` is called on use, never at import: `wx` may not exist when this file is loaded.

var UploadError = require('../errors.js').UploadError

function abortable (signal, start) {
  return new Promise(function (resolve, reject) {
    var task = null
    var done = false
    function onAbort () {
      if (done) return
      done = true
      if (task && typeof task.abort === 'function') task.abort()
      reject(new UploadError('aborted', 'The upload was aborted.'))
    }
    if (signal && signal.aborted) return onAbort()
    if (signal && signal.addEventListener) signal.addEventListener('abort', onAbort)
    function finish (fn) {
      return function (value) {
        if (signal && signal.removeEventListener) signal.removeEventListener('abort', onAbort)
        if (done) return
        done = true
        fn(value)
      }
    }
    task = start(finish(resolve), finish(reject))
  })
}

function createMiniProgramAdapter (name, getApi) {
  function api () {
    var found = getApi()
    if (!found) throw new UploadError('invalid_argument', 'platform "' + name + '" is not available here')
    return found
  }

  function fileSystem () {
    var a = api()
    return typeof a.getFileSystemManager === 'function' ? a.getFileSystemManager() : a
  }

  return {
    name: name,
    // Parts need readFile with position/length (base library 2.10.0) and a request API that can PUT bytes.
    get canPutParts () {
      try {
        var a = getApi()
        return Boolean(a && typeof a.request === 'function' && typeof a.getFileSystemManager === 'function' &&
          typeof a.getFileSystemManager().readFile === 'function')
      } catch (e) { return false }
    },
    readChunk: function (params, position, length) {
      return new Promise(function (resolve, reject) {
        fileSystem().readFile({
          filePath: params.filePath, position: position, length: length,
          success: function (res) { resolve(res.data) }, fail: reject
        })
      })
    },
    // Exactly the signed headers: wx.request's default content-type (application/json) must not be sent.
    putPart: function (req) {
      return abortable(req.signal, function (resolve, reject) {
        return api().request({
          url: req.url, method: req.method || 'PUT', header: req.headers, data: req.data, timeout: req.timeout,
          dataType: 'text', responseType: 'text',
          success: function (res) { resolve({ status: res.statusCode, data: res.data, headers: res.header || {} }) },
          fail: reject
        })
      })
    },
    // Stats.lastModifiedTime (seconds): https://developers.weixin.qq.com/miniprogram/dev/api/file/Stats.html
    fileModified: function (params) {
      return new Promise(function (resolve, reject) {
        var fs = fileSystem()
        if (typeof fs.stat !== 'function') return resolve(undefined)
        fs.stat({ path: params.filePath, success: function (res) { resolve(res.stats && res.stats.lastModifiedTime) }, fail: reject })
      })
    },
    request: function (req) {
      return abortable(req.signal, function (resolve, reject) {
        return api().request({
          url: req.url, method: req.method, header: req.headers, data: req.body, timeout: req.timeout,
          dataType: 'text', responseType: 'text',
          success: function (res) { resolve({ status: res.statusCode, data: res.data, headers: res.header || {} }) },
          fail: reject
        })
      })
    },
    uploadFile: function (req) {
      return abortable(req.signal, function (resolve, reject) {
        var task = api().uploadFile({
          url: req.url, filePath: req.filePath, name: 'file', formData: req.fields, timeout: req.timeout,
          success: function (res) { resolve({ status: res.statusCode, data: res.data, headers: res.header || {} }) },
          fail: reject
        })
        if (task && typeof task.onProgressUpdate === 'function') {
          task.onProgressUpdate(function (p) {
            req.onProgress({ loaded: p.totalBytesSent, progress: p.progress / 100 })
          })
        }
        return task
      })
    },
    fileSize: function (params) {
      return new Promise(function (resolve, reject) {
        fileSystem().getFileInfo({ filePath: params.filePath, success: function (res) { resolve(res.size) }, fail: reject })
      })
    },
    login: function () {
      return new Promise(function (resolve, reject) {
        api().login({ success: function (res) { res.code ? resolve(res.code) : reject(res) }, fail: reject })
      })
    },
    storage: {
      get: function (key) { try { return api().getStorageSync(key) || null } catch (e) { return null } },
      set: function (key, value) { try { api().setStorageSync(key, value) } catch (e) {} },
      remove: function (key) { try { api().removeStorageSync(key) } catch (e) {} }
    }
  }
}

module.exports = { createMiniProgramAdapter: createMiniProgramAdapter, abortable: abortable }
