//! Voice guidance on the touchscreen: [`VoiceUi`] speaks each screen and flow step through the
//! kiosk's [`Voice`] and answers the header's voice controls (`VoiceAdapter`,
//! `ui/widgets/voice.slint`): 再听一遍, 普通话 / 粤语 / 客家话, volume, mute.
//!
//! - The browsing screens (attract, home, category, search, a service's detail with its name)
//!   are spoken from [`KioskUi::on_change`] when the screen changed; the flow's steps from
//!   [`FlowUi::on_prompt`] when the step's prompt changed (a message under a step is `notice`,
//!   and the step is not repeated when the message goes); the idle countdown from the Slint
//!   timer's `idle-warning` callback. Every one goes through [`Voice::screen_changed`], which
//!   drops whatever was not yet played.
//! - Voice follows the screen: 中文 speaks the chosen Chinese variety, English speaks English; a
//!   language switch says the screen again in the new language. 长者模式 turns speech on, slower
//!   and louder.
//! - The end of a session (the attract screen again: idle timeout, goodbye, back from home)
//!   resets the visitor's choices to kiosk.toml's `[voice]` ([`Voice::reset`]). Quiet hours
//!   silence the attract prompt in the engine.
//! - Staff sign-in (帮办员): the sign-in panel, a helper signed in and signed out by the button,
//!   and the 人工核验 step (a flow prompt) are said from fixed prompts, never a name or a number.
//! - Nothing personal is spoken: the prompts come from `zizhu_voice::prompt_for` and the
//!   catalog; the Voice API never blocks the UI thread.
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use slint::ComponentHandle;
use zizhu_voice::{Arg, Prompt, Ticket, Voice, VoiceLanguage};

use super::{CatalogView, FlowUi, KioskUi, ScreenId, Session, StaffEvent};
use crate::catalog::Lang;
use crate::staff::SignOut;
use crate::ui::{KioskWindow, VoiceAdapter};

/// Tickets kept for [`VoiceUi::spoken`].
const KEPT: usize = 64;
/// One press of 调大音量 / 调小音量.
const VOLUME_STEP: u8 = 10;

/// The voice wired to a kiosk window. Keep it alive as long as the window.
pub struct VoiceUi {
    inner: Rc<Inner>,
}

struct Inner {
    voice: Voice,
    weak: slint::Weak<KioskWindow>,
    session: Rc<RefCell<Session>>,
    view: CatalogView,
    state: RefCell<State>,
}

struct State {
    /// The session as last seen.
    screen: ScreenId,
    lang: Lang,
    elderly: bool,
    /// The last flow step's prompt (a message's `notice` aside), so a step is spoken once.
    step: Option<Prompt>,
    /// The last prompt spoken.
    said: Option<Prompt>,
    /// The latest calls to the voice and the prompt ids they speak, newest last.
    tickets: VecDeque<(Ticket, &'static str)>,
    /// The call that said the flow's step last.
    flow_ticket: Option<Ticket>,
}

impl VoiceUi {
    /// Wires `voice` into `ui` (and the flow's steps, when a flow is attached), and speaks the
    /// screen shown now.
    pub fn attach(ui: &KioskUi, voice: Voice, flow: Option<&FlowUi>) -> VoiceUi {
        let (screen, lang, elderly) = {
            let s = ui.session.borrow();
            (s.screen, s.lang, s.elderly)
        };
        voice.set_screen_language(lang);
        voice.set_elder_mode(elderly);
        let inner = Rc::new(Inner {
            voice,
            weak: ui.window().as_weak(),
            session: ui.session.clone(),
            view: ui.view.clone(),
            state: RefCell::new(State {
                screen,
                lang,
                elderly,
                step: None,
                said: None,
                tickets: VecDeque::new(),
                flow_ticket: None,
            }),
        });
        let a = ui.window().global::<VoiceAdapter>();
        let hook = |f: fn(&Inner)| {
            let i = Rc::downgrade(&inner);
            move || {
                if let Some(i) = i.upgrade() {
                    f(&i)
                }
            }
        };
        a.on_repeat(hook(Inner::repeat));
        a.on_volume_down(hook(|i| i.volume(false)));
        a.on_volume_up(hook(|i| i.volume(true)));
        a.on_toggle_mute(hook(Inner::toggle_mute));
        let i = Rc::downgrade(&inner);
        a.on_choose_language(move |n| {
            if let Some(i) = i.upgrade() {
                i.choose_language(n);
            }
        });
        let i = Rc::downgrade(&inner);
        a.on_idle_warning(move |secs| {
            if let Some(i) = i.upgrade() {
                i.speak(Prompt::IdleCountdown {
                    seconds: secs.max(0) as u32,
                });
            }
        });
        ui.on_change(hook(Inner::changed));
        if let Some(flow) = flow {
            let i = Rc::downgrade(&inner);
            flow.on_prompt(move |p| {
                if let Some(i) = i.upgrade() {
                    i.flow_prompt(p);
                }
            });
        }
        // Staff sign-in (帮办员): the panel, the sign-in and the sign-out, never who.
        let i = Rc::downgrade(&inner);
        ui.staff().on_event(move |ev| {
            if let Some(i) = i.upgrade() {
                i.staff_event(ev);
            }
        });
        if let Some(p) = inner.screen_prompt(screen) {
            inner.speak(p);
        }
        inner.publish();
        VoiceUi { inner }
    }

