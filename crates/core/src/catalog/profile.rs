//! Site profiles: which services one kiosk offers and in which order its home screen shows them.
//! A village service station offers about 20 items, a post office about 60, a city service
//! centre all of them. Profiles are part of the catalog (`[[profile]]` in the catalog TOML, so a
//! signed bundle carries them and `zizhu catalog check` validates them); the kiosk names its
//! profile in `kiosk.toml` (`[catalog] profile`).
//!
//! [`Offer`] is what the screens and search use: the set a kiosk offers, its home order, and for
//! a search that finds only services offered elsewhere, where the citizen can go instead.
use super::{Catalog, Frequency, Hit, Lang, Service};

/// One site profile as validated from the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Id, e.g. `village`.
    pub id: String,
    /// Name (Chinese), e.g. 村（社区）便民服务站.
    pub zh: String,
    /// Name (English).
    pub en: String,
    /// Services offered, in home-screen order.
    pub services: Vec<String>,
    /// Whole categories offered (their high-frequency services follow `services` on the home
    /// screen).
    pub categories: Vec<String>,
    /// Where a service this site does not offer can be done (Chinese).
    pub elsewhere_zh: String,
    /// The same, in English.
    pub elsewhere_en: String,
}

impl Profile {
    /// The profile's name in `lang`.
    pub fn name(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

/// The kiosk named a profile the catalog does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("site profile `{id}` is not in the catalog (it has: {known}); fix [catalog] profile in kiosk.toml")]
pub struct UnknownProfile {
    /// The id asked for.
    pub id: String,
    /// The ids the catalog has, comma-separated.
    pub known: String,
}

/// What one kiosk offers: all services, or a site profile's set.
#[derive(Debug, Clone)]
pub struct Offer {
    profile: Option<Profile>,
    /// By position in `Catalog::services()`.
    offered: Vec<bool>,
    /// Home-screen tiles, positions in order.
    home: Vec<usize>,
}

/// A search split by what this kiosk offers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Found {
    /// Offered here, best first.
    pub here: Vec<Hit>,
    /// In the catalog but not offered here, best first (shown with [`Offer::elsewhere`]).
    pub elsewhere: Vec<Hit>,
}

impl Offer {
    /// Everything in the catalog; the home screen shows the high-frequency services.
    pub fn all(c: &Catalog) -> Offer {
        Offer {
            profile: None,
            offered: vec![true; c.services().len()],
            home: c
                .services()
                .iter()
                .enumerate()
                .filter(|(_, s)| s.frequency == Frequency::High)
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// The set of profile `id`, or everything when `id` is `None`.
    pub fn new(c: &Catalog, id: Option<&str>) -> Result<Offer, UnknownProfile> {
        let Some(id) = id else {
            return Ok(Offer::all(c));
        };
        let p = c.profile(id).ok_or_else(|| UnknownProfile {
            id: id.to_string(),
            known: c
                .profiles()
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        let mut offered = vec![false; c.services().len()];
        let mut home = Vec::new();
        for s in &p.services {
            if let Some(i) = c.position(s) {
                offered[i] = true;
                home.push(i);
            }
        }
        for (i, s) in c.services().iter().enumerate() {
            if p.categories.contains(&s.category) && !offered[i] {
                offered[i] = true;
                if s.frequency == Frequency::High {
                    home.push(i);
                }
            }
        }
        Ok(Offer {
            profile: Some(p.clone()),
            offered,
            home,
        })
    }

    /// The profile in use, if any.
    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    /// How many services this kiosk offers.
    pub fn len(&self) -> usize {
        self.offered.iter().filter(|&&o| o).count()
    }

    /// Whether it offers nothing (a validated profile always offers something).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the service at `pos` is offered.
    pub fn offers(&self, pos: usize) -> bool {
        self.offered.get(pos).copied().unwrap_or(false)
    }

    /// Whether the service `id` is offered.
    pub fn offers_id(&self, c: &Catalog, id: &str) -> bool {
        c.position(id).is_some_and(|p| self.offers(p))
    }

    /// The home-screen tiles, in order.
    pub fn home<'c>(&self, c: &'c Catalog) -> Vec<&'c Service> {
        self.home.iter().map(|&i| &c.services()[i]).collect()
    }

    /// Services of one category that are offered, most used first.
    pub fn in_category<'c>(&self, c: &'c Catalog, category: &str) -> Vec<&'c Service> {
        c.in_category(category)
            .into_iter()
            .filter(|s| self.offers_id(c, &s.id))
            .collect()
    }

