// The checks scripts/build-platforms.mjs applies to every release binary can fail. Linux: the
// development build (linked on this machine's newer glibc) must not pass the C-library checks.
// macOS and Windows: see below.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { EXPECTED, checkBinary, readMachO, readPE } from '../scripts/binary-checks.mjs'
import { checkLibc, glibcNeeded } from '../scripts/build-platforms.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const dev = readdirSync(root).find((name) => name === 'rampart.linux-x64-gnu.node')

test('a binary that needs a glibc newer than 2.28 fails the gnu check, and any glibc binary fails the musl check', { skip: !dev && 'no linux-x64-gnu development build' }, () => {
  const file = `${root}${dev}`
  const needed = glibcNeeded(file)
  assert.ok(needed, 'the development build uses glibc symbols')
  if (needed[0] > 2 || needed[1] > 28) assert.throws(() => checkLibc(file, 'gnu'), /above the 2\.28 floor/)
  else assert.doesNotThrow(() => checkLibc(file, 'gnu'))
  assert.throws(() => checkLibc(file, 'musl'), /not a musl binary/)
})

test('release binaries, when built, pass their checks', { skip: !existsSync(`${root}npm/linux-x64-musl/rampart.linux-x64-musl.node`) && 'run npm run build:platforms first' }, () => {
  assert.doesNotThrow(() => checkLibc(`${root}npm/linux-x64-gnu/rampart.linux-x64-gnu.node`, 'gnu'))
  assert.doesNotThrow(() => checkLibc(`${root}npm/linux-x64-musl/rampart.linux-x64-musl.node`, 'musl'))
})

// The macOS and Windows checks (scripts/binary-checks.mjs), on minimal Mach-O and PE files built
// here, so each check is seen to fail on the defect it is for; then on the real binaries if built.

const uleb = (n) => {
  const bytes = []
  do {
    bytes.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0))
    n >>>= 7
  } while (n)
  return bytes
}

/** A 64-bit Mach-O dylib with an export trie, LC_BUILD_VERSION and the given libraries. */
function machO({ cpu = 'x64', exports = ['_napi_register_module_v1'], libraries = ['/usr/lib/libSystem.B.dylib'], minos = '10.13', fat = false } = {}) {
  if (fat) return Buffer.from([0xca, 0xfe, 0xba, 0xbe, ...new Array(60).fill(0)])
  // Trie: a root with one edge per full name, each child a terminal node with no children.
  const children = exports.map(() => [2, 0, 0, 0])
  const rootSize = (offsets) => 2 + exports.reduce((n, name, i) => n + name.length + 1 + uleb(offsets[i]).length, 0)
  let offsets = exports.map(() => 0)
  for (let pass = 0; pass < 3; pass++) {
    let at = rootSize(offsets)
    offsets = children.map((c) => ((at += c.length), at - c.length))
  }
  const trie = [0, exports.length]
  exports.forEach((name, i) => trie.push(...Buffer.from(`${name}\0`), ...uleb(offsets[i])))
  for (const c of children) trie.push(...c)
  const commands = []
  const [major, minor = 0] = minos ? minos.split('.').map(Number) : []
  if (minos) commands.push(Buffer.from(new Uint32Array([0x32, 24, 1, (major << 16) | (minor << 8), 0, 0]).buffer))
  for (const lib of libraries) {
    const name = Buffer.from(`${lib}\0`)
    const size = Math.ceil((24 + name.length) / 8) * 8
    const command = Buffer.alloc(size)
    command.writeUInt32LE(0xc, 0)
    command.writeUInt32LE(size, 4)
    command.writeUInt32LE(24, 8)
    name.copy(command, 24)
    commands.push(command)
  }
  const trieCommand = Buffer.alloc(16)
  commands.push(trieCommand)
  const header = Buffer.alloc(32)
  const sizeofcmds = commands.reduce((n, c) => n + c.length, 0)
  header.writeUInt32LE(0xfeedfacf, 0)
  header.writeUInt32LE(cpu === 'x64' ? 0x01000007 : 0x0100000c, 4)
  header.writeUInt32LE(6, 12) // MH_DYLIB
  header.writeUInt32LE(commands.length, 16)
  header.writeUInt32LE(sizeofcmds, 20)
  trieCommand.writeUInt32LE(0x80000033, 0)
  trieCommand.writeUInt32LE(16, 4)
  trieCommand.writeUInt32LE(32 + sizeofcmds, 8)
  trieCommand.writeUInt32LE(trie.length, 12)
  return Buffer.concat([header, ...commands, Buffer.from(trie)])
}

