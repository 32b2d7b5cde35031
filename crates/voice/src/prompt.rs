//! The spoken prompts: one per screen and flow step, each with a stable id (the key of voice
//! packs) and its sentences as msgids of the kiosk's translation table — the Chinese screen
//! strings — so the words spoken are the words shown, kept in one place. Dynamic parts (service
//! name, amount to pay, appointment time, seconds left) are filled in at run time.
//!
//! Privacy: a prompt never carries a citizen's name, ID or telephone number, nor the amounts of
//! their benefits or debts. [`prompt_for`] builds the prompt of a flow step from public data only
//! (the catalog, the step, the fee the citizen is asked to pay, the slot time they chose); a result
//! is spoken as "查询结果已显示在屏幕上", plus the result rows the service marked `speak`.
use zizhu_core::catalog::{Auth, Lang};
use zizhu_core::flow::{Flow, Step};

use crate::text;

/// One dynamic part, in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// For Chinese screens (Mandarin, Cantonese, Hakka).
    pub zh: String,
    /// For English screens.
    pub en: String,
}

impl Arg {
    /// The same text in both (numbers).
    pub fn same(s: impl Into<String>) -> Arg {
        let s = s.into();
        Arg {
            zh: s.clone(),
            en: s,
        }
    }
}

/// One sentence of a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sentence {
    /// A msgid of the translation table, with its `{}` parts.
    Msg(&'static str, Vec<Arg>),
    /// Public text that is not in the table (a catalog name, a result row marked safe to speak).
    Text(Arg),
}

/// A spoken prompt. Build them with the variants below or [`prompt_for`]; speak them with
/// [`crate::Voice::screen_changed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// The attract loop (silent during quiet hours).
    Attract,
    /// The home screen: choose a service.
    Home,
    /// The search screen.
    Search,
    /// A category's list of services.
    Category,
    /// A service's detail page, with the service name from the catalog.
    Detail {
        /// The service name.
        name: Arg,
    },
    /// Identification by ID card.
    IdentifyCard,
    /// Identification by a code from the phone.
    IdentifyCode,
    /// Typing the ID number of the person one acts for (代他人).
    IdentifyTyped,
    /// The face check on the phone.
    FaceCheck,
    /// The e-licences offered instead of paper (免证办).
    Licences,
    /// The form.
    Form,
    /// The commitment (告知承诺).
    Commitment,
    /// Choosing an appointment slot.
    Slot,
    /// The slot chosen, with its time.
    SlotChosen {
        /// Local time `YYYY-MM-DD HH:MM`.
        start: String,
    },
    /// Checking what will be sent.
    Confirm,
    /// Waiting for the platform.
    Waiting,
    /// The payment QR. The amount is spoken only when the platform marked it safe to speak (a
    /// fixed fee); a person's own bill is a debt and stays on the screen.
    Payment {
        /// The fee, formatted (yuan, e.g. `300.00`), when it may be spoken.
        amount: Option<String>,
    },
    /// The payment went through.
    Paid,
    /// The platform has not confirmed yet; the application is saved.
    Queued,
    /// The result: "查询结果已显示在屏幕上", then the rows the service marked safe to speak.
    Result {
        /// Rows marked `speak` by the service, as "label: value".
        spoken: Vec<Arg>,
    },
    /// Printing the receipt.
    Printing,
    /// The receipt is printed.
    TakeReceipt,
    /// The printer cannot print; take the result by QR.
    PrinterUnavailable,
    /// Rating (好差评).
    Rating,
    /// The end of the visit: take card and receipt.
    Goodbye,
    /// The idle countdown, with the seconds left.
    IdleCountdown {
        /// Seconds left.
        seconds: u32,
    },
    /// Where to get help.
    Help,
    /// Something needs the citizen's attention on the screen (an error message, which is read
    /// from the screen, not spoken, as it may carry personal details).
    Notice,
    /// The maintenance screen's test prompt.
    VoiceTest,
    /// The staff sign-in panel (帮办员): hold the staff code to the scanner.
    StaffSignIn,
    /// A helper signed in for the visit (never who).
    StaffSignedIn,
    /// The helper signed out.
    StaffSignedOut,
    /// The face check with a helper signed in: the helper's check of the person against the card
    /// (人工核验) instead.
    StaffCheck,
}

