//! The kiosk's user interface on the Rust side: [`KioskUi`] creates the Slint window
//! (`zizhu_ui::KioskWindow`) and wires its adapter globals to the catalog and to one visitor's
//! [`Session`]; [`run_window`] runs it in a desktop or kiosk window; [`headless`] renders screens
//! with the software renderer for `zizhu screenshot`, tests and benchmarks.
//!
//! - Screens are switched by `AppState.screen` (a Slint enum). A new screen is a new enum value,
//!   one `if` line in `ui/app.slint`, an adapter global, and an `apply_*` function in
//!   [`adapters`].
//! - Language: Chinese is the source language of the `.slint` files; English is a bundled
//!   gettext translation selected with `slint::select_bundled_translation`. Catalog text (service
//!   names, departments) comes from the catalog in the session's language.
//! - Idle timeout: a Slint `Timer` counts `AppState.idle-remaining` down once a second while a
//!   visitor is there (every touch restarts it) and shows a countdown for the last 10 seconds; at
//!   zero it calls `session-ended`, and [`KioskUi`] forgets the session and shows the attract
//!   screen in the configured language and mode.
//! - Call for help: [`HelpUi`] (in [`help`]) answers the footer's 呼叫帮助 button on every
//!   visitor screen, flows included, through the core's help desk.
//! - Staff sign-in: [`StaffUi`] (in [`staff`]) owns the helper signed in for the visit, from the
//!   flow's bar or the help overlay, until the sign-out button, the end of the visit or idle.
//! - Voice guidance: [`VoiceUi`] (in [`voice`]) speaks every screen and flow step through the
//!   kiosk's `zizhu_voice::Voice` and answers the header's 再听一遍 and voice panel.
//! - Maintenance: [`MaintenanceUi`] (in [`maintenance`]) lays the technician's PIN pad and panel
//!   over the attract screen after the hidden gesture; it is attached next to the flow.
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use slint::ComponentHandle;

use crate::catalog::live::{Active, Live};
use crate::catalog::Lang;
use crate::ui::{AppState, DetailAdapter, HomeAdapter, KioskWindow, ListAdapter, SearchAdapter};

pub mod adapters;
pub mod flow;
pub mod headless;
pub mod help;
pub mod maintenance;
pub mod session;
pub mod staff;
pub mod voice;
pub mod wake;

pub use flow::{FlowContext, FlowUi, SimHooks};
pub use headless::{render_png, HeadlessKiosk, HEIGHT, WIDTH};
pub use help::{HelpContext, HelpUi};
pub use maintenance::{MaintenanceContext, MaintenanceUi};
pub use session::{ScreenId, Session, Sizes};
pub use staff::{StaffEvent, StaffSetup, StaffUi};
pub use voice::VoiceUi;

/// How the kiosk UI starts (from the config file, or defaults in simulation mode).
#[derive(Debug, Clone)]
pub struct Options {
    /// Shown in the header and on the attract screen.
    pub site_name: String,
    /// Time without a touch before a session ends (default 60 s; at least 15 s is sensible).
    pub idle_timeout: Duration,
    /// Language each session starts in.
    pub lang: Lang,
    /// Whether each session starts in elderly mode.
    pub elderly: bool,
    /// Full screen (a kiosk) rather than a 1080×1920 window (a workstation).
    pub fullscreen: bool,
    /// The kiosk's live catalog (site profile, signed bundles); the embedded catalog with every
    /// service when absent.
    pub catalog: Option<Arc<Live>>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            site_name: "示例街道政务服务站".to_string(),
            idle_timeout: Duration::from_secs(60),
            lang: Lang::Zh,
            elderly: false,
            fullscreen: false,
            catalog: None,
        }
    }
}

