'use strict'
// Security events (rampart/events on node:diagnostics_channel) written to the app's pino logger,
// which redacts as every other line. The payloads hold ids, IPs and codes only.

const diagnosticsChannel = require('node:diagnostics_channel')

const { NAMES } = require('rampart/events')

/** Subscribes `logger` to every rampart channel; returns the function that unsubscribes it. */
function logSecurityEvents(logger) {
  const listener = (payload) => logger.warn({ securityEvent: payload }, `security: ${payload.event}`)
  for (const name of Object.values(NAMES)) diagnosticsChannel.subscribe(name, listener)
  return () => {
    for (const name of Object.values(NAMES)) diagnosticsChannel.unsubscribe(name, listener)
  }
}

module.exports = { logSecurityEvents }