/// The ids of the prompts that have no dynamic part: the ones a voice pack can record.
pub const FIXED_IDS: &[&str] = &[
    "attract",
    "home",
    "search",
    "category",
    "identify-card",
    "identify-code",
    "identify-typed",
    "face-check",
    "licences",
    "form",
    "commitment",
    "slot",
    "confirm",
    "waiting",
    "payment",
    "paid",
    "queued",
    "result",
    "printing",
    "take-receipt",
    "printer-unavailable",
    "rating",
    "goodbye",
    "help",
    "notice",
    "voice-test",
    "staff-sign-in",
    "staff-signed-in",
    "staff-signed-out",
    "staff-check",
];

fn msg(id: &'static str) -> Sentence {
    Sentence::Msg(id, Vec::new())
}

fn msg_with(id: &'static str, arg: Arg) -> Sentence {
    Sentence::Msg(id, vec![arg])
}

/// The time of a slot as spoken: `2026-12-07 09:30` → 12月7日9点30分 / 7 December, 09:30.
fn slot_time(start: &str) -> Arg {
    let parse = chrono::NaiveDateTime::parse_from_str(&start.replace('T', " "), "%Y-%m-%d %H:%M");
    match parse {
        Ok(t) => {
            use chrono::{Datelike, Timelike};
            let minute = match t.minute() {
                0 => String::new(),
                m => format!("{m}分"),
            };
            Arg {
                zh: format!("{}月{}日{}点{minute}", t.month(), t.day(), t.hour()),
                en: t.format("%-d %B, %H:%M").to_string(),
            }
        }
        // Not a time: say nothing rather than something odd.
        Err(_) => Arg::same(""),
    }
}

impl Prompt {
    /// Every prompt, with example values for the dynamic ones (tests, `zizhu voice check`).
    pub fn examples() -> Vec<Prompt> {
        let mut v: Vec<Prompt> = FIXED_IDS
            .iter()
            .filter_map(|id| Prompt::fixed(id))
            .collect();
        v.push(Prompt::Detail {
            name: Arg {
                zh: "社保缴费查询".into(),
                en: "Social insurance contributions".into(),
            },
        });
        v.push(Prompt::SlotChosen {
            start: "2026-12-07 09:30".into(),
        });
        v.push(Prompt::Payment {
            amount: Some("300.00".into()),
        });
        v.push(Prompt::IdleCountdown { seconds: 10 });
        v
    }

    /// The fixed prompt with this id.
    pub fn fixed(id: &str) -> Option<Prompt> {
        Some(match id {
            "attract" => Prompt::Attract,
            "home" => Prompt::Home,
            "search" => Prompt::Search,
            "category" => Prompt::Category,
            "identify-card" => Prompt::IdentifyCard,
            "identify-code" => Prompt::IdentifyCode,
            "identify-typed" => Prompt::IdentifyTyped,
            "face-check" => Prompt::FaceCheck,
            "licences" => Prompt::Licences,
            "form" => Prompt::Form,
            "commitment" => Prompt::Commitment,
            "slot" => Prompt::Slot,
            "confirm" => Prompt::Confirm,
            "waiting" => Prompt::Waiting,
            "payment" => Prompt::Payment { amount: None },
            "paid" => Prompt::Paid,
            "queued" => Prompt::Queued,
            "result" => Prompt::Result { spoken: Vec::new() },
            "printing" => Prompt::Printing,
            "take-receipt" => Prompt::TakeReceipt,
            "printer-unavailable" => Prompt::PrinterUnavailable,
            "rating" => Prompt::Rating,
            "goodbye" => Prompt::Goodbye,
            "help" => Prompt::Help,
            "notice" => Prompt::Notice,
            "voice-test" => Prompt::VoiceTest,
            "staff-sign-in" => Prompt::StaffSignIn,
            "staff-signed-in" => Prompt::StaffSignedIn,
            "staff-signed-out" => Prompt::StaffSignedOut,
            "staff-check" => Prompt::StaffCheck,
            _ => return None,
        })
    }

