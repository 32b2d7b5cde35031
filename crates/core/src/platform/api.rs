//! The wire types of the service platform API (`/v1`, HTTP + JSON), shared by the kiosk client and
//! the demo platform. docs/platform-api.md documents every endpoint with examples; the names here
//! are the JSON names and are stable.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::Lang;

/// Path prefix of every versioned endpoint.
pub const PREFIX: &str = "/v1";
/// Header carrying the idempotency key of a state-changing call.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Header naming the calling kiosk.
pub const KIOSK_ID: &str = "X-Kiosk-Id";
/// Longest accepted idempotency key (characters of `[A-Za-z0-9_-]`).
pub const MAX_KEY_LEN: usize = 64;

/// The body of every error response: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}

/// One error, in both languages, with whether the same call may succeed later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable machine code, e.g. `invalid_id_number` (list in docs/platform-api.md).
    pub code: String,
    /// Message for the citizen, Chinese.
    pub message_zh: String,
    /// Message for the citizen, English.
    pub message_en: String,
    /// Whether repeating the same call (same idempotency key) later may succeed.
    pub retryable: bool,
}

impl ApiError {
    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> &str {
        lang.pick(&self.message_zh, &self.message_en)
    }
}

/// How the citizen was identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SubjectKind {
    /// The ID card on the reader.
    #[serde(rename = "idcard")]
    IdCard,
    /// An identity or e-licence code from the phone (face verified by the phone app).
    #[serde(rename = "code")]
    Code,
    /// An ID number typed on the screen (acting for someone else, 代他人).
    #[serde(rename = "typed")]
    Typed,
}

impl SubjectKind {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::IdCard => "idcard",
            SubjectKind::Code => "code",
            SubjectKind::Typed => "typed",
        }
    }
}

/// How the person a request is for was identified, in full (what [`SubjectKind`] says, and how a
/// live face check was met for `idcard+face` services).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdentityMethod {
    /// The ID card alone.
    #[serde(rename = "idcard")]
    IdCard,
    /// The ID card and a confirmed phone face check (`face_check_id`).
    #[serde(rename = "idcard+face")]
    IdCardFace,
    /// The ID card, checked against the person by a signed-in staff member (人工核验; `staff_id`
    /// names them). Accepted only for services whose catalog entry has `staff_verify = true`.
    #[serde(rename = "idcard+staff")]
    IdCardStaff,
    /// An identity code from the phone (the app checked the face).
    #[serde(rename = "code")]
    Code,
    /// A typed ID number (代他人).
    #[serde(rename = "typed")]
    Typed,
}

impl IdentityMethod {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityMethod::IdCard => "idcard",
            IdentityMethod::IdCardFace => "idcard+face",
            IdentityMethod::IdCardStaff => "idcard+staff",
            IdentityMethod::Code => "code",
            IdentityMethod::Typed => "typed",
        }
    }
}

/// Who a request is for. Exactly one of `id_number` and `subject_token` is set. The kiosk's
/// outbox only ever holds the token form (see docs/platform-api.md, "Personal data").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The full ID number (only in direct calls, never journaled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    /// A subject token from `POST /v1/subjects` or `POST /v1/identity/resolve`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_token: Option<String>,
    /// How the citizen identified.
    pub kind: SubjectKind,
    /// Whether the citizen acts for someone else (代他人).
    #[serde(default)]
    pub proxy: bool,
}

impl Subject {
    /// A subject carried by a token.
    pub fn token(token: impl Into<String>, kind: SubjectKind, proxy: bool) -> Subject {
        Subject {
            id_number: None,
            subject_token: Some(token.into()),
            kind,
            proxy,
        }
    }

    /// A subject carried by the full ID number (direct calls only).
    pub fn id_number(id: impl Into<String>, kind: SubjectKind, proxy: bool) -> Subject {
        Subject {
            id_number: Some(id.into()),
            subject_token: None,
            kind,
            proxy,
        }
    }
}

/// `POST /v1/subjects`: exchange an ID number for a subject token before journaling a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRequest {
    /// The full ID number (18 characters, GB 11643 check character).
    pub id_number: String,
    /// How it was obtained.
    pub kind: SubjectKind,
}

/// A subject token and what the kiosk may show about the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectToken {
    /// Opaque token standing for the person in later calls (`st_…`).
    pub subject_token: String,
    /// The ID number masked (first 6 and last 4 characters).
    pub id_masked: String,
    /// Unix seconds after which the platform no longer accepts the token.
    pub expires_at: i64,
}

/// `POST /v1/identity/resolve`: an opaque identity code (粤省事码 …) from the phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveRequest {
    /// The scanned text.
    pub code: String,
}

