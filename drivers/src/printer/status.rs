//! Real-time status of an ESC/POS printer: `DLE EOT n` (`10 04 n`, n = 1..4) and the one-byte
//! replies, pure. A reply has the fixed bits `(b & 0x93) == 0x12`, which tells it apart from other
//! bytes on the line.
use serde::Serialize;

use crate::DeviceErrorKind;

/// The request for status `n` (1 printer, 2 offline cause, 3 error cause, 4 paper sensor).
pub fn request(n: u8) -> [u8; 3] {
    [0x10, 0x04, n]
}

/// Whether `b` looks like a DLE EOT reply.
pub fn is_reply(b: u8) -> bool {
    b & 0x93 == 0x12
}

/// The printer's state from the four DLE EOT replies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PrinterStatus {
    /// n=1 bit 3 clear.
    pub online: bool,
    /// n=1 bit 5: waiting for online recovery.
    pub waiting_recovery: bool,
    /// n=1 bit 6 / n=2 bit 3: the feed button is pressed.
    pub feed_button: bool,
    /// n=2 bit 2.
    pub cover_open: bool,
    /// n=2 bit 5 (printing stopped by paper end) or n=4 bits 5+6.
    pub paper_end: bool,
    /// n=4 bits 2+3.
    pub paper_near_end: bool,
    /// n=2 bit 6: an error occurred.
    pub error: bool,
    /// n=3 bit 2: recoverable (mechanical) error.
    pub recoverable_error: bool,
    /// n=3 bit 3.
    pub cutter_error: bool,
    /// n=3 bit 5.
    pub unrecoverable_error: bool,
    /// n=3 bit 6 (e.g. head too hot).
    pub auto_recoverable_error: bool,
}

/// A byte that is not a DLE EOT reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("byte {0:02X} is not a printer status reply; check that the device is an ESC/POS printer")]
pub struct NotAStatus(pub u8);

impl PrinterStatus {
    /// Builds the status from the replies to n = 1, 2, 3, 4.
    pub fn from_replies(r: [u8; 4]) -> Result<PrinterStatus, NotAStatus> {
        for b in r {
            if !is_reply(b) {
                return Err(NotAStatus(b));
            }
        }
        let bit = |b: u8, i: u8| b & (1 << i) != 0;
        let [p, o, e, s] = r;
        Ok(PrinterStatus {
            online: !bit(p, 3),
            waiting_recovery: bit(p, 5),
            feed_button: bit(p, 6) || bit(o, 3),
            cover_open: bit(o, 2),
            paper_end: bit(o, 5) || (bit(s, 5) && bit(s, 6)),
            paper_near_end: bit(s, 2) && bit(s, 3),
            error: bit(o, 6),
            recoverable_error: bit(e, 2),
            cutter_error: bit(e, 3),
            unrecoverable_error: bit(e, 5),
            auto_recoverable_error: bit(e, 6),
        })
    }

    /// The reply byte a printer in this state sends to `DLE EOT n` (used by the simulator).
    pub fn reply(&self, n: u8) -> u8 {
        let b = |on: bool, i: u8| if on { 1u8 << i } else { 0 };
        0x12 | match n {
            1 => b(!self.online, 3) | b(self.waiting_recovery, 5) | b(self.feed_button, 6),
            2 => {
                b(self.cover_open, 2)
                    | b(self.feed_button, 3)
                    | b(self.paper_end, 5)
                    | b(self.error, 6)
            }
            3 => {
                b(self.recoverable_error, 2)
                    | b(self.cutter_error, 3)
                    | b(self.unrecoverable_error, 5)
                    | b(self.auto_recoverable_error, 6)
            }
            4 => {
                b(self.paper_near_end, 2)
                    | b(self.paper_near_end, 3)
                    | b(self.paper_end, 5)
                    | b(self.paper_end, 6)
            }
            _ => 0,
        }
    }

    /// A healthy printer.
    pub fn ready_state() -> PrinterStatus {
        PrinterStatus {
            online: true,
            ..PrinterStatus::default()
        }
    }

    /// Whether a job can be printed now.
    pub fn ready(&self) -> bool {
        self.online
            && !self.cover_open
            && !self.paper_end
            && !self.error
            && !self.cutter_error
            && !self.unrecoverable_error
            && !self.recoverable_error
    }

    /// Why the printer cannot print, as a category and plain words (`None` when ready).
    pub fn problem(&self) -> Option<(DeviceErrorKind, &'static str)> {
        if self.cover_open {
            Some((DeviceErrorKind::CoverOpen, "the printer cover is open"))
        } else if self.paper_end {
            Some((DeviceErrorKind::PaperOut, "the printer is out of paper"))
        } else if self.cutter_error {
            Some((DeviceErrorKind::DeviceFault, "the paper cutter is jammed"))
        } else if self.unrecoverable_error {
            Some((
                DeviceErrorKind::DeviceFault,
                "the printer reports an unrecoverable error",
            ))
        } else if self.error || self.recoverable_error || self.auto_recoverable_error {
            Some((DeviceErrorKind::DeviceFault, "the printer reports an error"))
        } else if !self.online {
            Some((DeviceErrorKind::Other, "the printer is offline"))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_paper_out_vector() {
        // n=1 1A, n=2 32, n=4 7E for a printer out of paper; n=3 carries no error.
        let s = PrinterStatus::from_replies([0x1A, 0x32, 0x12, 0x7E]).unwrap();
        assert!(!s.online);
        assert!(s.paper_end);
        assert!(s.paper_near_end);
        assert!(!s.cover_open);
        assert!(!s.ready());
        assert_eq!(s.problem().map(|p| p.0), Some(DeviceErrorKind::PaperOut));
        assert_eq!([s.reply(1), s.reply(2), s.reply(4)], [0x1A, 0x32, 0x7E]);
    }

    #[test]
    fn every_bit_round_trips() {
        let flags: [fn(&mut PrinterStatus); 10] = [
            |s| s.online = false,
            |s| s.waiting_recovery = true,
            |s| s.cover_open = true,
            |s| s.paper_end = true,
            |s| s.paper_near_end = true,
            |s| s.error = true,
            |s| s.recoverable_error = true,
            |s| s.cutter_error = true,
            |s| s.unrecoverable_error = true,
            |s| s.auto_recoverable_error = true,
        ];
        for set in flags {
            let mut s = PrinterStatus::ready_state();
            set(&mut s);
            let r = [s.reply(1), s.reply(2), s.reply(3), s.reply(4)];
            assert!(r.iter().all(|b| is_reply(*b)));
            assert_eq!(PrinterStatus::from_replies(r), Ok(s));
        }
        let ready = PrinterStatus::from_replies([0x12; 4]).unwrap();
        assert!(ready.ready());
        assert_eq!(ready.problem(), None);
    }

    #[test]
    fn non_status_bytes_are_rejected() {
        assert_eq!(
            PrinterStatus::from_replies([0x12, 0x12, 0x00, 0x12]),
            Err(NotAStatus(0))
        );
        assert!(!is_reply(0x06));
        assert_eq!(request(4), [0x10, 0x04, 0x04]);
    }
}
