// Everything the demo page says, in Chinese (the people who use it read Chinese first).

const { HINT_RULES, hintFor } = require('ossgate')

const TEXT = {
  waiting: '等待中…',
  uploading: '上传中…',
  stored: '已存储为 ',
  resumedAndStored: '已续传并存储为 ',
  paused: '已暂停。继续时只发送缺少的部分。',
  discarded: '已放弃。',
  pickFailed: '无法选择文件',
  checking: '检测中…',
  stillChecking: '仍在检测中，请稍后再查看。',
  checkUnavailable: '无法查询检测结果。',
  uploadFailed: '上传失败'
}

const VERDICTS = {
  pass: '已通过微信内容安全检测。',
  review: '微信已将其标记为待人工复审。',
  risky: '已移除：微信判定其有风险。'
}

// UploadError codes in plain words; for the refusals the server's or OSS's own message follows.
const FAILURES = {
  network: '网络出错。请检查网络连接，并确认域名已加入小程序的合法域名列表。',
  aborted: '已取消。',
  empty_file: '文件是空的。',
  file_unreadable: '无法读取该文件。',
  ticket_refused: '服务器拒绝了这个文件',
  signer_unavailable: '服务器繁忙，请稍后再试。',
  oss_rejected: '存储服务拒绝了这次上传',
  callback_failed: '已上传，但未能通知服务器。',
  login_failed: '登录失败。',
  complete_refused: '服务器拒绝完成这次上传',
  quota_exceeded: '上传过于频繁或已超出额度，请稍后再试。'
}
const WITH_DETAILS = ['ticket_refused', 'oss_rejected', 'complete_refused']

// The client library's hints, in their Chinese wording
const RULES = HINT_RULES.map((rule) => Object.assign({}, rule, { hint: rule.zh || rule.hint }))

function plainWords (error) {
  const base = FAILURES[error.code] || TEXT.uploadFailed
  return WITH_DETAILS.indexOf(error.code) >= 0 ? base + '：' + error.message : base
}

// What a person can do about a failure (an UploadError or a picker's { errMsg, errno }), in Chinese.
function hint (error) {
  return hintFor(error, RULES) || ''
}

module.exports = { TEXT, VERDICTS, plainWords, hint }
