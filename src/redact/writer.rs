//! A log destination that redacts on its own thread. The JS thread hands over chunks of text
//! (UTF-16, copied straight out of a JS string) and returns; one writer thread decodes them,
//! splits lines, redacts each line as JSON and writes the result. Only redacted output is ever
//! written: a line that is not JSON or too long becomes the censor, and so does a line whose
//! redaction panics; an unterminated last line is redacted at close like any other.
//!
//! The queue is bounded (in UTF-16 units): a caller that gets ahead of the writer by more than
//! `max_queued` waits for it, as a synchronous write to a slow disk would. After a write error
//! the writer stops writing; later calls report the error and their text is dropped (never
//! written raw anywhere).

use std::collections::VecDeque;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use super::json::Policy;

/// Why a call on a [`Writer`] failed. Messages never contain log text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
  /// Writing to the destination failed (the OS error, e.g. "No space left on device").
  Io(String),
  /// The writer was closed (or its thread is gone).
  Closed,
}

#[derive(Default)]
struct State {
  queue: VecDeque<Vec<u16>>,
  /// UTF-16 units in `queue`.
  queued: usize,
  /// The writer thread holds chunks it has not finished writing.
  busy: bool,
  /// The writer thread is waiting for chunks (so a push must wake it).
  idle: bool,
  closing: bool,
  /// The writer thread has ended (closed, or died).
  ended: bool,
  error: Option<String>,
  /// Chunk buffers the writer thread is done with, for callers to fill again (allocating a
  /// fresh one per call, and freeing it on the other thread, cost more than the copy itself).
  spare: Vec<Vec<u16>>,
}

/// Spare buffers kept, and the largest kept (in units).
const MAX_SPARE: usize = 8;
const MAX_SPARE_UNITS: usize = 1 << 20;

struct Shared {
  state: Mutex<State>,
  /// Wakes the writer thread: chunks or `closing`.
  to_writer: Condvar,
  /// Wakes callers: room in the queue, the queue written, the thread ended.
  to_callers: Condvar,
}

impl Shared {
  /// The state, even if a thread panicked while holding the lock (the state stays consistent:
  /// every update is a few plain assignments).
  fn lock(&self) -> MutexGuard<'_, State> {
    self
      .state
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  fn wait<'a>(&self, cv: &Condvar, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
    cv.wait(guard)
      .unwrap_or_else(|poisoned| poisoned.into_inner())
  }
}

/// Sets `ended` when the writer thread leaves, however it leaves, so callers never wait on a
/// thread that is gone.
struct EndGuard(Arc<Shared>);

impl Drop for EndGuard {
  fn drop(&mut self) {
    let mut state = self.0.lock();
    state.ended = true;
    state.busy = false;
    if state.error.is_none() && !state.closing {
      state.error = Some("the log writer thread stopped".into());
    }
    drop(state);
    self.0.to_callers.notify_all();
  }
}

pub struct Writer {
  shared: Arc<Shared>,
  thread: Mutex<Option<JoinHandle<()>>>,
  max_queued: usize,
}

