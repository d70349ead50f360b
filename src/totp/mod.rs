//! TOTP bindings: the `Totp` class (RFC 6238 codes, verification with a window and replay
//! protection, `otpauth://` URIs and QR codes). Everything is synchronous: a verification is
//! a few HMACs, far cheaper than a trip to the thread pool.

mod base32;
mod otp;
mod qr;
mod uri;

use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::{Object, Unknown};
use napi::Env;
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::args::{self, Bytes};
use crate::error::{throw, Code, Error, Result};
use otp::{Algorithm, Check, Otp};

/// Default bytes of a generated secret: 160 bits, as RFC 4226 recommends.
const DEFAULT_SECRET_BYTES: u32 = 20;
/// Largest `time` accepted, in seconds (about the year 318857).
const MAX_TIME: f64 = 1e13;
/// Largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
const DEFAULT_QR_SIZE: u32 = 256;

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct TotpOptions {
  /// The shared secret: base32 text (RFC 4648; spaces, hyphens, lower case and padding are
  /// accepted) or its bytes. 16 to 128 bytes (10 with `allowShortSecret`).
  #[napi(ts_type = "string | Uint8Array")]
  pub secret: String,
  /// `'SHA1'` (default: the only one every authenticator app supports), `'SHA256'` or `'SHA512'`.
  #[napi(ts_type = "'SHA1' | 'SHA256' | 'SHA512'")]
  pub algorithm: Option<String>,
  /// Code length, 6 (default) to 8.
  pub digits: Option<u32>,
  /// Seconds per step, 1 to 3600. Default 30.
  pub period: Option<u32>,
  /// Steps accepted on each side of the current one by `verify`, 0 to 10. Default 1.
  pub window: Option<u32>,
  /// Accept secrets of 10 to 15 bytes (80 to 120 bits), below RFC 4226's 128-bit minimum, for
  /// secrets issued elsewhere. Default false.
  pub allow_short_secret: Option<bool>,
}

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct TotpVerifyOptions {
  /// The last step accepted for this account (from an earlier `verify`): that step and every
  /// earlier one are refused, so a code works once (RFC 6238 5.2). Omit only on first use.
  pub last_step: Option<f64>,
  /// Unix time in seconds. Default: now.
  pub time: Option<f64>,
  /// Overrides the constructor's `window` for this call.
  pub window: Option<u32>,
}

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct TotpGenerateOptions {
  /// Unix time in seconds. Default: now.
  pub time: Option<f64>,
}

#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct TotpUriOptions {
  /// Who issues the account (your service): 1 to 256 bytes, no colon.
  pub issuer: String,
  /// The user's account name as the app should show it: 1 to 256 bytes, no colon.
  pub account: String,
  /// For `qrSvg`: width and height in pixels, 64 to 4096. Default 256.
  pub size: Option<u32>,
}

/// An accepted code: store `step` as the account's last accepted step.
#[napi(object, object_from_js = false)]
pub struct TotpMatch {
  /// The time step the code belongs to (Unix time / period).
  pub step: f64,
  /// Its distance from the current step: -window to +window; 0 is the current step.
  pub delta: i32,
}

/// Time-based one-time passwords (RFC 6238) for one secret. The secret is decoded once and
/// cannot be read back, except inside the `otpauth://` URI made for enrolment.
#[napi]
pub struct Totp {
  otp: Otp,
  window: u32,
}

fn now_seconds() -> u64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map(|d| d.as_secs())
    .unwrap_or(0)
}

fn secret(value: &Unknown<'_>, allow_short: bool) -> Result<Zeroizing<Vec<u8>>> {
  let name = "options.secret";
  let bytes = match args::bytes(value, name)? {
    Bytes::View(view) => Zeroizing::new(view.to_vec()),
    Bytes::Text(text) => {
      let text = Zeroizing::new(text);
      if text.len() > 4 * otp::MAX_SECRET {
        return Err(Error::out_of_range(
          name,
          format!("at most {} bytes", otp::MAX_SECRET),
        ));
      }
      Zeroizing::new(
        base32::decode(&text)
          .ok_or_else(|| Error::arg_value(name, "must be base32 text (RFC 4648: A-Z and 2-7)"))?,
      )
    }
  };
  let min = if allow_short {
    otp::MIN_SHORT_SECRET
  } else {
    otp::MIN_SECRET
  };
  if bytes.len() < min || bytes.len() > otp::MAX_SECRET {
    return Err(Error::out_of_range(
      name,
      format!("{min} to {} bytes long", otp::MAX_SECRET),
    ));
  }
  Ok(bytes)
}

