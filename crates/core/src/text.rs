//! The table of citizen-facing text written in Rust: every message, label and prompt the kiosk
//! shows, prints or (next) speaks that does not come from the `.slint` files (`@tr`, translated
//! in `ui/translations/`) or from data (the catalog, the platform's replies, which carry both
//! languages themselves).
//!
//! Each entry is a [`Text`] with a stable id (`"identify.card-unreadable"`), its Simplified
//! Chinese source and its English translation. Code names the kind of message, never the words:
//! errors map to a [`Text`] (`FlowError::message`, `elicense::Error::text`), and the screens,
//! the receipt and the transcript of `zizhu flow run` look the words up here. The test below
//! checks that every entry has an English translation with the same placeholders, so the
//! translation check covers every string a citizen can see. Voice guidance keys its prompts by
//! the same ids ([`Text::id`], [`Text::by_id`]) and speaks the same words.
//!
//! Placeholders are written `{name}` and filled with [`Text::fill`].
use crate::catalog::Lang;

macro_rules! texts {
    ($($(#[$doc:meta])* $kind:ident = $id:literal { zh: $zh:literal, en: $en:literal, })*) => {
        /// A citizen-facing message by kind (see the module documentation).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Text {
            $($(#[$doc])* $kind,)*
        }

        impl Text {
            /// Every entry, in table order.
            pub const ALL: &'static [Text] = &[$(Text::$kind,)*];

            /// The stable id (for voice prompts, logs and tests).
            pub fn id(self) -> &'static str {
                match self {
                    $(Text::$kind => $id,)*
                }
            }

            /// The Simplified Chinese source.
            pub fn zh(self) -> &'static str {
                match self {
                    $(Text::$kind => $zh,)*
                }
            }

            /// The English translation.
            pub fn en(self) -> &'static str {
                match self {
                    $(Text::$kind => $en,)*
                }
            }
        }
    };
}

impl Text {
    /// The words in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh(),
            Lang::En => self.en(),
        }
    }

    /// The words in `lang` with each `{name}` replaced by its value.
    pub fn fill(self, lang: Lang, values: &[(&str, &str)]) -> String {
        let mut out = self.get(lang).to_string();
        for (name, value) in values {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }

    /// The entry with this id.
    pub fn by_id(id: &str) -> Option<Text> {
        Text::ALL.iter().copied().find(|t| t.id() == id)
    }
}