impl Writer {
  /// Starts the writer thread: lines redacted by `policy` go to `sink`.
  pub fn start<W: Write + Send + 'static>(
    policy: Policy,
    sink: W,
    max_queued: usize,
  ) -> std::io::Result<Writer> {
    let shared = Arc::new(Shared {
      state: Mutex::new(State::default()),
      to_writer: Condvar::new(),
      to_callers: Condvar::new(),
    });
    let thread_shared = shared.clone();
    let thread = std::thread::Builder::new()
      .name("rampart-log-writer".into())
      .spawn(move || {
        let guard = EndGuard(thread_shared.clone());
        // A panic outside a line's redaction (which has its own guard) ends the thread; the
        // guard reports it to callers.
        let _ = catch_unwind(AssertUnwindSafe(|| run(&thread_shared, policy, sink)));
        drop(guard);
      })?;
    Ok(Writer {
      shared,
      thread: Mutex::new(Some(thread)),
      max_queued: max_queued.max(1),
    })
  }

  /// An empty buffer to fill and pass to [`Writer::write`]: a recycled one when there is one,
  /// else a new one with room for `capacity` units.
  pub fn buffer(&self, capacity: usize) -> Vec<u16> {
    let spare = self.shared.lock().spare.pop();
    spare.unwrap_or_else(|| Vec::with_capacity(capacity))
  }

  /// Queues `chunk` (UTF-16 text; lines end with `\n`, a line may span chunks). Waits while the
  /// queue is full.
  pub fn write(&self, chunk: Vec<u16>) -> Result<(), WriteError> {
    if chunk.is_empty() {
      return self.status();
    }
    let mut state = self.shared.lock();
    loop {
      if let Some(error) = &state.error {
        return Err(WriteError::Io(error.clone()));
      }
      if state.closing || state.ended {
        return Err(WriteError::Closed);
      }
      if state.queued < self.max_queued {
        break;
      }
      state = self.shared.wait(&self.shared.to_callers, state);
    }
    state.queued += chunk.len();
    state.queue.push_back(chunk);
    let wake = state.idle;
    state.idle = false;
    drop(state);
    if wake {
      self.shared.to_writer.notify_one();
    }
    Ok(())
  }

  /// Whether everything queued so far has been written (or the writer has ended).
  pub fn is_idle(&self) -> bool {
    let state = self.shared.lock();
    state.ended || (state.queue.is_empty() && !state.busy)
  }

  /// The first write error, or `Closed` once closed.
  pub fn status(&self) -> Result<(), WriteError> {
    let state = self.shared.lock();
    match &state.error {
      Some(error) => Err(WriteError::Io(error.clone())),
      None if state.closing || state.ended => Err(WriteError::Closed),
      None => Ok(()),
    }
  }

  /// Waits until everything queued so far is written (to the OS; no fsync).
  pub fn flush(&self) -> Result<(), WriteError> {
    let mut state = self.shared.lock();
    while !state.ended && (!state.queue.is_empty() || state.busy) {
      state = self.shared.wait(&self.shared.to_callers, state);
    }
    match &state.error {
      Some(error) => Err(WriteError::Io(error.clone())),
      None => Ok(()),
    }
  }

  /// Writes what is queued (an unterminated last line redacted as a line), ends the thread and
  /// closes the destination. Later calls are `Closed`; closing twice is fine.
  pub fn close(&self) -> Result<(), WriteError> {
    self.begin_close();
    let thread = self
      .thread
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
      .take();
    if let Some(thread) = thread {
      let _ = thread.join();
    }
    let state = self.shared.lock();
    match &state.error {
      Some(error) => Err(WriteError::Io(error.clone())),
      None => Ok(()),
    }
  }

  fn begin_close(&self) {
    let mut state = self.shared.lock();
    state.closing = true;
    drop(state);
    self.shared.to_writer.notify_one();
  }
}

impl Drop for Writer {
  /// Dropped without `close` (garbage-collected): the thread still writes what is queued and
  /// ends on its own; nothing waits for it.
  fn drop(&mut self) {
    self.begin_close();
  }
}

/// The writer thread.
fn run<W: Write>(shared: &Shared, policy: Policy, mut sink: W) {
  let mut lines = Lines::new(&policy);
  let mut chunks: Vec<Vec<u16>> = Vec::new();
  let mut out = String::new();
  loop {
    let mut state = shared.lock();
    while state.queue.is_empty() && !state.closing {
      state.idle = true;
      state = shared.wait(&shared.to_writer, state);
    }
    state.idle = false;
    let closing = state.queue.is_empty() && state.closing;
    chunks.extend(state.queue.drain(..));
    let taken = std::mem::take(&mut state.queued);
    state.busy = !closing;
    let broken = state.error.is_some();
    drop(state);
    if taken > 0 {
      // Room again for waiting callers while this batch is redacted.
      shared.to_callers.notify_all();
    }

    out.clear();
    for chunk in &chunks {
      lines.push(chunk, &mut out);
    }
    if closing {
      lines.finish(&mut out);
    }
    let result = if broken || out.is_empty() {
      Ok(())
    } else {
      sink.write_all(out.as_bytes()).and_then(|()| sink.flush())
    };

    let mut state = shared.lock();
    if let Err(error) = result {
      if state.error.is_none() {
        state.error = Some(error.to_string());
      }
    }
    for mut chunk in chunks.drain(..) {
      if state.spare.len() < MAX_SPARE && chunk.capacity() <= MAX_SPARE_UNITS {
        chunk.clear();
        state.spare.push(chunk);
      }
    }
    state.busy = false;
    drop(state);
    shared.to_callers.notify_all();
    if closing {
      return;
    }
  }
}

