'use strict'
// Adapters by platform name. Each global (wx, uni, my, Taro, window) is looked up when used, never at import.

var UploadError = require('../errors.js').UploadError
var miniprogram = require('./miniprogram.js')
var alipay = require('./my.js')
var browser = require('./browser.js')

function globalNamed (name) {
  var g = typeof globalThis !== 'undefined' ? globalThis : {}
  return function () {
    /* global wx, uni, my, Taro */
    if (name === 'wx' && typeof wx !== 'undefined') return wx
    if (name === 'uni' && typeof uni !== 'undefined') return uni
    if (name === 'my' && typeof my !== 'undefined') return my
    if (name === 'Taro' && typeof Taro !== 'undefined') return Taro
    return g[name]
  }
}

function resolve (platform, options) {
  options = options || {}
  var api = options.api ? function () { return options.api } : null
  switch (platform || 'wx') {
    case 'wx': return miniprogram.createMiniProgramAdapter('wx', api || globalNamed('wx'))
    case 'uni': return miniprogram.createMiniProgramAdapter('uni', api || globalNamed('uni'))
    case 'taro': return miniprogram.createMiniProgramAdapter('taro', api || globalNamed('Taro'))
    case 'my': return alipay.createAlipayAdapter(api || globalNamed('my'))
    case 'browser': return browser.createBrowserAdapter()
    default: throw new UploadError('invalid_argument', 'unknown platform "' + platform + '": use wx, uni, taro, my or browser')
  }
}

module.exports = { resolve: resolve }
