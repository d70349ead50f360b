'use strict'
// Client IP to rate-limit key: IPv4 as is, IPv4-mapped IPv6 unwrapped to IPv4, other IPv6
// addresses reduced to their network prefix (default /56), since one subscriber usually holds a
// whole IPv6 prefix and could otherwise rotate through billions of addresses.

const { isIP, isIPv4 } = require('node:net')

/**
 * Expands an IPv6 address into its eight 16-bit groups, or returns null.
 * @param {string} address
 * @returns {number[] | null}
 */
function ipv6Groups(address) {
  let text = address.split('%')[0] // zone id (fe80::1%eth0) is local routing, not identity
  const lastColon = text.lastIndexOf(':')
  const dotted = text.slice(lastColon + 1)
  if (dotted.includes('.')) {
    // An embedded IPv4 tail (::ffff:192.0.2.1) is the last two groups written in decimal.
    if (!isIPv4(dotted)) return null
    const [a, b, c, d] = dotted.split('.').map(Number)
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return null
  const parse = (part) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)))
  const head = parse(halves[0])
  const rest = halves.length === 2 ? parse(halves[1]) : []
  const missing = 8 - head.length - rest.length
  if (halves.length === 1 && missing !== 0) return null
  if (missing < 0 || [...head, ...rest].some((g) => !(g >= 0 && g <= 0xffff))) return null
  return [...head, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...rest]
}

/**
 * The rate-limit key for a client address (what `rateLimit` uses by default).
 * @param {string} ip  `req.ip`
 * @param {number | false} [ipv6Subnet=56]  prefix length kept for IPv6 (32-64), or false for the full address
 * @returns {string}
 */
function ipKeyGenerator(ip, ipv6Subnet = 56) {
  if (typeof ip !== 'string') return ''
  if (isIP(ip) === 4) return ip
  const groups = isIP(ip.split('%')[0]) === 6 ? ipv6Groups(ip) : null
  if (!groups) return ip
  // ::ffff:a.b.c.d (IPv4-mapped) and ::a.b.c.d (IPv4-compatible) are IPv4 clients.
  const upperZero = groups.slice(0, 5).every((g) => g === 0)
  if (upperZero && (groups[5] === 0xffff || (groups[5] === 0 && groups[6] !== 0))) {
    return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.')
  }
  const bits = ipv6Subnet === false ? 128 : ipv6Subnet
  const masked = groups.map((group, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16))
    return keep === 16 ? group : keep === 0 ? 0 : group & ((0xffff << (16 - keep)) & 0xffff)
  })
  const text = masked.map((g) => g.toString(16)).join(':')
  return ipv6Subnet === false ? text : `${text}/${bits}`
}

module.exports = { ipKeyGenerator }
