// Checks on the macOS and Windows release binaries, which cannot run on the Linux build machine.
// Plain readers of the Mach-O and PE headers (no objdump/otool needed, the same result everywhere):
//   format and CPU architecture          what the loader will be asked to open on that platform
//   exported symbols                     exactly napi_register_module_v1: no Rust, ring or C runtime
//                                        symbol leaks out of the addon (they could clash or be called)
//   minimum macOS version                the deployment target the build asked for (LC_BUILD_VERSION)
//   libraries it needs                   system libraries only; on Windows no node.exe either: the
//                                        Node-API functions are found in the host process at load time
//                                        (napi-rs `dyn-symbols`, what napi-rs always does with MSVC)
// Used by scripts/build-platforms.mjs on every binary it makes and by __test__/platform-checks.test.mjs.
import { readFileSync } from 'node:fs'

/** What each platform package must hold. `minMacos` is the deployment target the build sets. */
export const EXPECTED = {
  'darwin-x64': { format: 'mach-o', arch: 'x64', minMacos: '10.13' },
  'darwin-arm64': { format: 'mach-o', arch: 'arm64', minMacos: '11.0' },
  'win32-x64-msvc': { format: 'pe', arch: 'x64' },
  'win32-arm64-msvc': { format: 'pe', arch: 'arm64' },
}

const EXPORTS = ['napi_register_module_v1']

// Windows DLLs every supported Windows (10 and later) has. api-ms-win-* are the API sets (the
// Universal C runtime among them); the GNU builds use the UCRT, MSVC builds link it statically.
const WINDOWS_SYSTEM_DLLS = /^(kernel32|ntdll|advapi32|bcrypt|bcryptprimitives|ws2_32|userenv|ucrtbase|secur32|crypt32|shell32|ole32|user32|synchronization)\.dll$|^api-ms-win-[a-z0-9-]+\.dll$/i
// macOS: libSystem (with libiconv/libcharset, which Rust's standard library links) and frameworks.
const MACOS_SYSTEM_LIBS = /^\/usr\/lib\/(libSystem\.B|libiconv\.2|libcharset\.1|libc\+\+\.1|libobjc\.A|libresolv\.9)\.dylib$|^\/System\/Library\/Frameworks\//

function cString(buffer, offset) {
  const end = buffer.indexOf(0, offset)
  return buffer.toString('latin1', offset, end < 0 ? buffer.length : end)
}

function uleb(buffer, state) {
  let result = 0
  let shift = 0
  for (;;) {
    if (state.at >= buffer.length) throw new Error('truncated ULEB128 in the export trie')
    const byte = buffer[state.at++]
    result += (byte & 0x7f) * 2 ** shift
    if (!(byte & 0x80)) return result
    shift += 7
  }
}

/** Names in a Mach-O export trie (LC_DYLD_INFO export area or LC_DYLD_EXPORTS_TRIE). */
function exportTrie(trie) {
  const names = []
  const seen = new Set()
  const visit = (offset, prefix) => {
    if (seen.has(offset) || offset >= trie.length) throw new Error('malformed export trie')
    seen.add(offset)
    const state = { at: offset }
    const terminalSize = uleb(trie, state)
    if (terminalSize > 0) names.push(prefix)
    state.at += terminalSize
    const children = trie[state.at++]
    for (let i = 0; i < children; i++) {
      const edge = cString(trie, state.at)
      state.at += edge.length + 1
      visit(uleb(trie, state), prefix + edge)
    }
  }
  if (trie.length) visit(0, '')
  return names
}

const version = (v) => `${v >>> 16}.${(v >> 8) & 0xff}${v & 0xff ? `.${v & 0xff}` : ''}`

