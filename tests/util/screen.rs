//! Shared helpers for the headless UI tests: find and press elements by their accessible label,
//! the way a screen reader (or a person reading the screen) would.
use std::time::Duration;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot};
use zizhu::ui::KioskWindow;

/// Lets Slint settle (instantiates new screens, runs due timers).
pub fn settle() {
    i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(0));
}

/// Every accessible label and value on screen.
pub fn labels(w: &KioskWindow) -> Vec<String> {
    w.root_element()
        .query_descendants()
        .find_all()
        .into_iter()
        .flat_map(|e| [e.accessible_label(), e.accessible_value()])
        .flatten()
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether some element shows or announces exactly this text.
pub fn shows(w: &KioskWindow, text: &str) -> bool {
    ElementHandle::find_by_accessible_label(w, text)
        .next()
        .is_some()
}

/// Presses the one button labelled `label` (panics listing what is on screen otherwise).
pub fn press(w: &KioskWindow, label: &str) {
    let hits: Vec<_> = ElementHandle::find_by_accessible_label(w, label)
        .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one button labelled {label:?}; on screen: {:?}",
        labels(w)
    );
    hits[0].invoke_accessible_default_action();
    settle();
}
