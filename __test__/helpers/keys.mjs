// generateKeyPairSync for tests, returning KeyObjects that share nothing with Node's key-generation
// job. On Node 20, exporting (as a JWK) a key straight from generateKeyPairSync can deadlock when a
// garbage collection during the export finalizes that job (see jwt-keyobject-gc.test.mjs); the
// tests export keys in many formats, so they take PEM-encoded output and import it again.
import { createPrivateKey, createPublicKey, generateKeyPairSync as generate } from 'node:crypto'

export function generateKeyPairSync(type, options = {}) {
  const { publicKey, privateKey } = generate(type, {
    ...options,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  return { publicKey: createPublicKey(publicKey), privateKey: createPrivateKey(privateKey) }
}