/** Format, arch, exports, needed libraries and minimum OS of a 64-bit Mach-O file. */
export function readMachO(buffer) {
  const magic = buffer.readUInt32LE(0)
  if (magic === 0xbebafeca || magic === 0xcafebabe) throw new Error('a universal (fat) Mach-O: one architecture per package expected')
  if (magic !== 0xfeedfacf) throw new Error('not a 64-bit Mach-O file')
  const arch = { 0x01000007: 'x64', 0x0100000c: 'arm64' }[buffer.readUInt32LE(4)] ?? `cputype 0x${buffer.readUInt32LE(4).toString(16)}`
  const filetype = { 6: 'dylib', 8: 'bundle' }[buffer.readUInt32LE(12)] ?? `filetype ${buffer.readUInt32LE(12)}`
  const ncmds = buffer.readUInt32LE(16)
  const libraries = []
  let minOs = null
  let trie = null
  let symtab = null
  let at = 32
  for (let i = 0; i < ncmds; i++) {
    const cmd = buffer.readUInt32LE(at)
    const size = buffer.readUInt32LE(at + 4)
    if (size < 8 || at + size > buffer.length) throw new Error('malformed load command')
    if ([0xc, 0x80000018, 0x8000001f, 0x20, 0x80000023].includes(cmd)) libraries.push(cString(buffer, at + buffer.readUInt32LE(at + 8)))
    else if (cmd === 0x32) minOs = { platform: buffer.readUInt32LE(at + 8) === 1 ? 'macos' : `platform ${buffer.readUInt32LE(at + 8)}`, version: version(buffer.readUInt32LE(at + 12)) }
    else if (cmd === 0x24) minOs = { platform: 'macos', version: version(buffer.readUInt32LE(at + 8)) }
    else if (cmd === 0x22 || cmd === 0x80000022) trie = [buffer.readUInt32LE(at + 40), buffer.readUInt32LE(at + 44)]
    else if (cmd === 0x80000033) trie = [buffer.readUInt32LE(at + 8), buffer.readUInt32LE(at + 12)]
    else if (cmd === 0x2) symtab = { symoff: buffer.readUInt32LE(at + 8), nsyms: buffer.readUInt32LE(at + 12), stroff: buffer.readUInt32LE(at + 16) }
    at += size
  }
  let exports
  if (trie) exports = exportTrie(buffer.subarray(trie[0], trie[0] + trie[1]))
  else if (symtab) {
    // No trie: the external symbols defined in a section (N_EXT, N_SECT, not a debug entry).
    exports = []
    for (let i = 0; i < symtab.nsyms; i++) {
      const entry = symtab.symoff + i * 16
      const type = buffer[entry + 4]
      if (!(type & 0xe0) && type & 0x01 && (type & 0x0e) === 0x0e) exports.push(cString(buffer, symtab.stroff + buffer.readUInt32LE(entry)))
    }
  } else exports = []
  // Mach-O C symbols carry a leading underscore.
  return { format: 'mach-o', arch, filetype, exports: exports.map((name) => name.replace(/^_/, '')), libraries, minOs }
}

