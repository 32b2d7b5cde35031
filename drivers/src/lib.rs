//! Device drivers for the Zizhu kiosk (filled by the drivers work).
