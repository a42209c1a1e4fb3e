// Where the signer runs. `make local` prints its address (http://127.0.0.1:9000 by default); in WeChat
// DevTools tick 不校验合法域名 for local development. For a deployed function use its HTTPS custom domain.
module.exports = {
  baseUrl: 'http://127.0.0.1:9000',
  auth: 'wechat'
}
