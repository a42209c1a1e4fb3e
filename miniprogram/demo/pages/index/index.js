// Choose images or chat files, upload each with its own progress bar, show the result in plain words.

const { createAbortController, hintFor } = require('ossgate')

let nextId = 1
const controllers = {}

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
    login_failed: 'Signing in failed.'
  }
  const base = messages[error.code] || 'Upload failed'
  return error.code === 'ticket_refused' || error.code === 'oss_rejected' ? base + ': ' + error.message : base
}

Page({
  data: { items: [] },

  chooseImages () {
    wx.chooseMedia({
      count: 9,
      mediaType: ['image', 'video'],
      success: (res) => this.uploadAll(res.tempFiles.map((f) => ({
        path: f.tempFilePath, size: f.size, name: f.tempFilePath.split('/').pop()
      }))),
      fail: (error) => this.pickerFailed(error)
    })
  },

  chooseChatFiles () {
    wx.chooseMessageFile({
      count: 9,
      type: 'all',
      success: (res) => this.uploadAll(res.tempFiles.map((f) => ({ path: f.path, size: f.size, name: f.name }))),
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
    const items = [{ id, name: file.name, progress: 0, state: 'uploading', message: 'Waiting…' }].concat(this.data.items)
    this.setData({ items })
    const update = (patch) => {
      const index = this.data.items.findIndex((item) => item.id === id)
      if (index < 0) return
      const changes = {}
      Object.keys(patch).forEach((k) => { changes['items[' + index + '].' + k] = patch[k] })
      this.setData(changes)
    }
    const controller = createAbortController()
    controllers[id] = controller
    getApp().uploader.upload({
      signal: controller.signal,
      filePath: file.path,
      size: file.size,
      filename: file.name,
      contentType: file.type,
      onProgress: ({ progress }) => update({ progress: Math.round(progress * 100), message: 'Uploading…' })
    }).then((res) => {
      delete controllers[id]
      const size = res.data && res.data.width ? ' · ' + res.data.width + '×' + res.data.height : ''
      update({ state: 'done', progress: 100, message: 'Stored as ' + res.key + size, key: res.key })
    }, (error) => {
      delete controllers[id]
      update({ state: 'failed', message: plainWords(error), hint: error.hint || '' })
    })
  },

  cancel (event) {
    const controller = controllers[event.currentTarget.dataset.id]
    if (controller) controller.abort()
  },

  copyLink (event) {
    const key = event.currentTarget.dataset.key
    getApp().uploader.download(key).then((link) => {
      wx.setClipboardData({ data: link.url })
    }, (error) => wx.showToast({ title: plainWords(error), icon: 'none' }))
  }
})
