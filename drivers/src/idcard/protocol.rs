//! The SAM serial protocol of GA 467 (GA/T 467), pure: frames in, frames out, no I/O.
//!
//! ```text
//! host -> SAM : AA AA AA 96 69 | LEN_H LEN_L | CMD | PARA | DATA… | CHK
//! SAM -> host : AA AA AA 96 69 | LEN_H LEN_L | SW1 | SW2  | SW3 | DATA… | CHK
//! ```
//! LEN (big-endian) counts every byte after itself including CHK; CHK is the XOR of every byte
//! from LEN_H to the byte before CHK. [`FrameDecoder`] hunts for the preamble in a byte stream, so
//! garbage, stray bytes inside the preamble, frames split across reads and bad checksums are all
//! survived by resynchronising on the next preamble.
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The frame preamble.
pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];
/// The largest LEN a SAM sends (read with two fingerprints: 0x090A).
pub const MAX_LEN: usize = 0x0A00;

/// Errors of the frame layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The XOR checksum does not match: a byte was corrupted on the line. Remedy: the driver
    /// resends the command; check the cable and baud rate if it keeps happening.
    #[error("frame checksum mismatch (computed {computed:02X}, received {received:02X})")]
    Checksum {
        /// What the bytes add up to.
        computed: u8,
        /// What the frame carried.
        received: u8,
    },
    /// The LEN field is impossible (below 2 or above [`MAX_LEN`]). Remedy: none, the decoder
    /// resynchronises; a persistent error means a wrong device or baud rate on the port.
    #[error("frame length {0} is out of range")]
    BadLength(usize),
    /// The input ended before the frame did. Remedy: read more bytes (or the device was unplugged).
    #[error("truncated frame: {have} of {need} bytes")]
    Truncated {
        /// Bytes present.
        have: usize,
        /// Bytes the LEN field announced.
        need: usize,
    },
    /// No preamble `AA AA AA 96 69` in the input. Remedy: give the raw reader response.
    #[error("no frame preamble (AA AA AA 96 69) in the input")]
    NoPreamble,
    /// A response frame too short to hold SW1 SW2 SW3.
    #[error("response frame too short for its status bytes")]
    NoStatus,
}

/// XOR of `bytes`.
pub fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

/// Builds a frame around `payload` (what comes after LEN, without CHK).
pub fn encode_frame(payload: &[u8]) -> Vec<u8> {
    let len = payload.len() + 1;
    let mut f = Vec::with_capacity(7 + len);
    f.extend_from_slice(&PREAMBLE);
    f.push((len >> 8) as u8);
    f.push(len as u8);
    f.extend_from_slice(payload);
    let chk = xor(&f[5..]);
    f.push(chk);
    f
}

/// A command frame: CMD PARA [DATA].
pub fn encode_command(cmd: u8, para: u8, data: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(2 + data.len());
    p.push(cmd);
    p.push(para);
    p.extend_from_slice(data);
    encode_frame(&p)
}

/// A response frame: 00 00 SW3 [DATA] (what a SAM sends; used by the simulator and tests).
pub fn encode_response(sw3: u8, data: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(3 + data.len());
    p.extend_from_slice(&[0, 0, sw3]);
    p.extend_from_slice(data);
    let f = encode_frame(&p);
    p.zeroize();
    f
}

/// The commands of the SAM protocol this driver uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Reset the SAM (`10 FF`).
    ResetSam,
    /// SAM status check (`11 FF`).
    SamStatus,
    /// Read the SAM ID / management number (`12 FF`).
    SamId,
    /// Find card (`20 01`).
    Find,
    /// Select card (`20 02`).
    Select,
    /// Read text and photo (`30 01`).
    Read,
    /// Read text, photo and fingerprint (`30 10`).
    ReadWithFingerprint,
    /// Read the newest address (`30 03`).
    ReadNewAddress,
    /// Set the maximum RF frame bytes (`61 FF n`, 24..=255).
    SetMaxRf(u8),
}

