'use strict'
// ossgate client: direct uploads to Alibaba Cloud OSS with tickets from the ossgate signer.
//   const { createUploader } = require('./ossgate')
//   const uploader = createUploader({ baseUrl, platform: 'wx', auth: 'wechat' })
//   const { key } = await uploader.upload({ filePath, onProgress })

var uploader = require('./uploader')

module.exports = {
  createUploader: uploader.createUploader,
  UploadError: uploader.UploadError,
  createAbortController: require('./abort').createAbortController
}