/// The person behind an identity code. Held in memory for the visit only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Token for later calls (subject kind `code`).
    pub subject_token: String,
    /// The ID number masked.
    pub id_masked: String,
    /// Full name (shown to the citizen, never logged or stored).
    pub name: String,
    /// `M` or `F`.
    pub sex: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// Unix seconds after which the token expires.
    pub expires_at: i64,
}

/// `POST /v1/services/{service_id}/requests`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRequest {
    /// Who the request is for; absent for services with auth `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// Form values by field key (as the catalog declares them). Appointment services may add
    /// `slot_id` from the slots endpoint.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// E-licences used instead of paper materials: references from
    /// `POST /v1/elicense/licences` ([`HeldLicence::reference`]) issued for this citizen (after
    /// an `ET1:` ticket, list the citizen's licences for its reference). Unknown references are
    /// refused (`422 unknown_licence_reference`). Journaled in clear: references only, never
    /// ticket contents.
    #[serde(default)]
    pub elicense: Vec<String>,
    /// A confirmed phone face check (`idcard+face` services identified by ID card).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_check_id: Option<String>,
    /// Whether the citizen accepted the commitment (告知承诺) where the catalog asks for one.
    #[serde(default)]
    pub commitment_accepted: bool,
    /// The citizen's language.
    #[serde(default)]
    pub lang: Lang,
    /// How the citizen was identified, in full (`idcard+staff`: a staff member checked the person
    /// against the card instead of a face check). Absent from older kiosks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_method: Option<IdentityMethod>,
    /// The staff number (工号) of the helper who signed in at the kiosk for an assisted visit
    /// (帮办代办); required with `identity_method = "idcard+staff"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Done; the result is final.
    Completed,
    /// Accepted for processing by the department (submit services).
    Accepted,
    /// Waiting for payment (`GET /v1/payments/{order_id}`, then `GET /v1/requests/{id}`).
    PaymentPending,
    /// Waiting for a phone face check (reserved; the demo answers `face_check_required` instead).
    FaceCheckPending,
}

/// The answer to a service request (also what a retry with the same key returns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceResponse {
    /// Platform id of the request (`rq_…`).
    pub request_id: String,
    /// Human reference number (printed on receipts).
    pub reference: String,
    /// The service.
    pub service_id: String,
    /// Where it stands.
    pub status: RequestStatus,
    /// What the citizen gets.
    pub result: ServiceResult,
    /// Link to the result page (the hand-off QR on the kiosk).
    pub handoff_url: String,
    /// When the platform created it (RFC 3339).
    pub created_at: String,
}

/// A label and a value on a result screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Label, Chinese.
    pub label_zh: String,
    /// Label, English.
    pub label_en: String,
    /// The value (numbers formatted, language-neutral).
    pub value: String,
    /// Safe to speak aloud at the kiosk (no personal identifiers or a person's amounts);
    /// voice guidance speaks only rows marked so. Absent means no.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub speak: bool,
}

/// A table column heading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

/// A table of records (monthly contributions, bills…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Headings.
    pub columns: Vec<Column>,
    /// Rows, one string per column.
    pub rows: Vec<Vec<String>>,
}

/// What a `screen` service shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenResult {
    /// Title, Chinese.
    pub title_zh: String,
    /// Title, English.
    pub title_en: String,
    /// Labelled values.
    pub items: Vec<Item>,
    /// Records, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Table>,
}

/// A document to print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Title, Chinese.
    pub title_zh: String,
    /// Title, English.
    pub title_en: String,
    /// Body lines (Chinese, as the department issues it).
    pub lines: Vec<String>,
    /// Link encoded in the verification QR.
    pub verify_url: String,
}

/// What a `print` service returns: a screen plus the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintResult {
    /// What the screen shows.
    #[serde(flatten)]
    pub screen: ScreenResult,
    /// What the printer prints.
    pub document: Document,
}

/// What a `submit` service returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResult {
    /// Application reference.
    pub reference: String,
    /// What happens next, Chinese.
    pub next_steps_zh: String,
    /// What happens next, English.
    pub next_steps_en: String,
}

/// What a `pay` service returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayResult {
    /// Order to poll.
    pub order_id: String,
    /// Amount in yuan, two decimals (`"360.00"`).
    pub amount: String,
    /// Link for the payment QR.
    pub pay_url: String,
    /// What is being paid (bill lines).
    #[serde(default)]
    pub items: Vec<Item>,
}

/// What an `appointment` service returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentResult {
    /// The booked slot.
    pub slot: Slot,
    /// Office name, Chinese.
    pub office_zh: String,
    /// Office name, English.
    pub office_en: String,
    /// Booking reference.
    pub reference: String,
}

