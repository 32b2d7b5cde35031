//! Turns a finished visit into the printed receipt: service, reference, results, a verification
//! or hand-off QR code, and the reminder to take the ID card. Only masked identity data is
//! printed.
use zizhu_drivers::printer::receipt::Receipt;

use super::engine::Flow;
use crate::catalog::Lang;

/// The receipt of a visit in the citizen's language; `kiosk_id` and `now` go in the footer.
pub fn receipt(flow: &Flow<'_>, kiosk_id: &str, now: &str) -> Receipt {
    let lang = flow.lang();
    let s = flow.service();
    let mut r = Receipt::new()
        .title(s.name(lang))
        .subtitle(s.department(lang))
        .separator();
    if let Some(id) = flow.identity() {
        r = r.field(lang.pick("证件号码", "ID number"), id.masked());
        if let Some(n) = id.masked_name() {
            r = r.field(lang.pick("姓名", "Name"), n);
        }
    }
    let mut qr = None;
    if flow.queued() {
        r = r
            .field(lang.pick("本机受理号", "Kiosk reference"), flow.local_reference())
            .text(lang.pick(
                "办事系统暂未确认，您的申请已安全保存在本机，将自动提交，无需重复办理。",
                "The service system has not confirmed it yet. Your application is saved on this kiosk and will be sent automatically; you need not apply again.",
            ));
    }
    if let Some(reply) = flow.reply() {
        r = r.field(lang.pick("办件编号", "Reference"), reply.reference.clone());
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
                r = r.text(match lang {
                    Lang::Zh => format!("……共 {} 行，完整明细请扫码查看", t.rows.len()),
                    Lang::En => format!(
                        "… {} rows in all; scan the code for the full list",
                        t.rows.len()
                    ),
                });
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
                lang.pick("扫码核验本凭证真伪", "Scan to verify this document")
                    .to_string(),
            ));
        }
        if let (Some(zh), Some(en)) = (&reply.next_steps_zh, &reply.next_steps_en) {
            r = r.separator().text(lang.pick(zh, en).to_string());
        }
        if qr.is_none() {
            if let Some(u) = &reply.handoff_url {
                qr = Some((
                    u.clone(),
                    lang.pick(
                        "扫码在手机上查看结果",
                        "Scan to see the result on your phone",
                    )
                    .to_string(),
                ));
            }
        }
    }
    r = r.separator();
    if let Some((url, caption)) = qr {
        r = r.qr(url, Some(caption));
    }
    r.footer(format!(
        "{} {}  {}",
        lang.pick("自助机", "Kiosk"),
        kiosk_id,
        now
    ))
    .footer(lang.pick(
        "请取走您的身份证和凭条。",
        "Please take your ID card and this receipt.",
    ))
}
