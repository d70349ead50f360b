'use strict'
// Storage for the example: SQLite compiled to WebAssembly (sql.js), so it installs from npm with
// no build step and no server. The database lives in one file, written atomically after every
// change (fine for an example; a real deployment would use a server database).

const { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs')
const { dirname } = require('node:path')

const initSqlJs = require('sql.js')

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT 'user',
  phone TEXT,               -- encrypted at rest: a rampart Keyring envelope ('rmp1.' + base64url)
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS recovery_codes (
  user_id INTEGER NOT NULL REFERENCES users(id),
  hash TEXT NOT NULL,       -- HMAC-SHA-256 of the code (rampart RecoveryCodes): never the code
  PRIMARY KEY (user_id, hash)
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  id TEXT PRIMARY KEY,      -- SHA-256 of the token: the token itself is never stored
  user_id INTEGER NOT NULL REFERENCES users(id),
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
`

/** Opens (or creates) the database file `path`. */
async function openDatabase(path) {
  const SQL = await initSqlJs()
  const db = existsSync(path) ? new SQL.Database(readFileSync(path)) : new SQL.Database()
  db.exec(SCHEMA)
  // Columns added after the first version: TOTP secrets, encrypted at rest like the phone number.
  const columns = new Set((db.exec('PRAGMA table_info(users)')[0]?.values ?? []).map((row) => row[1]))
  for (const [column, type] of [['totp_secret', 'TEXT'], ['totp_pending', 'TEXT'], ['totp_last_step', 'INTEGER']]) {
    if (!columns.has(column)) db.exec(`ALTER TABLE users ADD COLUMN ${column} ${type}`)
  }
  let closed = false

  function save() {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(`${path}.tmp`, db.export(), { mode: 0o600 })
    renameSync(`${path}.tmp`, path)
  }

  function check() {
    if (closed) throw new Error('the database is closed')
  }

  /** Rows of a SELECT as objects. */
  function all(sql, params = []) {
    check()
    const statement = db.prepare(sql)
    try {
      statement.bind(params)
      const rows = []
      while (statement.step()) rows.push(statement.getAsObject())
      return rows
    } finally {
      statement.free()
    }
  }

  save()
  return {
    all,
    get: (sql, params) => all(sql, params)[0],
    /** Runs a change and saves the file; returns the last inserted row id. */
    run(sql, params = []) {
      check()
      db.run(sql, params)
      const id = db.exec('SELECT last_insert_rowid() AS id')[0].values[0][0]
      save()
      return id
    },
    /** Runs a change and saves the file; returns how many rows it changed. */
    change(sql, params = []) {
      check()
      db.run(sql, params)
      const changed = db.getRowsModified()
      if (changed > 0) save()
      return changed
    },
    close() {
      if (!closed) db.close()
      closed = true
    },
  }
}

module.exports = { openDatabase }
