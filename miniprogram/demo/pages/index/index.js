// Choose images or chat files, upload each with its own progress bar, show the result in plain words.
// Files from 10 MiB on go as resumable multipart uploads: Pause keeps what was sent, Resume (or choosing the same
// chat file again, even after the app restarted) sends only the rest, Discard drops it on OSS too.

// A declared image type (pinned by the ticket) is what lets the server have WeChat check the picture.
const { createAbortController, DEFAULT_MULTIPART_THRESHOLD, hintFor, inferContentType } = require('ossgate')

const CHECK_INTERVAL_MS = 2000
const CHECK_POLLS = 90 // WeChat answers within 30 minutes, usually within seconds; poll for 3 minutes

let nextId = 1
const controllers = {}
const files = {}

function plainWords (error) {
  const messages = {
    network: 'The network failed. Check the connection and that the domain is on the legal-domain list.',
    aborted: 'Cancelled.',
    empty_file: 'The file is empty.',
    file_unreadable: 'The file could not be read.',
    ticket_refused: 'The server refused this file',
    signer_unavailable: 'The server is busy; try again in a moment.',
    oss_rejected: 'Storage refused the upload',
    callback_failed: 'Uploaded, but the server was not told.',
    login_failed: 'Signing in failed.',
    complete_refused: 'The server refused to finish this upload'
  }
  const base = messages[error.code] || 'Upload failed'
  return ['ticket_refused', 'oss_rejected', 'complete_refused'].indexOf(error.code) >= 0 ? base + ': ' + error.message : base
}

Page({
  data: { items: [] },

  chooseImages () {
    wx.chooseMedia({
      count: 9,
      mediaType: ['image', 'video'],
      success: (res) => this.uploadAll(res.tempFiles.map((f) => ({
        path: f.tempFilePath, size: f.size, name: f.tempFilePath.split('/').pop(),
        // the type from the extension; a picked photo or video is always declared as one (WeChat checks images)
        type: inferContentType(f.tempFilePath) || (f.fileType === 'video' ? 'video/mp4' : 'image/jpeg')
      }))),
      fail: (error) => this.pickerFailed(error)
    })
  },

  chooseChatFiles () {
    wx.chooseMessageFile({
      count: 9,
      type: 'all',
      // `name` and `time` (the chat file's modification time) identify the file across app launches for resuming
      success: (res) => this.uploadAll(res.tempFiles.map((f) => ({ path: f.path, size: f.size, name: f.name, time: f.time }))),
      fail: (error) => this.pickerFailed(error)
    })
  },

  // The picker failed (the privacy guide, a permission, ...): say what to do; a cancelled picker is silent.
  pickerFailed (error) {
    if (/cancel/.test(error.errMsg || '')) return
    wx.showModal({ title: 'Could not pick files', content: hintFor(error) || error.errMsg || String(error), showCancel: false })
  },

  uploadAll (files) {
    files.forEach((file) => this.uploadOne(file))
  },

  uploadOne (file) {
    const id = nextId++
    const large = file.size >= DEFAULT_MULTIPART_THRESHOLD
    const items = [{ id, name: file.name, progress: 0, state: 'uploading', message: 'Waiting…', large }].concat(this.data.items)
    this.setData({ items })
    files[id] = file
    this.start(id)
  },

  update (id, patch) {
    const index = this.data.items.findIndex((item) => item.id === id)
    if (index < 0) return
    const changes = {}
    Object.keys(patch).forEach((k) => { changes['items[' + index + '].' + k] = patch[k] })
    this.setData(changes)
  },

  start (id) {
    const file = files[id]
    const controller = createAbortController()
    controllers[id] = controller
    this.update(id, { state: 'uploading', hint: '' })
    getApp().uploader.upload(Object.assign(this.described(file), {
      signal: controller.signal,
      contentType: file.type,
      onProgress: ({ progress }) => this.update(id, { progress: Math.round(progress * 100), message: 'Uploading…' })
    })).then((res) => {
      delete controllers[id]
      delete files[id]
      const size = res.data && res.data.width ? ' · ' + res.data.width + '×' + res.data.height : ''
      const how = res.resumed ? 'Resumed and stored as ' : 'Stored as '
      this.update(id, { state: 'done', progress: 100, message: how + res.key + size, key: res.key, resumed: Boolean(res.resumed) })
      if (res.data && res.data.moderation === 'pending') this.followCheck(id, res.key)
    }, (error) => {
      delete controllers[id]
      if (error.code === 'aborted' && file.size >= DEFAULT_MULTIPART_THRESHOLD) {
        this.update(id, { state: 'paused', message: 'Paused. Resume sends only what is missing.' })
        return
      }
      delete files[id]
      this.update(id, { state: 'failed', message: plainWords(error), hint: error.hint || '' })
    })
  },

  // MODERATION=wechat: WeChat checks the image or audio; its verdict arrives within minutes.
  followCheck (id, key, attempt = 0) {
    const verdicts = {
      pass: 'Passed WeChat\'s content check.',
      review: 'WeChat flagged it for review.',
      risky: 'Removed: WeChat judged it risky.'
    }
    this.update(id, { check: 'Checking…' })
    getApp().uploader.moderationStatus(key).then(({ moderation }) => {
      if (verdicts[moderation]) {
        this.update(id, { check: verdicts[moderation], key: moderation === 'risky' ? '' : key })
      } else if (attempt < CHECK_POLLS) {
        setTimeout(() => this.followCheck(id, key, attempt + 1), CHECK_INTERVAL_MS)
      } else {
        this.update(id, { check: 'Still being checked; look again later.' })
      }
    }, () => this.update(id, { check: 'Could not ask for the check\'s result.' }))
  },

  // What identifies the file for resuming: its path, or the chat file's name and modification time.
  described (file) {
    const params = { filePath: file.path, size: file.size, filename: file.name }
    if (file.time !== undefined) params.lastModified = file.time
    return params
  },

  cancel (event) {
    const controller = controllers[event.currentTarget.dataset.id]
    if (controller) controller.abort()
  },

  // WeChat fails requests still pending 5 s after the mini program goes to the background: pause large uploads
  // when the page is hidden and resume them when it shows again (small ones simply retry).
  onHide () {
    this.autoPaused = Object.keys(controllers).map(Number).filter((id) => files[id] && files[id].size >= DEFAULT_MULTIPART_THRESHOLD)
    this.autoPaused.forEach((id) => controllers[id].abort())
  },

  onShow () {
    const ids = this.autoPaused || []
    this.autoPaused = []
    ids.forEach((id) => { if (files[id]) this.start(id) })
  },

  resume (event) {
    const id = event.currentTarget.dataset.id
    if (files[id]) this.start(id)
  },

  discard (event) {
    const id = event.currentTarget.dataset.id
    if (!files[id]) return
    getApp().uploader.discard(this.described(files[id])).then(() => {
      delete files[id]
      this.update(id, { state: 'failed', message: 'Discarded.' })
    }, (error) => this.update(id, { hint: plainWords(error) }))
  },

  copyLink (event) {
    const key = event.currentTarget.dataset.key
    getApp().uploader.download(key).then((link) => {
      wx.setClipboardData({ data: link.url })
    }, (error) => wx.showToast({ title: plainWords(error), icon: 'none' }))
  }
})
