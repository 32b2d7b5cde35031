//! `GET /metrics`: the Prometheus text exposition (format 0.0.4) of a [`StatusReport`].
//!
//! Hand-written rather than through a client library: the kiosk already keeps its state in one
//! snapshot, every family is a gauge or a counter rendered from it, and writing the text directly
//! keeps names, units and label sets exactly as documented (docs/operations.md) with no registry
//! to keep in sync. Every family has `# HELP` and `# TYPE`; names carry the `zizhu_` prefix and
//! their unit; label values are escaped; no label ever carries personal data, and per-kiosk series
//! stay bounded (about 40 plus one per service category and error kind seen).
use std::fmt::Write;

use super::state::{DeviceState, Paper, StatusReport, DEVICES};

/// Content type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Escapes a label value: backslash, double quote and newline.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn gauge(&mut self, name: &str, help: &str, value: impl std::fmt::Display) {
        self.family(name, "gauge", help);
        self.sample(name, &[], value);
    }
}

fn b(v: bool) -> u8 {
    u8::from(v)
}

/// Renders the exposition for `r`, whose runtime started at `started_unix`.
pub fn render(r: &StatusReport, started_unix: i64) -> String {
    let mut o = Out(String::with_capacity(6 * 1024));
    o.family(
        "zizhu_build_info",
        "gauge",
        "Software version and build of the kiosk; always 1.",
    );
    o.sample(
        "zizhu_build_info",
        &[("version", &r.version), ("build", &r.build)],
        1,
    );
    o.family(
        "zizhu_kiosk_info",
        "gauge",
        "Kiosk id and site from provisioning; always 1.",
    );
    o.sample(
        "zizhu_kiosk_info",
        &[("kiosk_id", &r.kiosk_id), ("site", &r.site)],
        1,
    );
    o.gauge(
        "zizhu_start_time_seconds",
        "Start of the kiosk runtime, Unix time.",
        started_unix,
    );
    o.gauge(
        "zizhu_uptime_seconds",
        "Seconds since the kiosk runtime started.",
        r.uptime_seconds,
    );
    o.gauge(
        "zizhu_session_active",
        "1 while a citizen is using the kiosk (never who), else 0.",
        b(r.session_active),
    );

    o.family(
        "zizhu_device_up",
        "gauge",
        "1 when the device answers (ok or degraded), 0 when offline.",
    );
    for d in DEVICES {
        let st = r.devices.get(d).map_or(DeviceState::Offline, |h| h.state);
        o.sample(
            "zizhu_device_up",
            &[("device", d)],
            b(st != DeviceState::Offline),
        );
    }
    o.family(
        "zizhu_device_state",
        "gauge",
        "Device state as a state set: 1 for the current state.",
    );
    for d in DEVICES {
        let st = r.devices.get(d).map_or(DeviceState::Offline, |h| h.state);
        for s in [DeviceState::Ok, DeviceState::Degraded, DeviceState::Offline] {
            o.sample(
                "zizhu_device_state",
                &[("device", d), ("state", s.as_str())],
                b(st == s),
            );
        }
    }
    o.family(
        "zizhu_device_state_since_timestamp_seconds",
        "gauge",
        "When the device entered its current state, Unix time.",
    );
    for d in DEVICES {
        if let Some(h) = r.devices.get(d) {
            o.sample(
                "zizhu_device_state_since_timestamp_seconds",
                &[("device", d)],
                h.since_unix,
            );
        }
    }

    o.family(
        "zizhu_printer_paper",
        "gauge",
        "Receipt paper as a state set: 1 for the current state.",
    );
    for p in [Paper::Ok, Paper::NearEnd, Paper::Out, Paper::Unknown] {
        o.sample(
            "zizhu_printer_paper",
            &[("state", p.as_str())],
            b(r.printer_paper == p),
        );
    }

    o.gauge(
        "zizhu_outbox_items",
        "Submissions and evaluations waiting for the platform.",
        r.outbox.depth,
    );
    o.gauge(
        "zizhu_outbox_oldest_age_seconds",
        "Age of the oldest outbox item; 0 when the outbox is empty.",
        r.outbox.oldest_age_seconds.unwrap_or(0),
    );
    if let Some(t) = r.platform.last_contact_unix {
        o.gauge(
            "zizhu_platform_last_contact_timestamp_seconds",
            "Last successful request to the service platform, Unix time.",
            t,
        );
    }
    o.gauge(
        "zizhu_trust_list_loaded",
        "1 when an e-license issuer trust list is loaded.",
        b(r.trust_list_age_seconds.is_some()),
    );
    if let Some(a) = r.trust_list_age_seconds {
        o.gauge(
            "zizhu_trust_list_age_seconds",
            "Age of the loaded e-license issuer trust list.",
            a,
        );
    }
    o.gauge(
        "zizhu_disk_free_bytes",
        "Bytes free for the kiosk's data.",
        r.disk.free_bytes,
    );
    o.gauge(
        "zizhu_disk_size_bytes",
        "Size of the file system holding the kiosk's data.",
        r.disk.size_bytes,
    );
    if let Some(t) = r.cpu_temperature_celsius {
        o.gauge(
            "zizhu_cpu_temperature_celsius",
            "Hottest CPU thermal zone.",
            t,
        );
    }
    if let Some(s) = r.clock_synced {
        o.gauge(
            "zizhu_clock_synced",
            "1 when the system clock is synchronised, else 0.",
            b(s),
        );
    }

    let c = &r.counters;
    o.family(
        "zizhu_services_completed_total",
        "counter",
        "Services finished successfully, by category.",
    );
    for (cat, n) in &c.services_completed {
        o.sample("zizhu_services_completed_total", &[("category", cat)], n);
    }
    o.family(
        "zizhu_services_failed_total",
        "counter",
        "Services that ended in failure, by category.",
    );
    for (cat, n) in &c.services_failed {
        o.sample("zizhu_services_failed_total", &[("category", cat)], n);
    }
    o.family("zizhu_card_reads_total", "counter", "ID cards read.");
    o.sample("zizhu_card_reads_total", &[], c.card_reads);
    o.family("zizhu_prints_total", "counter", "Receipts printed.");
    o.sample("zizhu_prints_total", &[], c.prints);
    o.family("zizhu_scans_total", "counter", "Codes scanned.");
    o.sample("zizhu_scans_total", &[], c.scans);
    o.family("zizhu_errors_total", "counter", "Errors by kind.");
    for (kind, n) in &c.errors {
        o.sample("zizhu_errors_total", &[("kind", kind)], n);
    }
    o.family(
        "zizhu_device_power_cycles_total",
        "counter",
        "Devices power-cycled through their GPIO relay after they stopped answering.",
    );
    for (device, n) in &c.power_cycles {
        o.sample("zizhu_device_power_cycles_total", &[("device", device)], n);
    }

    o.family(
        "zizhu_help_requests_total",
        "counter",
        "Help requests raised on the screen (call for help).",
    );
    o.sample("zizhu_help_requests_total", &[], c.help_requests);
    o.gauge(
        "zizhu_help_pending",
        "1 while a citizen's help request waits for staff, else 0.",
        b(r.help_pending),
    );
    if let Some(t) = r.help_pending_since_unix {
        o.gauge(
            "zizhu_help_pending_since_timestamp_seconds",
            "When the pending help request was raised, Unix time.",
            t,
        );
    }

    o.family(
        "zizhu_staff_sign_ins_total",
        "counter",
        "Staff sign-ins (assisted visits) accepted at the kiosk.",
    );
    o.sample("zizhu_staff_sign_ins_total", &[], c.staff_sign_ins);
    o.family(
        "zizhu_staff_sign_in_refusals_total",
        "counter",
        "Staff codes refused, by reason (expired, other-site, other-kiosk, replayed, untrusted, …).",
    );
    for (reason, n) in &c.staff_sign_in_refusals {
        o.sample(
            "zizhu_staff_sign_in_refusals_total",
            &[("reason", reason)],
            n,
        );
    }
    o.gauge(
        "zizhu_staff_signed_in",
        "1 while a staff member is signed in for the visit at the kiosk, else 0.",
        b(r.staff_signed_in),
    );
    if let Some(t) = r.staff_signed_in_since_unix {
        o.gauge(
            "zizhu_staff_signed_in_since_timestamp_seconds",
            "When the staff member now signed in signed in, Unix time.",
            t,
        );
    }

    let cat = &r.catalog;
    o.family(
        "zizhu_catalog_info",
        "gauge",
        "The service catalog in use: source (embedded or bundle) and site profile; always 1.",
    );
    o.sample(
        "zizhu_catalog_info",
        &[
            ("source", &cat.source),
            ("profile", cat.profile.as_deref().unwrap_or("")),
        ],
        1,
    );
    o.gauge(
        "zizhu_catalog_sequence",
        "Sequence of the catalog bundle in use; 0 for the embedded catalog.",
        cat.sequence.unwrap_or(0),
    );
    if let Some(t) = cat.applied_unix {
        o.gauge(
            "zizhu_catalog_applied_timestamp_seconds",
            "When the catalog in use took effect, Unix time.",
            t,
        );
    }
    o.gauge(
        "zizhu_catalog_services_offered",
        "Services this kiosk offers (its site profile's set).",
        cat.services_offered,
    );
    o.family(
        "zizhu_catalog_bundles_refused_total",
        "counter",
        "Catalog bundles refused, by reason (signature, rollback, expired, catalog-invalid, …).",
    );
    for (reason, n) in &cat.refused {
        o.sample(
            "zizhu_catalog_bundles_refused_total",
            &[("reason", reason)],
            n,
        );
    }
    o.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StatusState;

    #[test]
    fn every_family_has_help_and_type() {
        let s = StatusState::new("MZ-0042", "梅江区\"邮政\"支局");
        s.set_paper(Paper::Out);
        s.service_completed("社保");
        s.has_relay("idcard");
        s.power_cycled("printer");
        s.help_requested();
        s.staff_refused("expired");
        s.staff_refused("expired");
        s.staff_refused("replayed");
        s.staff_signed_in();
        let text = render(&s.snapshot(), s.started_unix());
        assert!(text.contains("zizhu_help_requests_total 1"));
        assert!(text.contains("zizhu_help_pending 1"));
        assert!(text.contains("zizhu_staff_sign_ins_total 1"));
        assert!(text.contains("zizhu_staff_sign_in_refusals_total{reason=\"expired\"} 2"));
        assert!(text.contains("zizhu_staff_sign_in_refusals_total{reason=\"replayed\"} 1"));
        assert!(text.contains("zizhu_staff_signed_in 1"));
        assert!(text.contains("zizhu_staff_signed_in_since_timestamp_seconds "));
        assert!(text.contains("# TYPE zizhu_device_power_cycles_total counter"));
        assert!(text.contains("zizhu_device_power_cycles_total{device=\"idcard\"} 0"));
        assert!(text.contains("zizhu_device_power_cycles_total{device=\"printer\"} 1"));
        assert!(text.ends_with('\n'));
        assert!(text.contains("zizhu_printer_paper{state=\"out\"} 1"));
        assert!(text.contains("site=\"梅江区\\\"邮政\\\"支局\""));
        let mut typed = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                typed.insert(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(typed.contains(name), "{name} has no TYPE");
            }
        }
    }
}