    /// The prompt's id: the key in voice packs.
    pub fn id(&self) -> &'static str {
        match self {
            Prompt::Attract => "attract",
            Prompt::Home => "home",
            Prompt::Search => "search",
            Prompt::Category => "category",
            Prompt::Detail { .. } => "detail",
            Prompt::IdentifyCard => "identify-card",
            Prompt::IdentifyCode => "identify-code",
            Prompt::IdentifyTyped => "identify-typed",
            Prompt::FaceCheck => "face-check",
            Prompt::Licences => "licences",
            Prompt::Form => "form",
            Prompt::Commitment => "commitment",
            Prompt::Slot => "slot",
            Prompt::SlotChosen { .. } => "slot-chosen",
            Prompt::Confirm => "confirm",
            Prompt::Waiting => "waiting",
            Prompt::Payment { .. } => "payment",
            Prompt::Paid => "paid",
            Prompt::Queued => "queued",
            Prompt::Result { .. } => "result",
            Prompt::Printing => "printing",
            Prompt::TakeReceipt => "take-receipt",
            Prompt::PrinterUnavailable => "printer-unavailable",
            Prompt::Rating => "rating",
            Prompt::Goodbye => "goodbye",
            Prompt::IdleCountdown { .. } => "idle-countdown",
            Prompt::Help => "help",
            Prompt::Notice => "notice",
            Prompt::VoiceTest => "voice-test",
            Prompt::StaffSignIn => "staff-sign-in",
            Prompt::StaffSignedIn => "staff-signed-in",
            Prompt::StaffSignedOut => "staff-signed-out",
            Prompt::StaffCheck => "staff-check",
        }
    }

    /// Whether the prompt is always the same words (so a voice pack can hold it).
    pub fn is_fixed(&self) -> bool {
        match self {
            Prompt::Result { spoken } => spoken.is_empty(),
            Prompt::Payment { amount } => amount.is_none(),
            p => FIXED_IDS.contains(&p.id()),
        }
    }

    /// The sentences, in order.
    pub fn sentences(&self) -> Vec<Sentence> {
        match self {
            Prompt::Attract => vec![msg("政务服务 一机通办"), msg("点击开始办理")],
            Prompt::Home => vec![msg("您好，请选择要办理的事项")],
            Prompt::Search => vec![msg("搜索事项：拼音首字母、拼音或英文")],
            Prompt::Category => vec![msg("请选择要办理的事项")],
            Prompt::Detail { name } => vec![Sentence::Text(name.clone()), msg("点击开始办理")],
            Prompt::IdentifyCard => vec![
                msg("请将身份证放在感应区"),
                msg("或出示手机身份码/电子证照码"),
            ],
            Prompt::IdentifyCode => vec![msg("打开粤省事，把二维码对准扫码口。")],
            Prompt::IdentifyTyped => vec![msg("请输入被代办人的身份证号")],
            Prompt::FaceCheck => vec![
                msg("请用粤省事扫码刷脸"),
                msg("用手机打开粤省事，扫描上方二维码，按提示完成刷脸。核验通过后本机自动继续。"),
            ],
            Prompt::Licences => vec![
                msg("免交纸质材料"),
                msg("以下电子证照将代替纸质材料提交给办理部门。使用前需要您的同意。"),
            ],
            Prompt::Form => vec![msg("请填写办理信息，填好后点“填好了，下一步”。")],
            Prompt::Commitment => vec![
                msg("本事项实行告知承诺制。办理前请仔细阅读："),
                msg("一、本人所填写的信息和提交的材料真实、准确、完整，不存在虚假内容。"),
                msg("二、本人已知晓办理本事项的条件和要求，符合相关规定。"),
                msg("三、如有不实承诺，本人愿意承担相应的法律责任，并接受信用惩戒。"),
            ],
            Prompt::Slot => vec![msg("请选择预约时间")],
            Prompt::SlotChosen { start } => {
                vec![msg_with("您选择的预约时间是 {}", slot_time(start))]
            }
            Prompt::Confirm => vec![msg("请核对办理信息"), msg("确认无误后请点“确认提交”。")],
            Prompt::Waiting => vec![msg("正在处理，请稍候…")],
            Prompt::Payment { amount } => {
                let mut v = vec![msg("请扫码支付")];
                if let Some(a) = amount {
                    v.push(msg_with("应付金额 {} 元", Arg::same(a.clone())));
                }
                v.push(msg(
                    "请用粤省事、微信或支付宝扫码支付。支付完成后本机自动继续。",
                ));
                v
            }
            Prompt::Paid => vec![msg("支付成功")],
            Prompt::Queued => vec![msg("办事系统暂未确认，您的申请已保存，本机将自动提交")],
            Prompt::Result { spoken } => {
                let mut v = vec![msg("查询结果已显示在屏幕上")];
                v.extend(spoken.iter().cloned().map(Sentence::Text));
                v
            }
            Prompt::Printing => vec![msg("正在打印…")],
            Prompt::TakeReceipt => vec![msg("打印完成，请取走凭条")],
            Prompt::PrinterUnavailable => vec![msg("打印机暂不可用，请扫码把结果带走")],
            Prompt::Rating => vec![msg("请对本次服务进行评价")],
            Prompt::Goodbye => vec![
                msg("办理结束"),
                msg("请取走您的身份证和凭条"),
                msg("感谢使用，祝您生活愉快。"),
            ],
            Prompt::IdleCountdown { seconds } => vec![
                msg("您还在办理吗？"),
                msg_with(
                    "{} 秒后将返回首页，并清除本次办理的信息。",
                    Arg::same(seconds.to_string()),
                ),
            ],
            Prompt::Help => vec![msg(
                "如需帮助，请联系现场工作人员，或拨打 12345 政务服务热线",
            )],
            Prompt::Notice => vec![msg("请查看屏幕上的提示")],
            Prompt::VoiceTest => vec![msg("这是语音测试。")],
            Prompt::StaffSignIn => vec![
                msg("工作人员签到"),
                msg("请把工作人员码对准扫码口，或在下方输入工作人员码。"),
            ],
            Prompt::StaffSignedIn => vec![msg("帮办员已签到")],
            Prompt::StaffSignedOut => vec![msg("帮办员已签退")],
            Prompt::StaffCheck => vec![
                msg("请用粤省事扫码刷脸"),
                msg("没有智能手机？请帮办员核对本人与身份证后确认。"),
            ],
        }
    }

    /// The words of the prompt on a Chinese screen (`Lang::Zh`) or an English one.
    pub fn text(&self, lang: Lang) -> String {
        let mut out = String::new();
        for s in self.sentences() {
            let piece = match (&s, lang) {
                (Sentence::Msg(id, args), Lang::Zh) => {
                    text::fill(id, &args.iter().map(|a| a.zh.clone()).collect::<Vec<_>>())
                }
                (Sentence::Msg(id, args), Lang::En) => text::fill(
                    // A msgid without an entry would be a bug the tests catch; say the Chinese
                    // words' English nothing rather than Chinese through the English voice.
                    text::english(id).unwrap_or(""),
                    &args.iter().map(|a| a.en.clone()).collect::<Vec<_>>(),
                ),
                (Sentence::Text(a), Lang::Zh) => a.zh.clone(),
                (Sentence::Text(a), Lang::En) => a.en.clone(),
            };
            let piece = piece.trim();
            if piece.is_empty() {
                continue;
            }
            out.push_str(piece);
            let ends = piece.ends_with(['。', '！', '？', '…', '：', '.', '!', '?', ':']);
            if !ends {
                out.push_str(lang.pick("。", "."));
            }
            if lang == Lang::En {
                out.push(' ');
            }
        }
        out.trim_end().to_string()
    }
}

