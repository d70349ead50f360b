// Real Redis servers for tests: `startRedis()` runs redis-server on a free loopback port (DEBUG
// allowed, no persistence, files in a temp folder), `startCluster()` three of them joined with
// `redis-cli --cluster create`. Both throw (so the test FAILS, never skips) when redis-server or
// redis-cli is missing: .ci/run installs them. Call `stop()` in an `after` hook. `sharedRedis()`
// does all of that for a test file, with one client of each kind.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { promisify } from 'node:util'

const HOST = '127.0.0.1'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** A port that was free a moment ago (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, HOST, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Parses one RESP2 reply at `offset` of `text`: `[value, end]`, or undefined if incomplete. */
function parseReply(text, offset = 0) {
  const eol = text.indexOf('\r\n', offset)
  if (eol < 0) return undefined
  const type = text[offset]
  const line = text.slice(offset + 1, eol)
  if (type === '+') return [line, eol + 2]
  if (type === '-') return [new Error(line), eol + 2]
  if (type === ':') return [Number(line), eol + 2]
  if (type === '$') {
    const length = Number(line)
    if (length < 0) return [null, eol + 2]
    const bytes = Buffer.from(text.slice(eol + 2), 'latin1')
    if (bytes.length < length + 2) return undefined
    return [bytes.subarray(0, length).toString('latin1'), eol + 2 + length + 2]
  }
  if (type === '*') {
    const count = Number(line)
    const items = []
    let at = eol + 2
    for (let i = 0; i < count; i++) {
      const item = parseReply(text, at)
      if (item === undefined) return undefined
      items.push(item[0])
      at = item[1]
    }
    return [count < 0 ? null : items, at]
  }
  return [new Error(`not RESP: ${JSON.stringify(text.slice(0, 20))}`), text.length]
}

/**
 * Sends one command over a fresh connection and resolves the parsed reply (a string, number,
 * array, null, or an Error for an error reply).
 */
export function rawCommand(port, args, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port })
    let data = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no reply from ${HOST}:${port}`))
    }, timeoutMs)
    socket.setEncoding('latin1')
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`))
    socket.on('data', (chunk) => {
      data += chunk
      const reply = parseReply(data)
      if (reply === undefined) return
      clearTimeout(timer)
      socket.end()
      resolve(reply[0])
    })
  })
}

function spawnServer(port, dir, extra) {
  const args = [
    '--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir,
    '--enable-debug-command', 'yes', '--protected-mode', 'yes', ...extra,
  ]
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const failed = new Promise((_, reject) => {
    child.once('error', (error) => {
      reject(
        error.code === 'ENOENT'
          ? new Error('redis-server is not installed: the Redis tests need it (apt-get install redis-server; .ci/run does this)')
          : error,
      )
    })
    child.once('exit', (code, signal) => reject(new Error(`redis-server on port ${port} exited (${signal ?? code})`)))
  })
  failed.catch(() => {})
  return { child, failed }
}

async function waitReady(port, failed) {
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      if ((await Promise.race([rawCommand(port, ['PING'], 500), failed])) === 'PONG') return
    } catch (error) {
      if (error.message.includes('redis-server')) throw error
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`)
    await sleep(30)
  }
}

/**
 * Starts redis-server. Returns `{ host, port, url, kill(signal), restart(), stop() }`: `kill`
 * stops it abruptly (SIGKILL by default) and `restart` starts it again on the same port (if stopped).
 */
export async function startRedis({ args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-redis-'))
  const port = await freePort()
  let server
  const alive = () => server !== undefined && server.child.exitCode === null && server.child.signalCode === null
  const start = async () => {
    if (alive()) return
    server = spawnServer(port, dir, args)
    await waitReady(port, server.failed)
  }
  await start()
  const kill = async (signal = 'SIGKILL') => {
    if (!alive()) return
    const { child } = server
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    await exited
  }
  return {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    kill,
    restart: start,
    command: (...command) => rawCommand(port, command),
    async stop() {
      await kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Starts a 3-master Redis Cluster on loopback. Returns `{ nodes: [{ host, port }], stop() }`
 * once every node reports `cluster_state:ok`.
 */
export async function startCluster() {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-cluster-'))
  const servers = []
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      const busPort = await freePort()
      const server = spawnServer(port, dir, [
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-port', String(busPort),
        '--cluster-node-timeout', '5000',
      ])
      servers.push({ port, ...server })
      await waitReady(port, server.failed)
    }
    const run = promisify(execFile)
    try {
      await run('redis-cli', ['--cluster', 'create', ...servers.map((s) => `${HOST}:${s.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
        timeout: 30_000,
      })
    } catch (error) {
      if (error.code === 'ENOENT') throw new Error('redis-cli is not installed: the Redis Cluster test needs it (apt-get install redis-tools)')
      throw error
    }
    const deadline = Date.now() + 20_000
    for (const { port } of servers) {
      while (!String(await rawCommand(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error('the Redis Cluster did not reach cluster_state:ok')
        await sleep(50)
      }
    }
  } catch (error) {
    for (const { child } of servers) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    nodes: servers.map(({ port }) => ({ host: HOST, port })),
    command: (...command) => rawCommand(servers[0].port, command),
    async stop() {
      await Promise.all(
        servers.map(({ child }) => {
          if (child.exitCode !== null || child.signalCode !== null) return undefined
          const exited = new Promise((resolve) => child.once('exit', resolve))
          child.kill('SIGKILL')
          return exited
        }),
      )
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Every key under `pattern` (SCAN) with its PTTL, through an ioredis or node-redis client:
 * `[{ key, pttl }]`. A pttl of -1 is a key without a TTL.
 */
export async function keysWithTtl(client, pattern) {
  const found = []
  const isIoredis = typeof client.scanStream === 'function'
  let cursor = '0'
  do {
    let keys
    if (isIoredis) {
      ;[cursor, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    } else {
      const reply = await client.scan(cursor, { MATCH: pattern, COUNT: 1000 })
      cursor = String(reply.cursor)
      keys = reply.keys
    }
    for (const key of keys) found.push({ key, pttl: Number(await (isIoredis ? client.pttl(key) : client.pTTL(key))) })
  } while (cursor !== '0')
  return found
}

/**
 * For a test file: before its tests, starts a redis-server and connects an ioredis and a
 * node-redis client to it (`redis.server`, `redis.io`, `redis.nr` once they run); after them,
 * checks that every key matching `pattern` has a TTL (nothing rampart writes may outlive its
 * window), and stops the clients and the server whatever that check finds.
 */
export function sharedRedis(pattern) {
  const redis = { server: undefined, io: undefined, nr: undefined }
  before(async () => {
    const { default: Redis } = await import('ioredis')
    const { createClient } = await import('redis')
    redis.server = await startRedis()
    redis.io = new Redis({ port: redis.server.port, host: redis.server.host, lazyConnect: true })
    await redis.io.connect()
    redis.nr = createClient({ url: redis.server.url })
    redis.nr.on('error', () => {})
    await redis.nr.connect()
  })
  after(async () => {
    const { server, io, nr } = redis
    const keys = io?.status === 'ready' ? await keysWithTtl(io, pattern) : []
    io?.disconnect()
    await nr?.quit().catch(() => {})
    await server?.stop()
    assert.deepEqual(
      keys.filter((k) => k.pttl < 0),
      [],
      `keys matching ${pattern} without a TTL`,
    )
  })
  return redis
}
