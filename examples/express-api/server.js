'use strict'
// `npm run demo`: starts the example API on 127.0.0.1 (PORT, default 3000) with its database and
// generated secrets in ./data (DATA_DIR to change), and prints a few requests to try.

const { join } = require('node:path')

const { createApp } = require('./app.js')
const { openDatabase } = require('./db.js')
const { loadSecrets } = require('./secrets.js')

async function main() {
  const dataDir = process.env.DATA_DIR ?? join(__dirname, 'data')
  const db = await openDatabase(join(dataDir, 'app.sqlite'))
  const { app, logger } = await createApp({ db, secrets: loadSecrets(dataDir) })
  const port = Number(process.env.PORT ?? 3000)
  const server = app.listen(port, '127.0.0.1', () => {
    const url = `http://127.0.0.1:${server.address().port}`
    process.stderr.write(
      [
        '',
        `rampart example API on ${url} (data in ${dataDir}; Ctrl+C to stop). Try:`,
        '',
        `  curl -s ${url}/auth/register -H 'content-type: application/json' -d '{"email":"ann@example.com","password":"correct horse battery","phone":"+1 555 0100"}'`,
        `  TOKEN=$(curl -s ${url}/auth/login -H 'content-type: application/json' -d '{"email":"ann@example.com","password":"correct horse battery"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).accessToken')`,
        `  curl -s ${url}/me -H "authorization: Bearer $TOKEN"`,
        `  curl -s ${url}/admin/users -H "authorization: Bearer $TOKEN"`,
        `  curl -si ${url}/me -H 'authorization: Bearer not-a-token'`,
        `  open http://localhost:${server.address().port}/mfa.html   (sign-in page with two-factor enrolment)`,
        '',
        'Request logs below are JSON lines; passwords and tokens in them are redacted.',
        '',
      ].join('\n'),
    )
  })
  const stop = () => {
    server.close(() => {
      db.close()
      logger.flush?.()
      process.exit(0)
    })
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`)
  process.exit(1)
})