texts! {
    // Identification.
    /// The card on the reader could not be read.
    CardUnreadable = "identify.card-unreadable" {
        zh: "读卡失败，请把身份证平放在感应区，稍候再试。",
        en: "The card could not be read. Lay it flat on the reader and wait a moment.",
    }
    /// The ID card's validity has ended.
    CardExpired = "identify.card-expired" {
        zh: "您的身份证已过期，不能在自助机办理。请先换领新证，或用手机出示身份码。",
        en: "Your ID card has expired and cannot be used here. Please renew it, or show the identity code on your phone.",
    }
    /// The ID number's check character does not match.
    IdCheckDigit = "identify.check-digit" {
        zh: "身份证号码校验不通过，请重新放置身份证或检查输入。",
        en: "The ID number does not check out. Place the card again or check what you typed.",
    }
    /// A typed ID number is not 18 characters.
    IdFormat = "identify.format" {
        zh: "身份证号码应为 18 位（最后一位可能是 X）。",
        en: "An ID number has 18 characters (the last may be X).",
    }
    /// The service does not take a typed ID number.
    TypingNotAllowed = "identify.typing-not-allowed" {
        zh: "本事项需本人刷身份证或出示身份码。",
        en: "This service needs your own ID card or identity code.",
    }
    /// A licence's code shown where an identity was asked for.
    NotIdentity = "identify.not-identity" {
        zh: "这是“{name}”的证照码，不能用来认证身份。请出示身份码，或放置身份证。",
        en: "This is a code for your {name}, not your identity. Show your identity code, or place your ID card.",
    }
    /// An identity code made for showing only.
    NoSubject = "identify.no-subject" {
        zh: "这个身份码只能用于亮证，不能办事。请在政务App中选择“办事用码”后重新出示。",
        en: "This identity code is for showing only. Choose the code for services in the app and show it again.",
    }
    /// A code could not be checked online.
    CodeUnreachable = "identify.code-unreachable" {
        zh: "暂时无法联网核验这个码。请放置身份证办理，或稍后再试。",
        en: "This code cannot be checked online right now. Place your ID card, or try again later.",
    }
    /// The platform's answer about a code made no sense.
    CodeProtocol = "identify.code-protocol" {
        zh: "这个码暂时无法核验，请放置身份证办理。",
        en: "This code cannot be checked right now; please place your ID card.",
    }

    // Scanned e-licence codes (elicense::Error).
    /// The scanner's text could not be decoded.
    CodeUnreadable = "elicense.unreadable" {
        zh: "没有读清楚这个码，请把手机拿稳，重新扫码。",
        en: "The code could not be read. Hold the phone still and scan again.",
    }
    /// Not an e-licence code.
    CodeNotLicence = "elicense.not-licence" {
        zh: "这不是可识别的电子证照码，请在政务App中打开电子证照后再扫码。",
        en: "This is not an e-licence code. Open the e-licence in the government app and scan again.",
    }
    /// A code with a prefix this kiosk does not know.
    CodeUnsupported = "elicense.unsupported" {
        zh: "暂不支持这种码，请更新政务App，或改用身份证办理。",
        en: "This kind of code is not supported. Update the government app or use your ID card.",
    }
    /// A payment code shown to the scanner.
    CodePayment = "elicense.payment-code" {
        zh: "这是付款码，不是电子证照。请在政务App中打开电子证照（亮证）后再扫码。",
        en: "This is a payment code, not an e-licence. Open the e-licence in the government app.",
    }
    /// The code's signature does not verify.
    CodeForged = "elicense.bad-signature" {
        zh: "证照码校验未通过，可能不是真实的电子证照。请刷新后重试，或改用身份证办理。",
        en: "The code failed its authenticity check. Refresh it and try again, or use your ID card.",
    }
    /// The code's issuer key is not in the trust list.
    CodeUnknownIssuer = "elicense.unknown-issuer" {
        zh: "无法确认这个证照码的签发机构，请改用身份证办理或到窗口咨询。",
        en: "The issuer of this code is not known here. Use your ID card or ask at the counter.",
    }
    /// The licence's content is incomplete.
    CodeIncomplete = "elicense.incomplete" {
        zh: "证照内容不完整，请刷新证照码后重试。",
        en: "The e-licence is incomplete. Refresh the code and try again.",
    }
    /// The kiosk's clock cannot be trusted; checking online.
    CodeClock = "elicense.clock" {
        zh: "本机时间异常，暂时无法离线核验，正在联网核验。如持续出现请联系工作人员。",
        en: "This kiosk's clock is wrong, so the code is being checked online. Tell staff if this persists.",
    }
    /// The code is not valid yet by this kiosk's clock.
    CodeNotYetValid = "elicense.not-yet-valid" {
        zh: "证照码时间与本机时间不一致，请刷新证照码后重试；如仍不行请联系工作人员。",
        en: "The code's time does not match this kiosk's clock. Refresh the code; tell staff if it persists.",
    }
    /// The code has expired.
    CodeExpired = "elicense.expired" {
        zh: "证照码已过期，请在App中刷新后重新扫码。",
        en: "The code has expired. Refresh it in the app and scan again.",
    }
    /// The code is valid for too long.
    CodeLifetime = "elicense.lifetime" {
        zh: "证照码有效期不符合要求，请刷新后重试。",
        en: "The code's validity is not acceptable. Refresh it and try again.",
    }
    /// The issuer may not issue this licence.
    CodeIssuerNotAllowed = "elicense.issuer-not-allowed" {
        zh: "签发机构无权出具这类证照，无法使用。请改用实体证件或到窗口咨询。",
        en: "The issuer may not issue this kind of licence. Use the paper document or ask at the counter.",
    }
    /// The licence was revoked.
    CodeRevoked = "elicense.revoked" {
        zh: "该证照已注销或失效，无法使用。请到窗口咨询。",
        en: "This licence has been cancelled. Please ask at the counter.",
    }
    /// The code was used before.
    CodeReplayed = "elicense.replayed" {
        zh: "这个证照码已经使用过，请在App中刷新后重新扫码。",
        en: "This code was already used. Refresh it in the app and scan again.",
    }
    /// The trust list is missing or stale; checking online.
    CodeOnline = "elicense.online" {
        zh: "暂时无法离线核验，正在联网核验，请稍候。",
        en: "Offline checking is unavailable; checking online, please wait.",
    }
    /// E-licence checking is broken on this kiosk.
    CodeUnavailable = "elicense.unavailable" {
        zh: "电子证照核验暂不可用，请改用身份证办理或联系工作人员。",
        en: "E-licence checking is unavailable. Use your ID card or ask staff.",
    }

    // Form values (FieldError).
    /// A required field is empty.
    FieldRequired = "form.required" {
        zh: "请填写“{label}”。",
        en: "Please fill in “{label}”.",
    }
    /// A value not in the field's form.
    FieldFormat = "form.format" {
        zh: "“{label}”格式不对，请按示例填写：{example}",
        en: "“{label}” is not in the right form; type it like: {example}",
    }
    /// An amount out of bounds.
    FieldAmountRange = "form.amount-range" {
        zh: "“{label}”应在 {min} 到 {max} 元之间。",
        en: "“{label}” must be between {min} and {max} yuan.",
    }
    /// A value too short or too long.
    FieldLength = "form.length" {
        zh: "“{label}”长度应为 {min} 到 {max} 位。",
        en: "“{label}” must be {min} to {max} characters long.",
    }
    /// Not one of a select field's choices.
    FieldChoice = "form.choice" {
        zh: "请从列表中选择“{label}”。",
        en: "Please choose “{label}” from the list.",
    }
    /// A date that does not exist.
    FieldDate = "form.date" {
        zh: "“{label}”不是有效的日期，请检查年月日。",
        en: "“{label}” is not a valid date; check the year, month and day.",
    }
    /// How to type a month range.
    HintMonthRange = "form.hint-month-range" {
        zh: "输入 12 位数字：起始年月和结束年月，如 202501202512",
        en: "Type 12 digits: the first and last month, e.g. 202501202512",
    }
    /// How to type a date.
    HintDate = "form.hint-date" {
        zh: "输入 8 位数字：年月日，如 20250101",
        en: "Type 8 digits: year, month, day, e.g. 20250101",
    }
    /// How to type a phone number.
    HintPhone = "form.hint-phone" {
        zh: "11 位手机号码",
        en: "An 11-digit mobile number",
    }
    /// How to type an amount.
    HintAmount = "form.hint-amount" {
        zh: "金额（元）",
        en: "Amount in yuan",
    }
    /// How to answer a select field.
    HintSelect = "form.hint-select" {
        zh: "请选择一项",
        en: "Choose one",
    }

    // The flow's refusals and waits (FlowError and the touchscreen).
    /// The commitment was declined.
    NoConsent = "flow.no-consent" {
        zh: "需要同意告知承诺才能继续办理；如有疑问请到窗口咨询。",
        en: "You need to accept the commitment to continue; ask at a counter if unsure.",
    }
    /// The e-licences were declined.
    LicencesDeclined = "flow.licences-declined" {
        zh: "不使用电子证照时，本事项需要携带纸质材料原件到窗口办理。您可以改为同意使用，或结束办理。",
        en: "Without the e-licences this service needs the paper originals at a counter. You can agree to use them, or end here.",
    }
    /// The appointment time was taken meanwhile.
    SlotGone = "flow.slot-gone" {
        zh: "这个时段已经约满，请选择其他时段。",
        en: "That time is no longer free; please choose another.",
    }
    /// The platform cannot be reached.
    PlatformUnreachable = "flow.platform-unreachable" {
        zh: "暂时连接不上办事系统。请稍后重试，或到窗口办理。",
        en: "The service system cannot be reached right now. Try again later, or go to a counter.",
    }
    /// The service needs a face check this kiosk cannot do with what was shown.
    NeedsFaceCheck = "flow.needs-face-check" {
        zh: "本事项需要刷脸核验，请用手机出示身份码，或到窗口办理。",
        en: "This service needs a face check: show the identity code on your phone, or go to a counter.",
    }
    /// Anything else went wrong.
    SomethingWrong = "flow.something-wrong" {
        zh: "出了点问题，请重试；如仍不行请到窗口办理。",
        en: "Something went wrong. Please try again, or go to a counter.",
    }
    /// The face check or payment was waited on too long.
    WaitedTooLong = "flow.waited-too-long" {
        zh: "等待时间过长，本次办理已停止。请重新办理，或到窗口办理。",
        en: "This took too long and was stopped. Please start again, or go to a counter.",
    }
    /// The payment was not completed.
    PaymentNotCompleted = "flow.payment-not-completed" {
        zh: "支付未完成，订单已取消。如需缴费请重新办理。",
        en: "The payment was not completed and the order was cancelled. Start again to pay.",
    }
    /// The payment timed out (`zizhu flow run`).
    PaymentTimeout = "flow.payment-timeout" {
        zh: "支付超时，订单未完成。请重新办理。",
        en: "The payment timed out. Please start again.",
    }

    // Labels on the confirm screen, the receipt and the transcript.
    /// After the identity: acting for someone else.
    ForSomeoneElse = "label.for-someone-else" {
        zh: "（代他人办理）",
        en: " (for someone else)",
    }
    /// Between the items of a list.
    ListSeparator = "label.list-separator" {
        zh: "、",
        en: ", ",
    }
    /// The appointment time.
    Appointment = "label.appointment" {
        zh: "预约时间",
        en: "Appointment",
    }
    /// The e-licences attached.
    ELicences = "label.e-licences" {
        zh: "电子证照",
        en: "E-licences",
    }
    /// One e-licence.
    ELicence = "label.e-licence" {
        zh: "电子证照",
        en: "E-licence",
    }
    /// The citizen's identity.
    IdentityLabel = "label.identity" {
        zh: "身份",
        en: "Identity",
    }
    /// The ID number.
    IdNumber = "label.id-number" {
        zh: "证件号码",
        en: "ID number",
    }
    /// The name.
    Name = "label.name" {
        zh: "姓名",
        en: "Name",
    }
    /// The kiosk's own reference of a queued application.
    KioskReference = "label.kiosk-reference" {
        zh: "本机受理号",
        en: "Kiosk reference",
    }
    /// The platform's reference.
    Reference = "label.reference" {
        zh: "办件编号",
        en: "Reference",
    }
    /// The kiosk (on the receipt's footer line).
    Kiosk = "label.kiosk" {
        zh: "自助机",
        en: "Kiosk",
    }
    /// The commitment's title.
    Commitment = "label.commitment" {
        zh: "告知承诺书",
        en: "Commitment",
    }
    /// The appointment chosen (transcript).
    AppointmentSlot = "label.appointment-slot" {
        zh: "预约时段",
        en: "Appointment",
    }
    /// Agree.
    Agree = "label.agree" {
        zh: "同意",
        en: "Agree",
    }
    /// Decline.
    Decline = "label.decline" {
        zh: "不同意",
        en: "Decline",
    }
    /// Agree to the commitment and go on.
    AgreeAndContinue = "label.agree-and-continue" {
        zh: "同意并继续",
        en: "Agree and continue",
    }

    // Prompts and results (transcript, receipt).
    /// The face-check QR.
    ScanForFaceCheck = "prompt.scan-for-face-check" {
        zh: "请用手机扫码刷脸",
        en: "Scan with your phone for the face check",
    }
    /// The face check passed.
    FaceCheckPassed = "prompt.face-check-passed" {
        zh: "刷脸核验通过",
        en: "Face check passed",
    }
    /// No e-licences could be fetched.
    LicencesUnavailable = "prompt.licences-unavailable" {
        zh: "暂时无法调取电子证照",
        en: "E-licences cannot be fetched right now",
    }
    /// The e-licence consent.
    UseLicences = "prompt.use-licences" {
        zh: "同意使用以上电子证照代替纸质材料",
        en: "Use these e-licences instead of paper",
    }
    /// The payment QR.
    ScanToPay = "prompt.scan-to-pay" {
        zh: "请扫码支付",
        en: "Scan to pay",
    }
    /// The payment went through.
    Paid = "prompt.paid" {
        zh: "支付成功",
        en: "Paid",
    }
    /// A queued application (transcript), followed by the kiosk reference.
    QueuedShort = "prompt.queued-short" {
        zh: "办事系统暂未确认，申请已保存，本机将自动提交。本机受理号：",
        en: "The service system has not confirmed it yet; your application is saved and this kiosk will send it automatically. Kiosk reference:",
    }
    /// A queued application (receipt).
    Queued = "prompt.queued" {
        zh: "办事系统暂未确认，您的申请已安全保存在本机，将自动提交，无需重复办理。",
        en: "The service system has not confirmed it yet. Your application is saved on this kiosk and will be sent automatically; you need not apply again.",
    }
    /// The hand-off QR (transcript).
    TakeResult = "prompt.take-result" {
        zh: "扫码带走结果",
        en: "Take the result on your phone",
    }
    /// The hand-off QR (receipt).
    SeeResultOnPhone = "prompt.see-result-on-phone" {
        zh: "扫码在手机上查看结果",
        en: "Scan to see the result on your phone",
    }
    /// The document's verification QR (receipt).
    VerifyDocument = "prompt.verify-document" {
        zh: "扫码核验本凭证真伪",
        en: "Scan to verify this document",
    }
    /// The receipt's last line.
    TakeCardAndReceipt = "prompt.take-card-and-receipt" {
        zh: "请取走您的身份证和凭条。",
        en: "Please take your ID card and this receipt.",
    }
    /// `zizhu flow run` finished.
    DoneTakeCard = "prompt.done-take-card" {
        zh: "办理完成。请取走您的身份证和凭条。",
        en: "Done. Please take your ID card and receipt.",
    }
    /// `zizhu flow run` printed the receipt.
    ReceiptPrinted = "prompt.receipt-printed" {
        zh: "凭条已打印",
        en: "Receipt printed",
    }
    /// A licence of a type this kiosk has no name for (in a sentence).
    AnELicence = "label.an-e-licence" {
        zh: "电子证照",
        en: "e-licence",
    }
    /// The result's title after a payment.
    PaymentReceived = "result.payment-received" {
        zh: "缴费成功",
        en: "Payment received",
    }

    // The rating (好差评).
    /// Level 5.
    RatingVerySatisfied = "rating.very-satisfied" {
        zh: "非常满意",
        en: "Very satisfied",
    }
    /// Level 4.
    RatingSatisfied = "rating.satisfied" {
        zh: "满意",
        en: "Satisfied",
    }
    /// Level 3.
    RatingFairlySatisfied = "rating.fairly-satisfied" {
        zh: "基本满意",
        en: "Fairly satisfied",
    }
    /// Level 2.
    RatingDissatisfied = "rating.dissatisfied" {
        zh: "不满意",
        en: "Dissatisfied",
    }
    /// Level 1.
    RatingVeryDissatisfied = "rating.very-dissatisfied" {
        zh: "非常不满意",
        en: "Very dissatisfied",
    }
    /// A reason for a low rating: too slow.
    ReasonSlow = "rating.reason-slow" {
        zh: "办理太慢",
        en: "Too slow",
    }
    /// Too hard to use.
    ReasonHard = "rating.reason-hard" {
        zh: "操作太难",
        en: "Too hard to use",
    }
    /// The instructions were unclear.
    ReasonUnclear = "rating.reason-unclear" {
        zh: "说明看不懂",
        en: "Instructions unclear",
    }
    /// The service was not done.
    ReasonFailed = "rating.reason-failed" {
        zh: "没有办成",
        en: "Could not finish",
    }
    /// A device failed.
    ReasonDevice = "rating.reason-device" {
        zh: "设备故障",
        en: "Device problem",
    }

    /// The platform answered with an error it did not explain.
    PlatformError = "flow.platform-error" {
        zh: "服务平台返回了错误，请稍后再试。",
        en: "The service platform answered with an error; please try again later.",
    }
    /// A result table cut short on the receipt.
    RowsInAll = "result.rows-in-all" {
        zh: "……共 {count} 行，完整明细请扫码查看",
        en: "… {count} rows in all; scan the code for the full list",
    }

    // How a service works (detail screen).
    /// Identified by ID card.
    AuthIdCard = "service.auth-id-card" {
        zh: "刷身份证",
        en: "ID card",
    }
    /// ID card and a face check, or an identity code.
    AuthIdCardFace = "service.auth-id-card-face" {
        zh: "身份证 + 手机刷脸，或出示身份码",
        en: "ID card + face check on phone, or identity code",
    }
    /// An e-licence code.
    AuthELicence = "service.auth-e-licence" {
        zh: "手机出示电子证照码",
        en: "E-licence code on your phone",
    }
    /// A card or an e-licence code.
    AuthAny = "service.auth-any" {
        zh: "身份证或电子证照码",
        en: "ID card or e-licence code",
    }
    /// No identification.
    AuthNone = "service.auth-none" {
        zh: "无需身份认证",
        en: "No identification needed",
    }
    /// The result is shown on screen.
    OutputScreen = "service.output-screen" {
        zh: "屏幕查看结果",
        en: "Result on screen",
    }
    /// A printed document.
    OutputPrint = "service.output-print" {
        zh: "打印凭证",
        en: "Printed document",
    }
    /// An application and its receipt.
    OutputSubmit = "service.output-submit" {
        zh: "提交申请，领取回执",
        en: "Application and receipt",
    }
    /// A payment by QR code.
    OutputPay = "service.output-pay" {
        zh: "扫码缴费",
        en: "Pay by QR code",
    }

    // Results the kiosk titles itself (flow::remote).
    /// An application was accepted.
    ApplicationAccepted = "result.application-accepted" {
        zh: "申请已受理",
        en: "Application accepted",
    }
    /// The acceptance number of an application.
    AcceptanceNumber = "result.acceptance-number" {
        zh: "受理编号",
        en: "Reference",
    }
    /// A payment is due.
    ScanToPayTitle = "result.scan-to-pay" {
        zh: "请扫码缴费",
        en: "Scan to pay",
    }
    /// An appointment was booked.
    AppointmentBooked = "result.appointment-booked" {
        zh: "预约成功",
        en: "Appointment booked",
    }
    /// Where the appointment is.
    Office = "result.office" {
        zh: "办理地点",
        en: "Office",
    }
    /// When the appointment is.
    Time = "result.time" {
        zh: "时间",
        en: "Time",
    }
    /// The booking's reference.
    BookingReference = "result.booking-reference" {
        zh: "预约编号",
        en: "Booking reference",
    }

    // Days of the week on the appointment tabs.
    /// Monday.
    Monday = "day.monday" {
        zh: "周一",
        en: "Mon",
    }
    /// Tuesday.
    Tuesday = "day.tuesday" {
        zh: "周二",
        en: "Tue",
    }
    /// Wednesday.
    Wednesday = "day.wednesday" {
        zh: "周三",
        en: "Wed",
    }
    /// Thursday.
    Thursday = "day.thursday" {
        zh: "周四",
        en: "Thu",
    }
    /// Friday.
    Friday = "day.friday" {
        zh: "周五",
        en: "Fri",
    }
    /// Saturday.
    Saturday = "day.saturday" {
        zh: "周六",
        en: "Sat",
    }
    /// Sunday.
    Sunday = "day.sunday" {
        zh: "周日",
        en: "Sun",
    }

    /// The category of every service (home screen).
    AllServices = "browse.all-services" {
        zh: "全部服务",
        en: "All services",
    }
    /// 一件事一次办: every member service was filed.
    OneThingFiled = "one-thing.filed" {
        zh: "已为您一次提交全部事项",
        en: "All the services were filed at once",
    }
    /// 一件事一次办: not every member was filed at once (saved or refused ones below).
    OneThingPartly = "one-thing.partly" {
        zh: "部分事项尚未办结，请看下方各事项状态",
        en: "Not every service is done yet; see each one below",
    }
    /// 一件事一次办: what happens next.
    OneThingNext = "one-thing.next" {
        zh: "各部门将分别办理，并以短信告知每个事项的结果。",
        en: "Each department handles its part and sends you a text message with its result.",
    }
    /// 一件事一次办 result row: a member filed, with its reference.
    MemberFiled = "one-thing.member-filed" {
        zh: "已受理，办件编号 {reference}",
        en: "Accepted, reference {reference}",
    }
    /// 一件事一次办 result row: a member saved and waiting to be delivered.
    MemberQueued = "one-thing.member-queued" {
        zh: "已保存，待办事系统确认后自动提交（本机编号 {reference}）",
        en: "Saved; it is sent automatically once the service system confirms (kiosk reference {reference})",
    }
    /// 一件事一次办 result row: a member refused by the platform.
    MemberRefused = "one-thing.member-refused" {
        zh: "未受理：{reason}",
        en: "Not accepted: {reason}",
    }
    // Staff sign-in (帮办员) and assisted visits.
    /// The banner of an assisted visit: the helper, masked, and the staff number.
    StaffBanner = "staff.banner" {
        zh: "{name} · 工号 {id}",
        en: "{name} · staff no. {id}",
    }
    /// A staff code that cannot be read.
    StaffMalformed = "staff.malformed" {
        zh: "这不是有效的工作人员码，请重新扫码或输入。",
        en: "This is not a valid staff code. Scan or type it again.",
    }
    /// A staff code signed by a key the kiosk does not trust for staff codes.
    StaffUntrusted = "staff.untrusted" {
        zh: "无法确认这个工作人员码的来源，请重新生成或联系平台。",
        en: "This staff code's origin cannot be confirmed. Make a new one or contact the platform.",
    }
    /// A staff code past its validity (or not yet valid).
    StaffExpired = "staff.expired" {
        zh: "工作人员码已过期，请重新生成。",
        en: "The staff code has expired. Make a new one.",
    }
    /// A staff code bound to another site.
    StaffOtherSite = "staff.other-site" {
        zh: "这是其他网点的工作人员码，不能在本机使用。",
        en: "This staff code is for another site and cannot be used at this kiosk.",
    }
    /// A staff code bound to another kiosk.
    StaffOtherKiosk = "staff.other-kiosk" {
        zh: "这是其他自助机的工作人员码，不能在本机使用。",
        en: "This staff code is for another kiosk and cannot be used here.",
    }
    /// A staff code used before.
    StaffReplayed = "staff.replayed" {
        zh: "这个工作人员码已经用过，请重新生成。",
        en: "This staff code was already used. Make a new one.",
    }
    /// The sign-in could not be recorded.
    StaffStorage = "staff.storage" {
        zh: "暂时无法登记工作人员签到，请联系技术人员。",
        en: "The staff sign-in cannot be recorded right now. Please call a technician.",
    }
    /// A helper signed in.
    StaffSignedIn = "staff.signed-in" {
        zh: "帮办员已签到：{name} · 工号 {id}",
        en: "Helper signed in: {name} · staff no. {id}",
    }
    /// Staff sign-in is not set up at this kiosk.
    StaffUnavailable = "staff.unavailable" {
        zh: "本机未启用工作人员签到，请联系技术人员。",
        en: "Staff sign-in is not set up at this kiosk. Please call a technician.",
    }
    /// The helper signed out.
    StaffSignedOut = "staff.signed-out" {
        zh: "帮办员已签退",
        en: "The helper has signed out",
    }
    /// The staff check of the person against the card (人工核验), done.
    StaffVerified = "staff.verified" {
        zh: "已由帮办员人工核验本人与身份证一致（工号 {id}）",
        en: "The helper checked the person against the ID card (staff no. {id})",
    }
    /// The service does not allow the staff check instead of the face check.
    StaffVerifyNotAllowed = "staff.verify-not-allowed" {
        zh: "本事项不能由工作人员人工核验，请用手机刷脸或出示身份码。",
        en: "This service does not allow a staff check. Do the face check on your phone, or show your identity code.",
    }
    /// The staff check needs a helper signed in.
    StaffVerifyNoHelper = "staff.verify-no-helper" {
        zh: "人工核验需要帮办员先签到。",
        en: "A staff check needs a helper signed in first.",
    }
    /// The rating of the helper (好差评), asked after the service's.
    RateHelper = "staff.rate-helper" {
        zh: "请评价帮办员的服务",
        en: "Please rate the helper",
    }
    /// Under search results: matching services this kiosk does not offer, and where to go.
    SearchElsewhere = "browse.search-elsewhere" {
        zh: "另有 {count} 项相关服务本机不提供：{place}",
        en: "{count} more matching services are not offered at this kiosk: {place}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `{name}` placeholders of a string, in order.
    fn placeholders(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(i) = rest.find('{') {
            let Some(j) = rest[i..].find('}') else { break };
            out.push(&rest[i + 1..i + j]);
            rest = &rest[i + j + 1..];
        }
        out
    }

    fn has_cjk(s: &str) -> bool {
        s.chars().any(|c| {
            ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c)
        })
    }

    /// Every entry has Chinese, an English translation (no Chinese left in it) with the same
    /// placeholders, and a unique id of the form `group.name`.
    #[test]
    fn every_text_has_an_english_translation() {
        let mut ids = std::collections::BTreeSet::new();
        for t in Text::ALL {
            assert!(!t.zh().trim().is_empty(), "{t:?}: no Chinese");
            assert!(!t.en().trim().is_empty(), "{t:?}: no English");
            // The list separator is punctuation; the rest is words.
            if *t != Text::ListSeparator && *t != Text::ForSomeoneElse {
                assert!(has_cjk(t.zh()), "{t:?}: the source is not Chinese");
            }
            assert!(!has_cjk(t.en()), "{t:?}: Chinese left in the English");
            let (mut a, mut b) = (placeholders(t.zh()), placeholders(t.en()));
            a.sort();
            b.sort();
            assert_eq!(a, b, "{t:?}: placeholders differ");
            assert!(
                t.id()
                    .split_once('.')
                    .is_some_and(|(g, n)| !g.is_empty() && !n.is_empty()),
                "{t:?}: id {}",
                t.id()
            );
            assert!(ids.insert(t.id()), "{t:?}: id {} twice", t.id());
            assert_eq!(Text::by_id(t.id()), Some(*t));
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            Text::FieldRequired.fill(Lang::En, &[("label", "Phone")]),
            "Please fill in “Phone”."
        );
        assert_eq!(
            Text::NotIdentity.fill(Lang::Zh, &[("name", "结婚证")]),
            "这是“结婚证”的证照码，不能用来认证身份。请出示身份码，或放置身份证。"
        );
    }
}