/** A PE32+ DLL with one section holding an export directory and an import directory. */
function pe({ cpu = 'x64', exports = ['napi_register_module_v1'], dlls = ['KERNEL32.dll', 'ntdll.dll'], dll = true } = {}) {
  const file = Buffer.alloc(0x200 + 0x1000)
  file.write('MZ', 0, 'latin1')
  file.writeUInt32LE(0x40, 0x3c)
  file.write('PE\0\0', 0x40, 'latin1')
  const coff = 0x44
  file.writeUInt16LE(cpu === 'x64' ? 0x8664 : 0xaa64, coff)
  file.writeUInt16LE(1, coff + 2)
  file.writeUInt16LE(240, coff + 16)
  file.writeUInt16LE(dll ? 0x2022 : 0x22, coff + 18)
  const optional = coff + 20
  file.writeUInt16LE(0x20b, optional)
  file.writeUInt32LE(16, optional + 108)
  const section = optional + 240
  file.writeUInt32LE(0x1000, section + 8) // VirtualSize
  file.writeUInt32LE(0x1000, section + 12) // VirtualAddress
  file.writeUInt32LE(0x1000, section + 16) // SizeOfRawData
  file.writeUInt32LE(0x200, section + 20) // PointerToRawData
  const at = (rva) => rva - 0x1000 + 0x200
  let strings = 0x1800
  const string = (text) => {
    file.write(`${text}\0`, at(strings), 'latin1')
    return (strings += text.length + 1) - text.length - 1
  }
  file.writeUInt32LE(0x1000, optional + 112) // export directory
  file.writeUInt32LE(exports.length, at(0x1000) + 24)
  file.writeUInt32LE(0x1100, at(0x1000) + 32)
  exports.forEach((name, i) => file.writeUInt32LE(string(name), at(0x1100) + i * 4))
  file.writeUInt32LE(0x1400, optional + 120) // import directory
  dlls.forEach((name, i) => file.writeUInt32LE(string(name), at(0x1400) + i * 20 + 12))
  return file
}

const work = mkdtempSync(join(tmpdir(), 'rampart-binary-checks-'))
process.on('exit', () => rmSync(work, { recursive: true, force: true }))
let files = 0
const check = (buffer, platform) => {
  const file = join(work, `b${files++}`)
  writeFileSync(file, buffer)
  return checkBinary(file, platform)
}

test('the Mach-O and PE readers see what the minimal files hold', () => {
  const mach = readMachO(machO({ cpu: 'arm64', exports: ['_napi_register_module_v1', '_ring_core_x'], minos: '11.0' }))
  assert.deepEqual(mach, { format: 'mach-o', arch: 'arm64', filetype: 'dylib', exports: ['napi_register_module_v1', 'ring_core_x'], libraries: ['/usr/lib/libSystem.B.dylib'], minOs: { platform: 'macos', version: '11.0' } })
  assert.deepEqual(readPE(pe({ dlls: ['KERNEL32.dll', 'node.exe'] })), { format: 'pe', arch: 'x64', filetype: 'dll', exports: ['napi_register_module_v1'], libraries: ['KERNEL32.dll', 'node.exe'] })
})

test('a fit macOS or Windows binary passes; each defect fails its own check', () => {
  assert.equal(check(machO(), 'darwin-x64').minOs.version, '10.13')
  assert.equal(check(machO({ cpu: 'arm64', minos: '11.0' }), 'darwin-arm64').arch, 'arm64')
  assert.equal(check(pe(), 'win32-x64-msvc').arch, 'x64')
  assert.equal(check(pe({ cpu: 'arm64', dlls: ['api-ms-win-crt-heap-l1-1-0.dll', 'bcryptprimitives.dll'] }), 'win32-arm64-msvc').arch, 'arm64')
  const fails = (buffer, platform, pattern) => assert.throws(() => check(buffer, platform), pattern)
  fails(machO({ cpu: 'arm64', minos: '10.13' }), 'darwin-x64', /is for arm64, not x64/)
  fails(pe(), 'darwin-x64', /is pe, not mach-o/)
  fails(machO(), 'win32-x64-msvc', /is mach-o, not pe/)
  fails(pe({ cpu: 'arm64' }), 'win32-x64-msvc', /is for arm64, not x64/)
  fails(machO({ exports: ['_napi_register_module_v1', '__ZN4core9panicking5panic17h0123456789abcdefE'] }), 'darwin-x64', /exports 1 other symbol\(s\): _ZN4core9panicking/)
  fails(pe({ exports: ['napi_register_module_v1', 'rust_eh_personality', 'ring_core_0_17_14__bn_mul_mont'] }), 'win32-x64-msvc', /exports 2 other symbol\(s\): rust_eh_personality, ring_core/)
  fails(pe({ exports: [] }), 'win32-x64-msvc', /does not export napi_register_module_v1/)
  fails(machO({ exports: [] }), 'darwin-x64', /does not export napi_register_module_v1/)
  fails(pe({ dlls: ['KERNEL32.dll', 'node.exe'] }), 'win32-x64-msvc', /non-system libraries: node\.exe/)
  fails(pe({ dlls: ['KERNEL32.dll', 'VCRUNTIME140.dll'] }), 'win32-x64-msvc', /non-system libraries: VCRUNTIME140\.dll/)
  fails(pe({ dll: false }), 'win32-x64-msvc', /not a shared library \(exe\)/)
  fails(machO({ libraries: ['/usr/lib/libSystem.B.dylib', '/opt/homebrew/lib/libssl.3.dylib'] }), 'darwin-x64', /non-system libraries: \/opt\/homebrew/)
  fails(machO({ minos: '15.0' }), 'darwin-x64', /declares macOS 15\.0 as its minimum, not 10\.13/)
  fails(machO({ minos: null }), 'darwin-x64', /declares no minimum macOS version/)
  fails(machO({ fat: true }), 'darwin-arm64', /universal \(fat\) Mach-O/)
})

const built = Object.keys(EXPECTED).map((platform) => [platform, `${root}npm/${platform}/rampart.${platform}.node`])
test('the macOS and Windows release binaries, when built, pass their checks', { skip: !built.some(([, file]) => existsSync(file)) && 'run npm run build:platforms first' }, () => {
  for (const [platform, file] of built) if (existsSync(file)) assert.doesNotThrow(() => checkBinary(file, platform))
})
