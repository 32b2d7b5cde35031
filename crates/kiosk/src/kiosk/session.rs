//! What one visitor's session holds on the UI side, independent of any window: the screen and
//! the way back, language and elderly mode, the category and page being browsed, the search
//! query, the service being looked at. Pure data with the rules for moving between screens, so
//! it is unit-tested without Slint; `adapters` turns it into Slint models.
use crate::catalog::live::Active;
use crate::catalog::Lang;

/// The screens this module knows (mirrors the Slint `Screen` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenId {
    /// Between visitors: touch to start.
    Attract,
    /// Categories, search bar, most used services.
    Home,
    /// One category's services (or all), paged.
    Category,
    /// Query, on-screen keyboard, live results.
    Search,
    /// One service explained.
    Detail,
    /// Doing a service, step by step (`kiosk::flow`; not a screenshot target on its own).
    Flow,
    /// The technician's maintenance panel over the attract screen (`kiosk::maintenance`; a
    /// screenshot shows it with sample data, masked as on a kiosk).
    Maintenance,
    /// The maintenance screen's PIN pad.
    MaintenancePin,
}

impl ScreenId {
    /// Every screen, for `zizhu screenshot --screen`.
    pub const ALL: [ScreenId; 5] = [
        ScreenId::Attract,
        ScreenId::Home,
        ScreenId::Category,
        ScreenId::Search,
        ScreenId::Detail,
    ];

    /// The technician's screens, for `zizhu screenshot --screen` (not a visitor's, so not in
    /// [`ScreenId::ALL`], whose targets follow the visitor's size rules).
    pub const TECHNICIAN: [ScreenId; 2] = [ScreenId::Maintenance, ScreenId::MaintenancePin];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ScreenId::Attract => "attract",
            ScreenId::Home => "home",
            ScreenId::Category => "category",
            ScreenId::Search => "search",
            ScreenId::Detail => "detail",
            ScreenId::Flow => "flow",
            ScreenId::Maintenance => "maintenance",
            ScreenId::MaintenancePin => "maintenance-pin",
        }
    }

    /// Parses a command-line name (a visitor's screen or a technician's).
    pub fn parse(s: &str) -> Option<ScreenId> {
        ScreenId::ALL
            .into_iter()
            .chain(ScreenId::TECHNICIAN)
            .find(|x| x.name() == s)
    }

    /// Whether this is one of the technician's screens (over the attract screen).
    pub fn is_technician(self) -> bool {
        ScreenId::TECHNICIAN.contains(&self)
    }
}

/// How many things each screen shows at once; elderly mode shows fewer, bigger ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Category cells on home, including the final "all services" cell.
    pub home_categories: usize,
    /// Most-used service tiles on home.
    pub home_tiles: usize,
    /// Rows per page on the category screen.
    pub list_rows: usize,
    /// Result rows per page on the search screen.
    pub search_rows: usize,
}

impl Sizes {
    /// The sizes for a mode.
    pub fn for_mode(elderly: bool) -> Sizes {
        if elderly {
            Sizes {
                home_categories: 6,
                home_tiles: 2,
                list_rows: 5,
                search_rows: 2,
            }
        } else {
            Sizes {
                home_categories: 16,
                home_tiles: 6,
                list_rows: 8,
                search_rows: 4,
            }
        }
    }
}

/// Longest query the search field accepts (the keyboard stops adding letters there).
pub const MAX_QUERY: usize = 32;

/// One visitor's UI state.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Language shown.
    pub lang: Lang,
    /// Elderly mode (长者模式).
    pub elderly: bool,
    /// The screen shown.
    pub screen: ScreenId,
    /// Screens to go back to, most recent last.
    pub history: Vec<ScreenId>,
    /// Category browsed on the category screen; "" is every service.
    pub category: String,
    /// Page of the category screen, from 0.
    pub list_page: usize,
    /// The search query (lowercase letters, digits, spaces).
    pub query: String,
    /// Page of the search results, from 0.
    pub search_page: usize,
    /// The elderly keyboard shows digits.
    pub digits: bool,
    /// Id of the service on the detail screen.
    pub item: Option<String>,
}

impl Session {
    /// A fresh session on the attract screen.
    pub fn new(lang: Lang, elderly: bool) -> Session {
        Session {
            lang,
            elderly,
            screen: ScreenId::Attract,
            history: Vec::new(),
            category: String::new(),
            list_page: 0,
            query: String::new(),
            search_page: 0,
            digits: false,
            item: None,
        }
    }

    /// Sizes for the current mode.
    pub fn sizes(&self) -> Sizes {
        Sizes::for_mode(self.elderly)
    }

