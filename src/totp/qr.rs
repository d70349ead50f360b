//! A QR code as a standalone SVG document, for enrolment pages (`<img src="data:...">` or inline).

use qrcode::{Color, EcLevel, QrCode};

use crate::error::{Code, Error, Result};

/// Modules of white border around the code (the QR specification asks for 4).
const QUIET_ZONE: usize = 4;

/// An SVG of `text` as a QR code (error correction level M), `size` pixels wide and high. The
/// dark modules are one `<path>`, one rectangle per run, so the document stays small (about 6 KB for a key URI).
pub fn svg(text: &str, size: u32) -> Result<String> {
  let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
    .map_err(|_| Error::out_of_range("text", "short enough for a QR code (about 2 KB)"))?;
  let width = code.width();
  let colors = code.to_colors();
  let total = width + 2 * QUIET_ZONE;
  let mut path = String::with_capacity(width * width * 4);
  // One rectangle per horizontal run of dark modules.
  for (y, row) in colors.chunks(width).enumerate() {
    let mut x = 0;
    while x < width {
      if row[x] != Color::Dark {
        x += 1;
        continue;
      }
      let start = x;
      while x < width && row[x] == Color::Dark {
        x += 1;
      }
      let run = x - start;
      let (left, top) = (start + QUIET_ZONE, y + QUIET_ZONE);
      path.push_str(&format!("M{left} {top}h{run}v1h-{run}z"));
    }
  }
  if path.is_empty() {
    return Err(Error::new(Code::Internal, "empty QR code"));
  }
  Ok(format!(
    concat!(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{size}\" height=\"{size}\" ",
      "viewBox=\"0 0 {total} {total}\" shape-rendering=\"crispEdges\">",
      "<rect width=\"{total}\" height=\"{total}\" fill=\"#fff\"/>",
      "<path fill=\"#000\" d=\"{path}\"/></svg>"
    ),
    size = size,
    total = total,
    path = path
  ))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn renders_a_square_svg() {
    let svg = svg(
      "otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
      256,
    )
    .unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.ends_with("</svg>"));
    assert!(svg.contains("width=\"256\""));
    // Version 3 or 4 for a URI this long: 29 or 33 modules plus the quiet zone.
    assert!(svg.contains("viewBox=\"0 0 37 37\"") || svg.contains("viewBox=\"0 0 41 41\""));
  }

  #[test]
  fn too_long_is_an_error_not_a_panic() {
    assert!(svg(&"x".repeat(5000), 256).is_err());
  }
}