impl Command {
    /// CMD and PARA bytes.
    pub fn code(self) -> (u8, u8) {
        match self {
            Command::ResetSam => (0x10, 0xFF),
            Command::SamStatus => (0x11, 0xFF),
            Command::SamId => (0x12, 0xFF),
            Command::Find => (0x20, 0x01),
            Command::Select => (0x20, 0x02),
            Command::Read => (0x30, 0x01),
            Command::ReadWithFingerprint => (0x30, 0x10),
            Command::ReadNewAddress => (0x30, 0x03),
            Command::SetMaxRf(_) => (0x61, 0xFF),
        }
    }

    /// The command from CMD, PARA and data (what the simulator receives).
    pub fn from_frame(cmd: u8, para: u8, data: &[u8]) -> Option<Command> {
        Some(match (cmd, para) {
            (0x10, 0xFF) => Command::ResetSam,
            (0x11, 0xFF) => Command::SamStatus,
            (0x12, 0xFF) => Command::SamId,
            (0x20, 0x01) => Command::Find,
            (0x20, 0x02) => Command::Select,
            (0x30, 0x01) => Command::Read,
            (0x30, 0x10) => Command::ReadWithFingerprint,
            (0x30, 0x03) => Command::ReadNewAddress,
            (0x61, 0xFF) => Command::SetMaxRf(*data.first()?),
            _ => return None,
        })
    }

    /// The full command frame.
    pub fn encode(self) -> Vec<u8> {
        let (c, p) = self.code();
        match self {
            Command::SetMaxRf(n) => encode_command(c, p, &[n]),
            _ => encode_command(c, p, &[]),
        }
    }

    /// The SW3 that means success for this command (`9F` for find, `90` otherwise).
    pub fn ok_code(self) -> u8 {
        if self == Command::Find {
            0x9F
        } else {
            0x90
        }
    }
}

/// The SW3 result codes of a SAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SamCode {
    /// 91: the card has no content for this item (no new address, no fingerprint). Remedy: none,
    /// treat as "not present".
    #[error("the card has no content for this item (SW3 91)")]
    NoContent,
    /// 10: the SAM received data with a wrong checksum. Remedy: the driver resends; check the line.
    #[error("the reader received a corrupted command (SW3 10)")]
    RxChecksum,
    /// 11: the SAM received data with a wrong length. Remedy: as for 10.
    #[error("the reader received a command of the wrong length (SW3 11)")]
    RxLength,
    /// 21: bad command, parameter or sequence (e.g. read without select). Remedy: restart with find.
    #[error("the reader refused the command (SW3 21)")]
    CommandError,
    /// 23: operation not authorized. Remedy: the SAM is locked for this command; contact the vendor.
    #[error("operation not authorized by the reader (SW3 23)")]
    NotAuthorized,
    /// 24: unrecognized error. Remedy: retry; power-cycle the reader if it persists.
    #[error("the reader reports an unrecognized error (SW3 24)")]
    Unrecognized,
    /// 31: the card failed to authenticate the SAM. Remedy: place the card again; a forged or
    /// damaged card fails every time.
    #[error("the card did not accept the reader (SW3 31)")]
    CardAuthSam,
    /// 32: the SAM failed to authenticate the card. Remedy: as for 31.
    #[error("the reader did not accept the card (SW3 32)")]
    SamAuthCard,
    /// 33: information verification error. Remedy: place the card again.
    #[error("card information failed verification (SW3 33)")]
    Verification,
    /// 40: unrecognized card type (not an ID card). Remedy: ask for a second-generation ID card.
    #[error("this is not an ID card the reader knows (SW3 40)")]
    UnknownCardType,
    /// 41: reading the card failed (moved too early, bad contact). Remedy: hold the card still and retry.
    #[error("reading the card failed (SW3 41)")]
    ReadFailed,
    /// 47: getting the random number failed. Remedy: place the card again.
    #[error("the card did not answer the challenge (SW3 47)")]
    Random,
    /// 60: SAM self-test failed; the reader accepts no commands. Remedy: power-cycle the reader;
    /// replace it if the self-test keeps failing.
    #[error("the reader's security module failed its self-test (SW3 60)")]
    SelfTest,
    /// 66: SAM not authorized. Remedy: the SAM needs activation by the vendor.
    #[error("the reader's security module is not authorized (SW3 66)")]
    SamNotAuthorized,
    /// 80: find card failed: no card in the field. Remedy: place the card on the reader.
    #[error("no card on the reader (SW3 80)")]
    NoCard,
    /// 81: select card failed. Remedy: place the card again.
    #[error("selecting the card failed (SW3 81)")]
    SelectFailed,
    /// Any other SW3. Remedy: check that the device is a GA 467 SAM reader.
    #[error("unknown reader status SW3 {0:02X}")]
    Other(u8),
}