    /// Categories with at least one offered service, in display order.
    pub fn used_categories<'c>(&self, c: &'c Catalog) -> Vec<&'c super::Category> {
        c.used_categories()
            .into_iter()
            .filter(|cat| !self.in_category(c, &cat.id).is_empty())
            .collect()
    }

    /// Searches the whole catalog and splits the hits into offered here and offered elsewhere.
    pub fn search(&self, c: &Catalog, query: &str) -> Found {
        let (here, elsewhere) = c
            .search(query)
            .into_iter()
            .partition(|h| self.offers(h.pos));
        Found { here, elsewhere }
    }

    /// Where a service this kiosk does not offer can be done; `None` when it offers everything.
    pub fn elsewhere(&self, lang: Lang) -> Option<&str> {
        self.profile
            .as_ref()
            .map(|p| lang.pick(&p.elsewhere_zh, &p.elsewhere_en))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::BUILTIN_TOML;

    fn with_profiles(extra: &str) -> Result<Catalog, Vec<crate::catalog::CatalogError>> {
        Catalog::parse(&format!("{BUILTIN_TOML}\n{extra}"))
    }

    #[test]
    fn the_builtin_profiles_are_valid_and_sized_as_sites_are() {
        let c = Catalog::builtin();
        let size = |id| Offer::new(c, Some(id)).unwrap().len();
        assert!((15..=25).contains(&size("village")), "{}", size("village"));
        assert!(
            (50..=70).contains(&size("post-office")),
            "{}",
            size("post-office")
        );
        assert_eq!(size("city-centre"), c.services().len());
        assert_eq!(Offer::all(c).len(), c.services().len());
    }

    #[test]
    fn a_profile_limits_home_and_search_and_says_where_to_go() {
        let c = Catalog::builtin();
        let village = Offer::new(c, Some("village")).unwrap();
        let p = c.profile("village").unwrap();
        let home: Vec<&str> = village.home(c).iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            home[..p.services.len()],
            p.services.iter().map(String::as_str).collect::<Vec<_>>()[..]
        );
        assert!(home.iter().all(|id| village.offers_id(c, id)));
        // Something the village does not offer is found, but as "elsewhere".
        let not_here = c
            .services()
            .iter()
            .find(|s| !village.offers_id(c, &s.id))
            .expect("the village offers less than everything");
        let found = village.search(c, &not_here.zh);
        assert!(found.here.iter().all(|h| village.offers(h.pos)));
        assert!(found
            .elsewhere
            .iter()
            .any(|h| c.services()[h.pos].id == not_here.id));
        assert!(village.elsewhere(Lang::Zh).unwrap().contains("粤省事"));
        assert!(Offer::all(c).elsewhere(Lang::Zh).is_none());
        for cat in village.used_categories(c) {
            assert!(!village.in_category(c, &cat.id).is_empty());
        }
    }

    #[test]
    fn an_unknown_profile_names_the_known_ones() {
        let e = Offer::new(Catalog::builtin(), Some("mall")).unwrap_err();
        assert!(e.known.contains("village"), "{e}");
        assert!(e.to_string().contains("[catalog] profile"), "{e}");
    }

    #[test]
    fn a_profile_naming_unknown_ids_is_refused_with_its_line() {
        let extra = "[[profile]]\nid = \"kiosk-x\"\nzh = \"某站\"\nen = \"Some site\"\n\
                     services = [\"no-such-service\"]\ncategories = [\"no-such-category\"]\n\
                     elsewhere_zh = \"请到大厅办理\"\nelsewhere_en = \"Go to the hall\"\n";
        let errors = with_profiles(extra).unwrap_err();
        let base = BUILTIN_TOML.lines().count() + 1;
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(
            errors.iter().any(|e| e.line() == base + 5
                && e.to_string().contains("unknown service `no-such-service`")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|e| e.contains("unknown category `no-such-category`")),
            "{text:?}"
        );
        let empty = "[[profile]]\nid = \"empty\"\nzh = \"空\"\nen = \"Empty\"\n\
                     elsewhere_zh = \"请到大厅办理\"\nelsewhere_en = \"Go to the hall\"\n";
        let errors = with_profiles(empty).unwrap_err();
        assert!(
            errors[0].to_string().contains("must offer something"),
            "{errors:?}"
        );
    }
}
