// Choose images or chat files, upload each with its own progress bar, show the result in plain words.
// Files from 10 MiB on go as resumable multipart uploads: Pause keeps what was sent, Resume (or choosing the same
// chat file again, even after the app restarted) sends only the rest, Discard drops it on OSS too.

// A declared image type (pinned by the ticket) is what lets the server have WeChat check the picture.
const { createAbortController, DEFAULT_MULTIPART_THRESHOLD, inferContentType } = require('ossgate')
const { TEXT, VERDICTS, plainWords, hint } = require('./text.js')

const CHECK_INTERVAL_MS = 2000
const CHECK_POLLS = 90 // WeChat answers within 30 minutes, usually within seconds; poll for 3 minutes

let nextId = 1
const controllers = {}
const files = {}

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
    wx.showModal({ title: TEXT.pickFailed, content: hint(error) || error.errMsg || String(error), showCancel: false })
  },

  uploadAll (files) {
    files.forEach((file) => this.uploadOne(file))
  },

  uploadOne (file) {
    const id = nextId++
    const large = file.size >= DEFAULT_MULTIPART_THRESHOLD
    const items = [{ id, name: file.name, progress: 0, state: 'uploading', message: TEXT.waiting, large }].concat(this.data.items)
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
      onProgress: ({ progress }) => this.update(id, { progress: Math.round(progress * 100), message: TEXT.uploading })
    })).then((res) => {
      delete controllers[id]
      delete files[id]
      const size = res.data && res.data.width ? ' · ' + res.data.width + '×' + res.data.height : ''
      const how = res.resumed ? TEXT.resumedAndStored : TEXT.stored
      this.update(id, { state: 'done', progress: 100, message: how + res.key + size, key: res.key, resumed: Boolean(res.resumed) })
      if (res.data && res.data.moderation === 'pending') this.followCheck(id, res.key)
    }, (error) => {
      delete controllers[id]
      if (error.code === 'aborted' && file.size >= DEFAULT_MULTIPART_THRESHOLD) {
        this.update(id, { state: 'paused', message: TEXT.paused })
        return
      }
      delete files[id]
      this.update(id, { state: 'failed', message: plainWords(error), hint: hint(error) })
    })
  },

  // MODERATION=wechat: WeChat checks the image or audio; its verdict arrives within minutes.
  followCheck (id, key, attempt = 0) {
    this.update(id, { check: TEXT.checking })
    getApp().uploader.moderationStatus(key).then(({ moderation }) => {
      if (VERDICTS[moderation]) {
        this.update(id, { check: VERDICTS[moderation], key: moderation === 'risky' ? '' : key })
      } else if (attempt < CHECK_POLLS) {
        setTimeout(() => this.followCheck(id, key, attempt + 1), CHECK_INTERVAL_MS)
      } else {
        this.update(id, { check: TEXT.stillChecking })
      }
    }, () => this.update(id, { check: TEXT.checkUnavailable }))
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
      this.update(id, { state: 'failed', message: TEXT.discarded })
    }, (error) => this.update(id, { hint: plainWords(error) }))
  },

  copyLink (event) {
    const key = event.currentTarget.dataset.key
    getApp().uploader.download(key).then((link) => {
      wx.setClipboardData({ data: link.url })
    }, (error) => wx.showToast({ title: plainWords(error), icon: 'none' }))
  }
})