/** Format, arch, exports and imported DLLs (eager and delay-loaded) of a PE32+ DLL. */
export function readPE(buffer) {
  if (buffer.toString('latin1', 0, 2) !== 'MZ') throw new Error('not a PE file (no MZ header)')
  const pe = buffer.readUInt32LE(0x3c)
  if (buffer.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error('not a PE file (no PE signature)')
  const machine = buffer.readUInt16LE(pe + 4)
  const arch = { 0x8664: 'x64', 0xaa64: 'arm64', 0x14c: 'ia32' }[machine] ?? `machine 0x${machine.toString(16)}`
  const sectionCount = buffer.readUInt16LE(pe + 6)
  const optionalSize = buffer.readUInt16LE(pe + 20)
  const isDll = Boolean(buffer.readUInt16LE(pe + 22) & 0x2000)
  const optional = pe + 24
  if (buffer.readUInt16LE(optional) !== 0x20b) throw new Error('not a PE32+ (64-bit) image')
  const directories = buffer.readUInt32LE(optional + 108)
  const directory = (index) => (index < directories ? { rva: buffer.readUInt32LE(optional + 112 + index * 8), size: buffer.readUInt32LE(optional + 116 + index * 8) } : { rva: 0, size: 0 })
  const sections = []
  for (let i = 0; i < sectionCount; i++) {
    const s = optional + optionalSize + i * 40
    sections.push({ va: buffer.readUInt32LE(s + 12), size: Math.max(buffer.readUInt32LE(s + 8), buffer.readUInt32LE(s + 16)), raw: buffer.readUInt32LE(s + 20) })
  }
  const offset = (rva) => {
    const section = sections.find((s) => rva >= s.va && rva < s.va + s.size)
    if (!section) throw new Error(`RVA 0x${rva.toString(16)} is in no section`)
    return rva - section.va + section.raw
  }
  const exports = []
  const exportDir = directory(0)
  if (exportDir.rva) {
    const at = offset(exportDir.rva)
    const count = buffer.readUInt32LE(at + 24)
    const names = offset(buffer.readUInt32LE(at + 32))
    for (let i = 0; i < count; i++) exports.push(cString(buffer, offset(buffer.readUInt32LE(names + i * 4))))
  }
  const libraries = []
  const importDir = directory(1)
  if (importDir.rva) {
    for (let at = offset(importDir.rva); buffer.readUInt32LE(at + 12) !== 0; at += 20) libraries.push(cString(buffer, offset(buffer.readUInt32LE(at + 12))))
  }
  const delayDir = directory(13)
  if (delayDir.rva) {
    for (let at = offset(delayDir.rva); buffer.readUInt32LE(at + 4) !== 0; at += 32) libraries.push(`${cString(buffer, offset(buffer.readUInt32LE(at + 4)))} (delay-loaded)`)
  }
  return { format: 'pe', arch, filetype: isDll ? 'dll' : 'exe', exports, libraries }
}

/** Reads a Mach-O or PE binary (anything else is reported by its first bytes). */
export function readBinary(file) {
  const buffer = readFileSync(file)
  if (buffer.length < 64) throw new Error(`${file}: too short for a binary`)
  if (buffer.toString('latin1', 0, 2) === 'MZ') return readPE(buffer)
  if ([0xfeedfacf, 0xbebafeca, 0xcafebabe, 0xfeedface].includes(buffer.readUInt32LE(0))) return readMachO(buffer)
  const elf = buffer.toString('latin1', 1, 4) === 'ELF'
  return { format: elf ? 'elf' : 'unknown', arch: null, exports: [], libraries: [] }
}

const compareVersions = (a, b) => {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)]
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0)
  return 0
}

/** Throws with every problem found unless `file` is a fit binary for `platform` (a key of EXPECTED). */
export function checkBinary(file, platform) {
  const expected = EXPECTED[platform]
  if (!expected) throw new Error(`no checks for ${platform}`)
  const info = readBinary(file)
  const problems = []
  if (info.format !== expected.format) problems.push(`is ${info.format}, not ${expected.format}`)
  else {
    if (info.arch !== expected.arch) problems.push(`is for ${info.arch}, not ${expected.arch}`)
    if (!['dylib', 'bundle', 'dll'].includes(info.filetype)) problems.push(`is not a shared library (${info.filetype})`)
    if (!info.exports.includes('napi_register_module_v1')) problems.push('does not export napi_register_module_v1')
    const extra = info.exports.filter((name) => !EXPORTS.includes(name))
    if (extra.length) problems.push(`exports ${extra.length} other symbol(s): ${extra.slice(0, 8).join(', ')}${extra.length > 8 ? ', ...' : ''}`)
    const system = expected.format === 'pe' ? WINDOWS_SYSTEM_DLLS : MACOS_SYSTEM_LIBS
    const foreign = info.libraries.filter((lib) => !system.test(lib))
    if (foreign.length) problems.push(`needs non-system libraries: ${foreign.join(', ')}`)
    if (expected.minMacos) {
      if (!info.minOs) problems.push('declares no minimum macOS version')
      else if (info.minOs.platform !== 'macos') problems.push(`is built for ${info.minOs.platform}, not macOS`)
      else if (compareVersions(info.minOs.version, expected.minMacos) !== 0) problems.push(`declares macOS ${info.minOs.version} as its minimum, not ${expected.minMacos}`)
    }
  }
  if (problems.length) throw new Error(`${file} (${platform}) ${problems.join('; ')}`)
  return info
}