fn parse_options(options: &Unknown<'_>) -> Result<Totp> {
  let options = args::object(options, "options")?;
  let algorithm = match args::opt_string(&options, "algorithm")? {
    None => Algorithm::Sha1,
    Some(name) => Algorithm::parse(&name).ok_or_else(|| {
      Error::arg_value("options.algorithm", "must be 'SHA1', 'SHA256' or 'SHA512'")
    })?,
  };
  let digits = args::opt_u32(Some(&options), "digits", 6, 8)?.unwrap_or(otp::DEFAULT_DIGITS);
  let period =
    args::opt_u32(Some(&options), "period", 1, otp::MAX_PERIOD)?.unwrap_or(otp::DEFAULT_PERIOD);
  let window = args::opt_u32(Some(&options), "window", 0, otp::MAX_WINDOW)?.unwrap_or(1);
  let allow_short = args::opt_bool(Some(&options), "allowShortSecret")?.unwrap_or(false);
  let value = args::field(&options, "secret")?
    .ok_or_else(|| Error::arg_type("options.secret", BYTES_OR_TEXT, "undefined"))?;
  let secret = secret(&value, allow_short)?;
  Ok(Totp {
    otp: Otp::new(algorithm, secret, digits, period),
    window,
  })
}

const BYTES_OR_TEXT: &str = "of type string or an instance of Buffer or Uint8Array";

fn time_option(options: Option<&Object<'_>>) -> Result<u64> {
  let Some(options) = options else {
    return Ok(now_seconds());
  };
  match args::field(options, "time")? {
    None => Ok(now_seconds()),
    Some(value) => Ok(args::number_f64(&value, "options.time", 0.0, MAX_TIME)?.floor() as u64),
  }
}

fn last_step_option(options: Option<&Object<'_>>) -> Result<Option<u64>> {
  let Some(options) = options else {
    return Ok(None);
  };
  let Some(value) = args::field(options, "lastStep")? else {
    return Ok(None);
  };
  step_number(&value).map(Some)
}

fn step_number(value: &Unknown<'_>) -> Result<u64> {
  let step = args::number_f64(value, "options.lastStep", 0.0, MAX_SAFE_INTEGER)?;
  if step.fract() != 0.0 {
    return Err(Error::out_of_range(
      "options.lastStep",
      "an integer (a step returned by verify)",
    ));
  }
  Ok(step as u64)
}

fn uri_parts(options: &Unknown<'_>) -> Result<(String, String, Option<u32>)> {
  let options = args::object(options, "options")?;
  let issuer = args::opt_string(&options, "issuer")?
    .ok_or_else(|| Error::arg_type("options.issuer", "of type string", "undefined"))?;
  let account = args::opt_string(&options, "account")?
    .ok_or_else(|| Error::arg_type("options.account", "of type string", "undefined"))?;
  let size = args::opt_u32(Some(&options), "size", 64, 4096)?;
  Ok((issuer, account, size))
}

