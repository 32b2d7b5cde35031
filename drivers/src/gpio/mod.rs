//! GPIO of the kiosk: status LEDs, buzzer, presence sensor (wake the screen) and the power relays
//! used to power-cycle a reader or printer that stopped answering.
//!
//! [`NoopGpio`] works everywhere (it records what it was told, so tests and the maintenance
//! screen can show it); [`SimGpio`] is the simulated kiosk's GPIO (clones share one state, every
//! relay switch is logged and can be hooked, so a simulated device loses power with it); with
//! feature `rpi`, [`rpi::RppalGpio`] drives real pins through rppal. CI never needs a Raspberry Pi.
use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

#[cfg(feature = "rpi")]
pub mod rpi;

/// Errors of GPIO.
#[derive(Debug, thiserror::Error)]
pub enum GpioError {
    /// The GPIO chip could not be opened (not a Raspberry Pi, or no access to /dev/gpiomem).
    /// Remedy: add the service user to the `gpio` group, or build without feature `rpi`.
    #[error("GPIO unavailable: {0}")]
    Unavailable(String),
    /// A pin could not be claimed (used by another program or an overlay). Remedy: check the
    /// pin numbers in the kiosk config against `/boot/config.txt` overlays.
    #[error("GPIO pin {pin}: {reason}")]
    Pin {
        /// BCM pin number.
        pin: u8,
        /// What failed.
        reason: String,
    },
}

impl GpioError {
    /// The category the runtime maps to UI state.
    pub fn kind(&self) -> crate::DeviceErrorKind {
        crate::DeviceErrorKind::DeviceFault
    }
}

/// A status LED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Led {
    /// Green: in service.
    Ready,
    /// Amber: busy / attention (paper low).
    Busy,
    /// Red: out of service.
    Fault,
}

/// A device behind a power relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relay {
    /// The ID-card reader.
    Reader,
    /// The receipt printer.
    Printer,
}

/// GPIO in domain terms. Object-safe.
pub trait Gpio: Send {
    /// Switches a LED.
    fn set_led(&mut self, led: Led, on: bool) -> Result<(), GpioError>;
    /// Sounds the buzzer for `d` (blocking for that long).
    fn beep(&mut self, d: Duration) -> Result<(), GpioError>;
    /// Whether someone stands in front of the kiosk.
    fn presence(&mut self) -> Result<bool, GpioError>;
    /// Powers a device on or off.
    fn set_power(&mut self, relay: Relay, on: bool) -> Result<(), GpioError>;
    /// Powers a device off for `off_for`, then on again.
    fn power_cycle(&mut self, relay: Relay, off_for: Duration) -> Result<(), GpioError> {
        tracing::warn!(?relay, "power-cycling a device");
        self.set_power(relay, false)?;
        std::thread::sleep(off_for);
        self.set_power(relay, true)
    }
}

/// GPIO that does nothing but remember: for machines without a Raspberry Pi.
#[derive(Debug, Default, Clone)]
pub struct NoopGpio {
    /// LEDs that are on.
    pub leds: std::collections::HashSet<Led>,
    /// Relays switched off.
    pub powered_off: std::collections::HashSet<Relay>,
    /// Power cycles and switch-offs done.
    pub power_offs: u32,
    /// Beeps sounded.
    pub beeps: u32,
    /// What [`Gpio::presence`] answers.
    pub present: bool,
}

impl Gpio for NoopGpio {
    fn set_led(&mut self, led: Led, on: bool) -> Result<(), GpioError> {
        if on {
            self.leds.insert(led);
        } else {
            self.leds.remove(&led);
        }
        Ok(())
    }
    fn beep(&mut self, _d: Duration) -> Result<(), GpioError> {
        self.beeps += 1;
        Ok(())
    }
    fn presence(&mut self) -> Result<bool, GpioError> {
        Ok(self.present)
    }
    fn set_power(&mut self, relay: Relay, on: bool) -> Result<(), GpioError> {
        if on {
            self.powered_off.remove(&relay);
        } else {
            self.power_offs += 1;
            self.powered_off.insert(relay);
        }
        Ok(())
    }
    fn power_cycle(&mut self, relay: Relay, _off_for: Duration) -> Result<(), GpioError> {
        self.set_power(relay, false)?;
        self.set_power(relay, true)
    }
}

/// What a [`SimGpio`] has been told, as seen from outside (tests, demos).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimGpioState {
    /// LEDs that are on.
    pub leds: HashSet<Led>,
    /// Relays switched off now.
    pub powered_off: HashSet<Relay>,
    /// Every relay switch in order: the relay and whether it was switched on.
    pub switches: Vec<(Relay, bool)>,
    /// Beeps sounded.
    pub beeps: u32,
    /// What [`Gpio::presence`] answers.
    pub present: bool,
}

/// Called on every relay switch of a [`SimGpio`] (the relay, powered on or not).
type PowerHook = Box<dyn Fn(Relay, bool) + Send>;

/// The simulated kiosk's GPIO. Clones share one state: the runtime switches relays through one
/// clone while a test or the maintenance screen looks at another. A hook set with
/// [`SimGpio::on_power`] hears every relay switch (the runtime unplugs a simulated device while
/// its relay is off).
#[derive(Clone, Default)]
pub struct SimGpio {
    state: Arc<Mutex<SimGpioState>>,
    hook: Arc<Mutex<Option<PowerHook>>>,
}