/// What went wrong showing the kiosk UI.
#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    /// There is no display to open a window on (no `DISPLAY` / `WAYLAND_DISPLAY`, or the
    /// windowing system refused). Run `zizhu run --headless`, or start under X11/Wayland.
    #[error("no display to open the kiosk window on ({reason}); run `zizhu run --headless` to run the kiosk runtime without a window, or start it under X11/Wayland")]
    NoDisplay {
        /// What was missing or what the windowing system said.
        reason: String,
    },
    /// Slint could not create the window or its renderer.
    #[error("cannot create the kiosk window: {0}")]
    Platform(#[from] slint::PlatformError),
    /// A category id that the catalog does not have.
    #[error("unknown category `{given}`; valid categories: {valid}")]
    UnknownCategory {
        /// What was asked for.
        given: String,
        /// Every valid id, comma separated.
        valid: String,
    },
    /// A service id that the catalog does not have.
    #[error("unknown service `{given}`; valid services (see `zizhu catalog list`): {valid}")]
    UnknownService {
        /// What was asked for.
        given: String,
        /// Every valid id, comma separated.
        valid: String,
    },
    /// The catalog to show could not be prepared (an unknown site profile).
    #[error("cannot show the catalog: {0}")]
    Catalog(String),
    /// The picture could not be written. Check the directory exists and is writable.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// Headless rendering needs Slint's platform, and another one was already set up in this
    /// process (only one per process is possible).
    #[error("cannot set up the headless renderer: {0}")]
    Headless(String),
}

impl KioskError {
    /// Whether the error is the user's input (exit status 2 on the command line).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            KioskError::UnknownCategory { .. }
                | KioskError::UnknownService { .. }
                | KioskError::NoDisplay { .. }
        )
    }
}

/// Which screen to show and with what, for screenshots and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenSpec {
    /// The screen.
    pub screen: ScreenId,
    /// Category screen: the category id ("" or none = every service).
    pub category: Option<String>,
    /// Detail screen: the service id (none = the first home tile).
    pub item: Option<String>,
    /// Search screen: the query as typed.
    pub query: Option<String>,
}

impl ScreenSpec {
    /// A plain spec for one screen.
    pub fn new(screen: ScreenId) -> ScreenSpec {
        ScreenSpec {
            screen,
            category: None,
            item: None,
            query: None,
        }
    }
}

/// Called when the visitor presses "start" on a service's detail screen (the flow engine).
type StartHook = Rc<RefCell<Option<Box<dyn Fn(&str)>>>>;

/// Called after the session changed (screen, language, mode, the idle timeout), so the flow
/// sees it at once instead of looking every so often.
type ChangeHooks = Rc<RefCell<Vec<Box<dyn Fn()>>>>;

fn notify(hooks: &ChangeHooks) {
    for f in hooks.borrow().iter() {
        f();
    }
}

/// The catalog the screens show and visits start from: the live catalog's [`Active`] as it was
/// when the current visit began. A newer catalog is taken only between visits, so the home
/// screen, search and the flows change together and never under a visitor.
pub type CatalogView = Rc<RefCell<Arc<Active>>>;

/// The kiosk window with its adapters wired to the catalog and the visitor's session.
pub struct KioskUi {
    window: KioskWindow,
    session: Rc<RefCell<Session>>,
    view: CatalogView,
    live: Rc<RefCell<Option<Arc<Live>>>>,
    options: Options,
    start_hook: StartHook,
    changed: ChangeHooks,
    staff: StaffUi,
    _clock: slint::Timer,
}