    /// The kiosk's voice.
    pub fn voice(&self) -> &Voice {
        &self.inner.voice
    }

    /// The latest calls to the voice (screen changes and repeats), oldest first, with the id of
    /// the prompt each speaks: wait on a ticket with [`Voice::wait_done`] and read what was said
    /// with [`Voice::said`] (tests, diagnostics).
    pub fn spoken(&self) -> Vec<(Ticket, &'static str)> {
        self.inner.state.borrow().tickets.iter().copied().collect()
    }
}

fn variety(n: i32) -> VoiceLanguage {
    match n {
        1 => VoiceLanguage::Cantonese,
        2 => VoiceLanguage::Hakka,
        _ => VoiceLanguage::Mandarin,
    }
}

fn variety_index(l: VoiceLanguage) -> i32 {
    match l {
        VoiceLanguage::Mandarin => 0,
        VoiceLanguage::Cantonese => 1,
        VoiceLanguage::Hakka => 2,
    }
}

impl Inner {
    /// The prompt of a browsing screen (none for the flow, which speaks its steps itself).
    fn screen_prompt(&self, screen: ScreenId) -> Option<Prompt> {
        Some(match screen {
            ScreenId::Attract | ScreenId::Maintenance | ScreenId::MaintenancePin => Prompt::Attract,
            ScreenId::Home => Prompt::Home,
            ScreenId::Category => Prompt::Category,
            ScreenId::Search => Prompt::Search,
            ScreenId::Detail => {
                let id = self.session.borrow().item.clone()?;
                let view = self.view.borrow().clone();
                let service = view.catalog().service(&id)?;
                Prompt::Detail {
                    name: Arg {
                        zh: service.name(Lang::Zh).to_string(),
                        en: service.name(Lang::En).to_string(),
                    },
                }
            }
            ScreenId::Flow => return None,
        })
    }

    /// Speaks `p` now, dropping what was not yet played.
    fn speak(&self, p: Prompt) {
        let ticket = self.voice.screen_changed(p.clone());
        let mut st = self.state.borrow_mut();
        st.tickets.push_back((ticket, p.id()));
        while st.tickets.len() > KEPT {
            st.tickets.pop_front();
        }
        st.said = Some(p);
    }

    /// The session changed: another screen, language or mode, or the end of the session.
    fn changed(&self) {
        let (screen, lang, elderly) = {
            let s = self.session.borrow();
            (s.screen, s.lang, s.elderly)
        };
        let (ended, relang, moved) = {
            let mut st = self.state.borrow_mut();
            let ended = screen == ScreenId::Attract && st.screen != ScreenId::Attract;
            if ended {
                // The next visitor starts from kiosk.toml's settings.
                self.voice.reset();
                self.voice.set_screen_language(lang);
                if elderly {
                    self.voice.set_elder_mode(true);
                }
            } else {
                if lang != st.lang {
                    self.voice.set_screen_language(lang);
                }
                if elderly != st.elderly {
                    self.voice.set_elder_mode(elderly);
                }
            }
            let relang = !ended && lang != st.lang;
            let moved = screen != st.screen;
            if screen != ScreenId::Flow {
                st.step = None;
            }
            st.screen = screen;
            st.lang = lang;
            st.elderly = elderly;
            (ended, relang, moved)
        };
        if ended {
            if let Some(w) = self.weak.upgrade() {
                w.global::<VoiceAdapter>().set_panel_open(false);
            }
        }
        let prompt = self.screen_prompt(screen);
        let said = self.state.borrow().said.clone();
        match prompt {
            Some(p) if moved || ended || said.as_ref() != Some(&p) => self.speak(p),
            // The same screen in the other language: said again, in that language.
            _ if relang => self.repeat(),
            _ => {}
        }
        self.publish();
    }

