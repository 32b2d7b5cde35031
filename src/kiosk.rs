//! Kiosk UI wiring (placeholder).
