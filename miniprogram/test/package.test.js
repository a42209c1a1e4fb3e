'use strict'
// `npm pack` in ossgate/ gives a publishable package: entries, types, WeChat's "build npm" folder, a README, and
// every file the entries require, nothing else.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const DIR = path.join(__dirname, '..', 'ossgate')
const pkg = JSON.parse(fs.readFileSync(path.join(DIR, 'package.json'), 'utf8'))

function packed () {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: DIR, encoding: 'utf8' })
  return JSON.parse(out)[0]
}

// Every file reachable from index.js through relative requires.
function required (file, seen) {
  seen = seen || new Set()
  if (seen.has(file)) return seen
  seen.add(file)
  const source = fs.readFileSync(path.join(DIR, file), 'utf8').replace(/^\s*\/\/.*$/gm, '') // not comments
  for (const match of source.matchAll(/require\('(\.[^']+)'\)/g)) {
    required(path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1])), seen)
  }
  return seen
}

test('package.json names the entries, the types and the mini-program folder', () => {
  assert.equal(pkg.name, 'ossgate')
  assert.match(pkg.version, /^\d+\.\d+\.\d+/)
  assert.equal(pkg.main, 'index.js')
  assert.equal(pkg.module, 'index.mjs')
  assert.equal(pkg.types, 'index.d.ts')
  assert.deepEqual(pkg.exports['.'], { types: './index.d.ts', import: './index.mjs', require: './index.js' })
  // WeChat DevTools' "build npm" copies the folder the `miniprogram` field names into miniprogram_npm/<name>/.
  const folder = path.join(DIR, pkg.miniprogram)
  assert.ok(fs.statSync(folder).isDirectory())
  assert.ok(fs.existsSync(path.join(folder, 'index.js')))
  assert.ok(Array.isArray(pkg.files) && pkg.files.length)
})

test('the tarball holds the entries, the types, the README and every required file; no tests', () => {
  const info = packed()
  const files = info.files.map((f) => f.path).sort()
  assert.equal(info.name, 'ossgate')
  for (const file of ['package.json', 'README.md', 'index.js', 'index.mjs', 'index.d.ts', 'hints.js', 'mime.js']) {
    assert.ok(files.includes(file), file + ' missing from ' + files.join(', '))
  }
  const needed = [...required('index.js')]
  assert.deepEqual(needed.filter((file) => !files.includes(file)), [])
  assert.deepEqual(files.filter((file) => /test|node_modules|\.tgz$/.test(file)), [])
  const extra = files.filter((file) => !needed.includes(file) && !['package.json', 'README.md', 'index.mjs', 'index.d.ts'].includes(file))
  assert.deepEqual(extra, [])
})

test('the README says how to add it to a mini program, uni-app and Taro', () => {
  const readme = fs.readFileSync(path.join(DIR, 'README.md'), 'utf8')
  assert.match(readme, /npm install ossgate/)
  assert.match(readme, /构建 npm/)
  assert.match(readme, /## uni-app/)
  assert.match(readme, /## Taro/)
})

test('the ES module and CommonJS entries export the same API', async () => {
  const esm = await import(path.join(DIR, 'index.mjs'))
  const cjs = require(DIR)
  for (const name of Object.keys(cjs)) assert.equal(esm[name], cjs[name], name)
  assert.equal(typeof esm.hintFor, 'function')
  assert.equal(typeof esm.inferContentType, 'function')
  const types = fs.readFileSync(path.join(DIR, 'index.d.ts'), 'utf8')
  for (const name of Object.keys(cjs)) assert.match(types, new RegExp('\\b' + name + '\\b'), name + ' has no type')
})
