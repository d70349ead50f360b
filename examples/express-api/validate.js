'use strict'
// A small request-body validator: each rule says what a field must be, and the first problem
// becomes a 400 with a message naming the field (never echoing its value).

class ValidationError extends Error {
  constructor(message) {
    super(message)
    this.status = 400
    this.expose = true
  }
}

const rules = {
  email: (value) => typeof value === 'string' && value.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value),
  password: (value) => typeof value === 'string' && value.length >= 12 && value.length <= 256,
  phone: (value) => typeof value === 'string' && /^\+?[0-9 ()-]{6,20}$/.test(value),
  token: (value) => typeof value === 'string' && value.length > 0 && value.length <= 512,
  mfaToken: (value) => typeof value === 'string' && value.length > 0 && value.length <= 128,
  // Checked for shape by rampart (a wrong shape is a wrong code); only the size is limited here.
  code: (value) => typeof value === 'string' && value.length <= 64,
  recoveryCode: (value) => typeof value === 'string' && value.length <= 64,
}

const messages = {
  email: 'must be an email address',
  password: 'must be a string of 12 to 256 characters',
  phone: 'must be a phone number',
  token: 'must be a non-empty string',
  mfaToken: 'must be the mfaToken from /auth/login',
  code: 'must be the code from the authenticator app',
  recoveryCode: 'must be a recovery code',
}

/** Express middleware: `body` must have `required` fields and may have `optional` ones. */
function body(required, optional = []) {
  return (req, _res, next) => {
    const input = req.body
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      return next(new ValidationError('The request body must be a JSON object'))
    }
    for (const field of required) {
      if (input[field] === undefined) return next(new ValidationError(`"${field}" is required`))
    }
    for (const field of [...required, ...optional]) {
      if (input[field] !== undefined && !rules[field](input[field])) {
        return next(new ValidationError(`"${field}" ${messages[field]}`))
      }
    }
    next()
  }
}

module.exports = { body, ValidationError }
