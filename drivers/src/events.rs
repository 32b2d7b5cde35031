//! Where a device worker's events go ([`EventSink`]): the worker's own `mpsc` channel, or a
//! channel shared by several devices, where each event is wrapped in the receiver's own enum
//! (the kiosk's one device hub hears the reader, the printer and the scanner on one channel, with
//! no thread per device to forward them).
use std::sync::mpsc::Sender;

/// The receiving end is gone: nobody listens to this worker any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the receiver of the device events is gone")]
pub struct Gone;

/// A place to send one device's events to. Made from a `Sender<T>` (`tx.into()`) or with
/// [`EventSink::wrapped`] from a shared channel.
pub struct EventSink<T> {
    send: Box<dyn Fn(T) -> Result<(), Gone> + Send>,
}

impl<T> std::fmt::Debug for EventSink<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink").finish_non_exhaustive()
    }
}

impl<T: Send + 'static> EventSink<T> {
    /// Sends every event on `tx` as `wrap(event)`.
    pub fn wrapped<U: Send + 'static>(tx: Sender<U>, wrap: fn(T) -> U) -> EventSink<T> {
        EventSink {
            send: Box::new(move |ev| tx.send(wrap(ev)).map_err(|_| Gone)),
        }
    }

    /// Sends one event.
    pub fn send(&self, ev: T) -> Result<(), Gone> {
        (self.send)(ev)
    }
}

impl<T: Send + 'static> From<Sender<T>> for EventSink<T> {
    fn from(tx: Sender<T>) -> EventSink<T> {
        EventSink {
            send: Box::new(move |ev| tx.send(ev).map_err(|_| Gone)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Both {
        A(u8),
        B(&'static str),
    }

    #[test]
    fn two_sinks_share_one_channel_and_report_a_gone_receiver() {
        let (tx, rx) = std::sync::mpsc::channel();
        let a = EventSink::wrapped(tx.clone(), Both::A);
        let b = EventSink::wrapped(tx, Both::B);
        a.send(1).expect("open");
        b.send("x").expect("open");
        assert_eq!(rx.recv().ok(), Some(Both::A(1)));
        assert_eq!(rx.recv().ok(), Some(Both::B("x")));
        drop(rx);
        assert_eq!(a.send(2), Err(Gone));
        let (tx, rx) = std::sync::mpsc::channel();
        let own: EventSink<u8> = tx.into();
        own.send(7).expect("open");
        assert_eq!(rx.recv().ok(), Some(7));
    }
}
