'use strict'
// Alipay mini programs: my.uploadFile takes `fileName` (the field name) and a required `fileType`;
// my.request takes `headers`; storage calls take an options object.

var base = require('./miniprogram.js')
var UploadError = require('../errors.js').UploadError

function fileType (contentType) {
  var major = String(contentType || '').split('/')[0]
  return major === 'video' || major === 'audio' ? major : 'image'
}

function createAlipayAdapter (getApi) {
  function api () {
    var found = getApi()
    if (!found) throw new UploadError('invalid_argument', 'platform "my" (Alipay) is not available here')
    return found
  }
  var adapter = base.createMiniProgramAdapter('my', getApi)
  adapter.request = function (req) {
    return base.abortable(req.signal, function (resolve, reject) {
      return api().request({
        url: req.url, method: req.method, headers: req.headers, data: req.body, timeout: req.timeout, dataType: 'text',
        success: function (res) { resolve({ status: res.status, data: res.data, headers: res.headers || {} }) },
        fail: reject
      })
    })
  }
  adapter.uploadFile = function (req) {
    return base.abortable(req.signal, function (resolve, reject) {
      var task = api().uploadFile({
        url: req.url, filePath: req.filePath, fileName: 'file', fileType: fileType(req.contentType),
        formData: req.fields, timeout: req.timeout,
        success: function (res) { resolve({ status: res.statusCode, data: res.data, headers: res.header || {} }) },
        fail: reject
      })
      if (task && typeof task.onProgressUpdate === 'function') {
        task.onProgressUpdate(function (p) { req.onProgress({ loaded: p.totalBytesWritten, progress: p.progress / 100 }) })
      }
      return task
    })
  }
  // my.request supports GET, POST and DELETE, no PUT (https://help.aliyun.com/en/document_detail/67556.html):
  // large files go as one form upload.
  Object.defineProperty(adapter, 'canPutParts', { value: false })
  delete adapter.readChunk
  delete adapter.putPart
  adapter.login = function () {
    return Promise.reject(new UploadError('invalid_argument', "auth: 'wechat' needs WeChat; on Alipay pass { getToken }"))
  }
  adapter.storage = {
    get: function (key) { try { return api().getStorageSync({ key: key }).data || null } catch (e) { return null } },
    set: function (key, value) { try { api().setStorageSync({ key: key, data: value }) } catch (e) {} },
    remove: function (key) { try { api().removeStorageSync({ key: key }) } catch (e) {} }
  }
  return adapter
}

module.exports = { createAlipayAdapter: createAlipayAdapter, fileType: fileType }