impl KioskUi {
    /// Creates the window component (not shown yet) on the current Slint platform, in the
    /// attract screen.
    pub fn new(options: Options) -> Result<KioskUi, KioskError> {
        let window = KioskWindow::new()?;
        let view: CatalogView = Rc::new(RefCell::new(Arc::new(
            Active::embedded(None).map_err(|e| KioskError::Catalog(e.to_string()))?,
        )));
        let session = Rc::new(RefCell::new(Session::new(options.lang, options.elderly)));
        select_language(options.lang);
        let st = window.global::<AppState>();
        st.set_site_name(options.site_name.as_str().into());
        let idle = options.idle_timeout.as_secs().clamp(1, i32::MAX as u64) as i32;
        st.set_idle_timeout(idle);
        st.set_idle_remaining(idle);
        update_clock(&window, options.lang);
        adapters::apply_all(&window, &view.borrow(), &session.borrow());

        let staff = StaffUi::new(&window, session.clone());
        let ui = KioskUi {
            _clock: slint::Timer::default(),
            window,
            staff,
            session,
            view,
            live: Rc::new(RefCell::new(None)),
            options,
            start_hook: Rc::new(RefCell::new(None)),
            changed: Rc::new(RefCell::new(Vec::new())),
        };
        ui.wire();
        // The visit's helper signs out when the session ends.
        let staff = ui.staff.clone();
        ui.on_change(move || staff.session_changed());
        if let Some(live) = ui.options.catalog.clone() {
            ui.set_live_catalog(live);
        }
        let weak = ui.window.as_weak();
        let session = ui.session.clone();
        ui._clock.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || {
                if let Some(w) = weak.upgrade() {
                    update_clock(&w, session.borrow().lang);
                }
            },
        );
        Ok(ui)
    }

    /// The Slint component (for showing it, running it, or inspecting it in tests).
    pub fn window(&self) -> &KioskWindow {
        &self.window
    }

    /// Staff sign-in (帮办员) for the visit: the one owner of the helper signed in.
    pub fn staff(&self) -> &StaffUi {
        &self.staff
    }

    /// The options it was created with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Shows the kiosk's live catalog (the runtime's: site profile, signed bundles) from now on,
    /// and takes each newer one it holds at the start of a visit.
    pub fn set_live_catalog(&self, live: Arc<Live>) {
        *self.view.borrow_mut() = live.current();
        *self.live.borrow_mut() = Some(live);
        adapters::apply_all(&self.window, &self.view.borrow(), &self.session.borrow());
    }

    /// The catalog the screens show now.
    pub fn catalog(&self) -> Arc<Active> {
        self.view.borrow().clone()
    }

    /// The shared handle on the catalog the screens show (the flow starts visits from it).
    pub fn catalog_view(&self) -> CatalogView {
        self.view.clone()
    }

    /// A copy of the visitor's session as it is now.
    pub fn session(&self) -> Session {
        self.session.borrow().clone()
    }

    /// Keeps the status state's `session_active` and `screen` up to date (checked every
    /// 250 ms): a session is active while a visitor is on any screen but the attract screen
    /// (browsing, or doing a service). The
    /// device supervisor never cuts a device's power while it is set. Keep the timer alive as
    /// long as the window.
    pub fn report_session(&self, state: crate::status::StatusState) -> slint::Timer {
        let timer = slint::Timer::default();
        let weak = self.window.as_weak();
        let mut last = None;
        timer.start(
            slint::TimerMode::Repeated,
            Duration::from_millis(250),
            move || {
                let Some(w) = weak.upgrade() else { return };
                let screen = w.global::<AppState>().get_screen();
                if last != Some(screen) {
                    last = Some(screen);
                    use crate::ui::Screen;
                    state.set_session_active(screen != Screen::Attract);
                    // The screen's name for /v1/status (the maintenance screen, an overlay on
                    // the attract screen, names itself).
                    state.set_screen(match screen {
                        Screen::Attract => "attract",
                        Screen::Home => "home",
                        Screen::Category => "category",
                        Screen::Search => "search",
                        Screen::Detail => "detail",
                        Screen::Flow => "flow",
                    });
                }
            },
        );
        timer
    }

    /// Registers what happens when the visitor presses "start" on a service (the flow engine).
    pub fn on_start(&self, f: impl Fn(&str) + 'static) {
        *self.start_hook.borrow_mut() = Some(Box::new(f));
    }

    /// Registers what happens after the session changed: another screen, the language, elderly
    /// mode, the idle timeout (the flow ends its visit when the flow screen is left).
    pub fn on_change(&self, f: impl Fn() + 'static) {
        self.changed.borrow_mut().push(Box::new(f));
    }

    /// Switches the language (for this session).
    pub fn set_lang(&self, lang: Lang) {
        self.session.borrow_mut().lang = lang;
        select_language(lang);
        update_clock(&self.window, lang);
        adapters::apply_all(&self.window, &self.view.borrow(), &self.session.borrow());
        notify(&self.changed);
    }

    /// Switches elderly mode (for this session).
    pub fn set_elderly(&self, elderly: bool) {
        {
            let mut s = self.session.borrow_mut();
            s.elderly = elderly;
            s.list_page = 0;
            s.search_page = 0;
            adapters::apply_all(&self.window, &self.view.borrow(), &s);
        }
        notify(&self.changed);
    }

    /// Shows a screen as `spec` describes (screenshots, tests). Unknown ids are refused with
    /// the list of valid ones.
    pub fn show_screen(&self, spec: &ScreenSpec) -> Result<(), KioskError> {
        let view = self.view.borrow().clone();
        let catalog = view.catalog();
        let mut s = self.session.borrow_mut();
        if let Some(c) = spec.category.as_deref().filter(|c| !c.is_empty()) {
            if catalog.category(c).is_none() {
                return Err(KioskError::UnknownCategory {
                    given: c.to_string(),
                    valid: catalog
                        .categories()
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        if let Some(i) = spec.item.as_deref() {
            if catalog.service(i).is_none() {
                return Err(KioskError::UnknownService {
                    given: i.to_string(),
                    valid: catalog.ids().collect::<Vec<_>>().join(", "),
                });
            }
        }
        s.go(ScreenId::Home);
        match spec.screen {
            // The maintenance screen lies over the attract screen; `maintenance::preview` below
            // fills it with sample data.
            ScreenId::Attract | ScreenId::Maintenance | ScreenId::MaintenancePin => {
                s.go(ScreenId::Attract)
            }
            ScreenId::Home => {}
            ScreenId::Category => s.open_category(spec.category.as_deref().unwrap_or("")),
            ScreenId::Search => {
                // Shown as given (a screenshot may show text the keyboard cannot type).
                s.query = spec
                    .query
                    .as_deref()
                    .unwrap_or("")
                    .trim()
                    .chars()
                    .take(session::MAX_QUERY)
                    .collect();
                s.search_page = 0;
                s.go(ScreenId::Search);
            }
            // The flow screens need a visit; screenshots show them through `FlowUi`.
            ScreenId::Flow => {}
            ScreenId::Detail => {
                let id = match spec.item.clone() {
                    Some(id) => id,
                    None => adapters::home_tiles(&view, 1)
                        .first()
                        .map(|s| s.id.clone())
                        .unwrap_or_default(),
                };
                s.open_service(&id);
            }
        }
        adapters::apply_all(&self.window, &view, &s);
        drop(s);
        maintenance::preview(&self.window, spec.screen);
        notify(&self.changed);
        Ok(())
    }

    fn wire(&self) {
        let st = self.window.global::<AppState>();
        let c = self.ctx();
        st.on_navigate(move |screen| {
            c.update(|s| s.go(adapters::screen_id(screen)), adapters::apply_state)
        });
        let c = self.ctx();
        st.on_back(move || c.update(|s| s.back(), adapters::apply_state));
        let c = self.ctx();
        st.on_toggle_language(move || {
            let lang = match c.session.borrow().lang {
                Lang::Zh => Lang::En,
                Lang::En => Lang::Zh,
            };
            select_language(lang);
            c.update(|s| s.lang = lang, adapters::apply_all);
            if let Some(w) = c.weak.upgrade() {
                update_clock(&w, lang);
            }
        });
        let c = self.ctx();
        st.on_toggle_elderly(move || {
            c.update(
                |s| {
                    s.elderly = !s.elderly;
                    s.list_page = 0;
                    s.search_page = 0;
                    s.digits = false;
                },
                adapters::apply_all,
            )
        });
        let c = self.ctx();
        let (lang, elderly) = (self.options.lang, self.options.elderly);
        st.on_session_ended(move || {
            tracing::info!("idle timeout: session ended");
            select_language(lang);
            c.update(|s| s.reset(lang, elderly), adapters::apply_all);
            if let Some(w) = c.weak.upgrade() {
                let st = w.global::<AppState>();
                st.set_idle_remaining(st.get_idle_timeout());
                update_clock(&w, lang);
            }
        });

        let home = self.window.global::<HomeAdapter>();
        let c = self.ctx();
        home.on_open_category(move |id| {
            c.update(
                |s| s.open_category(id.as_str()),
                adapters::apply_list_and_state,
            )
        });
        let c = self.ctx();
        home.on_open_service(move |id| {
            c.update(
                |s| s.open_service(id.as_str()),
                adapters::apply_detail_and_state,
            )
        });
        let c = self.ctx();
        home.on_open_search(move || {
            c.update(|s| s.go(ScreenId::Search), adapters::apply_search_and_state)
        });

        let list = self.window.global::<ListAdapter>();
        let c = self.ctx();
        list.on_select(move |id| {
            c.update(
                |s| {
                    s.category = id.to_string();
                    s.list_page = 0;
                },
                adapters::apply_list,
            )
        });
        let c = self.ctx();
        list.on_prev_page(move || {
            c.update(
                |s| s.list_page = s.list_page.saturating_sub(1),
                adapters::apply_list,
            )
        });
        let c = self.ctx();
        let view = self.view.clone();
        list.on_next_page(move || {
            c.update(
                |s| {
                    let pages =
                        Session::pages(s.list_positions(&view.borrow()).len(), s.sizes().list_rows);
                    s.list_page = (s.list_page + 1).min(pages - 1);
                },
                adapters::apply_list,
            )
        });
        let c = self.ctx();
        list.on_open_service(move |id| {
            c.update(
                |s| s.open_service(id.as_str()),
                adapters::apply_detail_and_state,
            )
        });

        let search = self.window.global::<SearchAdapter>();
        let c = self.ctx();
        search.on_key(move |k| c.update(|s| s.key(k.as_str()), adapters::apply_search));
        let c = self.ctx();
        search.on_backspace(move || c.update(|s| s.backspace(), adapters::apply_search));
        let c = self.ctx();
        search.on_clear(move || c.update(|s| s.clear_query(), adapters::apply_search));
        let c = self.ctx();
        search.on_toggle_digits(move || c.update(|s| s.digits = !s.digits, adapters::apply_search));
        let c = self.ctx();
        search.on_prev_page(move || {
            c.update(
                |s| s.search_page = s.search_page.saturating_sub(1),
                adapters::apply_search,
            )
        });
        let c = self.ctx();
        search.on_next_page(move || c.update(|s| s.search_page += 1, adapters::apply_search));
        let c = self.ctx();
        search.on_open_service(move |id| {
            c.update(
                |s| s.open_service(id.as_str()),
                adapters::apply_detail_and_state,
            )
        });

        let hook = self.start_hook.clone();
        self.window
            .global::<DetailAdapter>()
            .on_start(move |id| match hook.borrow().as_ref() {
                Some(f) => f(id.as_str()),
                None => tracing::info!(service = %id, "start pressed; no flow engine attached"),
            });
    }

    fn ctx(&self) -> Ctx {
        Ctx {
            weak: self.window.as_weak(),
            session: self.session.clone(),
            changed: self.changed.clone(),
            view: self.view.clone(),
            live: self.live.clone(),
        }
    }
}

/// What every callback needs: the window (weakly), the session and the catalog shown.
#[derive(Clone)]
struct Ctx {
    weak: slint::Weak<KioskWindow>,
    session: Rc<RefCell<Session>>,
    changed: ChangeHooks,
    view: CatalogView,
    live: Rc<RefCell<Option<Arc<Live>>>>,
}

impl Ctx {
    /// Changes the session, then refreshes the part of the UI that `apply` covers. The first
    /// change of a visit (leaving the attract screen) takes the live catalog's newest one.
    fn update(
        &self,
        change: impl FnOnce(&mut Session),
        apply: fn(&KioskWindow, &Active, &Session),
    ) {
        let Some(w) = self.weak.upgrade() else {
            return;
        };
        {
            let mut s = self.session.borrow_mut();
            let visit_starts = s.screen == ScreenId::Attract;
            change(&mut s);
            if visit_starts {
                if let Some(live) = self.live.borrow().as_ref() {
                    let newest = live.current();
                    if !Arc::ptr_eq(&newest, &self.view.borrow()) {
                        *self.view.borrow_mut() = newest;
                        adapters::apply_all(&w, &self.view.borrow(), &s);
                    }
                }
            }
            apply(&w, &self.view.borrow(), &s);
        }
        notify(&self.changed);
    }
}

fn select_language(lang: Lang) {
    let code = match lang {
        Lang::Zh => "",
        Lang::En => "en",
    };
    if let Err(e) = slint::select_bundled_translation(code) {
        tracing::warn!("cannot select the {} translation: {e}", lang.code());
    }
}

fn update_clock(w: &KioskWindow, lang: Lang) {
    use chrono::Datelike;
    let now = chrono::Local::now();
    let st = w.global::<AppState>();
    st.set_time(now.format("%H:%M").to_string().into());
    let date = match lang {
        Lang::Zh => {
            const DAYS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
            let d = DAYS[now.weekday().num_days_from_monday() as usize];
            format!("{}月{}日 星期{d}", now.month(), now.day())
        }
        Lang::En => now.format("%a %-d %b").to_string(),
    };
    st.set_date(date.into());
}

/// Opens the kiosk in a window (winit on a desktop, DRM/KMS on a kiosk built with `linuxkms`)
/// and runs the event loop until the window closes. With no display it fails with
/// [`KioskError::NoDisplay`], which names `--headless`.
pub fn run_window(
    options: Options,
    flow: Option<FlowContext>,
    help: Option<HelpContext>,
    maintenance: Option<MaintenanceContext>,
    status: Option<crate::status::StatusState>,
    voice: Option<zizhu_voice::Voice>,
) -> Result<(), KioskError> {
    #[cfg(not(feature = "linuxkms"))]
    {
        let has = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
        if !has("DISPLAY") && !has("WAYLAND_DISPLAY") {
            return Err(KioskError::NoDisplay {
                reason: "DISPLAY and WAYLAND_DISPLAY are not set".into(),
            });
        }
    }
    let fullscreen = options.fullscreen;
    let site = options.site_name.clone();
    let ui = KioskUi::new(options).map_err(|e| match e {
        KioskError::Platform(p) => KioskError::NoDisplay {
            reason: p.to_string(),
        },
        other => other,
    })?;
    // The flow screens (doing a service) need the runtime's platform client, journal, printer
    // and device events; without them "start" only logs.
    let flow = flow.map(|ctx| {
        let staff = ctx.journal.clone().map(|j| (j, ctx.kiosk_id.clone()));
        let flow = Rc::new(FlowUi::attach(&ui, ctx));
        // Staff sign-in (帮办员) for this site and kiosk, codes remembered in the journal.
        if let Some((journal, kiosk_id)) = staff {
            flow.enable_staff(journal, &site, &kiosk_id);
        }
        flow
    });
    // 呼叫帮助 on every visitor screen (it asks the flow which step the visitor is on).
    let _help = help.map(|ctx| HelpUi::attach(&ui, ctx, flow.clone()));
    let _maintenance = maintenance.map(|ctx| MaintenanceUi::attach(&ui, ctx));
    // Every screen and flow step spoken; the header's voice controls.
    let _voice = voice.map(|v| VoiceUi::attach(&ui, v, flow.as_deref()));
    // Whether a helper is signed in, sign-ins and refusals on the status endpoint.
    if let Some(s) = &status {
        ui.staff().set_status(s.clone());
    }
    // `session_active` on the status endpoint, and what the device supervisor waits for.
    let _session = status.map(|s| ui.report_session(s));
    if fullscreen {
        ui.window().window().set_fullscreen(true);
    }
    ui.window().run().map_err(|e| KioskError::NoDisplay {
        reason: e.to_string(),
    })
}