#[napi]
impl Totp {
  #[napi(constructor, catch_unwind, ts_args_type = "options: TotpOptions")]
  pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
    throw(&env, parse_options(&options))
  }

  /// A new random secret of `bytes` bytes (16 to 64; default 20, i.e. 160 bits), as base32
  /// text without padding: store it encrypted, show it once for manual entry.
  #[napi(catch_unwind, ts_args_type = "bytes?: number")]
  pub fn generate_secret(env: Env, bytes: Option<Unknown>) -> napi::Result<String> {
    let make = || {
      let len = match bytes.as_ref() {
        Some(value) if args::type_of(value) != Some(napi::ValueType::Undefined) => {
          args::number_u32(value, "bytes", otp::MIN_SECRET as u32, 64)?
        }
        _ => DEFAULT_SECRET_BYTES,
      };
      let mut secret = Zeroizing::new(vec![0u8; len as usize]);
      getrandom::fill(&mut secret)
        .map_err(|_| Error::new(Code::Internal, "the system random number generator failed"))?;
      Ok(base32::encode(&secret))
    };
    throw(&env, make())
  }

  /// The code for now (or `options.time`).
  #[napi(catch_unwind, ts_args_type = "options?: TotpGenerateOptions")]
  pub fn generate(&self, env: Env, options: Option<Unknown>) -> napi::Result<String> {
    let run = || {
      let options = args::options(options.as_ref(), "options")?;
      Ok(self.otp.generate(time_option(options.as_ref())?))
    };
    throw(&env, run())
  }

  /// Checks `code` against the steps of the window after `options.lastStep`, in constant time.
  /// Returns `{ step, delta }` (store `step` as the account's `lastStep`), or `null` for a
  /// wrong, reused or malformed code (a code is `digits` ASCII digits; spaces are ignored).
  /// A match is always truthy, also at delta 0.
  #[napi(
    catch_unwind,
    ts_args_type = "code: string, options?: TotpVerifyOptions",
    ts_return_type = "TotpMatch | null"
  )]
  pub fn verify(
    &self,
    env: Env,
    code: Unknown,
    options: Option<Unknown>,
  ) -> napi::Result<Option<TotpMatch>> {
    let run = || {
      let code = args::string(&code, "code")?;
      let options = args::options(options.as_ref(), "options")?;
      let window =
        args::opt_u32(options.as_ref(), "window", 0, otp::MAX_WINDOW)?.unwrap_or(self.window);
      let check = Check {
        time: time_option(options.as_ref())?,
        window,
        last_step: last_step_option(options.as_ref())?,
      };
      Ok(self.otp.verify(&code, check).map(|m| TotpMatch {
        step: m.step as f64,
        delta: m.delta as i32,
      }))
    };
    throw(&env, run())
  }

  /// Fast path behind `verify` (the package entry point wraps the class): the options as
  /// positional values (`undefined` for absent) and the matched step as a number, -1 for none.
  /// Building the result object here would cost more than the HMACs.
  #[napi(catch_unwind, js_name = "_verify", skip_typescript)]
  pub fn verify_fast(
    &self,
    env: Env,
    code: Unknown,
    last_step: Unknown,
    time: Unknown,
    window: Unknown,
  ) -> napi::Result<f64> {
    let run = || {
      let code = args::string(&code, "code")?;
      let window = match args::type_of(&window) {
        Some(napi::ValueType::Undefined) | Some(napi::ValueType::Null) => self.window,
        _ => args::number_u32(&window, "options.window", 0, otp::MAX_WINDOW)?,
      };
      let last_step = match args::type_of(&last_step) {
        Some(napi::ValueType::Undefined) | Some(napi::ValueType::Null) => None,
        _ => Some(step_number(&last_step)?),
      };
      let time = args::number_f64(&time, "options.time", 0.0, MAX_TIME)?.floor() as u64;
      let check = Check {
        time,
        window,
        last_step,
      };
      Ok(
        self
          .otp
          .verify(&code, check)
          .map_or(-1.0, |m| m.step as f64),
      )
    };
    throw(&env, run())
  }

  /// The time step of now (or `options.time`).
  #[napi(catch_unwind, ts_args_type = "options?: TotpGenerateOptions")]
  pub fn step(&self, env: Env, options: Option<Unknown>) -> napi::Result<f64> {
    let run = || {
      let options = args::options(options.as_ref(), "options")?;
      Ok(self.otp.step(time_option(options.as_ref())?) as f64)
    };
    throw(&env, run())
  }

  /// The `otpauth://totp/Issuer:account?secret=...` URI that authenticator apps import. It
  /// contains the secret: send it only to the enrolling user, never log it.
  #[napi(catch_unwind, ts_args_type = "options: TotpUriOptions")]
  pub fn uri(&self, env: Env, options: Unknown) -> napi::Result<String> {
    let run = || {
      let (issuer, account, _) = uri_parts(&options)?;
      uri::build(&self.otp, &issuer, &account)
    };
    throw(&env, run())
  }

  /// The key URI as a QR code in an SVG document, for the enrolment page.
  #[napi(catch_unwind, ts_args_type = "options: TotpUriOptions")]
  pub fn qr_svg(&self, env: Env, options: Unknown) -> napi::Result<String> {
    let run = || {
      let (issuer, account, size) = uri_parts(&options)?;
      let uri = Zeroizing::new(uri::build(&self.otp, &issuer, &account)?);
      qr::svg(&uri, size.unwrap_or(DEFAULT_QR_SIZE))
    };
    throw(&env, run())
  }

  #[napi(getter, ts_return_type = "'SHA1' | 'SHA256' | 'SHA512'")]
  pub fn algorithm(&self) -> &'static str {
    self.otp.algorithm.name()
  }

  #[napi(getter)]
  pub fn digits(&self) -> u32 {
    self.otp.digits
  }

  #[napi(getter)]
  pub fn period(&self) -> u32 {
    self.otp.period
  }

  #[napi(getter)]
  pub fn window(&self) -> u32 {
    self.window
  }
}