/// The result, tagged by the catalog's output kind (`"kind": "screen"` …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServiceResult {
    /// Output `screen`.
    Screen(ScreenResult),
    /// Output `print`.
    Print(PrintResult),
    /// Output `submit`.
    Submit(SubmitResult),
    /// Output `pay`.
    Pay(PayResult),
    /// Output `appointment`.
    Appointment(AppointmentResult),
}

/// Payment state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Not paid yet.
    Pending,
    /// Paid.
    Paid,
    /// Cancelled by the kiosk.
    Cancelled,
    /// Not paid in time.
    Expired,
}

/// `GET /v1/payments/{order_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The order.
    pub order_id: String,
    /// The request it belongs to.
    pub request_id: String,
    /// Its state.
    pub status: PaymentState,
    /// Amount in yuan.
    pub amount: String,
}

/// `POST /v1/face-checks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceCheckRequest {
    /// The service that needs it.
    pub service_id: String,
    /// Who must show their face.
    pub subject: Subject,
}

/// A started face check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceCheck {
    /// Id to poll and to pass in the service request.
    pub check_id: String,
    /// Link for the QR the citizen scans with the government app.
    pub url: String,
    /// Current state.
    pub status: FaceCheckState,
}

/// Face-check state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceCheckState {
    /// Waiting for the phone.
    Pending,
    /// The face matched.
    Confirmed,
    /// The face did not match or the citizen refused.
    Refused,
    /// Not done in time.
    Expired,
}

/// `GET /v1/face-checks/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceCheckStatus {
    /// The check.
    pub check_id: String,
    /// Its state.
    pub status: FaceCheckState,
}

/// One appointment slot (`GET /v1/services/{id}/slots?date=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Id to send as field `slot_id`.
    pub slot_id: String,
    /// Start, `YYYY-MM-DDTHH:MM` (local time).
    pub start: String,
    /// End, `YYYY-MM-DDTHH:MM`.
    pub end: String,
    /// Office value (the catalog's `office` select value).
    pub office: String,
    /// Whether it can still be booked.
    pub available: bool,
}

/// `POST /v1/elicense/tickets/consume`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRequest {
    /// The ticket reference from an `ET1:` code.
    pub ticket: String,
}

/// The licence data behind a ticket (single use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketLicence {
    /// Licence type id (catalog `[[licence]]`).
    pub licence_type: String,
    /// Licence identifier (证照标识).
    pub identifier: String,
    /// Holder's ID number masked.
    pub holder_masked: String,
    /// Subject token for the holder.
    pub subject_token: String,
    /// Licence fields (label → value), shown to the citizen only.
    pub fields: BTreeMap<String, String>,
}

/// `POST /v1/elicense/licences` (免证办): which of these e-licence types the citizen holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceRequest {
    /// Whose licences (a subject token in the kiosk's normal use).
    pub subject: Subject,
    /// The service the licences are for (the platform may log or restrict by it).
    pub service_id: String,
    /// Catalog licence type ids (`[[licence]] id`, e.g. `household-register`); empty means
    /// every type the citizen holds.
    #[serde(default)]
    pub types: Vec<String>,
}

/// One e-licence the citizen holds, as the consent screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLicence {
    /// Catalog licence type id (`household-register`).
    pub licence_type: String,
    /// Licence name, Chinese.
    pub name_zh: String,
    /// Licence name, English.
    pub name_en: String,
    /// The licence identifier (证照标识) masked: first 6 and last 4 characters.
    pub identifier_masked: String,
    /// Opaque reference (`lic_…` on the demo) to put into [`ServiceRequest::elicense`] to attach
    /// this licence to a request for the same citizen.
    pub reference: String,
    /// Valid until (`YYYY-MM-DD` or `长期`), when the licence has an end date field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
}

/// Answer of `POST /v1/elicense/licences`: the requested types the citizen holds (types not
/// held are simply absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceList {
    /// The licences, in the order of the request's `types`.
    pub licences: Vec<HeldLicence>,
}

/// `POST /v1/evaluations` (好差评).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The request evaluated.
    pub request_id: String,
    /// Its service.
    pub service_id: String,
    /// 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
    pub level: u8,
    /// Reason codes chosen on the screen.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The helper of an assisted visit (工号), whose service is rated too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    /// The rating of the helper (1–5, as `level`), when the citizen gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_level: Option<u8>,
}

/// The platform's receipt of an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationAck {
    /// Platform id (`ev_…`).
    pub evaluation_id: String,
}