/// The prompt of a flow step, from public data only: the service's identification kind, the fee
/// asked, the slot chosen, and the result rows the service marked `speak`. Nothing of the
/// citizen's identity or form values is read.
pub fn prompt_for(step: Step, flow: &Flow<'_>) -> Prompt {
    match step {
        Step::Identify => match flow.service().auth {
            Auth::ELicense => Prompt::IdentifyCode,
            _ => Prompt::IdentifyCard,
        },
        Step::FaceCheck => Prompt::FaceCheck,
        Step::Licences => Prompt::Licences,
        Step::Form => Prompt::Form,
        Step::Commitment => Prompt::Commitment,
        Step::Slot => match flow.chosen_slot() {
            Some(s) => Prompt::SlotChosen {
                start: s.start.clone(),
            },
            None => Prompt::Slot,
        },
        Step::Confirm => Prompt::Confirm,
        Step::Payment => match flow.reply() {
            Some(r) => Prompt::Payment {
                // Spoken only when a row showing this amount is marked safe to speak (a fixed
                // fee); a person's bill is theirs alone.
                amount: r.pay.as_ref().and_then(|p| {
                    r.items
                        .iter()
                        .any(|i| i.speak && i.value == p.amount)
                        .then(|| p.amount.clone())
                }),
            },
            None => Prompt::Waiting,
        },
        Step::Result if flow.queued() => Prompt::Queued,
        Step::Result => Prompt::Result {
            spoken: flow
                .reply()
                .map(|r| {
                    r.items
                        .iter()
                        .filter(|i| i.speak)
                        .map(|i| Arg {
                            zh: format!("{}：{}", i.label_zh, i.value),
                            en: format!("{}: {}", i.label_en, i.value),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        },
        Step::Evaluate => Prompt::Rating,
        Step::Done => Prompt::Goodbye,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prompt_sentence_is_in_the_translation_table() {
        for p in Prompt::examples() {
            for s in p.sentences() {
                if let Sentence::Msg(id, args) = s {
                    let en = text::english(id)
                        .unwrap_or_else(|| panic!("{}: {id:?} has no English entry", p.id()));
                    assert_eq!(id.matches("{}").count(), args.len(), "{id}");
                    assert_eq!(en.matches("{}").count(), args.len(), "{en}");
                }
            }
            assert!(!p.text(Lang::Zh).is_empty() && !p.text(Lang::En).is_empty());
        }
    }

    #[test]
    fn ids_round_trip_and_dynamic_parts_are_filled() {
        for id in FIXED_IDS {
            let p = Prompt::fixed(id).unwrap();
            assert_eq!(p.id(), *id);
            assert!(p.is_fixed());
        }
        let p = Prompt::IdleCountdown { seconds: 9 };
        assert!(!p.is_fixed());
        assert!(p.text(Lang::Zh).contains("9 秒后"), "{}", p.text(Lang::Zh));
        let p = Prompt::SlotChosen {
            start: "2026-12-07 09:30".into(),
        };
        assert!(
            p.text(Lang::Zh).contains("12月7日9点30分"),
            "{}",
            p.text(Lang::Zh)
        );
        assert!(
            p.text(Lang::En).contains("7 December, 09:30"),
            "{}",
            p.text(Lang::En)
        );
        let p = Prompt::Payment {
            amount: Some("300.00".into()),
        };
        assert!(p.text(Lang::Zh).contains("应付金额 300.00 元"));
        let p = Prompt::Payment { amount: None };
        assert!(p.is_fixed() && !p.text(Lang::Zh).contains("金额"));
    }
}