impl SamCode {
    /// The typed code for a failing SW3 (`None` for the success codes 90 and 9F).
    pub fn from_sw3(sw3: u8) -> Option<SamCode> {
        Some(match sw3 {
            0x90 | 0x9F => return None,
            0x91 => SamCode::NoContent,
            0x10 => SamCode::RxChecksum,
            0x11 => SamCode::RxLength,
            0x21 => SamCode::CommandError,
            0x23 => SamCode::NotAuthorized,
            0x24 => SamCode::Unrecognized,
            0x31 => SamCode::CardAuthSam,
            0x32 => SamCode::SamAuthCard,
            0x33 => SamCode::Verification,
            0x40 => SamCode::UnknownCardType,
            0x41 => SamCode::ReadFailed,
            0x47 => SamCode::Random,
            0x60 => SamCode::SelfTest,
            0x66 => SamCode::SamNotAuthorized,
            0x80 => SamCode::NoCard,
            0x81 => SamCode::SelectFailed,
            other => SamCode::Other(other),
        })
    }

    /// The SW3 byte.
    pub fn sw3(self) -> u8 {
        match self {
            SamCode::NoContent => 0x91,
            SamCode::RxChecksum => 0x10,
            SamCode::RxLength => 0x11,
            SamCode::CommandError => 0x21,
            SamCode::NotAuthorized => 0x23,
            SamCode::Unrecognized => 0x24,
            SamCode::CardAuthSam => 0x31,
            SamCode::SamAuthCard => 0x32,
            SamCode::Verification => 0x33,
            SamCode::UnknownCardType => 0x40,
            SamCode::ReadFailed => 0x41,
            SamCode::Random => 0x47,
            SamCode::SelfTest => 0x60,
            SamCode::SamNotAuthorized => 0x66,
            SamCode::NoCard => 0x80,
            SamCode::SelectFailed => 0x81,
            SamCode::Other(b) => b,
        }
    }

    /// Every named code (for tests and the simulator).
    pub const ALL: [SamCode; 16] = [
        SamCode::NoContent,
        SamCode::RxChecksum,
        SamCode::RxLength,
        SamCode::CommandError,
        SamCode::NotAuthorized,
        SamCode::Unrecognized,
        SamCode::CardAuthSam,
        SamCode::SamAuthCard,
        SamCode::Verification,
        SamCode::UnknownCardType,
        SamCode::ReadFailed,
        SamCode::Random,
        SamCode::SelfTest,
        SamCode::SamNotAuthorized,
        SamCode::NoCard,
        SamCode::SelectFailed,
    ];

    /// The category the runtime maps to UI state.
    pub fn kind(self) -> crate::DeviceErrorKind {
        use crate::DeviceErrorKind as K;
        match self {
            SamCode::NoCard => K::NoCard,
            SamCode::RxChecksum | SamCode::RxLength | SamCode::CommandError | SamCode::Other(_) => {
                K::Protocol
            }
            SamCode::SelfTest | SamCode::SamNotAuthorized | SamCode::NotAuthorized => {
                K::DeviceFault
            }
            SamCode::Unrecognized => K::Other,
            _ => K::CardUnreadable,
        }
    }
}

/// A decoded frame: the bytes between LEN and CHK. Zeroized on drop (it may hold card data).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Frame {
    payload: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the payload: it may be a card's personal data.
        write!(f, "Frame({} bytes)", self.payload.len())
    }
}