    /// The flow showed its visit; `p` is what is on screen.
    fn flow_prompt(&self, p: &Prompt) {
        let speak = {
            let mut st = self.state.borrow_mut();
            if *p == Prompt::Notice {
                st.said.as_ref() != Some(p)
            } else if st.step.as_ref() != Some(p) {
                st.step = Some(p.clone());
                true
            } else {
                false
            }
        };
        if speak {
            self.speak(p.clone());
            let mut st = self.state.borrow_mut();
            st.flow_ticket = st.tickets.back().map(|(t, _)| *t);
        }
    }

    /// Staff sign-in on any screen: the panel is said, a refusal is "read the screen", the
    /// sign-in and the sign-out by the button are said. When the sign-in or sign-out changed the
    /// flow's step (the face check becomes the staff check 人工核验, or back), the flow has just
    /// said the new step, which tells what to do next: that is kept, not cut off.
    fn staff_event(&self, ev: StaffEvent) {
        let step_just_said = {
            let st = self.state.borrow();
            match (st.tickets.back(), st.flow_ticket) {
                (Some((last, _)), Some(flow)) => *last == flow && !self.voice.is_done(flow),
                _ => false,
            }
        };
        let p = match ev {
            StaffEvent::PanelOpened => Prompt::StaffSignIn,
            StaffEvent::Refused => Prompt::Notice,
            StaffEvent::SignedIn | StaffEvent::SignedOut(_) if step_just_said => return,
            StaffEvent::SignedIn => Prompt::StaffSignedIn,
            StaffEvent::SignedOut(SignOut::Press) => Prompt::StaffSignedOut,
            // The end of the visit or idle says the attract screen; a replaced helper's
            // successor is said.
            StaffEvent::SignedOut(_) => return,
        };
        self.speak(p);
    }

    /// 再听一遍.
    fn repeat(&self) {
        let Some(ticket) = self.voice.repeat() else {
            return;
        };
        let mut st = self.state.borrow_mut();
        let id = st.said.as_ref().map_or("", |p| p.id());
        st.tickets.push_back((ticket, id));
        while st.tickets.len() > KEPT {
            st.tickets.pop_front();
        }
    }

    /// 普通话 / 粤语 / 客家话: the choice is heard at once on a Chinese screen.
    fn choose_language(&self, n: i32) {
        let chinese = variety(n);
        tracing::info!(voice = chinese.code(), "voice language chosen");
        self.voice.set_language(chinese);
        self.publish();
        if self.voice.settings().screen == Lang::Zh && !self.voice.settings().muted {
            self.repeat();
        }
    }

    /// 调大音量 / 调小音量.
    fn volume(&self, up: bool) {
        let v = self.voice.settings().volume;
        let v = if up {
            v.saturating_add(VOLUME_STEP).min(100)
        } else {
            v.saturating_sub(VOLUME_STEP)
        };
        self.voice.set_volume(v);
        self.publish();
    }

    /// 静音: muting stops speech at once; unmuting says the screen again.
    fn toggle_mute(&self) {
        let muted = !self.voice.settings().muted;
        self.voice.set_muted(muted);
        self.publish();
        if !muted {
            self.repeat();
        }
    }

    /// Shows the voice's settings on the controls.
    fn publish(&self) {
        let Some(w) = self.weak.upgrade() else {
            return;
        };
        let s = self.voice.settings();
        let a = w.global::<VoiceAdapter>();
        a.set_language(variety_index(s.chinese));
        a.set_volume(s.volume as i32);
        a.set_muted(s.muted);
    }
}