    /// Goes to `screen`, remembering where we were. Home and attract forget the way back.
    pub fn go(&mut self, screen: ScreenId) {
        match screen {
            ScreenId::Home | ScreenId::Attract => self.history.clear(),
            _ if screen != self.screen && self.screen != ScreenId::Attract => {
                // A screen appears at most once on the way back (detail → category → detail …).
                self.history.retain(|s| *s != screen);
                self.history.push(self.screen);
            }
            _ => {}
        }
        self.screen = screen;
    }

    /// Goes back one screen (home when there is nothing to go back to).
    pub fn back(&mut self) {
        self.screen = self.history.pop().unwrap_or(ScreenId::Home);
        if self.screen == ScreenId::Attract {
            self.screen = ScreenId::Home;
        }
    }

    /// Opens a category ("" for every service) at its first page.
    pub fn open_category(&mut self, id: &str) {
        self.category = id.to_string();
        self.list_page = 0;
        self.go(ScreenId::Category);
    }

    /// Opens a service's detail screen.
    pub fn open_service(&mut self, id: &str) {
        self.item = Some(id.to_string());
        self.go(ScreenId::Detail);
    }

    /// A key of the on-screen keyboard: letters are lowercased, anything else but digits and
    /// space is ignored.
    pub fn key(&mut self, key: &str) {
        for c in key.chars() {
            if self.query.chars().count() >= MAX_QUERY {
                break;
            }
            if c.is_ascii_alphanumeric() || (c == ' ' && !self.query.is_empty()) {
                self.query.push(c.to_ascii_lowercase());
            }
        }
        self.search_page = 0;
    }

    /// Removes the last character of the query.
    pub fn backspace(&mut self) {
        self.query.pop();
        self.search_page = 0;
    }

    /// Empties the query.
    pub fn clear_query(&mut self) {
        self.query.clear();
        self.search_page = 0;
    }

    /// Number of pages for `total` items at `per` a page (at least 1).
    pub fn pages(total: usize, per: usize) -> usize {
        total.div_ceil(per.max(1)).max(1)
    }

    /// Services this kiosk offers in the current category ("" = all), as positions in the
    /// catalog's `services()`.
    pub fn list_positions(&self, view: &Active) -> Vec<usize> {
        let catalog = view.catalog();
        if self.category.is_empty() {
            (0..catalog.services().len())
                .filter(|&p| view.offer.offers(p))
                .collect()
        } else {
            view.offer
                .in_category(catalog, &self.category)
                .into_iter()
                .filter_map(|s| catalog.position(&s.id))
                .collect()
        }
    }

    /// Ends the session: everything the visitor did is forgotten and the attract screen shows.
    pub fn reset(&mut self, lang: Lang, elderly: bool) {
        *self = Session::new(lang, elderly);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_retraces_and_ends_at_home() {
        let mut s = Session::new(Lang::Zh, false);
        s.go(ScreenId::Home);
        s.open_category("tax");
        s.open_service("x");
        assert_eq!(s.history, vec![ScreenId::Home, ScreenId::Category]);
        s.back();
        assert_eq!(s.screen, ScreenId::Category);
        s.back();
        assert_eq!(s.screen, ScreenId::Home);
        s.back();
        assert_eq!(s.screen, ScreenId::Home);
    }

    #[test]
    fn keyboard_input_is_normalised_and_bounded() {
        let mut s = Session::new(Lang::Zh, false);
        s.key(" ");
        s.key("S");
        s.key("b");
        s.key("%");
        assert_eq!(s.query, "sb");
        s.backspace();
        assert_eq!(s.query, "s");
        for _ in 0..100 {
            s.key("a");
        }
        assert_eq!(s.query.len(), MAX_QUERY);
        s.clear_query();
        assert!(s.query.is_empty());
    }

    #[test]
    fn reset_forgets_everything() {
        let mut s = Session::new(Lang::Zh, false);
        s.go(ScreenId::Home);
        s.key("gjj");
        s.elderly = true;
        s.lang = Lang::En;
        s.reset(Lang::Zh, false);
        assert_eq!(s, Session::new(Lang::Zh, false));
    }

    #[test]
    fn screen_names_round_trip() {
        for s in ScreenId::ALL.into_iter().chain(ScreenId::TECHNICIAN) {
            assert_eq!(ScreenId::parse(s.name()), Some(s));
        }
        assert_eq!(
            ScreenId::parse("maintenance-pin"),
            Some(ScreenId::MaintenancePin)
        );
        assert!(ScreenId::Maintenance.is_technician() && !ScreenId::Home.is_technician());
        assert_eq!(ScreenId::parse("flow"), None);
    }

    #[test]
    fn pages_round_up() {
        assert_eq!(Session::pages(0, 9), 1);
        assert_eq!(Session::pages(9, 9), 1);
        assert_eq!(Session::pages(10, 9), 2);
    }
}