impl Frame {
    /// The bytes between LEN and CHK.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
    /// As a response: SW3 (`None` when shorter than 3 bytes).
    pub fn sw3(&self) -> Option<u8> {
        self.payload.get(2).copied()
    }
    /// As a response: the data after SW1 SW2 SW3.
    pub fn data(&self) -> &[u8] {
        self.payload.get(3..).unwrap_or(&[])
    }
    /// As a command: (CMD, PARA, DATA).
    pub fn as_command(&self) -> Option<(u8, u8, &[u8])> {
        match self.payload.as_slice() {
            [c, p, rest @ ..] => Some((*c, *p, rest)),
            _ => None,
        }
    }
    /// As a response: `Ok(data)` when SW3 is `ok`, the typed SAM code otherwise.
    pub fn check(&self, ok: u8) -> Result<&[u8], ResponseError> {
        let sw3 = self
            .sw3()
            .ok_or(ResponseError::Frame(FrameError::NoStatus))?;
        if sw3 == ok {
            return Ok(self.data());
        }
        match SamCode::from_sw3(sw3) {
            Some(code) => Err(ResponseError::Sam(code)),
            // A success code, but not the one this command expects.
            None => Err(ResponseError::Sam(SamCode::Other(sw3))),
        }
    }
}

/// A response that is not the expected success.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The frame itself is bad. Remedy: see [`FrameError`].
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The SAM answered with a failure code. Remedy: see [`SamCode`].
    #[error(transparent)]
    Sam(#[from] SamCode),
}

/// Decodes the first frame in `bytes` (skipping anything before the preamble).
pub fn decode_frame(bytes: &[u8]) -> Result<Frame, FrameError> {
    let start = find_preamble(bytes).ok_or(FrameError::NoPreamble)?;
    let b = &bytes[start..];
    if b.len() < 7 {
        return Err(FrameError::Truncated {
            have: b.len(),
            need: 7,
        });
    }
    let len = usize::from(b[5]) << 8 | usize::from(b[6]);
    if !(2..=MAX_LEN).contains(&len) {
        return Err(FrameError::BadLength(len));
    }
    if b.len() < 7 + len {
        return Err(FrameError::Truncated {
            have: b.len(),
            need: 7 + len,
        });
    }
    let computed = xor(&b[5..6 + len]);
    let received = b[6 + len];
    if computed != received {
        return Err(FrameError::Checksum { computed, received });
    }
    Ok(Frame {
        payload: b[7..6 + len].to_vec(),
    })
}

fn find_preamble(b: &[u8]) -> Option<usize> {
    b.windows(PREAMBLE.len()).position(|w| w == PREAMBLE)
}

/// A streaming decoder: push bytes as they arrive, take frames out. Keeps at most one frame of
/// unconsumed input; resynchronises on the next preamble after any error. Zeroized on drop.
#[derive(Default, Zeroize, ZeroizeOnDrop)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    #[zeroize(skip)]
    discarded: usize,
}

impl std::fmt::Debug for FrameDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FrameDecoder({} bytes buffered)", self.buf.len())
    }
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the line.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes dropped so far while hunting for a preamble or skipping bad frames.
    pub fn discarded(&self) -> usize {
        self.discarded
    }

    /// Bytes buffered and not yet part of a returned frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Forgets buffered input (zeroing it).
    pub fn clear(&mut self) {
        self.buf.zeroize();
    }

    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.buf[..n].zeroize();
        self.buf.drain(..n);
        self.discarded += n;
    }

    /// The next complete frame, `None` when more bytes are needed, or an error for a bad frame
    /// (which has been skipped: call again to continue).
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        match find_preamble(&self.buf) {
            Some(0) => {}
            Some(i) => self.drop_front(i),
            None => {
                // Keep a tail that may be the start of a preamble.
                let keep = self.buf.len().min(PREAMBLE.len() - 1);
                let cut = self.buf.len() - keep;
                self.drop_front(cut);
                return None;
            }
        }
        if self.buf.len() < 7 {
            return None;
        }
        let len = usize::from(self.buf[5]) << 8 | usize::from(self.buf[6]);
        if !(2..=MAX_LEN).contains(&len) {
            self.drop_front(1);
            return Some(Err(FrameError::BadLength(len)));
        }
        if self.buf.len() < 7 + len {
            return None;
        }
        let computed = xor(&self.buf[5..6 + len]);
        let received = self.buf[6 + len];
        if computed != received {
            // Skip only the first byte: a real preamble may hide inside the bad frame.
            self.drop_front(1);
            return Some(Err(FrameError::Checksum { computed, received }));
        }
        let payload = self.buf[7..6 + len].to_vec();
        self.buf[..7 + len].zeroize();
        self.buf.drain(..7 + len);
        Some(Ok(Frame { payload }))
    }
}