/// `POST /v1/help`: a citizen at the kiosk pressed 呼叫帮助 (call for help). The kiosk id comes
/// from `X-Kiosk-Id`. Nothing personal: where the visitor is (screen, service), for how long, and
/// the kind of the last error they met, so staff know what to bring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpRequest {
    /// The site's name, as configured (`[kiosk] site`).
    pub site: String,
    /// The screen or flow step on display (`home`, `search`, `form`, `payment`, …).
    pub screen: String,
    /// The service being looked at or done, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// Seconds since the visit began.
    pub visit_seconds: u64,
    /// The kind of the last error on screen (`platform`, `input`, `device`, …), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// `POST /v1/help/cancel`: the citizen no longer needs help. Names the help request by the
/// idempotency key it was sent with (the kiosk may not have its platform id yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpCancel {
    /// The `Idempotency-Key` of the `POST /v1/help` to cancel (same kiosk id).
    pub request_key: String,
    /// Why: `citizen` (the cancel button), `visit_ended`, or `staff_signed_in` (a helper signed
    /// in at the kiosk: answered in person).
    pub reason: String,
}

/// `POST /v1/help/{help_id}/ack`: a staff member takes the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpAckRequest {
    /// Who takes it (a staff number, never a name), e.g. `0012`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
}

/// State of a help request on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HelpState {
    /// Waiting for staff.
    Open,
    /// A staff member is on the way.
    Acknowledged,
    /// The citizen cancelled it (or the visit ended).
    Cancelled,
}

impl HelpState {
    /// The lowercase name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            HelpState::Open => "open",
            HelpState::Acknowledged => "acknowledged",
            HelpState::Cancelled => "cancelled",
        }
    }
}

/// One help request as the platform keeps it (answer of `POST /v1/help`, `GET /v1/help/{id}`,
/// items of `GET /v1/help`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpEntry {
    /// Platform id (`hp_…`).
    pub help_id: String,
    /// The kiosk that asked.
    pub kiosk_id: String,
    /// What the kiosk sent.
    #[serde(flatten)]
    pub request: HelpRequest,
    /// State.
    pub state: HelpState,
    /// When the platform received it (Unix seconds).
    pub created_unix: i64,
    /// When staff acknowledged it (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_unix: Option<i64>,
    /// Who acknowledged it (staff number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
}

/// Answer of `GET /v1/help`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpList {
    /// The requests, oldest first.
    pub requests: Vec<HelpEntry>,
}

/// Answer of `PUT /v1/catalog/bundle`: the bundle the platform now serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogPublished {
    /// Its sequence.
    pub seq: u64,
    /// Services in its catalog.
    pub services: usize,
    /// The ETag kiosks will see.
    pub etag: String,
    /// False when the same bundle was already published (the call changed nothing).
    pub changed: bool,
}

/// Answer of `POST /v1/payments/{order_id}/cancel`: the payment after cancelling.
pub type CancelAck = Payment;

/// What `POST /demo/elicense` makes (demo platform only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DemoCodeKind {
    /// An `EL1:` presentation (verified offline by the kiosk).
    #[default]
    Presentation,
    /// An `ET1:` ticket (consumed at `POST /v1/elicense/tickets/consume`).
    Ticket,
}

/// Body of `POST /demo/elicense` (demo platform only): a code as the government app would show
/// it for a synthetic person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCodeRequest {
    /// The synthetic person's ID number.
    pub id_number: String,
    /// Catalog licence type id (`identity`, `household-register`, `marriage-cert` …).
    #[serde(default = "default_licence")]
    pub licence: String,
    /// Presentation or ticket.
    #[serde(default)]
    pub kind: DemoCodeKind,
    /// Signing algorithm of the demo issuer, `es256` or `sm2` (default `sm2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

fn default_licence() -> String {
    "identity".into()
}

/// Answer of `POST /demo/elicense`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCode {
    /// The text the QR code carries (`EL1:…` or `ET1:…`).
    pub payload: String,
    /// Unix seconds when the code expires.
    pub expires_at: i64,
}

/// Body of `POST /demo/faults` (demo platform only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// Added latency per request, milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Fraction of `/v1` requests answered with 503 (0.0–1.0).
    #[serde(default)]
    pub error_rate: f64,
    /// Drop every `/v1` connection without an answer.
    #[serde(default)]
    pub drop: bool,
    /// Answer every `/v1` request with 503 `platform_down` (the platform is "down").
    #[serde(default)]
    pub down: bool,
    /// Answer requests filed to these services (`POST /v1/services/{id}/requests`) with 503
    /// `service_down`: one department's system is down while the others work.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub down_services: Vec<String>,
}
