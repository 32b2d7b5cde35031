//! The kiosk's DRM/KMS platform (feature `linuxkms`): Slint's linuxkms backend with the panel's
//! rotation applied to the picture and to touch input alike.
//!
//! Slint turns the picture itself (`SLINT_KMS_ROTATION`), but maps touch and absolute-pointer
//! positions onto the turned window as if the panel were not turned. A touch panel reports in
//! its own (landscape) axes, so each touch or absolute pointer device gets a libinput
//! calibration matrix that turns its positions the same way as the picture when it is added.

use std::fmt;

/// Why the DRM/KMS platform could not be set up.
#[derive(Debug)]
pub enum KmsError {
    /// The rotation is not 0, 90, 180 or 270 degrees. Fix `[display] rotation` in kiosk.toml.
    BadRotation(u16),
    /// Slint's backend could not start (no DRM device, no permission): the message says which.
    Backend(String),
}

impl fmt::Display for KmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KmsError::BadRotation(r) => {
                write!(f, "display rotation {r} is not one of 0, 90, 180 or 270")
            }
            KmsError::Backend(e) => write!(f, "the DRM/KMS display could not start: {e}"),
        }
    }
}

impl std::error::Error for KmsError {}

/// The libinput calibration matrix (`[a b c d e f]`: x' = a·x + b·y + c, y' = d·x + e·y + f on
/// positions normalised to 0..1) that maps a panel position to the window when the picture is
/// turned `rotation` degrees clockwise on the panel; `None` for 0 (the device's own matrix,
/// e.g. one set by a udev rule, is left alone) and for an angle that is not a quarter turn.
pub fn touch_matrix(rotation: u16) -> Option<[f32; 6]> {
    match rotation {
        // Turned clockwise: the window's top edge is the panel's right edge.
        90 => Some([0.0, 1.0, 0.0, -1.0, 0.0, 1.0]),
        180 => Some([-1.0, 0.0, 1.0, 0.0, -1.0, 1.0]),
        // Turned anticlockwise: the window's top edge is the panel's left edge.
        270 => Some([0.0, -1.0, 1.0, 1.0, 0.0, 0.0]),
        _ => None,
    }
}

/// Makes Slint's linuxkms backend the platform, with the picture and touch turned `rotation`
/// degrees clockwise. Call it before the first window is made and before other threads start
/// (it sets `SLINT_KMS_ROTATION`, which the backend reads). `SLINT_BACKEND=linuxkms-NAME`
/// still picks the renderer.
pub fn install(rotation: u16) -> Result<(), KmsError> {
    if !matches!(rotation, 0 | 90 | 180 | 270) {
        return Err(KmsError::BadRotation(rotation));
    }
    // SAFETY of intent: called from the main thread before the runtime starts its threads.
    std::env::set_var("SLINT_KMS_ROTATION", rotation.to_string());
    let mut builder = i_slint_backend_linuxkms::BackendBuilder::default();
    if let Some(renderer) = std::env::var("SLINT_BACKEND")
        .ok()
        .and_then(|b| b.strip_prefix("linuxkms-").map(str::to_string))
    {
        builder = builder.with_renderer_name(renderer);
    }
    if let Some(matrix) = touch_matrix(rotation) {
        builder = builder.with_libinput_event_hook(Box::new(move |event| {
            use input::event::{DeviceEvent, EventTrait};
            if let input::Event::Device(DeviceEvent::Added(added)) = event {
                let mut device = added.device();
                if device.config_calibration_has_matrix() {
                    let _ = device.config_calibration_set_matrix(matrix);
                }
            }
            // Never swallow the event: Slint still needs to see the device.
            false
        }));
    }
    let backend = builder
        .build()
        .map_err(|e| KmsError::Backend(e.to_string()))?;
    slint::platform::set_platform(Box::new(backend)).map_err(|e| KmsError::Backend(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::touch_matrix;

    /// Where the matrix sends a panel position (normalised).
    fn apply(m: [f32; 6], x: f32, y: f32) -> (f32, f32) {
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }

    #[test]
    fn panel_corners_land_on_the_turned_window_corners() {
        // Turned 90° clockwise: the window's top-left corner is at the panel's top-right.
        let m = touch_matrix(90).unwrap();
        assert_eq!(apply(m, 1.0, 0.0), (0.0, 0.0));
        assert_eq!(apply(m, 1.0, 1.0), (1.0, 0.0));
        assert_eq!(apply(m, 0.0, 0.0), (0.0, 1.0));
        let m = touch_matrix(180).unwrap();
        assert_eq!(apply(m, 1.0, 1.0), (0.0, 0.0));
        assert_eq!(apply(m, 0.25, 0.0), (0.75, 1.0));
        // Turned 270°: the window's top-left corner is at the panel's bottom-left.
        let m = touch_matrix(270).unwrap();
        assert_eq!(apply(m, 0.0, 1.0), (0.0, 0.0));
        assert_eq!(apply(m, 0.0, 0.0), (1.0, 0.0));
        assert_eq!(touch_matrix(0), None);
        assert_eq!(touch_matrix(45), None);
    }
}