/// Formats the 16 data bytes of a SAM ID answer as `aa.bb-cccccccc-dddddddddd-eeeeeeeeee`.
pub fn format_sam_id(data: &[u8]) -> Option<String> {
    if data.len() < 16 {
        return None;
    }
    let u16le = |i: usize| u16::from_le_bytes([data[i], data[i + 1]]);
    let u32le = |i: usize| u32::from_le_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
    Some(format!(
        "{:02}.{:02}-{:08}-{:010}-{:010}",
        u16le(0),
        u16le(2),
        u32le(4),
        u32le(8),
        u32le(12)
    ))
}

/// Lower-case hex with no separators (for trace logs of non-personal frames and for tests).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses hex with optional whitespace, `:` or `-` separators and an optional `0x` prefix.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':' && *b != b'-' && *b != b',')
        .collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| {
            let h = (p[0] as char).to_digit(16)?;
            let l = (p[1] as char).to_digit(16)?;
            Some((h * 16 + l) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        parse_hex(s).unwrap_or_default()
    }

    #[test]
    fn command_frames_match_the_reference() {
        assert_eq!(
            Command::ResetSam.encode(),
            h("AA AA AA 96 69 00 03 10 FF EC")
        );
        assert_eq!(
            Command::SamStatus.encode(),
            h("AA AA AA 96 69 00 03 11 FF ED")
        );
        assert_eq!(Command::SamId.encode(), h("AA AA AA 96 69 00 03 12 FF EE"));
        assert_eq!(Command::Find.encode(), h("AA AA AA 96 69 00 03 20 01 22"));
        assert_eq!(Command::Select.encode(), h("AA AA AA 96 69 00 03 20 02 21"));
        assert_eq!(Command::Read.encode(), h("AA AA AA 96 69 00 03 30 01 32"));
        assert_eq!(
            Command::ReadWithFingerprint.encode(),
            h("AA AA AA 96 69 00 03 30 10 23")
        );
        assert_eq!(
            Command::ReadNewAddress.encode(),
            h("AA AA AA 96 69 00 03 30 03 30")
        );
        assert_eq!(
            Command::SetMaxRf(0x50).encode(),
            h("AA AA AA 96 69 00 04 61 FF 50 CA")
        );
    }

    #[test]
    fn public_response_vectors_decode() {
        let find_ok = h("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97");
        let f = decode_frame(&find_ok).unwrap();
        assert_eq!(f.check(0x9F).unwrap(), &[0, 0, 0, 0]);
        assert_eq!(encode_response(0x9F, &[0, 0, 0, 0]), find_ok);

        let no_card = h("AA AA AA 96 69 00 04 00 00 80 84");
        let f = decode_frame(&no_card).unwrap();
        assert_eq!(f.check(0x9F), Err(ResponseError::Sam(SamCode::NoCard)));

        let select_ok = h("AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C");
        assert_eq!(
            decode_frame(&select_ok).unwrap().check(0x90).unwrap(),
            &[0u8; 8]
        );
        assert_eq!(encode_response(0x90, &[0; 8]), select_ok);
        let select_fail = h("AA AA AA 96 69 00 04 00 00 81 85");
        assert_eq!(
            decode_frame(&select_fail).unwrap().check(0x90),
            Err(ResponseError::Sam(SamCode::SelectFailed))
        );
        let read_fail = h("AA AA AA 96 69 00 04 00 00 41 45");
        assert_eq!(
            decode_frame(&read_fail).unwrap().check(0x90),
            Err(ResponseError::Sam(SamCode::ReadFailed))
        );
        let status_ok = h("AA AA AA 96 69 00 04 00 00 90 94");
        assert!(decode_frame(&status_ok).unwrap().check(0x90).is_ok());
    }

    #[test]
    fn every_error_code_is_an_eleven_byte_frame() {
        for code in SamCode::ALL {
            let f = encode_response(code.sw3(), &[]);
            assert_eq!(f.len(), 11);
            assert_eq!(f[10], code.sw3() ^ 0x04);
            assert_eq!(SamCode::from_sw3(code.sw3()), Some(code));
        }
        assert_eq!(SamCode::from_sw3(0x90), None);
        assert_eq!(SamCode::from_sw3(0x55), Some(SamCode::Other(0x55)));
    }

    #[test]
    fn wrong_published_checksums_are_rejected() {
        assert_eq!(
            decode_frame(&h("AA AA AA 96 69 00 03 20 01 21")),
            Err(FrameError::Checksum {
                computed: 0x22,
                received: 0x21
            })
        );
        assert!(matches!(
            decode_frame(&h("AA AA AA 96 69 00 03 20 00 22")),
            Err(FrameError::Checksum { computed: 0x23, .. })
        ));
    }

    #[test]
    fn decoder_resyncs_over_garbage_split_reads_and_bad_frames() {
        let good = encode_response(0x9F, &[0, 0, 0, 0]);
        let mut bad = encode_response(0x90, &[1, 2, 3]);
        let last = bad.len() - 1;
        bad[last] ^= 0xFF;
        let mut stream = vec![0x00, 0xAA, 0x13, 0xAA, 0x00, 0xAA, 0xAA]; // stray bytes, broken preamble
        stream.extend_from_slice(&bad);
        stream.extend_from_slice(&good);
        stream.extend_from_slice(&good);
        let mut d = FrameDecoder::new();
        let mut frames = 0;
        let mut errors = 0;
        for chunk in stream.chunks(3) {
            d.push(chunk);
            while let Some(r) = d.next_frame() {
                match r {
                    Ok(f) => {
                        assert_eq!(f.sw3(), Some(0x9F));
                        frames += 1;
                    }
                    Err(_) => errors += 1,
                }
            }
        }
        assert_eq!(frames, 2);
        assert_eq!(errors, 1);
        assert!(d.discarded() >= 7);
    }

    #[test]
    fn stray_byte_inside_the_preamble_is_skipped() {
        let mut s = h("AA 00");
        s.extend_from_slice(&h("AA AA AA 96 69 00 04 00 00 90 94"));
        let mut d = FrameDecoder::new();
        d.push(&s);
        assert_eq!(
            d.next_frame().map(|r| r.map(|f| f.sw3())),
            Some(Ok(Some(0x90)))
        );
    }

    #[test]
    fn truncated_and_bad_length_frames() {
        assert!(matches!(
            decode_frame(&h("AA AA AA 96 69 05 08 00 00 90")),
            Err(FrameError::Truncated { need: 1295, .. })
        ));
        assert_eq!(
            decode_frame(&h("AA AA AA 96 69 FF FF 00")),
            Err(FrameError::BadLength(0xFFFF))
        );
        assert_eq!(decode_frame(&h("01 02")), Err(FrameError::NoPreamble));
        let mut d = FrameDecoder::new();
        d.push(&h("AA AA AA 96 69 FF FF 00"));
        assert_eq!(d.next_frame(), Some(Err(FrameError::BadLength(0xFFFF))));
        assert_eq!(d.next_frame(), None);
    }

    #[test]
    fn sam_id_formats() {
        let mut data = vec![];
        data.extend_from_slice(&5u16.to_le_bytes());
        data.extend_from_slice(&1u16.to_le_bytes());
        data.extend_from_slice(&20090630u32.to_le_bytes());
        data.extend_from_slice(&1234567u32.to_le_bytes());
        data.extend_from_slice(&3141592653u32.to_le_bytes());
        assert_eq!(
            format_sam_id(&data).as_deref(),
            Some("05.01-20090630-0001234567-3141592653")
        );
        assert_eq!(format_sam_id(&data[..10]), None);
    }

    #[test]
    fn hex_parsing() {
        assert_eq!(
            parse_hex("0xAA aa:96-69"),
            Some(vec![0xAA, 0xAA, 0x96, 0x69])
        );
        assert_eq!(parse_hex("A"), None);
        assert_eq!(parse_hex("zz"), None);
    }
}
