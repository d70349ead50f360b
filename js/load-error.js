'use strict'
// The error thrown when no rampart binary fits this platform: it says which platform that is,
// which package would have the binary, and what to do.

/** 'gnu' or 'musl', as the napi-rs loader decides it (only called when loading failed). */
function libcFamily() {
  try {
    if (process.report) process.report.excludeNetwork = true // a report can hang on reverse DNS otherwise
    return process.report?.getReport()?.header?.glibcVersionRuntime ? 'gnu' : 'musl'
  } catch {
    return ''
  }
}

const PACKAGES = {
  'linux-x64': (libc) => `rampart-linux-x64-${libc}`,
  'linux-arm64': (libc) => `rampart-linux-arm64-${libc}`,
  'darwin-x64': () => 'rampart-darwin-x64',
  'darwin-arm64': () => 'rampart-darwin-arm64',
  'win32-x64': () => 'rampart-win32-x64-msvc',
  'win32-arm64': () => 'rampart-win32-arm64-msvc',
}

/** A clear Error for a failed load of the native bindings (`cause` keeps the loader's error). */
function noBinaryError(cause, platform = process.platform, arch = process.arch, libc = platform === 'linux' ? libcFamily() : '') {
  const key = `${platform}-${arch}`
  const pkg = PACKAGES[key]?.(libc)
  const where = `${key}${libc ? ` (${libc === 'gnu' ? 'glibc' : 'musl'})` : ''}`
  const message = pkg
    ? `rampart could not load its native binary for ${where}. It comes in the optional package ${pkg}: ` +
      `npm skips optional packages with --omit=optional, and a lockfile made on another platform may leave it out. ` +
      `Run \`npm install ${pkg}\`, or add rampart-wasm32-wasi for the slower WebAssembly fallback.`
    : `rampart has no native binary for ${where}. Add rampart-wasm32-wasi (npm install rampart-wasm32-wasi) ` +
      `to use the WebAssembly fallback, or open an issue asking for this platform.`
  const error = new Error(message, { cause })
  error.code = 'ERR_RAMPART_NO_BINARY'
  return error
}

module.exports = { noBinaryError }
