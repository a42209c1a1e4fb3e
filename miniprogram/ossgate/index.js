'use strict'
// ossgate client: direct uploads to Alibaba Cloud OSS with tickets from the ossgate signer.
//   const { createUploader } = require('./ossgate.js')
//   const uploader = createUploader({ baseUrl, platform: 'wx', auth: 'wechat' })
//   const { key } = await uploader.upload({ filePath, onProgress })

var uploader = require('./uploader.js')

module.exports = {
  createUploader: uploader.createUploader,
  UploadError: uploader.UploadError,
  createAbortController: require('./abort.js').createAbortController,
  DEFAULT_MULTIPART_THRESHOLD: uploader.DEFAULT_MULTIPART_THRESHOLD,
  hintFor: require('./hints.js').hintFor,
  HINT_RULES: require('./hints.js').RULES,
  inferContentType: require('./mime.js').inferContentType
}