impl std::fmt::Debug for SimGpio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimGpio")
            .field("state", &*self.lock())
            .finish_non_exhaustive()
    }
}

impl SimGpio {
    /// A simulated GPIO with every relay powered and every LED off.
    pub fn new() -> SimGpio {
        SimGpio::default()
    }

    fn lock(&self) -> MutexGuard<'_, SimGpioState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// A copy of everything it has been told.
    pub fn snapshot(&self) -> SimGpioState {
        self.lock().clone()
    }

    /// The switches of one relay in order (`false` off, `true` on).
    pub fn switches(&self, relay: Relay) -> Vec<bool> {
        self.lock()
            .switches
            .iter()
            .filter(|(r, _)| *r == relay)
            .map(|(_, on)| *on)
            .collect()
    }

    /// Whether the relay powers its device now.
    pub fn is_powered(&self, relay: Relay) -> bool {
        !self.lock().powered_off.contains(&relay)
    }

    /// Sets what the presence sensor answers.
    pub fn set_present(&self, present: bool) {
        self.lock().present = present;
    }

    /// Calls `hook` after every relay switch (replacing an earlier hook).
    pub fn on_power(&self, hook: impl Fn(Relay, bool) + Send + 'static) {
        let mut h = match self.hook.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *h = Some(Box::new(hook));
    }
}

impl Gpio for SimGpio {
    fn set_led(&mut self, led: Led, on: bool) -> Result<(), GpioError> {
        let mut s = self.lock();
        if on {
            s.leds.insert(led);
        } else {
            s.leds.remove(&led);
        }
        Ok(())
    }
    fn beep(&mut self, _d: Duration) -> Result<(), GpioError> {
        self.lock().beeps += 1;
        Ok(())
    }
    fn presence(&mut self) -> Result<bool, GpioError> {
        Ok(self.lock().present)
    }
    fn set_power(&mut self, relay: Relay, on: bool) -> Result<(), GpioError> {
        {
            let mut s = self.lock();
            if on {
                s.powered_off.remove(&relay);
            } else {
                s.powered_off.insert(relay);
            }
            s.switches.push((relay, on));
        }
        let hook = match self.hook.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(h) = hook.as_ref() {
            h(relay, on);
        }
        Ok(())
    }
}

/// BCM pin numbers of the kiosk's GPIO wiring (docs/devices.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pins {
    /// Green LED.
    pub led_ready: u8,
    /// Amber LED.
    pub led_busy: u8,
    /// Red LED.
    pub led_fault: u8,
    /// Buzzer (active high).
    pub buzzer: u8,
    /// Presence sensor input (PIR, high = someone there).
    pub presence: u8,
    /// Reader relay (high = powered).
    pub relay_reader: u8,
    /// Printer relay (high = powered).
    pub relay_printer: u8,
}

impl Default for Pins {
    fn default() -> Self {
        Pins {
            led_ready: 17,
            led_busy: 27,
            led_fault: 22,
            buzzer: 18,
            presence: 23,
            relay_reader: 5,
            relay_printer: 6,
        }
    }
}

/// The best GPIO for this machine: real pins with feature `rpi` when they open, else no-op.
pub fn open(pins: Pins) -> Box<dyn Gpio> {
    #[cfg(feature = "rpi")]
    match rpi::RppalGpio::open(pins) {
        Ok(g) => return Box::new(g),
        Err(e) => tracing::warn!(error = %e, "no GPIO; using the no-op implementation"),
    }
    let _ = pins;
    Box::new(NoopGpio::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noop_remembers() {
        let mut g = NoopGpio::default();
        g.set_led(Led::Fault, true).unwrap();
        g.power_cycle(Relay::Printer, Duration::from_millis(1))
            .unwrap();
        g.beep(Duration::from_millis(1)).unwrap();
        assert!(g.leds.contains(&Led::Fault));
        assert_eq!(g.power_offs, 1);
        assert!(g.powered_off.is_empty());
        assert_eq!(g.beeps, 1);
        assert!(!g.presence().unwrap());
        let mut boxed = open(Pins::default());
        assert!(boxed.set_led(Led::Ready, true).is_ok());
    }

    #[test]
    fn sim_clones_share_state_and_log_switches() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let g = SimGpio::new();
        let s = seen.clone();
        g.on_power(move |r, on| s.lock().unwrap().push((r, on)));
        let mut worker = g.clone();
        worker
            .power_cycle(Relay::Printer, Duration::from_millis(1))
            .unwrap();
        worker.set_led(Led::Busy, true).unwrap();
        assert_eq!(g.switches(Relay::Printer), vec![false, true]);
        assert!(g.switches(Relay::Reader).is_empty());
        assert!(g.is_powered(Relay::Printer));
        assert!(g.snapshot().leds.contains(&Led::Busy));
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(Relay::Printer, false), (Relay::Printer, true)]
        );
        worker.set_power(Relay::Reader, false).unwrap();
        assert!(!g.is_powered(Relay::Reader));
        g.set_present(true);
        assert!(worker.presence().unwrap());
    }
}
