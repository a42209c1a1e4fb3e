'use strict'
// Runs the demo mini program's app.js and page in Node with a wx stand-in: App/Page/getApp and setData paths.

const path = require('node:path')

function setPath (data, key, value) {
  const parts = key.replace(/\[(\d+)\]/g, '.$1').split('.')
  let target = data
  for (let i = 0; i < parts.length - 1; i++) target = target[parts[i]]
  target[parts[parts.length - 1]] = value
}

function loadDemo (wx, baseUrl) {
  let app
  let pageDef
  global.wx = wx
  global.App = (def) => { app = def }
  global.getApp = () => app
  global.Page = (def) => { pageDef = def }
  const demo = path.join(__dirname, '..', 'demo')
  require(path.join(demo, 'config.js')).baseUrl = baseUrl
  require(path.join(demo, 'app.js'))
  app.onLaunch()
  require(path.join(demo, 'pages', 'index', 'index.js'))
  const page = Object.assign(Object.create(pageDef), { data: JSON.parse(JSON.stringify(pageDef.data)) })
  page.setData = function (changes) { Object.keys(changes).forEach((k) => setPath(this.data, k, changes[k])) }
  return page
}

async function until (check, ms = 15000) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('timed out')
}

module.exports = { loadDemo, until }
