const { createUploader } = require('ossgate')
const config = require('./config')

App({
  onLaunch () {
    // One uploader for the whole app: it keeps the session and queues uploads (3 at a time).
    this.uploader = createUploader({ baseUrl: config.baseUrl, platform: 'wx', auth: config.auth })
  }
})
