//! Turns a finished visit into the printed receipt: service, reference, results, a verification
//! or hand-off QR code, and the reminder to take the ID card. Only masked identity data is
//! printed.
use zizhu_drivers::printer::receipt::Receipt;

use super::engine::Flow;
use crate::text::Text;

/// The receipt of a visit in the citizen's language; `kiosk_id` and `now` go in the footer.
pub fn receipt(flow: &Flow<'_>, kiosk_id: &str, now: &str) -> Receipt {
    let lang = flow.lang();
    let s = flow.service();
    let mut r = Receipt::new()
        .title(s.name(lang))
        .subtitle(s.department(lang))
        .separator();
    if let Some(id) = flow.identity() {
        r = r.field(Text::IdNumber.get(lang), id.masked());
        if let Some(n) = id.masked_name() {
            r = r.field(Text::Name.get(lang), n);
        }
    }
    let mut qr = None;
    if flow.queued() {
        r = r
            .field(Text::KioskReference.get(lang), flow.local_reference())
            .text(Text::Queued.get(lang));
    }
    if let Some(reply) = flow.reply() {
        r = r.field(Text::Reference.get(lang), reply.reference.clone());
        for i in &reply.items {
            r = r.field(lang.pick(&i.label_zh, &i.label_en), i.value.clone());
        }
        if let Some(t) = &reply.table {
            let header: Vec<&str> = t.columns.iter().map(|(zh, en)| lang.pick(zh, en)).collect();
            r = r.separator().text(header.join("  "));
            for row in t.rows.iter().take(24) {
                r = r.text(row.join("  "));
            }
            if t.rows.len() > 24 {
                r = r.text(Text::RowsInAll.fill(lang, &[("count", &t.rows.len().to_string())]));
            }
        }
        if let Some(d) = &reply.document {
            r = r
                .separator()
                .text(lang.pick(&d.title_zh, &d.title_en).to_string());
            for l in &d.lines {
                r = r.text(l.clone());
            }
            qr = Some((
                d.verify_url.clone(),
                Text::VerifyDocument.get(lang).to_string(),
            ));
        }
        if let (Some(zh), Some(en)) = (&reply.next_steps_zh, &reply.next_steps_en) {
            r = r.separator().text(lang.pick(zh, en).to_string());
        }
        if qr.is_none() {
            if let Some(u) = &reply.handoff_url {
                qr = Some((u.clone(), Text::SeeResultOnPhone.get(lang).to_string()));
            }
        }
    }
    r = r.separator();
    if let Some((url, caption)) = qr {
        r = r.qr(url, Some(caption));
    }
    r.footer(format!("{} {}  {}", Text::Kiosk.get(lang), kiosk_id, now))
        .footer(Text::TakeCardAndReceipt.get(lang))
}