/// Splits decoded text into lines and redacts each.
struct Lines<'p> {
  policy: &'p Policy,
  /// The start of a line whose end has not arrived yet.
  partial: String,
  /// The current line grew past `max_len`: it is dropped and written as the censor at its end.
  overlong: bool,
  /// What a line becomes when it cannot be redacted: the censor as a JSON string and `\n`.
  censor_line: String,
}

impl<'p> Lines<'p> {
  fn new(policy: &'p Policy) -> Self {
    Lines {
      policy,
      partial: String::new(),
      overlong: false,
      censor_line: policy.fail_closed("\n"),
    }
  }

  fn push(&mut self, chunk: &[u16], out: &mut String) {
    let text = decode(chunk);
    let mut rest = text.as_str();
    while let Some(end) = rest.find('\n') {
      let (line, after) = rest.split_at(end + 1);
      rest = after;
      if self.overlong {
        self.overlong = false;
        out.push_str(&self.censor_line);
      } else if self.partial.is_empty() {
        self.line(line, out);
      } else {
        let mut whole = std::mem::take(&mut self.partial);
        whole.push_str(line);
        self.line(&whole, out);
      }
    }
    if !rest.is_empty() && !self.overlong {
      if self.partial.len() + rest.len() > self.policy.max_len {
        // Too long to be redacted anyway: keep nothing of it.
        self.partial = String::new();
        self.overlong = true;
      } else {
        self.partial.push_str(rest);
      }
    }
  }

  /// At close: an unterminated last line is redacted as a line of its own (the censor unless it
  /// is JSON; always the censor when it was too long).
  fn finish(&mut self, out: &mut String) {
    if self.overlong {
      self.overlong = false;
      out.push_str(&self.censor_line);
    } else if !self.partial.is_empty() {
      let mut line = std::mem::take(&mut self.partial);
      line.push('\n');
      self.line(&line, out);
    }
  }

  /// One line, ending with `\n`.
  fn line(&self, line: &str, out: &mut String) {
    let policy = self.policy;
    let redacted = catch_unwind(AssertUnwindSafe(|| match policy.redact_json(line) {
      Ok(None) => None,
      Ok(Some(text)) => Some(text),
      Err(_) => Some(policy.fail_closed(line)),
    }));
    match redacted {
      Ok(None) => out.push_str(line),
      Ok(Some(text)) => out.push_str(&text),
      Err(_) => out.push_str(&self.censor_line),
    }
  }
}

/// UTF-16 to UTF-8: a plain narrowing when it is ASCII (log lines nearly always are); lone
/// surrogates become U+FFFD.
fn decode(chunk: &[u16]) -> String {
  if chunk.iter().fold(0u16, |acc, &unit| acc | unit) < 0x80 {
    let narrow: Vec<u8> = chunk.iter().map(|&unit| unit as u8).collect();
    // All units are ASCII, so the bytes are valid UTF-8 and this never fails.
    if let Ok(text) = String::from_utf8(narrow) {
      return text;
    }
  }
  String::from_utf16_lossy(chunk)
}

#[cfg(test)]
mod tests {
  use super::super::censor::{Censor, Replacer};
  use super::super::patterns::{self, Scanner};
  use super::super::rules::{self, Keys};
  use super::*;

  fn test_policy() -> Policy {
    let keys: Vec<String> = rules::DEFAULT_KEYS.iter().map(|s| s.to_string()).collect();
    let names: Vec<String> = patterns::names().iter().map(|s| s.to_string()).collect();
    Policy {
      keys: Keys::new(&keys).unwrap(),
      paths: Vec::new(),
      scanner: Scanner::new(&names).unwrap(),
      replacer: Replacer {
        censor: Censor::Text("[REDACTED]".into()),
        card_last4: false,
      },
      max_len: 1 << 20,
    }
  }

  /// A sink tests can read, fail on demand, or slow down.
  #[derive(Clone, Default)]
  struct Memory {
    bytes: Arc<Mutex<Vec<u8>>>,
    fail: bool,
  }

  impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
      if self.fail {
        return Err(std::io::Error::other("disk on fire"));
      }
      self.bytes.lock().unwrap().extend_from_slice(buf);
      Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
      Ok(())
    }
  }

  fn utf16(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
  }

  fn written(sink: &Memory) -> String {
    String::from_utf8(sink.bytes.lock().unwrap().clone()).unwrap()
  }

  #[test]
  fn redacts_lines_split_across_chunks_and_censors_what_is_not_json() {
    let sink = Memory::default();
    let writer = Writer::start(test_policy(), sink.clone(), 1 << 20).unwrap();
    writer.write(utf16("{\"password\":\"hun")).unwrap();
    writer
      .write(utf16("ter2\",\"msg\":\"ok\"}\n{\"a\":1}\nnot json\n"))
      .unwrap();
    writer
      .write(utf16(
        "{\"é\":\"card 4111111111111111\"}\n{\"unterminated\":",
      ))
      .unwrap();
    writer.flush().unwrap();
    let so_far = written(&sink);
    assert!(
      !so_far.contains("unterminated"),
      "a partial line is held back"
    );
    writer.close().unwrap();
    let all = written(&sink);
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(
      lines,
      [
        "{\"password\":\"[REDACTED]\",\"msg\":\"ok\"}",
        "{\"a\":1}",
        "\"[REDACTED]\"",
        "{\"é\":\"card [REDACTED]\"}",
        "\"[REDACTED]\"",
      ]
    );
    assert_eq!(writer.write(utf16("{}\n")), Err(WriteError::Closed));
    assert!(writer.close().is_ok(), "closing twice is fine");
  }

  #[test]
  fn an_overlong_line_is_censored_and_the_next_line_is_kept() {
    let sink = Memory::default();
    let mut policy = test_policy();
    policy.max_len = 64;
    let writer = Writer::start(policy, sink.clone(), 1 << 20).unwrap();
    for _ in 0..10 {
      writer.write(utf16("{\"k\":\"0123456789abcdef\"")).unwrap();
    }
    writer
      .write(utf16("}\n{\"b\":2}\n{\"pin\":\"1234\"}"))
      .unwrap();
    writer.close().unwrap();
    // The unterminated last line is JSON: redacted, kept, and given its newline.
    assert_eq!(
      written(&sink),
      "\"[REDACTED]\"\n{\"b\":2}\n{\"pin\":\"[REDACTED]\"}\n"
    );
  }

  #[test]
  fn a_write_error_is_reported_and_nothing_more_is_written() {
    let sink = Memory {
      fail: true,
      ..Memory::default()
    };
    let writer = Writer::start(test_policy(), sink.clone(), 1 << 20).unwrap();
    writer.write(utf16("{\"a\":1}\n")).unwrap();
    let error = writer.flush().unwrap_err();
    assert_eq!(error, WriteError::Io("disk on fire".into()));
    assert_eq!(writer.write(utf16("{}\n")), Err(error.clone()));
    assert_eq!(writer.close(), Err(error));
    assert_eq!(written(&sink), "");
  }

  #[test]
  fn a_full_queue_makes_the_caller_wait_and_loses_nothing() {
    let sink = Memory::default();
    // A queue of 8 units: nearly every write waits for the thread.
    let writer = Writer::start(test_policy(), sink.clone(), 8).unwrap();
    let mut expected = String::new();
    for i in 0..2000 {
      let line = format!("{{\"i\":{i},\"token\":\"t{i}\"}}\n");
      expected.push_str(&format!("{{\"i\":{i},\"token\":\"[REDACTED]\"}}\n"));
      writer.write(utf16(&line)).unwrap();
    }
    writer.close().unwrap();
    assert_eq!(written(&sink), expected);
  }

  #[test]
  fn dropping_the_writer_still_writes_the_queue() {
    let sink = Memory::default();
    let writer = Writer::start(test_policy(), sink.clone(), 1 << 20).unwrap();
    writer.write(utf16("{\"pwd\":\"x\"}\n")).unwrap();
    drop(writer);
    for _ in 0..500 {
      if !written(&sink).is_empty() {
        break;
      }
      std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert_eq!(written(&sink), "{\"pwd\":\"[REDACTED]\"}\n");
  }

  #[test]
  fn lone_surrogates_are_replaced_not_written() {
    let sink = Memory::default();
    let writer = Writer::start(test_policy(), sink.clone(), 1 << 20).unwrap();
    let mut chunk = utf16("{\"a\":\"x");
    chunk.push(0xD800);
    chunk.extend(utf16("\"}\n"));
    writer.write(chunk).unwrap();
    writer.close().unwrap();
    assert_eq!(written(&sink), "{\"a\":\"x\u{FFFD}\"}\n");
  }
}
