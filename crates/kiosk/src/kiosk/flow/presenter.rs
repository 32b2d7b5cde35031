//! The flow screens' presenter: shows a [`Visit`] on the `FlowAdapter` global and nothing
//! else (the controller in `super::controller` owns the state). The QR pictures are made here
//! and kept while their link is the same.
use slint::{
    ComponentHandle, Image, ModelRc, Rgb8Pixel, SharedPixelBuffer, SharedString, VecModel,
};

use super::controller::{Print, PrintWait, Visit, SLOT_DAYS};
use super::keyboard;
use crate::catalog::{Catalog, Field, FieldKind, Lang};
use crate::flow::engine::REASONS;
use crate::flow::{Flow, Step};
use crate::text::Text;
use crate::ui::{
    FlowAdapter, FlowChoice, FlowKeyRow, FlowKeyboard, FlowLicence, FlowPrint, FlowPrintWait,
    FlowRow, FlowSlot, FlowSlotRow, FlowStep, FlowTableRow, KioskWindow,
};

/// Appointment times per row (elderly mode: fewer, larger).
const SLOT_COLUMNS: usize = 3;

/// The QR pictures on screen, with the links they carry.
#[derive(Default)]
pub(super) struct Qrs {
    /// The face check's or the payment's.
    pub phone: Option<(String, Image)>,
    /// The result's hand-off.
    pub handoff: Option<(String, Image)>,
}

pub(super) fn model<T: Clone + 'static>(v: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(v))
}

/// Shows a keyboard's keys.
fn set_keys(a: &FlowAdapter<'_>, keys: keyboard::Keys) {
    a.set_key_columns(keys.columns);
    a.set_key_rows(model(
        keys.rows
            .iter()
            .map(|r| FlowKeyRow {
                keys: model(r.iter().map(|k| SharedString::from(*k)).collect()),
            })
            .collect(),
    ));
}

/// A QR code as a picture: black modules on white with a quiet zone, 8 pixels a module.
pub fn qr_image(text: &str) -> Option<Image> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let n = code.width();
    let colors = code.to_colors();
    let (quiet, scale) = (4usize, 8usize);
    let side = (n + 2 * quiet) * scale;
    let mut buf = SharedPixelBuffer::<Rgb8Pixel>::new(side as u32, side as u32);
    let px = buf.make_mut_slice();
    for (y, row) in px.chunks_mut(side).enumerate() {
        for (x, p) in row.iter_mut().enumerate() {
            let (mx, my) = (
                (x / scale).wrapping_sub(quiet),
                (y / scale).wrapping_sub(quiet),
            );
            let dark = mx < n && my < n && colors[my * n + mx] == qrcode::Color::Dark;
            let v = if dark { 0 } else { 255 };
            *p = Rgb8Pixel::new(v, v, v);
        }
    }
    Some(Image::from_rgb8(buf))
}

/// The picture of `url`, made once while the link stays the same.
fn cached_qr(slot: &mut Option<(String, Image)>, url: &str) -> Image {
    match slot {
        Some((u, img)) if u == url => img.clone(),
        _ => {
            let img = qr_image(url).unwrap_or_default();
            *slot = Some((url.to_string(), img.clone()));
            img
        }
    }
}

/// Empties every property that could hold something of the visitor.
pub(super) fn clear(w: &KioskWindow) {
    let a = w.global::<FlowAdapter>();
    let empty = SharedString::new();
    a.set_step(FlowStep::Identify);
    a.set_service_name(empty.clone());
    a.set_busy(false);
    a.set_error(empty.clone());
    a.set_stuck(false);
    a.set_proxy(false);
    a.set_typing(false);
    a.set_typed_display(empty.clone());
    a.set_typed_count(0);
    a.set_qr(Image::default());
    a.set_field_index(0);
    a.set_field_count(0);
    a.set_field_label(empty.clone());
    a.set_field_example(empty.clone());
    a.set_field_value(empty.clone());
    a.set_field_hint(empty.clone());
    a.set_field_required(false);
    a.set_keyboard(FlowKeyboard::Keys);
    a.set_key_rows(model(Vec::new()));
    a.set_choices(model(Vec::new()));
    a.set_who(empty.clone());
    a.set_summary(model(Vec::new()));
    a.set_amount(empty.clone());
    a.set_paid(false);
    a.set_result_title(empty.clone());
    a.set_reference(empty.clone());
    a.set_items(model(Vec::new()));
    a.set_columns(model(Vec::new()));
    a.set_rows(model(Vec::new()));
    a.set_next_steps(empty.clone());
    a.set_queued(false);
    a.set_local_reference(empty.clone());
    a.set_print_state(FlowPrint::None);
    a.set_visitor_waiting(false);
    a.set_has_handoff(false);
    a.set_handoff_shown(false);
    a.set_handoff_qr(Image::default());
    a.set_level(0);
    a.set_reasons(model(Vec::new()));
    a.set_can_staff_verify(false);
    a.set_helper_level(0);
}

