'use strict'
// Preloaded (node --require) into every suite run under Wine; never part of the package.
//
// Wine 8 (Debian 12) fails a TCP connect with UNKNOWN when keep-alive is switched on while the
// socket is still connecting (libuv sets the keep-alive interval on the pending socket, which Wine's
// Winsock refuses). undici, the fetch() inside Node, does exactly that, so every fetch() to a
// loopback server fails under Wine while http.get and net.connect work. Real Windows accepts it.
// This defers keep-alive to the 'connect' event, the only change: fetch() itself runs unchanged.
const net = require('node:net')

const setKeepAlive = net.Socket.prototype.setKeepAlive
net.Socket.prototype.setKeepAlive = function (...args) {
  if (this.connecting) {
    this.once('connect', () => setKeepAlive.apply(this, args))
    return this
  }
  return setKeepAlive.apply(this, args)
}
