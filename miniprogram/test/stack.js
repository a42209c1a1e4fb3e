'use strict'
// Starts `python -m local.dev` (local OSS + local FC + local WeChat, as `make local`) for a test file.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..', '..')

function python () {
  if (process.env.OSSGATE_PYTHON) return process.env.OSSGATE_PYTHON
  const venv = path.join(ROOT, '.venv', 'bin', 'python')
  return fs.existsSync(venv) ? venv : 'python3'
}

function startStack (env = {}) {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'ossgate-js-'))
  const child = spawn(python(), ['-m', 'local.dev', '--fc-port', '0', '--oss-port', '0', '--wechat-port', '0', '--data', data], {
    cwd: ROOT, env: Object.assign({}, process.env, env), stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (c) => { stderr += c })
  return new Promise((resolve, reject) => {
    let buffer = ''
    const timer = setTimeout(() => { child.kill(); reject(new Error('local.dev did not start: ' + stderr)) }, 20000)
    child.stdout.on('data', (chunk) => {
      buffer += chunk
      const line = buffer.split('\n').find((l) => l.startsWith('ready '))
      if (line) {
        clearTimeout(timer)
        const info = JSON.parse(line.slice(6))
        info.stop = () => new Promise((done) => {
          if (child.exitCode !== null) return done()
          child.once('exit', () => { fs.rmSync(data, { recursive: true, force: true }); done() })
          child.kill('SIGTERM')
        })
        resolve(info)
      }
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error('local.dev exited ' + code + ': ' + stderr)) })
  })
}

module.exports = { startStack, ROOT, python }