/// Shows the visit on the flow screens.
pub(super) fn present(w: &KioskWindow, s: &Visit, qrs: &mut Qrs) {
    let a = w.global::<FlowAdapter>();
    a.set_busy(s.busy);
    // The visitor waits on the platform or on their phone: the idle countdown holds.
    a.set_visitor_waiting(s.busy || s.polling || s.waiting_on_phone());
    a.set_error(s.error.as_str().into());
    a.set_stuck(s.stuck);
    let lang = s.lang;
    a.set_helper_level(s.helper_level as i32);
    let Some(flow) = s.flow.as_ref() else {
        return; // In a worker: the screen stays as it was (with the overlay).
    };
    // Offered also when the phone check was refused or waited too long (the visit is stuck on
    // it): that is when a citizen without a smartphone needs the helper most.
    a.set_can_staff_verify(flow.can_staff_verify());
    if !matches!(flow.step(), Step::FaceCheck | Step::Payment) {
        qrs.phone = None;
    }
    let service = flow.service();
    let step = flow.step();
    a.set_service_name(service.name(lang).into());
    a.set_step(if s.goodbye {
        FlowStep::Goodbye
    } else {
        match step {
            Step::Identify => FlowStep::Identify,
            Step::FaceCheck => FlowStep::FaceCheck,
            Step::Licences => FlowStep::Licences,
            Step::Form => FlowStep::Form,
            Step::Commitment => FlowStep::Commitment,
            Step::Slot => FlowStep::Slot,
            Step::Confirm => FlowStep::Confirm,
            Step::Payment => FlowStep::Payment,
            Step::Result => FlowStep::Result,
            Step::Evaluate => FlowStep::Evaluate,
            Step::Done => FlowStep::Goodbye,
        }
    });
    a.set_can_back(flow.can_go_back());
    match step {
        Step::Licences => {
            a.set_licences(model(
                flow.offered_licences()
                    .iter()
                    .map(|l| FlowLicence {
                        name: lang.pick(&l.name_zh, &l.name_en).into(),
                        identifier: l.identifier_display().into(),
                        valid_to: l.valid_to.clone().unwrap_or_default().into(),
                    })
                    .collect(),
            ));
            let catalog = s.catalog.unwrap_or_else(Catalog::builtin);
            let missing: Vec<String> = if flow.licences_unavailable() {
                Vec::new()
            } else {
                flow.missing_licences()
                    .iter()
                    .map(|t| {
                        catalog
                            .licence(t)
                            .map(|l| l.name(lang).to_string())
                            .unwrap_or_else(|| t.to_string())
                    })
                    .collect()
            };
            a.set_missing_licences(missing.join(Text::ListSeparator.get(lang)).into());
            a.set_licences_unavailable(flow.licences_unavailable());
        }
        Step::Slot => {
            let today = chrono::Local::now().date_naive();
            let loaded = flow.slot_day().unwrap_or("");
            a.set_slot_days(model(
                Flow::slot_days(today, SLOT_DAYS)
                    .into_iter()
                    .map(|d| {
                        let value = d.format("%Y-%m-%d").to_string();
                        FlowChoice {
                            selected: value == loaded,
                            label: day_label(d, lang).into(),
                            value: value.into(),
                        }
                    })
                    .collect(),
            ));
            let chosen = flow.chosen_slot().map(|c| c.slot_id.clone());
            let cells: Vec<FlowSlot> = flow
                .slots()
                .iter()
                .map(|x| FlowSlot {
                    id: x.slot_id.as_str().into(),
                    label: x.start.rsplit('T').next().unwrap_or(&x.start).into(),
                    available: x.available,
                    selected: chosen.as_deref() == Some(x.slot_id.as_str()),
                })
                .collect();
            let cols = if s.elderly { 2 } else { SLOT_COLUMNS };
            a.set_slot_rows(model(
                cells
                    .chunks(cols)
                    .map(|c| FlowSlotRow {
                        cells: model(c.to_vec()),
                    })
                    .collect(),
            ));
        }
        Step::Identify => {
            a.set_proxy(service.proxy);
            a.set_typing(s.typing);
            a.set_typed_display(keyboard::mask_typed(&s.typed).into());
            a.set_typed_count(s.typed.chars().count() as i32);
            set_keys(&a, keyboard::id_keys());
        }
        Step::FaceCheck => {
            let url = flow.face_check_url().unwrap_or_default().to_string();
            a.set_qr(cached_qr(&mut qrs.phone, &url));
        }
        Step::Form => {
            let field = service.fields.get(s.field);
            a.set_field_index(s.field as i32 + 1);
            a.set_field_count(service.fields.len() as i32);
            if let Some(f) = field {
                let raw = s.inputs.get(s.field).map_or("", |v| v.as_str());
                a.set_field_label(f.label(lang).into());
                a.set_field_example(f.example.as_str().into());
                a.set_field_required(f.required);
                a.set_field_value(keyboard::display_value(f, raw).into());
                a.set_field_hint(field_hint(f, lang).into());
                if f.kind == FieldKind::Select {
                    a.set_keyboard(FlowKeyboard::Select);
                    a.set_choices(model(
                        f.options
                            .iter()
                            .map(|o| FlowChoice {
                                value: o.value.as_str().into(),
                                label: lang.pick(&o.zh, &o.en).into(),
                                selected: o.value == raw,
                            })
                            .collect(),
                    ));
                } else {
                    a.set_keyboard(FlowKeyboard::Keys);
                    let chinese = f.kind == FieldKind::Text && s.entry.chinese;
                    a.set_chinese(chinese);
                    a.set_pinyin(s.entry.pinyin.as_str().into());
                    a.set_candidates(model(if chinese {
                        s.entry
                            .candidates(s.elderly)
                            .into_iter()
                            .map(|c| SharedString::from(c.to_string()))
                            .collect()
                    } else {
                        Vec::new()
                    }));
                    set_keys(&a, keyboard::field_keys(f, s.elderly, &s.entry));
                }
            }
        }
        Step::Confirm | Step::Commitment => {
            a.set_clauses(model(
                service
                    .commitment_clauses(lang)
                    .iter()
                    .map(|c| SharedString::from(c.as_str()))
                    .collect(),
            ));
            let who = flow.identity().map(|i| {
                let name = i.masked_name().unwrap_or_default();
                let proxy = if i.source == crate::flow::Source::Typed {
                    Text::ForSomeoneElse.get(lang)
                } else {
                    ""
                };
                format!("{name} {}{proxy}", i.masked()).trim().to_string()
            });
            a.set_who(who.unwrap_or_default().into());
            let rows = service
                .fields
                .iter()
                .filter_map(|f| {
                    let v = flow.values().get(&f.key)?;
                    let shown = match f.kind {
                        FieldKind::Select => f
                            .options
                            .iter()
                            .find(|o| &o.value == v)
                            .map(|o| lang.pick(&o.zh, &o.en).to_string())
                            .unwrap_or_else(|| v.clone()),
                        _ => v.clone(),
                    };
                    Some(FlowRow {
                        label: f.label(lang).into(),
                        value: shown.into(),
                    })
                })
                .collect::<Vec<_>>();
            let mut rows = rows;
            if let Some(slot) = flow.chosen_slot() {
                rows.push(FlowRow {
                    label: Text::Appointment.get(lang).into(),
                    value: slot.start.replace('T', " ").into(),
                });
            }
            let attached: Vec<String> = flow
                .offered_licences()
                .iter()
                .filter(|l| flow.attached_licences().contains(&l.reference))
                .map(|l| {
                    format!(
                        "{} {}",
                        lang.pick(&l.name_zh, &l.name_en),
                        l.identifier_display()
                    )
                })
                .collect();
            if !attached.is_empty() {
                rows.push(FlowRow {
                    label: Text::ELicences.get(lang).into(),
                    value: attached.join("\n").into(),
                });
            }
            a.set_summary(model(rows));
        }
        Step::Payment => {
            if let Some(p) = flow.reply().and_then(|r| r.pay.as_ref()) {
                a.set_amount(p.amount.as_str().into());
                a.set_qr(cached_qr(&mut qrs.phone, &p.pay_url));
            }
        }
        Step::Result => {
            a.set_paid(s.paid);
            a.set_queued(flow.queued());
            a.set_local_reference(if flow.queued() {
                flow.local_reference().into()
            } else {
                SharedString::new()
            });
            let reply = flow.reply();
            a.set_result_title(
                reply
                    .map(|r| lang.pick(&r.title_zh, &r.title_en).to_string())
                    .unwrap_or_default()
                    .into(),
            );
            // The reference on its own line, unless the items already show it.
            let reference = reply
                .filter(|r| !r.items.iter().any(|i| i.value == r.reference))
                .map(|r| r.reference.as_str());
            a.set_reference(reference.unwrap_or("").into());
            a.set_items(model(
                reply
                    .map(|r| {
                        r.items
                            .iter()
                            .map(|i| FlowRow {
                                label: lang.pick(&i.label_zh, &i.label_en).into(),
                                value: i.value.as_str().into(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ));
            let table = reply.and_then(|r| r.table.as_ref());
            a.set_columns(model(
                table
                    .map(|t| {
                        t.columns
                            .iter()
                            .map(|(zh, en)| SharedString::from(lang.pick(zh, en)))
                            .collect()
                    })
                    .unwrap_or_default(),
            ));
            a.set_rows(model(
                table
                    .map(|t| {
                        t.rows
                            .iter()
                            .map(|r| FlowTableRow {
                                cells: model(r.iter().map(|c| c.as_str().into()).collect()),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ));
            let next = reply.and_then(|r| match lang {
                Lang::Zh => r.next_steps_zh.as_deref(),
                Lang::En => r.next_steps_en.as_deref(),
            });
            a.set_next_steps(next.unwrap_or("").into());
            let (state, wait) = print_state(s.print);
            a.set_print_state(state);
            if let Some(wait) = wait {
                a.set_print_wait(wait);
            }
            let handoff = reply.and_then(|r| r.handoff_url.clone());
            a.set_has_handoff(handoff.is_some());
            a.set_handoff_shown(s.handoff_shown && handoff.is_some());
            if let Some(u) = handoff {
                a.set_handoff_qr(cached_qr(&mut qrs.handoff, &u));
            }
        }
        Step::Evaluate => {
            a.set_level(s.level as i32);
            a.set_reasons(model(
                REASONS
                    .iter()
                    .map(|(code, text)| FlowChoice {
                        value: (*code).into(),
                        label: text.get(lang).into(),
                        selected: s.reasons.contains(*code),
                    })
                    .collect(),
            ));
        }
        Step::Done => {}
    }
}

/// The receipt's state as the result screen shows it.
fn print_state(p: Print) -> (FlowPrint, Option<FlowPrintWait>) {
    match p {
        Print::None => (FlowPrint::None, None),
        Print::Printing => (FlowPrint::Printing, None),
        Print::Waiting(w) => (
            FlowPrint::Waiting,
            Some(match w {
                PrintWait::Paper => FlowPrintWait::Paper,
                PrintWait::Cover => FlowPrintWait::Cover,
                PrintWait::Offline => FlowPrintWait::Offline,
            }),
        ),
        Print::Printed => (FlowPrint::Printed, None),
        Print::Unavailable => (FlowPrint::Unavailable, None),
    }
}

/// A working day as a tab says it, on two lines: `11/30` `周一` / `Mon` `30/11`.
fn day_label(d: chrono::NaiveDate, lang: Lang) -> String {
    use chrono::Datelike;
    const DAYS: [Text; 7] = [
        Text::Monday,
        Text::Tuesday,
        Text::Wednesday,
        Text::Thursday,
        Text::Friday,
        Text::Saturday,
        Text::Sunday,
    ];
    let day = DAYS[d.weekday().num_days_from_monday() as usize].get(lang);
    match lang {
        Lang::Zh => format!("{}/{}\n{day}", d.month(), d.day()),
        Lang::En => format!("{day}\n{}/{}", d.day(), d.month()),
    }
}

/// How to type a field, in words.
fn field_hint(f: &Field, lang: Lang) -> &'static str {
    match f.kind {
        FieldKind::MonthRange => Text::HintMonthRange.get(lang),
        FieldKind::Date => Text::HintDate.get(lang),
        FieldKind::Phone => Text::HintPhone.get(lang),
        FieldKind::Amount => Text::HintAmount.get(lang),
        FieldKind::Select => Text::HintSelect.get(lang),
        FieldKind::Digits | FieldKind::Text => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_render() {
        let img = qr_image("http://127.0.0.1/pay/1").expect("qr");
        assert!(img.size().width > 100);
    }
}
