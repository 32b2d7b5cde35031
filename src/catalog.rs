//! Catalog (placeholder).
