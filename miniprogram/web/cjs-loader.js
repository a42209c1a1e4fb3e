// A tiny CommonJS loader for the demo page: fetches a module and everything it requires (relative paths
// only), then runs them with module/exports/require, so the page uses the library files exactly as shipped.
/* eslint-disable no-new-func */
(function () {
  'use strict'
  var sources = {}
  var cache = {}

  function resolve (from, request) {
    var base = from.slice(0, from.lastIndexOf('/') + 1)
    var url = new URL(request, location.origin + base).pathname
    return /\.js$/.test(url) ? url : url + '.js'
  }

  function fetchTree (path) {
    if (sources[path] !== undefined) return Promise.resolve()
    sources[path] = null
    return fetch(path).then(function (res) {
      if (res.ok) return res.text()
      return fetch(path.replace(/\.js$/, '/index.js')).then(function (r) {
        if (!r.ok) throw new Error('cannot load ' + path)
        sources[path] = { redirect: path.replace(/\.js$/, '/index.js') }
        return fetchTree(sources[path].redirect).then(function () { return null })
      })
    }).then(function (text) {
      if (text === null) return
      sources[path] = text
      var code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '') // requires in comments do not count
      var pattern = /require\('(\.[^']+)'\)/g
      var found = []
      var match
      while ((match = pattern.exec(code))) found.push(fetchTree(resolve(path, match[1])))
      return Promise.all(found)
    })
  }

  function load (path) {
    var source = sources[path]
    if (source && source.redirect) return load(source.redirect)
    if (cache[path]) return cache[path].exports
    var module = { exports: {} }
    cache[path] = module
    new Function('module', 'exports', 'require', source)(module, module.exports, function (request) {
      return load(resolve(path, request))
    })
    return module.exports
  }

  window.loadCommonJs = function (path) {
    return fetchTree(path).then(function () { return load(path) })
  }
})()
