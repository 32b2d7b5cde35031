//! Kiosk config (placeholder).
