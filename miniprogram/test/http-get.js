'use strict'
// GET a URL with Node's http client: { status, body (Buffer) }.

const http = require('node:http')

module.exports = function get (url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }))
    }).on('error', reject)
  })
}
