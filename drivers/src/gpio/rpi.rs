//! Real GPIO on a Raspberry Pi through rppal (feature `rpi`).
use std::time::Duration;

use rppal::gpio::{Gpio as Chip, InputPin, OutputPin};

use super::{Gpio, GpioError, Led, Pins, Relay};

/// The kiosk's pins, claimed from the GPIO chip.
pub struct RppalGpio {
    ready: OutputPin,
    busy: OutputPin,
    fault: OutputPin,
    buzzer: OutputPin,
    presence: InputPin,
    reader: OutputPin,
    printer: OutputPin,
}

fn out(chip: &Chip, pin: u8, high: bool) -> Result<OutputPin, GpioError> {
    let p = chip.get(pin).map_err(|e| GpioError::Pin {
        pin,
        reason: e.to_string(),
    })?;
    let mut o = p.into_output();
    o.set_reset_on_drop(false);
    if high {
        o.set_high();
    } else {
        o.set_low();
    }
    Ok(o)
}

impl RppalGpio {
    /// Claims the pins; relays start powered, LEDs off.
    pub fn open(pins: Pins) -> Result<Self, GpioError> {
        let chip = Chip::new().map_err(|e| GpioError::Unavailable(e.to_string()))?;
        let presence = chip
            .get(pins.presence)
            .map_err(|e| GpioError::Pin {
                pin: pins.presence,
                reason: e.to_string(),
            })?
            .into_input_pulldown();
        Ok(RppalGpio {
            ready: out(&chip, pins.led_ready, false)?,
            busy: out(&chip, pins.led_busy, false)?,
            fault: out(&chip, pins.led_fault, false)?,
            buzzer: out(&chip, pins.buzzer, false)?,
            presence,
            reader: out(&chip, pins.relay_reader, true)?,
            printer: out(&chip, pins.relay_printer, true)?,
        })
    }
}

impl Gpio for RppalGpio {
    fn set_led(&mut self, led: Led, on: bool) -> Result<(), GpioError> {
        let p = match led {
            Led::Ready => &mut self.ready,
            Led::Busy => &mut self.busy,
            Led::Fault => &mut self.fault,
        };
        if on {
            p.set_high()
        } else {
            p.set_low()
        }
        Ok(())
    }
    fn beep(&mut self, d: Duration) -> Result<(), GpioError> {
        self.buzzer.set_high();
        std::thread::sleep(d);
        self.buzzer.set_low();
        Ok(())
    }
    fn presence(&mut self) -> Result<bool, GpioError> {
        Ok(self.presence.is_high())
    }
    fn set_power(&mut self, relay: Relay, on: bool) -> Result<(), GpioError> {
        let p = match relay {
            Relay::Reader => &mut self.reader,
            Relay::Printer => &mut self.printer,
        };
        if on {
            p.set_high()
        } else {
            p.set_low()
        }
        Ok(())
    }
}
